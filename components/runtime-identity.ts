import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import type { Grantee } from "./options";
import { ServiceAccountIdentity } from "./service-account";

export interface RuntimeIdentityArgs {
  readonly project: pulumi.Input<string>;
  /** Service account id (6-30 characters). */
  readonly accountId: string;
  readonly description: string;
  /**
   * Identities that deploy what runs as this account, by a key that names their binding (see grantActAs).
   * @default none
   */
  readonly deployers?: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * A service account that Cloud Run (or Cloud Scheduler) runs as, with nothing of its own: a database connection,
 * secrets, topics and jobs are granted by what owns them (`instance.grantConnect(identity)`,
 * `secrets.grantAccess(identity)`, ...), each binding named after this identity's key, its component name.
 */
export class RuntimeIdentity extends ServiceAccountIdentity {
  constructor(name: string, args: RuntimeIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:RuntimeIdentity", name, args, opts);
    for (const [key, deployer] of Object.entries(args.deployers ?? {})) this.grantActAs({ key, member: deployer });
    this.registerOutputs({ email: this.email, member: this.member });
  }

  /**
   * Lets `deployer` deploy what runs as this account: creating or updating a Cloud Run service, job or worker pool
   * (or a Cloud Scheduler job's OAuth token) as account X needs `iam.serviceAccounts.actAs` on X, so it gets
   * `roles/iam.serviceAccountUser` on this account alone, never project-wide. Named `<name>-act-as-<key>`.
   */
  grantActAs(deployer: Grantee): gcp.serviceaccount.IAMMember {
    return this.grantOnAccount("act-as", "roles/iam.serviceAccountUser", deployer);
  }

  /**
   * Lets Cloud Run in another project run jobs and services as this account: a resource runs as a service account of
   * another project only if that project's service agent (Cloud Run's, `service-<project number>@serverless-robot-prod
   * .iam.gserviceaccount.com`) holds `roles/iam.serviceAccountTokenCreator` on the account, and the account's own
   * project does not enforce the `iam.disableCrossProjectServiceAccountUsage` constraint ("Configure for a resource in
   * a different project", https://cloud.google.com/iam/docs/attach-service-accounts; Cloud Run's side:
   * https://cloud.google.com/run/docs/configuring/jobs/service-identity). The constraint is an organization policy
   * that administrators set once (README, Pipeline). `after`: what creates the agent (the project's Cloud Run API).
   */
  grantCrossProjectUse(serviceAgent: Grantee, after: pulumi.Resource[] = []): gcp.serviceaccount.IAMMember {
    return this.grantOnAccount("token-creator", "roles/iam.serviceAccountTokenCreator", serviceAgent, after);
  }
}
