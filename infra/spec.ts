import { CIRRUS_PORT, type CirrusSettings } from "../shared-rules/cirrus";
import { type Edition, ENTERPRISE_ONLY_TIER } from "../shared-rules/cloud-sql";
import {
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  connectionsNeeded,
  maxConnectionsFor,
  previewConnections,
  tierFor,
} from "../shared-rules/connection-budget";
import { APP_VARIABLES, DERIVED_VARIABLES, REQUIRED_VARIABLES, appEnvFor, knexPoolMax } from "../shared-rules/app-env";
import { type Values, readKeys } from "./config-keys";
import { TAG_RULES } from "../shared-rules/image-tags";
import { MAX_CPU_PER_INSTANCE, cpuMemoryProblem } from "../shared-rules/cloud-run-limits";
import type { ServiceSizing, WorkerSizing } from "../shared-rules/sizing";
import { type Labels, type Names, PREVIEW_PLATFORM_NAMES, labelsFor, nameLimitViolations, namesFor } from "./naming";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";
import { type PipelineSpec, pipelineSpec } from "./pipeline-spec";
import { Refusal } from "../shared-rules/refusal";
import { type StackKind, parseStackName } from "../shared-rules/stack-name";

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

/** Where a stack's config lives, for error messages. */
export function configFileOf(stack: StackKind): string {
  return stack.kind === "preview"
    ? "Pulumi.yaml (project-level config: previews have no stack file)"
    : `Pulumi.${stack.stack}.yaml`;
}

/** Every problem with a stack's config at once. `stackName`, not `stack`: that is the error's stack trace. */
export class ConfigError extends Refusal {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(`Stack "${stackName}" has invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}

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

// ---------------------------------------------------------------------------------------------------------------

/**
 * Reads the config of `stack` from a flat map (`namespace:key` → text, as the Pulumi engine passes it).
 * `secretKeys` are the keys the CLI decrypted (set with `--secret`).
 */
export function buildSpec(
  stackName: string,
  config: Readonly<Record<string, string | undefined>>,
  secretKeys: readonly string[] = [],
): StackSpec {
  const stack = parseStackName(stackName);
  const file = configFileOf(stack);
  const problems: string[] = [];
  const values = readKeys(stack, config, file, problems);
  const spec =
    stack.kind === "preview"
      ? previewSpec(stack, values, file, problems)
      : stack.kind === "previews"
        ? previewsSpec(stack, values, file, problems)
        : stack.kind === "pipeline"
          ? pipelineSpec(stack, values, secretKeys, file, problems)
          : environmentSpec(stack, values, secretKeys, file, problems);
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

/** The app's required variables that neither config, nor the program, nor a secret provides. */
function checkRequired(
  values: Values,
  provided: Iterable<string>,
  fix: string,
  file: string,
  problems: string[],
): void {
  // Only meaningful once monitor:env itself is valid; otherwise its own problems say it all.
  if (values["monitor:env"] === undefined) return;
  const all = new Set([...Object.keys(values["monitor:env"]), ...DERIVED_VARIABLES, ...provided]);
  const missing = REQUIRED_VARIABLES.filter((name) => !all.has(name));
  if (missing.length > 0) {
    problems.push(`monitor:env in ${file}: the app refuses to start without ${missing.join(", ")}. Fix: ${fix}`);
  }
}

/**
 * A variable declared as a secret must be one the app reads (a typo guard) and not one the program computes. Any
 * app variable may be a secret (REDIS_URL is one when it carries a password); none may be both secret and plain.
 */
function checkSecretName(name: string, env: Record<string, string>, key: string, problems: string[]): void {
  if (name in env) problems.push(`${key}: ${name} is also a plain value in monitor:env. Fix: keep one`);
  if (DERIVED_VARIABLES.includes(name)) problems.push(`${key}: ${name} is computed by the program. Fix: remove it`);
  else if (!(name in APP_VARIABLES)) {
    problems.push(
      `${key}: ${name} is not a variable the app reads (a typo?). Fix: correct it, or add it to shared-rules/app-env.ts`,
    );
  }
}

function checkSizing(service: ServiceSizing, file: string, problems: string[]): void {
  if (service.minInstances > service.maxInstances) {
    problems.push(
      `monitor:service in ${file}: minInstances (${service.minInstances}) is above maxInstances ` +
        `(${service.maxInstances}). Fix: raise maxInstances or lower minInstances`,
    );
  }
}

/** A container's CPU and memory as Cloud Run accepts them (shared-rules/cloud-run-limits.ts). */
function checkResources(key: string, sizing: { cpu: string; memory: string }, file: string, problems: string[]): void {
  const problem = cpuMemoryProblem(sizing.cpu, sizing.memory);
  if (problem) problems.push(`${key} in ${file}: ${problem}. Fix: change ${key}.cpu or ${key}.memory`);
}

type CirrusConfig = NonNullable<Values["monitor:cirrus"]>;
const LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/**
 * The app reaches Nimbus at NIMBUS_SIDECAR_URL: either a Cirrus sidecar on localhost, which `key` must then
 * configure, or a hosted Cirrus, and then no sidecar runs. A localhost URL with nothing behind it would make every
 * experiment lookup fail; a sidecar the URL does not point at would run for nothing.
 */
function cirrusSettings(
  stack: StackKind,
  env: Record<string, string>,
  config: CirrusConfig | undefined,
  key: string,
  service: ServiceSizing,
  names: Names,
  file: string,
  problems: string[],
): CirrusSettings | undefined {
  const raw = env.NIMBUS_SIDECAR_URL;
  if (raw === undefined) return undefined; // checkRequired reports it
  const at = `monitor:env.NIMBUS_SIDECAR_URL in ${file}`;
  const local = `http://localhost:${CIRRUS_PORT}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`${at}: "${raw}" is not a URL. Fix: ${local} with ${key} set, or the https URL of a hosted Cirrus`);
    return undefined;
  }
  // getExperiments.ts appends "v2/features" to the path as it is.
  if (!url.pathname.endsWith("/")) {
    problems.push(
      `${at}: the app appends v2/features to the URL's path, so "${raw}" would call ${url.pathname}v2/features. Fix: end the path with "/"`,
    );
  }
  const isLocal = LOCAL_HOSTS.includes(url.hostname);
  if (isLocal && !config) {
    problems.push(
      `${at} is ${raw}, but no Cirrus sidecar runs behind it (${key} is not set), so every experiment lookup would fail. ` +
        `Fix: set ${key} (image by digest, remoteSettingsUrl, appId, appName, channel) to run Cirrus beside the app, ` +
        "or point NIMBUS_SIDECAR_URL at a hosted Cirrus (https)",
    );
    return undefined;
  }
  if (!isLocal && config) {
    problems.push(
      `${key} in ${file} runs a Cirrus sidecar, but NIMBUS_SIDECAR_URL is ${raw}, so the app would never call it. ` +
        `Fix: remove ${key} to use that hosted Cirrus, or set NIMBUS_SIDECAR_URL to ${local}`,
    );
    return undefined;
  }
  if (!isLocal) {
    if (url.protocol !== "https:") problems.push(`${at}: a hosted Cirrus is reached over the internet. Fix: use https`);
    return undefined;
  }
  if (url.protocol !== "http:" || Number(url.port) !== CIRRUS_PORT) {
    problems.push(
      `${at}: the Cirrus sidecar answers plain HTTP on port ${CIRRUS_PORT}; got "${raw}". Fix: set it to ${local}`,
    );
  }
  const settings: CirrusSettings = {
    image: config!.image,
    remoteSettingsUrl: config!.remoteSettingsUrl,
    previewUrl: config!.previewUrl,
    appId: config!.appId,
    appName: config!.appName,
    channel: config!.channel,
    fmlPath: config!.fmlPath ?? `/fml/monitor-web/${config!.channel}.fml.yaml`,
    cpu: config!.cpu,
    memory: config!.memory,
    environmentName: names.service,
  };
  if (stack.kind === "prod" && settings.channel !== "production") {
    problems.push(
      `${key}.channel in ${file}: prod would serve ${settings.channel} experiments to users. Fix: set it to production`,
    );
  }
  if (Number(service.cpu) + Number(settings.cpu) > MAX_CPU_PER_INSTANCE) {
    problems.push(
      `${key}.cpu in ${file}: the app's ${service.cpu} and Cirrus's ${settings.cpu} vCPU exceed Cloud Run's ${MAX_CPU_PER_INSTANCE} per instance. ` +
        "Fix: lower monitor:service.cpu or the sidecar's cpu",
    );
  }
  return settings;
}

function checkNames(stack: StackKind, names: Names, secrets: string[], problems: string[]): void {
  for (const violation of nameLimitViolations(names, secrets)) {
    problems.push(`stack name "${stack.stack}": ${violation}. Fix: use a shorter stack name`);
  }
}

function previewSpec(
  stack: Extract<StackKind, { kind: "preview" }>,
  values: Values,
  file: string,
  problems: string[],
): PreviewSpec {
  const env = plainEnv(values);
  const preview = previewSettingsOf(values);
  const generatedSecrets = Object.entries(APP_VARIABLES)
    .filter(([, v]) => v.generatable)
    .map(([name]) => name);

  for (const name of preview.sandboxSecrets) {
    checkSecretName(name, env, `monitor:preview.sandboxSecrets in ${file}`, problems);
  }
  checkRequired(
    values,
    [...generatedSecrets, ...preview.sandboxSecrets],
    "add plain values to monitor:env, or secret names to monitor:preview.sandboxSecrets",
    file,
    problems,
  );

  const service = { ...PREVIEW_DEFAULTS.service, maxInstances: preview.maxInstances };
  const names = namesFor(stack);
  checkNames(stack, names, [...generatedSecrets, "DATABASE_URL"], problems);
  const cirrus = cirrusSettings(stack, env, preview.cirrus, "monitor:preview.cirrus", service, names, file, problems);

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
  values: Values,
  file: string,
  problems: string[],
): PreviewsSpec {
  const preview = previewSettingsOf(values);
  for (const name of preview.sandboxSecrets) {
    checkSecretName(name, {}, "monitor:preview.sandboxSecrets in Pulumi.yaml", problems);
  }
  if (preview.identityProject === undefined) {
    problems.push(
      "monitor:preview.identityProject in Pulumi.yaml: required by the previews platform (it grants the preview " +
        "deployer living there). Fix: add it, e.g. identityProject: moz-fx-monitor-nonprod",
    );
  } else if (preview.identityProject === values["gcp:project"]) {
    problems.push(
      `monitor:preview.identityProject in Pulumi.yaml is the previews project (${file} gcp:project) itself: its ` +
        "service accounts are the previews' own (one per open preview, 100 per project). Fix: name the project the " +
        "previews' CI identities live in (the stage project)",
    );
  }
  checkPreviewConnections(preview, problems);
  const repository = values["monitor:imageRepository"];
  const registry = artifactRegistryPath(repository ?? "");
  if (
    registry &&
    (registry.project !== values["gcp:project"] || registry.repositoryId !== PREVIEW_PLATFORM_NAMES.registry)
  ) {
    problems.push(
      `monitor:imageRepository in Pulumi.yaml: ${repository} is not the previews' own registry, so the preview deployer ` +
        `would push PR images where stage and prod deploy from. Fix: use <location>-docker.pkg.dev/${values["gcp:project"]}/` +
        `${PREVIEW_PLATFORM_NAMES.registry}/<image>`,
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
function checkPreviewConnections(preview: PreviewSettings, problems: string[]): void {
  const { instanceTier: tier, maxActive, maxInstances, connectionPool: pool } = preview;
  const budget = previewConnections(tier, maxActive, maxInstances, pool);
  const source =
    "Cloud SQL's default max_connections for its memory, https://cloud.google.com/sql/docs/postgres/quotas";
  const bigger = tierFor(budget.used);
  if (budget.limit === undefined) {
    problems.push(
      `monitor:preview.instanceTier in Pulumi.yaml: ${tier} is not a tier whose default max_connections is known here ` +
        `(${source}), so the previews' connection budget cannot be checked. Fix: set monitor:preview.instanceTier to a ` +
        `db-custom-<vCPUs>-<MiB> tier of at least 3840 MiB${bigger ? `, e.g. ${bigger}` : ""}`,
    );
  } else if (budget.used > budget.limit) {
    problems.push(
      `monitor:preview.maxActive in Pulumi.yaml: ${maxActive} active previews need ${budget.used} connections on the ` +
        `shared preview instance (${maxActive} x (${maxInstances} instance${maxInstances === 1 ? "" : "s"} + ` +
        `${MIGRATION_TASKS_PER_PREVIEW} migration task) x pool ${pool} + ${RESERVED_CONNECTIONS} reserved), over the ${budget.limit} that ${tier} is sized for ` +
        `(${source}). Fix: ` +
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
  values: Values,
  secretKeys: readonly string[],
  file: string,
  problems: string[],
): EnvironmentSpec {
  const kind = stack.kind;
  const env = plainEnv(values);

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
      `monitor:secretValues in ${file} is stored in plaintext. Fix: remove it and set each value with ` +
        "`pulumi config set --secret --path 'monitor:secretValues.<NAME>' <value>`",
    );
  }
  const secrets: Record<string, SecretSpec> = {};
  for (const [name, source] of Object.entries(declared)) {
    const key = `monitor:secrets.${name} in ${file}`;
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
        `monitor:secretValues.${name} in ${file}: not declared. Fix: add ${name}: config to monitor:secrets`,
      );
    }
  }
  checkRequired(
    values,
    Object.keys(declared),
    "add plain values to monitor:env, or declare secrets in monitor:secrets",
    file,
    problems,
  );
  if (values["monitor:domain"] === undefined) {
    problems.push(
      `monitor:domain in ${file}: required for ${kind} (its public hostname). Fix: add it, e.g. monitor.mozilla.org`,
    );
  }

  const defaults = ENVIRONMENT_DEFAULTS[kind];
  const service = { ...defaults.service, ...values["monitor:service"] };
  checkSizing(service, file, problems);
  checkResources("monitor:service", service, file, problems);

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
  checkResources("monitor:worker", workerSizing, file, problems);
  // Every process that may hold a pool at once: web instances, worker instances, one task per scheduled job, and
  // the migration.
  const processes = service.maxInstances + workerSizing.instances + Object.keys(schedules).length + 1;
  const pool = values["monitor:connectionPool"] ?? knexPoolMax(appEnvFor(kind));
  const needed = connectionsNeeded(processes, pool);
  databaseSettings.maxConnections = db.maxConnections ?? maxConnectionsFor(databaseSettings.tier, processes, pool);
  if (db.maxConnections !== undefined && db.maxConnections < needed) {
    problems.push(
      `monitor:database.maxConnections in ${file}: ${db.maxConnections} is below the ${needed} connections ` +
        `${kind} may open (${processes} processes x ${pool} per pool + ${RESERVED_CONNECTIONS} reserved). Fix: ` +
        "raise it, remove it (the program sizes it), or lower monitor:service.maxInstances",
    );
  }
  if (databaseSettings.edition === "ENTERPRISE_PLUS" && ENTERPRISE_ONLY_TIER.test(databaseSettings.tier)) {
    problems.push(
      `monitor:database.tier in ${file}: ${databaseSettings.tier} exists only in the ENTERPRISE edition. ` +
        `Fix: set monitor:database.edition to ENTERPRISE or pick a db-perf-optimized-* tier`,
    );
  }

  const names = namesFor(stack);
  checkNames(stack, names, [...Object.keys(secrets), "DATABASE_URL"], problems);
  const cirrus = cirrusSettings(stack, env, values["monitor:cirrus"], "monitor:cirrus", service, names, file, problems);

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
    alerts: { notificationChannels: values["monitor:alerts"]?.notificationChannels ?? [] },
    cirrus,
  };
}
