import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import type { Grantee } from "./options";
import { ServiceAccountIdentity } from "./service-account";

/**
 * A CI identity: a service account that only GitHub tokens in the principalSets it admits may impersonate (no key
 * exists), with project roles granted one by one, each with the reason it is needed. Access to the state bucket,
 * the KMS keys and the image registry is granted by the components that own them, to the deployer as a Grantee.
 */

export interface ProjectGrant {
  /** A project id, not an Output: it names the binding. */
  readonly project: string;
  /** A predefined role (`roles/...`), or with `customRole`, the custom role's name (`projects/<p>/roles/<id>`). */
  readonly role: string;
  /** One line: what the deployer does that needs this role. */
  readonly why: string;
  /** @default none: the role holds on the whole project */
  readonly condition?: { readonly title: string; readonly expression: pulumi.Input<string> };
  /**
   * The permissions of a custom role this grant creates in `project` (least privilege where no predefined role
   * is narrow enough); `role` is then its name. @default none: a predefined role
   */
  readonly customRole?: { readonly title: string; readonly permissions: readonly string[] };
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

/** `roles/run.admin` → `run-admin`; `projects/p/roles/monitorX` → `monitorX`. */
const roleSlug = (role: string) =>
  role
    .replace(/^roles\//, "")
    .replace(/^projects\/[^/]+\/roles\//, "")
    .replace(/[^A-Za-z0-9]+/g, "-");

export class Deployer extends ServiceAccountIdentity {
  constructor(name: string, args: DeployerArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:Deployer", name, args, opts);
    for (const grant of args.grants ?? []) {
      // Named after the role, and its project where that is not the deployer's own (the review identity holds
      // the same roles in stage's and prod's projects): one logical name per binding.
      const bindingName = `${name}-${grant.project === args.project ? "" : `${grant.project}-`}${roleSlug(grant.role)}`;
      // The binding names the role by the name the role will have (its `name` output is documented as
      // `projects/{{project}}/roles/{{role_id}}`), so that the plan and the policy pack see it before it exists;
      // dependsOn keeps the order the output would have given.
      const customRole =
        grant.customRole &&
        new gcp.projects.IAMCustomRole(
          `${bindingName}-role`,
          {
            project: grant.project,
            roleId: grant.role.split("/").pop()!,
            title: grant.customRole.title,
            description: grant.why,
            permissions: [...grant.customRole.permissions],
            stage: "GA",
          },
          { parent: this },
        );
      new gcp.projects.IAMMember(
        bindingName,
        {
          project: grant.project,
          role: grant.role,
          member: this.member,
          condition: grant.condition && { ...grant.condition, description: grant.why },
        },
        { parent: this, dependsOn: customRole ? [customRole] : [] },
      );
    }
    this.registerOutputs({ email: this.email, member: this.member });
  }

  /**
   * Lets the GitHub tokens in a principalSet (`WorkloadIdentity.principalSet`, one attribute value) impersonate this
   * account. The binding lives on the account, so it holds in whichever project the pool is.
   */
  grantImpersonation(principalSet: Grantee): gcp.serviceaccount.IAMMember {
    return this.grantOnAccount("wif", "roles/iam.workloadIdentityUser", principalSet);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// What each deployer may do in its project. The environment stacks add `roles/iam.serviceAccountUser` on exactly
// the runtime, worker and scheduler accounts they create (actAs), granted to the deployer where those accounts live.
//
// Conditions can narrow a role only for services that recognize IAM resource attributes: Cloud SQL, Secret Manager,
// Cloud KMS, Cloud Storage and Resource Manager do; Cloud Run, IAM service accounts and Pub/Sub do not
// (https://cloud.google.com/iam/docs/conditions-resource-attributes, "Resource service values"). That is why the
// previews live in a project of their own: a role there that no condition can narrow reaches only previews.

/** Project IAM changes limited to these roles: the RuntimeIdentity component grants cloudsql.client project-wide. */
const onlyGrants = (roles: string[]) =>
  `api.getAttribute("iam.googleapis.com/modifiedGrantsByRole", []).hasOnly([${roles.map((r) => `"${r}"`).join(", ")}])`;

/**
 * A create or list is authorized on the project (`projects/<number>`, type cloudresourcemanager.googleapis.com/Project),
 * everything else on the resource itself: a condition that admits the project and resources named with `prefix`
 * (a secret's versions are named `<secret>/versions/<n>`, so one prefix covers both types).
 */
const projectOrNamed = (prefix: string) =>
  `resource.type == "cloudresourcemanager.googleapis.com/Project" || resource.name.startsWith("${prefix}")`;

/** Cloud SQL permissions a preview's database and user need on the shared instance: never its settings or deletion. */
export const PREVIEW_DATABASE_PERMISSIONS = [
  "cloudsql.instances.get",
  "cloudsql.instances.connect",
  "cloudsql.databases.create",
  "cloudsql.databases.delete",
  "cloudsql.databases.get",
  "cloudsql.databases.list",
  "cloudsql.databases.update",
  "cloudsql.users.create",
  "cloudsql.users.delete",
  "cloudsql.users.get",
  "cloudsql.users.list",
  "cloudsql.users.update",
] as const;

/**
 * The preview deployer's roles in the previews' own project, each as narrow as its service allows. What it needs
 * on the platform's topic, sandbox secrets and registry, the previews stack grants on exactly those resources.
 */
export function previewGrants(project: string, projectNumber: pulumi.Input<string>): ProjectGrant[] {
  const sharedInstance = `projects/${project}/instances/${PREVIEW_PLATFORM_NAMES.instance}`;
  return [
    {
      project,
      role: "roles/run.admin",
      why: "creates its preview's service, migration job and database access job, and makes the service public (Cloud Run takes no condition: the project holds previews only)",
    },
    {
      project,
      role: `projects/${project}/roles/monitorPreviewDatabases`,
      why: "creates and drops its preview's database and user on the shared preview instance, never the instance itself",
      customRole: { title: "Monitor preview databases", permissions: PREVIEW_DATABASE_PERMISSIONS },
      condition: { title: "shared-preview-instance", expression: `resource.name == "${sharedInstance}"` },
    },
    {
      project,
      role: "roles/secretmanager.admin",
      why: "creates and deletes its preview's own secrets (monitor-pr-*) and their versions, never the platform's",
      condition: {
        title: "preview-secrets",
        expression: pulumi.output(projectNumber).apply((n) => projectOrNamed(`projects/${n}/secrets/monitor-pr-`)),
      },
    },
    {
      project,
      role: "roles/iam.serviceAccountAdmin",
      why: "creates and deletes its preview's runtime service account (IAM takes no condition: the project holds previews' accounts only)",
    },
    {
      project,
      role: "roles/iam.serviceAccountUser",
      why: "deploys the preview's service and job as the preview's runtime account (actAs)",
    },
    {
      project,
      role: "roles/resourcemanager.projectIamAdmin",
      why: "lets the preview's runtime account connect to the shared instance (roles/cloudsql.client), nothing else",
      condition: { title: "cloudsql-client-only", expression: onlyGrants(["roles/cloudsql.client"]) },
    },
    {
      project,
      role: `projects/${project}/roles/monitorPreviewAdmission`,
      why: "counts the previews holding connections on the shared instance before admitting one (scripts/preview-admission.ts reads num_backends per database; Cloud Monitoring takes no condition: the project holds previews only)",
      // The one permission projects.timeSeries.list requires
      // (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list, "Authorization"):
      // roles/monitoring.viewer would add dashboards, alert policies, uptime checks and more.
      customRole: { title: "Monitor preview admission", permissions: ["monitoring.timeSeries.list"] },
    },
  ];
}

/** The previews platform's deployer: the `previews` stack's resources, in the previews project only. */
export function previewsPlatformGrants(project: string): ProjectGrant[] {
  return [
    { project, role: "roles/cloudsql.admin", why: "manages the shared preview instance" },
    { project, role: "roles/secretmanager.admin", why: "manages the sandbox secrets and who may grant them" },
    { project, role: "roles/pubsub.admin", why: "manages the topic previews publish to and who may grant it" },
    { project, role: "roles/artifactregistry.admin", why: "manages the registry previews push to and who may" },
    { project, role: "roles/iam.roleAdmin", why: "manages the grantor custom role the preview deployer holds" },
    {
      project,
      role: "roles/run.developer",
      // https://cloud.google.com/run/docs/reference/iam/roles: jobs and their executions, no setIamPolicy.
      why: "creates and runs the database admin's init job (the previews' database role); changes no Cloud Run IAM",
    },
    {
      project,
      role: "roles/serviceusage.serviceUsageAdmin",
      why: "enables the APIs every preview uses (it never disables them)",
    },
  ];
}

/**
 * Who may run jobs as the previews' database admin (`databaseAdminEmail()`), by deployer, and why: actAs
 * (`roles/iam.serviceAccountUser`) on that one account, which the pipeline stack binds on the account itself (it lives
 * in the identity project, where no project role of theirs reaches it). Running as it reads the admin's password;
 * the preview deployer could set that password anyway (`cloudsql.users.update` in PREVIEW_DATABASE_PERMISSIONS), and
 * both jobs run a pinned psql image with a fixed script, never an image built from a pull request.
 */
export const DATABASE_ADMIN_ACT_AS: Readonly<Record<"preview" | "previews", string>> = {
  preview: "deploys and runs each preview's database access job, which closes the preview's database to the others",
  previews: "deploys and runs the platform's init job, which creates the previews' database role",
};

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
      why: "manages the environment's instance, database and user",
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

/** The review identity's roles, by what it reads: `pulumi preview` and `refresh --preview-only` of a stack. */
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
