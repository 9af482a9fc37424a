import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import type { Grantee } from "./options";
import { serviceAccount } from "./service-account";

/**
 * A CI identity: a service account that only GitHub tokens in the principalSets it admits may impersonate (no key
 * exists), with project roles granted one by one, each with the reason it is needed. Access to the state bucket,
 * the KMS keys and the image registry is granted by the components that own them, to the deployer as a Grantee.
 */

export interface ProjectGrant {
  /** A project id, not an Output: it names the binding. */
  readonly project: string;
  readonly role: string;
  /** One line: what the deployer does that needs this role. */
  readonly why: string;
  /** @default none: the role holds on the whole project */
  readonly condition?: { readonly title: string; readonly expression: pulumi.Input<string> };
}

export interface DeployerArgs {
  /** The GCP project the service account lives in. */
  readonly project: string;
  /** 6-30 characters. */
  readonly accountId: string;
  readonly description: string;
  /** Project roles, each binding named after its role (and project), never its position. @default none */
  readonly grants?: readonly ProjectGrant[];
}

export class Deployer extends pulumi.ComponentResource implements Grantee {
  /** The component's name: what the bindings granted to it are named after. */
  readonly key: string;
  readonly email: pulumi.Output<string>;
  /** `serviceAccount:<email>` */
  readonly member: pulumi.Output<string>;
  private readonly account: pulumi.Output<string>;

  constructor(name: string, args: DeployerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:Deployer", name, {}, opts);
    const { account, email, member } = serviceAccount(name, args, this);
    this.key = name;
    this.account = account.name;
    this.email = email;
    this.member = member;

    for (const grant of args.grants ?? []) {
      new gcp.projects.IAMMember(
        // Named after the role, and its project where that is not the deployer's own (the review identity holds
        // the same roles in stage's and prod's projects): one logical name per binding.
        `${name}-${grant.project === args.project ? "" : `${grant.project}-`}${grant.role.replace(/^roles\//, "").replace(/[^A-Za-z0-9]+/g, "-")}`,
        {
          project: grant.project,
          role: grant.role,
          member: this.member,
          condition: grant.condition && { ...grant.condition, description: grant.why },
        },
        { parent: this },
      );
    }
    this.registerOutputs({ email: this.email, member: this.member });
  }

  /**
   * Lets the GitHub tokens in a principalSet (`WorkloadIdentity.principalSet`, one attribute value) impersonate this
   * account. The binding lives on the account, so it holds in whichever project the pool is.
   */
  grantImpersonation(principalSet: Grantee): gcp.serviceaccount.IAMMember {
    return new gcp.serviceaccount.IAMMember(
      `${this.key}-wif-${principalSet.key}`,
      { serviceAccountId: this.account, role: "roles/iam.workloadIdentityUser", member: principalSet.member },
      { parent: this },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What each deployer may do in its project. The environment stacks add `roles/iam.serviceAccountUser` on exactly
// the runtime, worker and scheduler accounts they create (actAs), granted to the deployer where those accounts live.

/** Lets a condition through for every other resource type (a create is checked on the project). */
const onlyFor = (type: string, test: string) => `resource.type != "${type}" || ${test}`;

/** Project IAM changes limited to these roles: the RuntimeIdentity component grants cloudsql.client project-wide. */
const onlyGrants = (roles: string[]) =>
  `api.getAttribute("iam.googleapis.com/modifiedGrantsByRole", []).hasOnly([${roles.map((r) => `"${r}"`).join(", ")}])`;

const SERVICE_ACCOUNT = "iam.googleapis.com/ServiceAccount";

/** A preview's own service accounts (`monitor-pr-<N>-run`): the only ones the preview deployer manages or acts as. */
const PREVIEW_ACCOUNTS = `resource.name.extract("serviceAccounts/{account}@").startsWith("monitor-pr-")`;

export function previewGrants(project: string, projectNumber: pulumi.Input<string>): ProjectGrant[] {
  const sharedInstance = `projects/${project}/instances/${PREVIEW_PLATFORM_NAMES.instance}`;
  return [
    {
      project,
      role: "roles/run.admin",
      why: "creates its preview's service and migration job, and makes the service public",
    },
    {
      project,
      role: "roles/cloudsql.admin",
      why: "creates and drops its preview's database and user on the shared preview instance only",
      condition: {
        title: "shared-preview-instance",
        expression: onlyFor("sqladmin.googleapis.com/Instance", `resource.name == "${sharedInstance}"`),
      },
    },
    {
      project,
      role: "roles/secretmanager.admin",
      why: "creates its preview's secrets and lets the preview read the sandbox secrets stage owns",
      condition: {
        title: "preview-secrets",
        expression: pulumi
          .output(projectNumber)
          .apply((n) =>
            onlyFor(
              "secretmanager.googleapis.com/Secret",
              `resource.name.startsWith("projects/${n}/secrets/monitor-pr-") || ` +
                `resource.name.startsWith("projects/${n}/secrets/monitor-preview-")`,
            ),
          ),
      },
    },
    {
      project,
      role: "roles/iam.serviceAccountAdmin",
      why: "creates and deletes its preview's runtime service account",
      condition: { title: "preview-accounts", expression: onlyFor(SERVICE_ACCOUNT, PREVIEW_ACCOUNTS) },
    },
    {
      project,
      role: "roles/iam.serviceAccountUser",
      why: "deploys the preview's service and job as the preview's runtime account (actAs)",
      condition: { title: "preview-accounts", expression: onlyFor(SERVICE_ACCOUNT, PREVIEW_ACCOUNTS) },
    },
    {
      project,
      role: "roles/resourcemanager.projectIamAdmin",
      why: "lets the preview's runtime account connect to the shared instance (roles/cloudsql.client), nothing else",
      condition: { title: "cloudsql-client-only", expression: onlyGrants(["roles/cloudsql.client"]) },
    },
    {
      project,
      role: "roles/serviceusage.serviceUsageAdmin",
      why: "enables the APIs a preview uses (it never disables them)",
    },
  ];
}

/** Stage and prod: the whole environment in the environment's own project. */
export function environmentGrants(project: string): ProjectGrant[] {
  return [
    {
      project,
      role: "roles/run.admin",
      why: "deploys the web service, migration and cron jobs, worker pool and their invokers",
    },
    {
      project,
      role: "roles/cloudsql.admin",
      why: "manages the environment's instance, database and user (and stage's preview instance)",
    },
    { project, role: "roles/secretmanager.admin", why: "manages the environment's secrets and who reads them" },
    {
      project,
      role: "roles/iam.serviceAccountAdmin",
      why: "creates the runtime, worker and scheduler accounts and grants actAs on them",
    },
    {
      project,
      role: "roles/resourcemanager.projectIamAdmin",
      why: "lets the runtime accounts connect to the environment's instance (roles/cloudsql.client), nothing else",
      condition: { title: "cloudsql-client-only", expression: onlyGrants(["roles/cloudsql.client"]) },
    },
    {
      project,
      role: "roles/pubsub.admin",
      why: "manages the breach topic, subscription and their publisher/subscriber grants",
    },
    { project, role: "roles/cloudscheduler.admin", why: "schedules the app's periodic jobs" },
    { project, role: "roles/monitoring.editor", why: "manages the uptime check and its alert policy" },
    {
      project,
      role: "roles/compute.loadBalancerAdmin",
      why: "manages the load balancer: address, NEG, backend, URL maps, proxies, forwarding rules, SSL policy",
    },
    { project, role: "roles/compute.securityAdmin", why: "manages the Cloud Armor policy the backend uses" },
    {
      project,
      role: "roles/certificatemanager.editor",
      why: "manages the domain's certificate, its DNS authorization and the certificate map",
    },
    {
      project,
      role: "roles/serviceusage.serviceUsageAdmin",
      why: "enables the APIs the stack uses (it never disables them)",
    },
  ];
}

/** The review identity's roles, by what it reads: `pulumi preview` and `refresh --preview-only` of stage and prod. */
const REVIEW_ROLES: Readonly<Record<string, string>> = {
  "roles/browser": "reads the project itself (getProject)",
  "roles/run.viewer": "reads services, jobs and worker pools",
  "roles/cloudsql.viewer": "reads instances, databases and users",
  "roles/secretmanager.viewer": "reads secrets' metadata (never their values)",
  "roles/pubsub.viewer": "reads topics and subscriptions",
  "roles/cloudscheduler.viewer": "reads scheduler jobs",
  "roles/monitoring.viewer": "reads uptime checks and alert policies",
  "roles/iam.securityReviewer": "reads IAM policies, so a refresh sees the grants",
  "roles/compute.viewer": "reads the load balancer and its Cloud Armor policy",
  "roles/certificatemanager.viewer": "reads the certificate, its DNS authorization and map",
  "roles/serviceusage.serviceUsageViewer": "reads which APIs are enabled",
  "roles/artifactregistry.reader": "resolves image tags to digests during a preview",
};

/** The review identity reads, never writes. */
export function reviewGrants(project: string): ProjectGrant[] {
  return Object.entries(REVIEW_ROLES).map(([role, why]) => ({ project, role, why }));
}
