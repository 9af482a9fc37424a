import {
  type Policies,
  type PolicyResource,
  type ResourceValidationArgs,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import * as iam from "@pulumi/gcp/iam";
import * as monitoring from "@pulumi/gcp/monitoring";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";
import * as sql from "@pulumi/gcp/sql";
import { DERIVED_VARIABLES, isSecretName, secretLookingValue } from "./shared-rules/app-env";
import { type StackKind, parseStackName } from "./shared-rules/stack-name";
import {
  BUDGET_LABELS,
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  connectionsNeeded,
  previewProcesses,
} from "./shared-rules/connection-budget";

/**
 * The CrossGuard rules for the monitor project. This module only exports them: constructing a PolicyPack starts
 * the analyzer's server, which only the pack's entry (index.ts) may do. Rules read the stack from each URN, so
 * one pack serves every stack and a rule that concerns one environment says so itself.
 */

type Props = Record<string, any>;

/**
 * Reads a value a preview may not know. In `pulumi preview`, CrossGuard hands policies props behind a proxy
 * (@pulumi/policy/proxy.js) that throws its UnknownValueError on reading a value the engine cannot know yet; the
 * server then reports "can't run policy ... during preview" as an advisory, so a mandatory rule that lets it
 * escape decides nothing. A rule that can decide without the value catches it here. (The class is internal to
 * the package, hence the name check.)
 */
function knownOr<T, U>(read: () => T, whenUnknown: U): T | U {
  try {
    return read();
  } catch (e) {
    if (e instanceof Error && e.constructor.name === "UnknownValueError") return whenUnknown;
    throw e;
  }
}

/** Stands for a value the preview does not know, where a rule can decide without it. */
const UNKNOWN = Symbol("unknown during preview");

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → its stack, or undefined for a name the program refuses anyway. */
export function stackOf(urn: string): StackKind | undefined {
  try {
    return parseStackName(urn.split("::")[0].replace(/^urn:pulumi:/, ""));
  } catch {
    return undefined;
  }
}

function longLived(args: ResourceValidationArgs): Extract<StackKind, { kind: "stage" | "prod" }> {
  const stack = stackOf(args.urn);
  if (stack?.kind === "stage" || stack?.kind === "prod") return stack;
  return args.notApplicable("only stage and prod keep state");
}

// Types whose provider refuses to delete them unless `deletionProtection: false` is set explicitly.
const PROTECTED_BY_DEFAULT = new Set([
  "gcp:cloudrunv2/service:Service",
  "gcp:cloudrunv2/job:Job",
  "gcp:cloudrunv2/workerPool:WorkerPool",
  "gcp:sql/databaseInstance:DatabaseInstance",
]);

/** What makes the provider or GCP refuse (or skip) a delete of this resource; empty when a delete goes through. */
export function deletionGuards(type: string, props: Props): string[] {
  const guards: string[] = [];
  if (props.deletionProtection === true) guards.push("deletionProtection is true");
  if (props.deletionProtection === undefined && PROTECTED_BY_DEFAULT.has(type)) {
    guards.push("deletionProtection is unset and defaults to true");
  }
  // ABANDON does not block the delete but leaves the thing behind: on the shared preview instance, a leak.
  if (props.deletionPolicy === "PREVENT" || props.deletionPolicy === "ABANDON") {
    guards.push(`deletionPolicy is ${props.deletionPolicy}`);
  }
  if (props.settings?.deletionProtectionEnabled === true) guards.push("settings.deletionProtectionEnabled is true");
  return guards;
}

const statefulResourcesProtected: ResourceValidationPolicy = {
  name: "stateful-resources-protected",
  description: "Stage and prod Cloud SQL instances, databases and secrets are protected from deletion.",
  // Mandatory: losing stage's or prod's data or credentials to a mistaken delete is not recoverable by a redeploy.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const stateful =
      args.isType(sql.DatabaseInstance) || args.isType(sql.Database) || args.isType(secretmanager.Secret);
    if (!stateful) return args.notApplicable("not a stateful resource");
    const stack = longLived(args);
    if (!args.opts.protect) {
      reportViolation(`${args.name} in ${stack.stack} is not protected: set the resource option protect: true`);
    }
    if (args.isType(sql.DatabaseInstance)) {
      if (args.props.deletionProtection === false) {
        reportViolation(`${args.name} in ${stack.stack} has deletionProtection: false: remove it or set it to true`);
      }
      if (args.props.settings?.deletionProtectionEnabled !== true) {
        reportViolation(
          `${args.name} in ${stack.stack} lacks settings.deletionProtectionEnabled: true, which also stops deletes ` +
            "from the console, gcloud and the API",
        );
      }
    } else if (deletionGuards(args.type, args.props).length === 0) {
      const fix = args.isType(sql.Database) ? 'deletionPolicy: "PREVENT"' : "deletionProtection: true";
      reportViolation(`${args.name} in ${stack.stack} can be deleted by the provider: set ${fix}`);
    }
  },
};

const prodDatabaseRecoverable: ResourceValidationPolicy = {
  name: "prod-database-recoverable",
  description: "Prod Cloud SQL has backups, point-in-time recovery and a standby in a second zone.",
  // Mandatory: without these a bad migration or a zone outage loses users' data or takes Monitor down.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "prod") return args.notApplicable("only prod");
    const settings = instance.settings;
    if (settings?.backupConfiguration?.enabled !== true) {
      reportViolation(`${args.name} has no automated backups: set settings.backupConfiguration.enabled: true`);
    }
    if (settings?.backupConfiguration?.pointInTimeRecoveryEnabled !== true) {
      reportViolation(
        `${args.name} has no point-in-time recovery: set settings.backupConfiguration.pointInTimeRecoveryEnabled: true`,
      );
    }
    if (settings?.availabilityType !== "REGIONAL") {
      reportViolation(
        `${args.name} is not highly available (availabilityType ${settings?.availabilityType ?? "unset"}): ` +
          'set settings.availabilityType: "REGIONAL"',
      );
    }
  }),
};

const previewResourcesDeletable: ResourceValidationPolicy = {
  name: "preview-resources-deletable",
  description: "Everything a preview creates can be deleted by `pulumi destroy`.",
  // Mandatory: destroy does not rerun the program, so a guard set at creation makes the preview leak until an
  // `up` lifts it, and the sweeper cannot clean it up.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "preview") return args.notApplicable("only previews");
    if (args.opts.protect) reportViolation(`${args.name} is protected: previews must not set protect`);
    const guards = deletionGuards(args.type, args.props);
    if (guards.length > 0) {
      reportViolation(
        `${args.name} cannot be destroyed with its preview (${guards.join("; ")}): create it with ` +
          'deletionProtection: false (and deletionPolicy "DELETE" where the type has one)',
      );
    }
  },
};

/** Where each type that GCP lets carry labels keeps them. Other types (databases, users, IAM) cannot. */
const LABELS_AT: Readonly<Record<string, (props: Props) => unknown>> = {
  "gcp:cloudrunv2/service:Service": (p) => p.labels,
  "gcp:cloudrunv2/job:Job": (p) => p.labels,
  "gcp:cloudrunv2/workerPool:WorkerPool": (p) => p.labels,
  "gcp:secretmanager/secret:Secret": (p) => p.labels,
  "gcp:sql/databaseInstance:DatabaseInstance": (p) => p.settings?.userLabels,
  "gcp:pubsub/topic:Topic": (p) => p.labels,
  "gcp:pubsub/subscription:Subscription": (p) => p.labels,
};

/** The web service's name, stated here (not taken from infra/naming) so that a rename there is checked, not trusted. */
function webServiceName(stack: StackKind): string {
  return `monitor-${stack.kind === "preview" ? `pr-${stack.pr}` : stack.kind}`;
}

/** Stated here rather than taken from infra/naming's labelsFor, so that a change there is checked, not trusted. */
function requiredLabels(stack: StackKind): Record<string, string> {
  const environment = stack.kind === "preview" ? "preview" : stack.kind;
  const labels: Record<string, string> = { app: "monitor", environment, stack: stack.stack };
  if (stack.kind === "preview") labels.pr = stack.pr;
  return labels;
}

const resourcesLabelled: ResourceValidationPolicy = {
  name: "resources-labelled",
  description: "Resources that take labels say which app, environment, stack and (for a preview) PR they belong to.",
  // Mandatory: the sweeper finds a closed PR's leftovers, and cost reports find each environment, by these
  // labels; a stage resource labelled as a preview could be swept.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const labelsOf = LABELS_AT[args.type];
    const stack = stackOf(args.urn);
    if (!labelsOf || !stack) return args.notApplicable("takes no labels, or not a monitor stack");
    const labels = (labelsOf(args.props) ?? {}) as Record<string, unknown>;
    const wrong = Object.entries(requiredLabels(stack))
      .filter(([key, value]) => labels[key] !== value)
      .map(([key, value]) => `${key}: "${value}"${labels[key] === undefined ? "" : ` (is "${String(labels[key])}")`}`);
    if (wrong.length > 0) reportViolation(`${args.name} needs the labels ${wrong.join(", ")}`);
  },
};

const ENCRYPTED_SSL_MODES = ["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"];

const cloudSqlEncryptedConnections: ResourceValidationPolicy = {
  name: "cloudsql-encrypted-connections",
  description: "Cloud SQL instances refuse unencrypted connections.",
  // Mandatory: database credentials and users' data would otherwise cross the network in clear.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    const sslMode = instance.settings?.ipConfiguration?.sslMode;
    if (!sslMode || !ENCRYPTED_SSL_MODES.includes(sslMode)) {
      reportViolation(
        `${args.name} accepts unencrypted connections (sslMode ${sslMode ?? "unset"}): ` +
          'set settings.ipConfiguration.sslMode: "ENCRYPTED_ONLY"',
      );
    }
  }),
};

/**
 * A public IP is allowed only with `connectorEnforcement: "REQUIRED"`: then every connection goes through the Cloud
 * SQL connector or Auth Proxy, which checks IAM, and GCP rejects direct ones, so the address is reachable but not
 * usable. Without it, an authorized network lets a password alone in. A network open to all of the internet is
 * refused even with enforcement, since lifting enforcement would then expose the instance at once.
 */
const cloudSqlNoOpenPublicIp: ResourceValidationPolicy = {
  name: "cloudsql-no-open-public-ip",
  description: "Cloud SQL instances are not reachable from the internet except through the Cloud SQL connector.",
  // Mandatory: an exposed Postgres is brute-forced within hours.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    const ip = instance.settings?.ipConfiguration;
    const open = (ip?.authorizedNetworks ?? []).filter((n) => /\/0$/.test(n.value));
    if (open.length > 0) {
      reportViolation(`${args.name} allows ${open.map((n) => n.value).join(", ")}: remove it from authorizedNetworks`);
    }
    // GCP assigns a public address unless told not to.
    const publicIp = ip?.ipv4Enabled !== false;
    if (publicIp && instance.settings?.connectorEnforcement !== "REQUIRED") {
      reportViolation(
        `${args.name} has a public IP that accepts direct connections: set settings.connectorEnforcement: "REQUIRED" ` +
          "(connections only through the Cloud SQL connector) or settings.ipConfiguration.ipv4Enabled: false",
      );
    }
  }),
};

/** Every container of a Cloud Run service, job or worker pool, or notApplicable for anything else. */
function containersOf(args: ResourceValidationArgs): Props[] {
  const service = args.asType(cloudrunv2.Service) ?? args.asType(cloudrunv2.WorkerPool);
  if (service) return service.template?.containers ?? [];
  const job = args.asType(cloudrunv2.Job);
  if (job) return job.template?.template?.containers ?? [];
  return args.notApplicable("not a Cloud Run service, job or worker pool");
}

const DIGEST_REFERENCE = /^[^@\s]+@sha256:[0-9a-f]{64}$/;

const cloudRunImagePinned: ResourceValidationPolicy = {
  name: "cloudrun-image-pinned-by-digest",
  description: "Cloud Run containers run an image pinned by digest.",
  // Mandatory: a tag can move, so prod would no longer run exactly the bytes that stage ran.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const container of containersOf(args)) {
      if (!DIGEST_REFERENCE.test(container.image ?? "")) {
        reportViolation(`${args.name} runs "${container.image}": use <repository>@sha256:<64 hex digits>`);
      }
    }
  },
};

const cloudRunNoPlainSecrets: ResourceValidationPolicy = {
  name: "cloudrun-no-plain-secrets",
  description: "Secrets reach Cloud Run containers from Secret Manager, never as plain env values.",
  // Mandatory: a plain value is readable by anyone who can view the service or its revisions.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const container of containersOf(args)) {
      for (const env of (container.envs ?? []) as Props[]) {
        // `in` asks the proxy nothing about the value: a plain value is plain whether or not it is known yet.
        if (!("value" in env)) continue;
        let why: string | undefined;
        if (isSecretName(env.name)) why = "its name says it is a secret";
        // The program computes these from the resources it creates (URLs, connection names, ids), never from a
        // credential; they are often unknown at a first preview, so they are judged by name, not value.
        else if (DERIVED_VARIABLES.includes(env.name)) continue;
        else if (typeof env.value === "string") why = secretLookingValue(env.value);
        if (why) {
          reportViolation(
            `${args.name} sets ${env.name} as a plain value, but ${why}: store it in Secret Manager and use ` +
              "valueSource.secretKeyRef",
          );
        }
      }
    }
  },
};

const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/** Cloud Run's IAM grants, by what they grant on. (An IamPolicy's JSON is not read: the program uses none.) */
const RUN_GRANTS: Readonly<Record<string, "service" | "job" | "worker pool">> = {
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "service",
  "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding": "service",
  "gcp:cloudrunv2/jobIamMember:JobIamMember": "job",
  "gcp:cloudrunv2/jobIamBinding:JobIamBinding": "job",
  "gcp:cloudrunv2/workerPoolIamMember:WorkerPoolIamMember": "worker pool",
  "gcp:cloudrunv2/workerPoolIamBinding:WorkerPoolIamBinding": "worker pool",
};

/**
 * Where the environment allows a public invoker: only on the environment's web service (its name from
 * infra/naming.ts), since the app does its own sign-in. Everything else, above all the breach-alerts worker that
 * Pub/Sub feeds, is invoked by Google identities only; public, it would let anyone forge breach notifications or
 * run jobs. Deny by default, so that a new service starts private until this says otherwise.
 */
function publicInvokerRefusal(stack: StackKind | undefined, target: string, name: string): string | undefined {
  if (target !== "service") return `a Cloud Run ${target} is never invoked from the internet`;
  if (!stack || stack.kind === "pipeline") return "this stack serves no public traffic";
  if (name.endsWith("-breach-alerts")) return "the breach-alerts worker is fed by Pub/Sub only";
  const web = webServiceName(stack);
  return name === web ? undefined : `only the web service ${web} may be public in ${stack.stack}`;
}

const cloudRunPublicInvoker: ResourceValidationPolicy = {
  name: "cloudrun-public-invoker",
  description: "Only the web service may be invoked by anyone on the internet.",
  // Mandatory: a public worker or job accepts forged work from anyone.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const target = RUN_GRANTS[args.type];
    if (!target) return args.notApplicable("not a Cloud Run IAM grant");
    // The public principals are literals, which a preview always knows. A member it does not know is built from
    // a resource's output (a service account's email) and so names an identity: it cannot be public. A whole
    // `members` list that is unknown can hold anything, and is left to throw.
    const props = args.props;
    const members: unknown[] =
      "members" in props && props.members !== undefined
        ? Array.from({ length: props.members.length }, (_, i) => knownOr(() => props.members[i], UNKNOWN))
        : [knownOr(() => props.member, UNKNOWN)];
    const publicMembers = members.filter((m): m is string => typeof m === "string" && PUBLIC_MEMBERS.includes(m));
    if (args.props.role !== "roles/run.invoker" || publicMembers.length === 0) return;
    // `name` may be the full resource name (projects/.../services/<name>).
    const name = String(args.props.name ?? "").split("/").pop()!;
    const why = publicInvokerRefusal(stackOf(args.urn), target, name);
    if (why) reportViolation(`${args.name} lets ${publicMembers.join(", ")} invoke ${name}, but ${why}`);
  },
};

const prodWebWarm: ResourceValidationPolicy = {
  name: "prod-web-warm-instance",
  description: "The prod web service keeps at least one instance warm.",
  // Advisory: a cold start costs the first visitor seconds, not data or safety; it must not block a prod hotfix.
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(cloudrunv2.Service, (service, args, reportViolation) => {
    const stack = stackOf(args.urn);
    if (stack?.kind !== "prod" || service.name !== webServiceName(stack)) {
      return args.notApplicable("only prod's web service");
    }
    // A minimum can be set per revision, for the whole service, or as a manual instance count.
    const { scaling, template } = service;
    const manual = scaling?.scalingMode === "MANUAL" ? scaling.manualInstanceCount : 0;
    const warm = Math.max(template?.scaling?.minInstanceCount ?? 0, scaling?.minInstanceCount ?? 0, manual ?? 0);
    if (warm < 1) {
      reportViolation(`${args.name} scales to zero: set template.scaling.minInstanceCount >= 1`);
    }
  }),
};

const prodAlertsNotify: ResourceValidationPolicy = {
  name: "prod-alerts-notify",
  description: "Prod's alert policies notify someone.",
  // Advisory: an alert that notifies nobody still records incidents, and a missing channel must not block a prod
  // hotfix; but prod's uptime alert is how an outage reaches a person, so the plan says so every time.
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(monitoring.AlertPolicy, (policy, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "prod") return args.notApplicable("only prod's alerts must reach a person");
    if ((policy.notificationChannels ?? []).length === 0) {
      reportViolation(
        `${args.name} notifies nobody: set monitor:alerts.notificationChannels in Pulumi.prod.yaml ` +
          "(projects/<project>/notificationChannels/<id>)",
      );
    }
  }),
};

/** True when a CEL condition compares the repository claim (name or id) with a non-empty literal. */
export function namesRepository(condition: string): boolean {
  const claim = String.raw`(?:assertion|attribute)\.repository(?:_id)?(?![\w])`;
  const literal = String.raw`(?:"[^"]+"|'[^']+')`;
  return new RegExp(
    String.raw`${claim}\s*(?:==\s*${literal}|in\s*\[\s*${literal})|${literal}\s*==\s*${claim}`,
  ).test(condition);
}

const workloadIdentityScoped: ResourceValidationPolicy = {
  name: "workload-identity-names-repository",
  description: "Workload identity providers only trust tokens from a named repository.",
  // Mandatory: without it, any GitHub repository's workflow could impersonate the deployers.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(iam.WorkloadIdentityPoolProvider, (provider, args, reportViolation) => {
    if (!namesRepository(provider.attributeCondition ?? "")) {
      reportViolation(
        `${args.name} has attributeCondition ${JSON.stringify(provider.attributeCondition ?? null)}: compare ` +
          `assertion.repository with the repository, e.g. assertion.repository == "mozilla/blurts-server"`,
      );
    }
  }),
};

const noServiceAccountKeys: ResourceValidationPolicy = {
  name: "no-service-account-keys",
  description: "No long-lived service account keys; CI uses workload identity federation.",
  // Mandatory: a key is a credential that never expires and works from anywhere once it leaks.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(serviceaccount.Key, (_key, args, reportViolation) => {
    reportViolation(`${args.name} creates a service account key: use workload identity federation instead`);
  }),
};

function positiveInteger(text: unknown): number | undefined {
  return typeof text === "string" && /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

/** How many app processes a Cloud Run resource may run at once, each with its own pool. */
const PROCESSES_OF: Readonly<Record<string, (props: Props) => number>> = {
  // Cloud Run's default maximum is 100 instances.
  "gcp:cloudrunv2/service:Service": (p) => p.template?.scaling?.maxInstanceCount ?? 100,
  "gcp:cloudrunv2/workerPool:WorkerPool": (p) => p.scaling?.manualInstanceCount ?? 1,
  "gcp:cloudrunv2/job:Job": (p) => p.template?.parallelism || p.template?.taskCount || 1,
};

/**
 * Who may connect to an instance at once. The shared preview instance serves other stacks, so it says what it is
 * sized for in its labels; any other instance serves the Cloud Run resources of its own stack whose inputs are
 * built from it (its connection name in their Cloud SQL volume and PG_HOST), counted here from their scaling.
 */
function processesOf(instance: PolicyResource, labels: Record<string, string>, all: PolicyResource[]) {
  if (labels.role === "preview-platform") {
    const maxPreviews = positiveInteger(labels[BUDGET_LABELS.maxPreviews]);
    const perPreview = positiveInteger(labels[BUDGET_LABELS.maxInstancesPerPreview]);
    if (maxPreviews === undefined || perPreview === undefined) return undefined;
    return {
      processes: previewProcesses(maxPreviews, perPreview),
      what: `${maxPreviews} previews x (${perPreview} instances + ${MIGRATION_TASKS_PER_PREVIEW} migration task)`,
    };
  }
  const clients = all.filter(
    (r) => r.type in PROCESSES_OF && Object.values(r.propertyDependencies).some((deps) => deps.some((d) => d.urn === instance.urn)),
  );
  if (clients.length === 0) return { processes: 0, what: "no app processes" };
  const counts = clients.map((r) => ({ name: r.name, n: PROCESSES_OF[r.type](r.props) }));
  return {
    processes: counts.reduce((sum, c) => sum + c.n, 0),
    what: counts.map((c) => `${c.name} ${c.n}`).join(" + ") + " processes",
  };
}

const connectionBudget: StackValidationPolicy = {
  name: "connection-budget",
  description: "Every Cloud SQL instance has connections for every app process that may use it at once.",
  // Mandatory: an over-committed instance fails requests at random in whichever process connects last.
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const instances = args.resources.filter((r) => r.isType(sql.DatabaseInstance));
    if (instances.length === 0) return args.notApplicable("no Cloud SQL instance in this stack");
    for (const resource of instances) {
      const report = (message: string) => reportViolation(`${resource.name} ${message}`, resource.urn);
      const { userLabels: labels = {}, databaseFlags = [] } = (resource.props.settings ?? {}) as Props;
      const flag = (databaseFlags as Props[]).find((f) => f.name === "max_connections");
      const limit = positiveInteger(flag?.value);
      if (limit === undefined) {
        report("has no max_connections flag of a positive integer: set it explicitly (the default moves with the tier)");
        continue;
      }
      const pool = positiveInteger(labels[BUDGET_LABELS.pool]);
      const sized = processesOf(resource, labels, args.resources);
      if (pool === undefined || sized === undefined) {
        const needs = labels.role === "preview-platform" ? `${BUDGET_LABELS.maxPreviews}, ${BUDGET_LABELS.maxInstancesPerPreview} and ` : "";
        report(`needs the userLabels ${needs}${BUDGET_LABELS.pool}, as positive integers`);
        continue;
      }
      const needed = connectionsNeeded(sized.processes, pool);
      if (needed > limit) {
        report(
          `needs ${needed} connections: ${sized.what} x ${pool} per knex pool + ${RESERVED_CONNECTIONS} reserved, ` +
            `but its max_connections flag allows ${limit}. Lower the instance counts, or raise max_connections`,
        );
      }
    }
  },
};

export const policies: Policies = [
  statefulResourcesProtected,
  prodDatabaseRecoverable,
  previewResourcesDeletable,
  resourcesLabelled,
  cloudSqlEncryptedConnections,
  cloudSqlNoOpenPublicIp,
  cloudRunImagePinned,
  cloudRunNoPlainSecrets,
  cloudRunPublicInvoker,
  prodWebWarm,
  prodAlertsNotify,
  workloadIdentityScoped,
  noServiceAccountKeys,
  connectionBudget,
];

// ---------------------------------------------------------------------------------------------------------------
// The pipeline's identities.

const BASIC_ROLES = ["roles/owner", "roles/editor"];

const noBasicRoles: ResourceValidationPolicy = {
  name: "no-basic-roles",
  description: "No IAM grant gives roles/owner or roles/editor; every identity gets predefined roles for what it does.",
  // Mandatory: a deployer with editor or owner can change anything in its project, including who may deploy prod.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const role = args.props.role;
    if (typeof role !== "string" || !/IAM(Member|Binding)|Iam(Member|Binding)/.test(args.type)) {
      return args.notApplicable("not an IAM grant");
    }
    if (BASIC_ROLES.includes(role)) {
      reportViolation(`${args.name} grants ${role}: grant the predefined roles the identity needs instead`);
    }
  },
};

/** True when a CEL condition compares `job_workflow_ref` with a non-empty literal (or a list of them). */
export function pinsWorkflow(condition: string): boolean {
  return /assertion\.job_workflow_ref\s*(?:==\s*(?:"[^"]+"|'[^']+')|in\s*\[\s*(?:"[^"]+"|'[^']+'))/.test(condition);
}

const workloadIdentityPinsWorkflow: ResourceValidationPolicy = {
  name: "workload-identity-pins-workflow",
  description: "Workload identity providers only trust jobs running named workflows (the job_workflow_ref claim).",
  // Mandatory: without it, editing a workflow in the trusted repository is enough to mint deploy credentials.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(iam.WorkloadIdentityPoolProvider, (provider, args, reportViolation) => {
    if (!pinsWorkflow(provider.attributeCondition ?? "")) {
      reportViolation(
        `${args.name} does not pin the workflow: compare assertion.job_workflow_ref with the reusable workflows at a ` +
          "commit, e.g. assertion.job_workflow_ref in ['<owner>/<repo>/.github/workflows/deploy.yml@<sha>']",
      );
    }
  }),
};

policies.push(noBasicRoles, workloadIdentityPinsWorkflow);
