import type { CirrusSettings } from "../shared-rules/cirrus";
import { type Edition, tierProblem } from "../shared-rules/cloud-sql";
import {
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  connectionsNeeded,
  maxConnectionsFor,
  previewConnections,
  tierFor,
} from "../shared-rules/connection-budget";
import { APP_VARIABLES, appEnvFor, knexPoolMax } from "../shared-rules/app-env";
import { type ReadKeys, type Values, readKeys } from "./config-keys";
import { TAG_RULES } from "../shared-rules/image-tags";
import { cpuMemoryProblem } from "../shared-rules/cloud-run-limits";
import type { ServiceSizing, WorkerSizing } from "../shared-rules/sizing";
import { type Labels, type Names, PREVIEW_PLATFORM_NAMES, labelsFor, nameLimitViolations, namesFor } from "./naming";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";
import { type PipelineSpec, pipelineSpec } from "./pipeline-spec";
import { type StackKind, parseStackName } from "../shared-rules/stack-name";
import { checkProdValues, checkRequired, checkSecretName } from "./config/app-env-checks";
import { cirrusSettings } from "./config/cirrus";
import { ConfigError } from "./config/config-error";
import { REPOSITORY_ROOT, readConfigSources } from "./config/files";
import { checkCrossedEnvironments } from "./config/crossed-environments";
import { type ConfigSources, Origins } from "./config/origins";

/**
 * The typed, validated description of one stack: with config-keys.ts, the only place that reads configuration. A stack
 * module builds only from a StackSpec, and every bad input is refused here, before any resource exists, with the
 * stack, the key and the fix.
 */

export interface ImageSpec {
  /** Registry path without tag, e.g. `us-docker.pkg.dev/<project>/<repo>/blurts-server`. */
  repository: string;
  /** The tag to resolve to a digest; undefined (stage and prod only) keeps what is deployed. */
  tag?: string;
}

export type { ServiceSizing, WorkerSizing } from "../shared-rules/sizing";

export interface PreviewSettings {
  /** Stack whose outputs describe the preview platform; unset: this project's `previews`. */
  platformStack?: string;
  /** Connection name (`project:region:instance`) to use instead of the platform's shared instance. */
  instanceConnectionName?: string;
  /** Where the previews' CI identities live (the preview deployer, the platform's deployer): not the previews project. */
  identityProject?: string;
  /** Secrets every preview reads from the platform's sandbox (owned by the previews stack), by variable name. */
  sandboxSecrets: string[];
  /** Previews that may exist at once (each holds an identity and grants): the sweeper destroys the oldest beyond it. */
  maxOpen: number;
  /** Previews that may hold database connections at once: the shared instance is sized for them, admission counts them. */
  maxActive: number;
  /** The sweeper destroys a preview not updated for this many days. */
  ttlDays: number;
  /** Upper bound of each preview's Cloud Run instances. */
  maxInstances: number;
  /** Machine type of the shared preview instance. */
  instanceTier: string;
  /** Each preview's Cirrus sidecar (previews have no stack file, so it lives here). */
  cirrus?: NonNullable<Values["monitor:preview"]>["cirrus"];
  /** Connections each preview process may open: `monitor:connectionPool`, else what the app configures as a preview. */
  connectionPool: number;
}

/** Where an environment's secret's value comes from (see components/app-secrets.ts). */
export type SecretSpec =
  /** SRE adds versions in Secret Manager; the program creates the secret and grants access. */
  | { source: "managed" }
  /** Encrypted in the stack file by its secrets provider; a change shows in the PR diff as ciphertext. */
  | { source: "config"; value: string };

export interface DatabaseSettings {
  tier: string;
  edition: Edition;
  highAvailability: boolean;
  backups: { enabled: boolean; pointInTimeRecovery: boolean; retainedBackups: number; startTime: string };
  maintenanceWindow: { day: number; hour: number };
  /** Set on the instance explicitly: from config, or sized for every process that may connect at once. */
  maxConnections: number;
}

/** Cron schedules (UTC) of the app's periodic commands. */
export interface Schedules {
  dbPullBreaches: string;
  deleteUnverifiedSubscribers: string;
  remoteSettingsPullBreaches: string;
}

interface CommonSpec {
  stack: string;
  /** This deploy's id (`monitor:deployId`): names its migration execution with the digest. */
  deployId?: string;
  /** What the app runs as (`APP_ENV`, derived from the stack kind: shared-rules/app-env.ts appEnvFor). */
  appEnv: string;
  /** Connections one app process may open (its knex pool's max): sizes every instance's max_connections. */
  connectionPool: number;
  project: string;
  region: string;
  names: Names;
  labels: Labels;
  image: ImageSpec;
  /** Plain environment values from config, validated (derived values and secrets are not here). */
  env: Record<string, string>;
  service: ServiceSizing;
  /** The Cirrus sidecar beside the web service; unset when NIMBUS_SIDECAR_URL names a hosted Cirrus. */
  cirrus?: CirrusSettings;
}

export interface PreviewSpec extends CommonSpec {
  kind: "preview";
  pr: string;
  image: Required<ImageSpec>;
  preview: PreviewSettings;
  /** A checkout of the app to build and push as this PR's image; unset: resolve the `pr-<N>` tag. */
  appSource?: string;
  /** Secrets each preview generates for itself (the app issues and checks them). */
  generatedSecrets: string[];
}

export interface EnvironmentSpec extends CommonSpec {
  kind: "stage" | "prod";
  /**
   * First deploy, step one: create only what must exist before the app can start (APIs, instance, database,
   * identities, secrets and their grants, Pub/Sub, the preview platform), and list the secret versions owed.
   */
  bootstrap: boolean;
  secrets: Record<string, SecretSpec>;
  /** The public hostname (`monitor.mozilla.org`): the app's URL and what the uptime check probes. */
  domain: string;
  database: DatabaseSettings;
  schedules: Schedules;
  worker: WorkerSizing;
  alerts: { notificationChannels: string[] };
  /** `monitor:parity.differ`: variable → why stage and prod set it apart on purpose (the parity report's exceptions). */
  parityDiffer: Record<string, string>;
}

/**
 * `previews`: the platform every preview shares, in a GCP project of its own (the shared instance, the topic,
 * the sandbox secrets), sized from the project-level preview settings that the previews themselves read.
 */
export interface PreviewsSpec {
  kind: "previews";
  stack: "previews";
  project: string;
  region: string;
  labels: Labels;
  /** The registry previews push to (project-level monitor:imageRepository): in this project, the platform's. */
  image: { repository: string };
  preview: PreviewSettings;
}

export type StackSpec = PreviewSpec | PreviewsSpec | EnvironmentSpec | PipelineSpec;
export type { PipelineSpec } from "./pipeline-spec";

export { ConfigError } from "./config/config-error";
export type { ConfigSources } from "./config/origins";

// Defaults that depend on the stack kind, one table per kind: what a stack gets when its config says nothing.
// Prod's are the safe ones. Defaults that do not depend on the kind are the keys' schemas' (config-keys.ts).

/** A preview's web service; its maxInstances is monitor:preview.maxInstances, which the platform is sized for. */
const PREVIEW_DEFAULTS: { service: Omit<ServiceSizing, "maxInstances"> } = {
  service: { minInstances: 0, cpu: "1", memory: "512Mi", concurrency: 80 },
};

interface EnvironmentDefaults {
  service: ServiceSizing;
  database: Omit<DatabaseSettings, "maxConnections" | "backups"> & { retainedBackups: number };
}

const ENVIRONMENT_DEFAULTS: Record<"stage" | "prod", EnvironmentDefaults> = {
  stage: {
    service: { minInstances: 0, maxInstances: 5, cpu: "1", memory: "1Gi", concurrency: 80 },
    database: {
      tier: "db-custom-1-3840",
      edition: "ENTERPRISE",
      highAvailability: false,
      retainedBackups: 7,
      maintenanceWindow: { day: 2, hour: 6 },
    },
  },
  prod: {
    service: { minInstances: 2, maxInstances: 50, cpu: "2", memory: "2Gi", concurrency: 80 },
    database: {
      tier: "db-custom-2-7680",
      edition: "ENTERPRISE",
      highAvailability: true,
      retainedBackups: 30,
      maintenanceWindow: { day: 3, hour: 6 },
    },
  },
};

/**
 * Whether an environment must page someone: prod's uptime alert is how an outage reaches a person; stage's may just
 * record incidents.
 */
const ALERTS: Record<"stage" | "prod", { required: boolean }> = {
  stage: { required: false },
  prod: { required: true },
};

// ---------------------------------------------------------------------------------------------------------------

/**
 * Reads the config of `stack` from a flat map (`namespace:key` → text, as the Pulumi engine passes it).
 * `secretKeys` are the keys the CLI decrypted (set with `--secret`). `sources`, the config files as read, say which
 * file each value came from and what the other stacks' files hold; by default this repository's files.
 */
export function buildSpec(
  stackName: string,
  config: Readonly<Record<string, string | undefined>>,
  secretKeys: readonly string[] = [],
  sources?: ConfigSources,
): StackSpec {
  const stack = parseStackName(stackName);
  sources ??= readConfigSources(REPOSITORY_ROOT, stack.stack);
  const origins = new Origins(stack, config, sources);
  const problems: string[] = [];
  const keys = readKeys(stack, config, origins, problems);
  const crossed = checkCrossedEnvironments(stack, config, sources, keys.refused, origins, problems);
  const read: ReadKeys = { ...keys, refused: new Set([...keys.refused, ...crossed]) };
  const spec =
    stack.kind === "preview"
      ? previewSpec(stack, read, origins, problems)
      : stack.kind === "previews"
        ? previewsSpec(stack, read, origins, problems)
        : stack.kind === "pipeline"
          ? pipelineSpec(stack, read.values, secretKeys, origins.of("monitor:pipeline"), problems)
          : environmentSpec(stack, read, secretKeys, origins, problems);
  if (problems.length > 0) throw new ConfigError(stack.stack, problems);
  return spec;
}

function previewSettingsOf(values: Values): PreviewSettings {
  return {
    ...values["monitor:preview"],
    connectionPool: values["monitor:connectionPool"] ?? knexPoolMax(appEnvFor("preview")),
  };
}

function plainEnv(values: Values): Record<string, string> {
  return Object.fromEntries(Object.entries(values["monitor:env"] ?? {}).map(([k, v]) => [k, String(v)]));
}

function checkSizing(service: ServiceSizing, origins: Origins, problems: string[]): void {
  if (service.minInstances > service.maxInstances) {
    problems.push(
      `${origins.at("monitor:service")}: minInstances (${service.minInstances}) is above maxInstances ` +
        `(${service.maxInstances}). Fix: raise maxInstances or lower minInstances`,
    );
  }
}

/** A container's CPU and memory as Cloud Run accepts them (shared-rules/cloud-run-limits.ts). */
function checkResources(
  key: string,
  sizing: { cpu: string; memory: string },
  origins: Origins,
  problems: string[],
): void {
  const problem = cpuMemoryProblem(sizing.cpu, sizing.memory);
  if (problem) problems.push(`${origins.at(key)}: ${problem}. Fix: change ${key}.cpu or ${key}.memory`);
}

/** Every name the stack name makes too long, in one problem: one mistake, one message. */
function checkNames(stack: StackKind, names: Names, secrets: string[], problems: string[]): void {
  const violations = nameLimitViolations(names, secrets);
  if (violations.length > 0) {
    problems.push(`stack name "${stack.stack}": ${violations.join("; ")}. Fix: use a shorter stack name`);
  }
}

function previewSpec(
  stack: Extract<StackKind, { kind: "preview" }>,
  { values, refused }: ReadKeys,
  origins: Origins,
  problems: string[],
): PreviewSpec {
  const env = plainEnv(values);
  const preview = previewSettingsOf(values);
  const previewRead = !refused.has("monitor:preview");
  const generatedSecrets = Object.entries(APP_VARIABLES)
    .filter(([, v]) => v.generatable)
    .map(([name]) => name);

  for (const name of preview.sandboxSecrets) {
    checkSecretName(name, env, origins.at("monitor:preview.sandboxSecrets"), problems);
  }
  checkRequired(
    values["monitor:env"],
    previewRead ? [...generatedSecrets, ...preview.sandboxSecrets] : undefined,
    "add plain values to monitor:env, or secret names to monitor:preview.sandboxSecrets",
    origins,
    problems,
  );

  const service = { ...PREVIEW_DEFAULTS.service, maxInstances: preview.maxInstances };
  const names = namesFor(stack);
  checkNames(stack, names, [...generatedSecrets, "DATABASE_URL"], problems);
  const cirrus = previewRead
    ? cirrusSettings(stack, env, preview.cirrus, "monitor:preview.cirrus", service, names, origins, problems)
    : undefined;

  return {
    kind: "preview",
    stack: stack.stack,
    pr: stack.pr,
    project: values["gcp:project"],
    region: values["gcp:region"],
    names,
    labels: labelsFor(stack),
    image: { repository: values["monitor:imageRepository"], tag: values["monitor:imageTag"] ?? `pr-${stack.pr}` },
    deployId: values["monitor:deployId"],
    appEnv: appEnvFor("preview"),
    connectionPool: preview.connectionPool,
    appSource: values["monitor:appSource"],
    env,
    service,
    preview,
    generatedSecrets,
    cirrus,
  };
}

function previewsSpec(
  stack: Extract<StackKind, { kind: "previews" }>,
  { values, refused }: ReadKeys,
  origins: Origins,
  problems: string[],
): PreviewsSpec {
  const preview = previewSettingsOf(values);
  // A refused monitor:preview reads as its defaults: its own problems say it all.
  if (!refused.has("monitor:preview")) {
    for (const name of preview.sandboxSecrets) {
      checkSecretName(name, {}, origins.at("monitor:preview.sandboxSecrets"), problems);
    }
    if (preview.identityProject === undefined) {
      problems.push(
        `${origins.at("monitor:preview.identityProject")}: required by the previews platform (it grants the preview ` +
          "deployer living there). Fix: add it, e.g. identityProject: moz-fx-monitor-nonprod",
      );
    } else if (preview.identityProject === values["gcp:project"]) {
      problems.push(
        `${origins.at("monitor:preview.identityProject")} is the previews project (${origins.at("gcp:project")}) ` +
          "itself: its service accounts are the previews' own (one per open preview, 100 per project). Fix: name " +
          "the project the previews' CI identities live in (the stage project)",
      );
    }
    checkPreviewConnections(preview, origins, problems);
  }
  const repository = values["monitor:imageRepository"];
  const registry = artifactRegistryPath(repository ?? "");
  // Against a refused project, the registry's problem would be that one again.
  if (
    registry &&
    !refused.has("gcp:project") &&
    (registry.project !== values["gcp:project"] || registry.repositoryId !== PREVIEW_PLATFORM_NAMES.registry)
  ) {
    problems.push(
      `${origins.at("monitor:imageRepository")}: ${repository} is not the previews' own registry, so the preview ` +
        "deployer would push PR images where stage and prod deploy from. Fix: use " +
        `<location>-docker.pkg.dev/${values["gcp:project"]}/${PREVIEW_PLATFORM_NAMES.registry}/<image>`,
    );
  }
  return {
    kind: "previews",
    stack: stack.stack,
    project: values["gcp:project"],
    region: values["gcp:region"],
    labels: labelsFor(stack),
    image: { repository },
    preview,
  };
}

/**
 * The shared instance holds every active preview busy at once, within its tier's documented default max_connections
 * (shared-rules/connection-budget.ts says why the default, not a raised flag, is the line).
 */
function checkPreviewConnections(preview: PreviewSettings, origins: Origins, problems: string[]): void {
  const { instanceTier: tier, maxActive, maxInstances, connectionPool: pool } = preview;
  const budget = previewConnections(tier, maxActive, maxInstances, pool);
  const source =
    "Cloud SQL's default max_connections for its memory, https://cloud.google.com/sql/docs/postgres/quotas";
  const bigger = tierFor(budget.used);
  if (budget.limit === undefined) {
    problems.push(
      `${origins.at("monitor:preview.instanceTier")}: ${tier} is not a tier whose default max_connections is known ` +
        `here (${source}), so the previews' connection budget cannot be checked. Fix: set ` +
        `monitor:preview.instanceTier to a db-custom-<vCPUs>-<MiB> tier of at least 3840 MiB${bigger ? `, e.g. ${bigger}` : ""}`,
    );
  } else if (budget.used > budget.limit) {
    problems.push(
      `${origins.at("monitor:preview.maxActive")}: ${maxActive} active previews need ${budget.used} connections on ` +
        `the shared preview instance (${maxActive} x (${maxInstances} instance${maxInstances === 1 ? "" : "s"} + ` +
        `${MIGRATION_TASKS_PER_PREVIEW} migration task) x pool ${pool} + ${RESERVED_CONNECTIONS} reserved), over the ` +
        `${budget.limit} that ${tier} is sized for (${source}). Fix: ` +
        [
          budget.fits! > 0 && `lower monitor:preview.maxActive to at most ${budget.fits}`,
          maxInstances > 1 && "lower monitor:preview.maxInstances",
          bigger && `set monitor:preview.instanceTier to ${bigger}`,
        ]
          .filter(Boolean)
          .join(", or "),
    );
  }
}

function environmentSpec(
  stack: Extract<StackKind, { kind: "stage" | "prod" }>,
  { values, refused }: ReadKeys,
  secretKeys: readonly string[],
  origins: Origins,
  problems: string[],
): EnvironmentSpec {
  const kind = stack.kind;
  const env = plainEnv(values);
  checkProdValues(stack, values["monitor:env"], origins, problems);

  const tag = values["monitor:imageTag"];
  const bootstrap = values["monitor:bootstrap"] ?? false;
  if (bootstrap) {
    for (const key of ["monitor:imageTag", "monitor:deployId"] as const) {
      if (values[key] !== undefined) {
        problems.push(
          `${key}: a bootstrap deploys no image and runs no migration. Fix: drop ${key} for the bootstrap, add ` +
            "the secret versions it lists, then deploy without monitor:bootstrap",
        );
      }
    }
  }
  if (tag !== undefined && !TAG_RULES[kind].valid(tag)) {
    problems.push(
      `monitor:imageTag: ${kind} deploys ${TAG_RULES[kind].expected}; got "${tag}". ` +
        `Fix: pass the right tag with --config monitor:imageTag=<tag>`,
    );
  }

  const declared = values["monitor:secrets"] ?? {};
  const secretValues = values["monitor:secretValues"] ?? {};
  if (Object.keys(secretValues).length > 0 && !secretKeys.includes("monitor:secretValues")) {
    problems.push(
      `${origins.at("monitor:secretValues")} is stored in plaintext. Fix: remove it and set each value with ` +
        "`pulumi config set --secret --path 'monitor:secretValues.<NAME>' <value>`",
    );
  }
  const secrets: Record<string, SecretSpec> = {};
  for (const [name, source] of Object.entries(declared)) {
    const key = origins.at(`monitor:secrets.${name}`);
    checkSecretName(name, env, key, problems);
    if (source === "managed") secrets[name] = { source };
    else if (secretValues[name] === undefined) {
      problems.push(
        `${key}: declared as config, but monitor:secretValues.${name} is not set. Fix: ` +
          `pulumi config set --stack ${stack.stack} --secret --path 'monitor:secretValues.${name}' <value>`,
      );
    } else secrets[name] = { source, value: secretValues[name] };
  }
  for (const name of Object.keys(secretValues)) {
    if (declared[name] !== "config") {
      problems.push(
        `${origins.at(`monitor:secretValues.${name}`)}: not declared. Fix: add ${name}: config to monitor:secrets`,
      );
    }
  }
  checkRequired(
    values["monitor:env"],
    refused.has("monitor:secrets") ? undefined : Object.keys(declared),
    "add plain values to monitor:env, or declare secrets in monitor:secrets",
    origins,
    problems,
  );
  if (values["monitor:domain"] === undefined && !refused.has("monitor:domain")) {
    problems.push(
      `${origins.at("monitor:domain")}: required for ${kind} (its public hostname). Fix: add it, e.g. monitor.mozilla.org`,
    );
  }
  const notificationChannels = values["monitor:alerts"]?.notificationChannels ?? [];
  if (ALERTS[kind].required && notificationChannels.length === 0 && !refused.has("monitor:alerts")) {
    problems.push(
      `${origins.at("monitor:alerts.notificationChannels")}: required for ${kind}: its uptime alert is how an outage ` +
        "reaches a person, and with no channel it pages nobody. Fix: add the on-call channel, " +
        "projects/<project>/notificationChannels/<id> (gcloud beta monitoring channels list --project <project>)",
    );
  }

  const defaults = ENVIRONMENT_DEFAULTS[kind];
  const service = { ...defaults.service, ...values["monitor:service"] };
  checkSizing(service, origins, problems);
  checkResources("monitor:service", service, origins, problems);

  const db = values["monitor:database"];
  const databaseSettings: DatabaseSettings = {
    tier: db.tier ?? defaults.database.tier,
    edition: db.edition ?? defaults.database.edition,
    highAvailability: db.highAvailability ?? defaults.database.highAvailability,
    backups: {
      enabled: true,
      pointInTimeRecovery: db.pointInTimeRecovery,
      retainedBackups: db.retainedBackups ?? defaults.database.retainedBackups,
      startTime: db.backupStartTime,
    },
    maintenanceWindow: db.maintenanceWindow ?? defaults.database.maintenanceWindow,
    maxConnections: 0,
  };
  const schedules: Schedules = values["monitor:schedules"];
  const workerSizing = values["monitor:worker"];
  checkResources("monitor:worker", workerSizing, origins, problems);
  // Every process that may hold a pool at once: web instances, worker instances, one task per scheduled job, and
  // the migration.
  const processes = service.maxInstances + workerSizing.instances + Object.keys(schedules).length + 1;
  const pool = values["monitor:connectionPool"] ?? knexPoolMax(appEnvFor(kind));
  const needed = connectionsNeeded(processes, pool);
  databaseSettings.maxConnections = db.maxConnections ?? maxConnectionsFor(databaseSettings.tier, processes, pool);
  if (db.maxConnections !== undefined && db.maxConnections < needed) {
    problems.push(
      `${origins.at("monitor:database.maxConnections")}: ${db.maxConnections} is below the ${needed} connections ` +
        `${kind} may open (${processes} processes x ${pool} per pool + ${RESERVED_CONNECTIONS} reserved). Fix: ` +
        "raise it, remove it (the program sizes it), or lower monitor:service.maxInstances",
    );
  }
  const tier = tierProblem(databaseSettings.tier, databaseSettings.edition);
  if (tier) {
    problems.push(
      `${origins.at("monitor:database.tier")}: ${tier}. Fix: pick a tier Cloud SQL offers in the ` +
        `${databaseSettings.edition} edition (db-custom-<vCPUs>-<MB> in ENTERPRISE, db-perf-optimized-N-<vCPUs> in ` +
        "ENTERPRISE_PLUS), or change monitor:database.edition",
    );
  }

  const names = namesFor(stack);
  checkNames(stack, names, [...Object.keys(secrets), "DATABASE_URL"], problems);
  const cirrus = refused.has("monitor:cirrus")
    ? undefined
    : cirrusSettings(stack, env, values["monitor:cirrus"], "monitor:cirrus", service, names, origins, problems);

  return {
    kind,
    stack: stack.stack,
    project: values["gcp:project"],
    region: values["gcp:region"],
    names,
    labels: labelsFor(stack),
    image: { repository: values["monitor:imageRepository"], tag },
    deployId: values["monitor:deployId"],
    appEnv: appEnvFor(kind),
    connectionPool: pool,
    bootstrap,
    env,
    service,
    secrets,
    domain: values["monitor:domain"] ?? "",
    database: databaseSettings,
    schedules,
    worker: workerSizing,
    alerts: { notificationChannels },
    cirrus,
    parityDiffer: values["monitor:parity"].differ,
  };
}
