import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";

export interface RuntimeIdentityArgs {
  project: pulumi.Input<string>;
  /** Service account id (6-30 characters). */
  accountId: string;
  description: string;
  /**
   * Cloud SQL instances the identity may connect to, as `project:region:instance`. The `cloudsql.client` grant is
   * conditioned on exactly these instances, so a preview's identity cannot reach stage's or prod's database.
   * None: no database access at all (the scheduler's identity).
   */
  cloudSqlInstances: pulumi.Input<string>[];
}

/**
 * A service account that Cloud Run (or Cloud Scheduler) runs as, with only what it needs: a connection to its
 * own Cloud SQL instance, if any. Access to secrets, topics and jobs is granted by what owns them, not here.
 */
export class RuntimeIdentity extends pulumi.ComponentResource {
  readonly email: pulumi.Output<string>;
  /** `serviceAccount:<email>`, for IAM bindings. */
  readonly member: pulumi.Output<string>;

  constructor(name: string, args: RuntimeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:RuntimeIdentity", name, {}, opts);
    const account = new gcp.serviceaccount.Account(
      name,
      { project: args.project, accountId: args.accountId, displayName: args.description, description: args.description },
      { parent: this },
    );
    this.email = account.email;
    this.member = pulumi.interpolate`serviceAccount:${account.email}`;

    if (args.cloudSqlInstances.length > 0) this.grantCloudSql(name, args);
    this.registerOutputs({ email: this.email, member: this.member });
  }

  private grantCloudSql(name: string, args: RuntimeIdentityArgs): void {
    const instances = pulumi.all(args.cloudSqlInstances).apply((names) => names.map(instanceResourceName));
    new gcp.projects.IAMMember(
      `${name}-cloudsql-client`,
      {
        project: args.project,
        role: "roles/cloudsql.client",
        member: this.member,
        condition: {
          title: "own-instances-only",
          description: "Connect only to this environment's Cloud SQL instances",
          expression: instances.apply((names) => names.map((n) => `resource.name == "${n}"`).join(" || ")),
        },
      },
      { parent: this },
    );
  }
}

/** `project:region:instance` → `projects/<project>/instances/<instance>`, the name IAM conditions see. */
function instanceResourceName(connectionName: string): string {
  const [project, , instance] = connectionName.split(":");
  return `projects/${project}/instances/${instance}`;
}
