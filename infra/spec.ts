import { ENTERPRISE_ONLY_TIER } from "../components/postgres-instance";
import { APP_VARIABLES, DERIVED_VARIABLES, REQUIRED_VARIABLES } from "./app-env";
import { TAG_RULES, type Values, readKeys } from "./config-keys";
import { type Labels, type Names, labelsFor, nameLimitViolations, namesFor } from "./naming";
import { Refusal } from "./refusal";
import { type StackKind, parseStackName } from "./stack-name";

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

export interface ServiceSizing {
  minInstances: number;
  maxInstances: number;
  cpu: string;
  memory: string;
  /** Concurrent requests per instance. */
  concurrency: number;
}

export interface PreviewSettings {
  /** Stack whose outputs describe the preview platform; unset: this project's `stage`. */
  platformStack?: string;
  /** Connection name (`project:region:instance`) to use instead of the platform's shared instance. */
  instanceConnectionName?: string;
  /** Secrets every preview reads from the platform's sandbox (owned by stage), by variable name. */
  sandboxSecrets: string[];
  /** How many previews may run at once: the platform sizes the shared instance for it. */
  maxConcurrent: number;
  /** Upper bound of each preview's Cloud Run instances. */
  maxInstances: number;
  /** Machine type of the shared preview instance. */
  instanceTier: string;
}

/** Where an environment's secret's value comes from (see components/app-secrets.ts). */
export type SecretSpec =
  /** SRE adds versions in Secret Manager; the program creates the secret and grants access. */
  | { source: "managed" }
  /** Encrypted in the stack file by its secrets provider; a change shows in the PR diff as ciphertext. */
  | { source: "config"; value: string };

export interface DatabaseSettings {
  tier: string;
  edition: "ENTERPRISE" | "ENTERPRISE_PLUS";
  highAvailability: boolean;
  backups: { enabled: boolean; pointInTimeRecovery: boolean; retainedBackups: number; startTime: string };
  maintenanceWindow: { day: number; hour: number };
  maxConnections?: number;
}

/** Cron schedules (UTC) of the app's periodic commands. */
export interface Schedules {
  dbPullBreaches: string;
  deleteUnverifiedSubscribers: string;
  remoteSettingsPullBreaches: string;
}

interface CommonSpec {
  stack: string;
  project: string;
  region: string;
  names: Names;
  labels: Labels;
  image: ImageSpec;
  /** Plain environment values from config, validated (derived values and secrets are not here). */
  env: Record<string, string>;
  service: ServiceSizing;
}

export interface PreviewSpec extends CommonSpec {
  kind: "preview";
  pr: string;
  image: Required<ImageSpec>;
  preview: PreviewSettings;
  /** Secrets each preview generates for itself (the app issues and checks them). */
  generatedSecrets: string[];
}

export interface EnvironmentSpec extends CommonSpec {
  kind: "stage" | "prod";
  secrets: Record<string, SecretSpec>;
  /** The public hostname (`monitor.mozilla.org`): the app's URL and what the uptime check probes. */
  domain: string;
  database: DatabaseSettings;
  schedules: Schedules;
  worker: { instances: number; cpu: string; memory: string };
  alerts: { notificationChannels: string[] };
  /** Stage only: the platform previews share, sized from the project-level preview settings. */
  previewPlatform?: PreviewSettings;
}

export type StackSpec = PreviewSpec | EnvironmentSpec;

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

// Defaults: what an environment gets when its stack file says nothing. Prod's are the safe ones.
const PREVIEW_SIZING: Omit<ServiceSizing, "maxInstances"> = { minInstances: 0, cpu: "1", memory: "512Mi", concurrency: 80 };
const SERVICE_DEFAULTS: Record<"stage" | "prod", ServiceSizing> = {
  stage: { minInstances: 0, maxInstances: 5, cpu: "1", memory: "1Gi", concurrency: 80 },
  prod: { minInstances: 2, maxInstances: 50, cpu: "2", memory: "2Gi", concurrency: 80 },
};
const DATABASE_DEFAULTS: Record<"stage" | "prod", DatabaseSettings> = {
  stage: {
    tier: "db-custom-1-3840",
    edition: "ENTERPRISE",
    highAvailability: false,
    backups: { enabled: true, pointInTimeRecovery: true, retainedBackups: 7, startTime: "05:00" },
    maintenanceWindow: { day: 2, hour: 6 },
  },
  prod: {
    tier: "db-custom-2-7680",
    edition: "ENTERPRISE",
    highAvailability: true,
    backups: { enabled: true, pointInTimeRecovery: true, retainedBackups: 30, startTime: "05:00" },
    maintenanceWindow: { day: 3, hour: 6 },
  },
};
/** monitor-app.md: breaches every 10 minutes, unverified subscribers daily, Remote Settings hourly. */
const SCHEDULE_DEFAULTS: Schedules = {
  dbPullBreaches: "*/10 * * * *",
  deleteUnverifiedSubscribers: "30 3 * * *",
  remoteSettingsPullBreaches: "15 * * * *",
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
  if (stack.kind === "pipeline") {
    throw new Refusal(
      `Stack "pipeline" is not yet available in this program: the pipeline stack (workflows, environments, CI ` +
        "identities) has not been built. Fix: plan pr-<N>, stage or prod",
    );
  }
  const file = configFileOf(stack);
  const problems: string[] = [];
  const values = readKeys(stack, config, file, problems);
  const spec =
    stack.kind === "preview"
      ? previewSpec(stack, values, file, problems)
      : environmentSpec(stack as Extract<StackKind, { kind: "stage" | "prod" }>, values, secretKeys, file, problems);
  if (problems.length > 0) throw new ConfigError(stack.stack, problems);
  return spec;
}

function previewSettingsOf(values: Values): PreviewSettings {
  const settings = values["monitor:preview"] ?? {};
  return {
    platformStack: settings.platformStack,
    instanceConnectionName: settings.instanceConnectionName,
    sandboxSecrets: settings.sandboxSecrets ?? [],
    maxConcurrent: settings.maxConcurrent ?? 10,
    maxInstances: settings.maxInstances ?? 2,
    instanceTier: settings.instanceTier ?? "db-custom-1-3840",
  };
}

function plainEnv(values: Values): Record<string, string> {
  return Object.fromEntries(Object.entries(values["monitor:env"] ?? {}).map(([k, v]) => [k, String(v)]));
}

/** The app's required variables that neither config, nor the program, nor a secret provides. */
function checkRequired(values: Values, provided: Iterable<string>, fix: string, file: string, problems: string[]): void {
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
    problems.push(`${key}: ${name} is not a variable the app reads (a typo?). Fix: correct it, or add it to infra/app-env.ts`);
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

  const service = { ...PREVIEW_SIZING, maxInstances: preview.maxInstances };
  const names = namesFor(stack);
  checkNames(stack, names, [...generatedSecrets, "DATABASE_URL"], problems);

  return {
    kind: "preview",
    stack: stack.stack,
    pr: stack.pr,
    project: values["gcp:project"],
    region: values["gcp:region"],
    names,
    labels: labelsFor(stack),
    image: { repository: values["monitor:imageRepository"], tag: values["monitor:imageTag"] ?? `pr-${stack.pr}` },
    env,
    service,
    preview,
    generatedSecrets,
  };
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
      problems.push(`monitor:secretValues.${name} in ${file}: not declared. Fix: add ${name}: config to monitor:secrets`);
    }
  }
  checkRequired(values, Object.keys(declared), "add plain values to monitor:env, or declare secrets in monitor:secrets", file, problems);
  if (values["monitor:domain"] === undefined) {
    problems.push(`monitor:domain in ${file}: required for ${kind} (its public hostname). Fix: add it, e.g. monitor.mozilla.org`);
  }

  const service = { ...SERVICE_DEFAULTS[kind], ...values["monitor:service"] };
  checkSizing(service, file, problems);

  const db = values["monitor:database"] ?? {};
  const defaults = DATABASE_DEFAULTS[kind];
  const databaseSettings: DatabaseSettings = {
    tier: db.tier ?? defaults.tier,
    edition: db.edition ?? defaults.edition,
    highAvailability: db.highAvailability ?? defaults.highAvailability,
    backups: {
      enabled: true,
      pointInTimeRecovery: db.pointInTimeRecovery ?? defaults.backups.pointInTimeRecovery,
      retainedBackups: db.retainedBackups ?? defaults.backups.retainedBackups,
      startTime: db.backupStartTime ?? defaults.backups.startTime,
    },
    maintenanceWindow: db.maintenanceWindow ?? defaults.maintenanceWindow,
    maxConnections: db.maxConnections,
  };
  if (databaseSettings.edition === "ENTERPRISE_PLUS" && ENTERPRISE_ONLY_TIER.test(databaseSettings.tier)) {
    problems.push(
      `monitor:database.tier in ${file}: ${databaseSettings.tier} exists only in the ENTERPRISE edition. ` +
        `Fix: set monitor:database.edition to ENTERPRISE or pick a db-perf-optimized-* tier`,
    );
  }

  const names = namesFor(stack);
  checkNames(stack, names, [...Object.keys(secrets), "DATABASE_URL"], problems);
  const worker = values["monitor:worker"] ?? {};

  return {
    kind,
    stack: stack.stack,
    project: values["gcp:project"],
    region: values["gcp:region"],
    names,
    labels: labelsFor(stack),
    image: { repository: values["monitor:imageRepository"], tag },
    env,
    service,
    secrets,
    domain: values["monitor:domain"] ?? "",
    database: databaseSettings,
    schedules: { ...SCHEDULE_DEFAULTS, ...values["monitor:schedules"] },
    worker: { instances: worker.instances ?? 1, cpu: worker.cpu ?? "1", memory: worker.memory ?? "1Gi" },
    alerts: { notificationChannels: values["monitor:alerts"]?.notificationChannels ?? [] },
    previewPlatform: kind === "stage" ? previewSettingsOf(values) : undefined,
  };
}
