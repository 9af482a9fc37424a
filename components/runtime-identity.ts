import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { serviceAccount } from "./service-account";

export interface RuntimeIdentityArgs {
  project: pulumi.Input<string>;
  /** Service account id (6-30 characters). */
  accountId: string;
  description: string;
  /**
   * The Cloud SQL instance the identity may connect to, as `project:region:instance`. `roles/cloudsql.client` is
   * bound in the instance's project (a binding covers only its own project's instances, wherever the caller
   * runs) and conditioned on exactly this instance, so a preview's identity cannot reach stage's or prod's
   * database. Unset: no database access at all (the scheduler's identity).
   */
  cloudSqlInstance?: pulumi.Input<string>;
  /**
   * Identities that deploy what runs as this account: creating or updating a Cloud Run service, job or worker pool
   * (or a Cloud Scheduler job's OAuth token) as account X needs `iam.serviceAccounts.actAs` on X, so each gets
   * `roles/iam.serviceAccountUser` on this account alone, never project-wide. @default none
   */
  deployers?: Readonly<Record<string, pulumi.Input<string>>>;
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
    const { account, email, member } = serviceAccount(name, args, this);
    this.email = email;
    this.member = member;

    if (args.cloudSqlInstance !== undefined) this.grantCloudSql(name, args.cloudSqlInstance);
    for (const [who, member] of Object.entries(args.deployers ?? {})) {
      // Named after who is granted, so adding or removing one deployer never touches another's binding.
      new gcp.serviceaccount.IAMMember(
        `${name}-act-as-${who}`,
        { serviceAccountId: account.name, role: "roles/iam.serviceAccountUser", member },
        { parent: this },
      );
    }
    this.registerOutputs({ email: this.email, member: this.member });
  }

  private grantCloudSql(name: string, connectionName: pulumi.Input<string>): void {
    const instance = pulumi.output(connectionName).apply((c) => {
      const [project, , id] = c.split(":");
      return { project, resourceName: `projects/${project}/instances/${id}` };
    });
    new gcp.projects.IAMMember(
      `${name}-cloudsql-client`,
      {
        project: instance.project,
        role: "roles/cloudsql.client",
        member: this.member,
        condition: {
          title: "own-instance-only",
          description: "Connect only to this environment's Cloud SQL instance",
          expression: pulumi.interpolate`resource.name == "${instance.resourceName}"`,
        },
      },
      { parent: this },
    );
  }
}
