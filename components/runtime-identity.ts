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
   */
  cloudSqlInstances: pulumi.Input<string>[];
}

/**
 * The service account a Cloud Run service and its jobs run as, with only what they need: a connection to their
 * own Cloud SQL instance. Access to secrets is granted per secret by `AppSecrets`, not here.
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
    this.registerOutputs({ email: this.email, member: this.member });
  }
}

/** `project:region:instance` → `projects/<project>/instances/<instance>`, the name IAM conditions see. */
function instanceResourceName(connectionName: string): string {
  const [project, , instance] = connectionName.split(":");
  return `projects/${project}/instances/${instance}`;
}
