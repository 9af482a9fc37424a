import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";

/**
 * The Google APIs each stack kind calls in its own project, and why. A project does not come with them enabled
 * (serviceusage.googleapis.com is the exception: it is on in every project and is what enables the others).
 */
export const ENVIRONMENT_SERVICES = [
  "run.googleapis.com", // web service, migration and scheduled jobs, breach-alerts worker pool
  "sqladmin.googleapis.com", // the instance, database and user; also what the Cloud SQL connector calls
  "secretmanager.googleapis.com", // the app's secrets and their grants
  "iam.googleapis.com", // the runtime, worker and scheduler service accounts
  "cloudresourcemanager.googleapis.com", // project-level IAM bindings (cloudsql.client)
  "pubsub.googleapis.com", // hibp-breaches topic and subscription
  "cloudscheduler.googleapis.com", // triggers of the periodic jobs
  "monitoring.googleapis.com", // uptime check and alert policy
  "compute.googleapis.com", // the load balancer, its address and Cloud Armor
  "certificatemanager.googleapis.com", // the load balancer's managed certificate
  "artifactregistry.googleapis.com", // the app's image repository lives in the environment's project
] as const;

/**
 * The previews project, enabled once by the `previews` stack for every preview (whose deployer may not enable
 * APIs: it holds no serviceusage role).
 */
export const PREVIEWS_PLATFORM_SERVICES = [
  "run.googleapis.com", // each preview's migration job and web service
  "sqladmin.googleapis.com", // the shared instance; the Cloud SQL connector checks it in the project that connects
  "secretmanager.googleapis.com", // sandbox secrets and each preview's own
  "iam.googleapis.com", // each preview's runtime service account, the grantor custom role
  "cloudresourcemanager.googleapis.com", // project IAM bindings (cloudsql.client) and the project-number lookup
  "pubsub.googleapis.com", // the topic previews publish to
  "artifactregistry.googleapis.com", // the registry previews push to
] as const;

/** The pipeline stack, in every project it touches (deployers', state's and the registry's). */
export const PIPELINE_SERVICES = [
  "iam.googleapis.com", // workload identity pools and providers, deployer service accounts
  "iamcredentials.googleapis.com", // deployers' short-lived tokens (impersonation from GitHub)
  "sts.googleapis.com", // exchanges GitHub's OIDC token for a federated one
  "cloudresourcemanager.googleapis.com", // project IAM bindings and the project-number lookup
  "cloudkms.googleapis.com", // the stacks' secrets providers
  "storage.googleapis.com", // the state bucket
  "artifactregistry.googleapis.com", // the image repository
] as const;

/**
 * Enabled by the pipeline too where it grants Cloud Run's service agent, which exists only once this API is on: in
 * prod's project (the agent pulls images from the registry) and in the previews project (the previews' database
 * admin account trusts that agent to run the platform's jobs as it, RuntimeIdentity.grantCrossProjectUse).
 */
export const RUN_AGENT_SERVICE = "run.googleapis.com";

export interface ProjectServicesArgs {
  /** The GCP project whose APIs are enabled, and the provider's default project. */
  readonly project: string;
  /** The provider's default region. */
  readonly region: string;
  /** API names, e.g. `run.googleapis.com`. */
  readonly services: readonly string[];
}

/**
 * Enables a project's APIs, and offers the provider that every other GCP resource of the stack uses: it is created
 * only after the APIs are on, so nothing reaches an API before it is enabled (the engine creates a resource only
 * after its provider, and a component passes its provider on to its children).
 *
 * Services are never disabled on destroy: the stacks that share a project (stage and the pipeline; the previews
 * platform and every preview) would lose an API another still uses. Two stacks declaring one service is safe:
 * enabling an enabled API is a no-op.
 */
export class ProjectServices extends pulumi.ComponentResource {
  /** Pass as the `provider` option of every GCP resource and component of the stack. */
  readonly provider: gcp.Provider;
  readonly services: gcp.projects.Service[];

  constructor(name: string, args: ProjectServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:ProjectServices", name, {}, opts);
    this.services = [...new Set(args.services)].map(
      (service) =>
        new gcp.projects.Service(
          `${name}-${service.split(".")[0]}`,
          { project: args.project, service, disableOnDestroy: false, disableDependentServices: false },
          { parent: this },
        ),
    );
    this.provider = new gcp.Provider(
      `${name}-provider`,
      { project: args.project, region: args.region },
      { parent: this, dependsOn: this.services },
    );
    this.registerOutputs({});
  }
}
