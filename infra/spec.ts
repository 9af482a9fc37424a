import { z } from "zod";
import {
  APP_VARIABLES,
  DERIVED_VARIABLES,
  ENV_NAME,
  REQUIRED_VARIABLES,
  RESERVED_VARIABLES,
  isSecretName,
  secretLookingValue,
} from "./app-env";
import { cronProblem } from "./cron";
import { type Labels, type Names, labelsFor, nameLimitViolations, namesFor } from "./naming";
import { type StackKind, parseStackName } from "./stack-name";

/**
 * The typed, validated description of one stack: the only place that reads configuration. Everything a stack
 * module builds comes from a StackSpec, and every bad input is refused here, before any resource exists, with the
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
  /** Stack whose outputs describe the preview platform (shared instance, sandbox secrets). */
  platformStack: string;
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

export class ConfigError extends Error {
  constructor(
    readonly stack: string,
    readonly problems: readonly string[],
  ) {
    super(`Stack "${stack}" has invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Schemas of the config keys. Messages say what is expected; the key is added from the issue's path.

const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const SHORT_SHA = /^[0-9a-f]{7,40}$/;
const CALENDAR_TAG = /^(\d{4})\.(\d{2})\.(\d{2})(\.[1-9][0-9]*)?$/;

const dockerTag = z
  .string()
  .regex(DOCKER_TAG, "expected a Docker tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'")
  .refine((t) => t !== "latest", "'latest' moves under you: give the tag of one build (the image is pinned by digest)");

/** The tag forms each long-lived environment deploys (monitor-app.md: how images are tagged). */
const TAG_RULES: Record<"stage" | "prod", { valid: (tag: string) => boolean; expected: string }> = {
  stage: { valid: (t) => SHORT_SHA.test(t), expected: "a short commit SHA (7-40 lowercase hex), e.g. 3f9c2ab" },
  prod: { valid: isCalendarTag, expected: "a calendar tag YYYY.MM.DD or YYYY.MM.DD.N, e.g. 2024.09.01 or 2024.02.27.1" },
};

function isCalendarTag(tag: string): boolean {
  const match = CALENDAR_TAG.exec(tag);
  if (!match) return false;
  const [year, month, day] = match.slice(1, 4).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const imageRepository = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/,
    "expected a registry path without tag or digest, e.g. us-docker.pkg.dev/<project>/<repository>/blurts-server",
  );

const gcpProject = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a GCP project id (6-30 chars, lowercase)");
const gcpRegion = z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, "expected a GCP region such as us-central1");
const variableName = z.string().regex(ENV_NAME, "expected an environment variable name [A-Z_][A-Z0-9_]*");
const cron = z.string().superRefine((schedule, ctx) => {
  const problem = cronProblem(schedule);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem} (Cloud Scheduler's unix cron, in UTC)` });
});
const quantity = z.string().regex(/^[0-9]+(Mi|Gi)$/, "expected a Kubernetes quantity such as 512Mi or 2Gi");
const cpu = z.enum(["1", "2", "4", "8"]);

/** Checked entry by entry (not as a typed record), so that one bad value does not hide the other problems. */
const envMap = z.record(z.string(), z.unknown()).superRefine((env, ctx) => {
  for (const [name, raw] of Object.entries(env)) {
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
    if (!["string", "number", "boolean"].includes(typeof raw)) {
      issue("expected a string, number or boolean (env values are text; nest nothing)");
    } else if (!ENV_NAME.test(name)) {
      issue(`"${name}" is not an environment variable name: expected [A-Z_][A-Z0-9_]*`);
    } else if (RESERVED_VARIABLES.includes(name)) {
      issue(`${name} is set by Cloud Run itself; remove it`);
    } else if (DERIVED_VARIABLES.includes(name)) {
      issue(`${name} is computed by the program from the resources it creates; remove it`);
    } else if (isSecretName(name)) {
      issue(`${name} names a secret and must not be a plain value; remove it and declare it as a secret`);
    } else if (!(name in APP_VARIABLES)) {
      issue(`${name} is not a variable the app reads (a typo?); if it is new in the app, add it to infra/app-env.ts`);
    } else {
      const why = secretLookingValue(String(raw));
      if (why) issue(`the value of ${name} looks like a credential (${why}); remove it and declare it as a secret`);
    }
  }
});

const sizing = z.strictObject({
  minInstances: z.number().int().min(0).max(100).optional(),
  maxInstances: z.number().int().min(1).max(1000).optional(),
  cpu: cpu.optional(),
  memory: quantity.optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
});

const previewSettings = z.strictObject({
  platformStack: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected <organization>/<project>/<stack>")
    .optional(),
  instanceConnectionName: z
    .string()
    .regex(/^[a-z][a-z0-9-]+:[a-z]+-[a-z]+[0-9]+:[a-z][a-z0-9-]*$/, "expected <project>:<region>:<instance>")
    .optional(),
  sandboxSecrets: z.array(variableName).optional(),
  maxConcurrent: z.number().int().min(1).max(100).optional(),
  maxInstances: z.number().int().min(1).max(10).optional(),
  instanceTier: z.string().regex(/^db-[a-z0-9-]+$/, "expected a Cloud SQL tier such as db-custom-1-3840").optional(),
});

const secretDeclarations = z.record(
  variableName,
  z.enum(["managed", "config"], {
    error: 'expected "managed" (versions added in Secret Manager) or "config" (pulumi config set --secret)',
  }),
);

const database = z
  .strictObject({
    tier: z.string().regex(/^db-[a-z0-9-]+$/, "expected a Cloud SQL tier such as db-custom-2-7680").optional(),
    edition: z.enum(["ENTERPRISE", "ENTERPRISE_PLUS"]).optional(),
    highAvailability: z.boolean().optional(),
    pointInTimeRecovery: z.boolean().optional(),
    retainedBackups: z.number().int().min(1).max(365).optional(),
    backupStartTime: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "expected HH:MM in UTC").optional(),
    maintenanceWindow: z.strictObject({ day: z.number().int().min(1).max(7), hour: z.number().int().min(0).max(23) }).optional(),
    maxConnections: z.number().int().min(25).max(262143).optional(),
  })
  .refine((d) => !(d.highAvailability && d.pointInTimeRecovery === false), {
    message: "highAvailability needs pointInTimeRecovery (Cloud SQL refuses a regional instance without it)",
  });

const schedules = z.strictObject({
  dbPullBreaches: cron.optional(),
  deleteUnverifiedSubscribers: cron.optional(),
  remoteSettingsPullBreaches: cron.optional(),
});

const worker = z.strictObject({
  instances: z.number().int().min(1).max(10).optional(),
  cpu: cpu.optional(),
  memory: quantity.optional(),
});

const alerts = z.strictObject({
  notificationChannels: z
    .array(z.string().regex(/^projects\/[^/]+\/notificationChannels\/[0-9]+$/, "expected projects/<p>/notificationChannels/<id>"))
    .optional(),
});

const hostname = z
  .string()
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,}$/, "expected a hostname such as monitor.mozilla.org (no scheme, no path)");

/** Every key the program reads, and which stack kinds may set it; anything else under `monitor:` is a typo. */
const KEYS = {
  "gcp:project": { schema: gcpProject, kinds: "all" },
  "gcp:region": { schema: gcpRegion, kinds: "all" },
  "monitor:imageRepository": { schema: imageRepository, kinds: "all" },
  "monitor:imageTag": { schema: dockerTag.optional(), kinds: "all" },
  "monitor:env": { schema: envMap, kinds: "all" },
  "monitor:preview": { schema: previewSettings.optional(), kinds: "all" },
  "monitor:service": { schema: sizing.optional(), kinds: "environments" },
  "monitor:secrets": { schema: secretDeclarations.optional(), kinds: "environments" },
  "monitor:secretValues": { schema: z.record(variableName, z.string()).optional(), kinds: "environments" },
  "monitor:domain": { schema: hostname.optional(), kinds: "environments" },
  "monitor:database": { schema: database.optional(), kinds: "environments" },
  "monitor:schedules": { schema: schedules.optional(), kinds: "environments" },
  "monitor:worker": { schema: worker.optional(), kinds: "environments" },
  "monitor:alerts": { schema: alerts.optional(), kinds: "environments" },
} as const;

type Key = keyof typeof KEYS;
type Values = { [K in Key]: z.infer<(typeof KEYS)[K]["schema"]> };

/** Keys whose value reaches the program as JSON text (YAML mappings and lists). */
const STRUCTURED: ReadonlySet<Key> = new Set(
  (Object.keys(KEYS) as Key[]).filter((k) => !["gcp:project", "gcp:region", "monitor:imageRepository", "monitor:imageTag", "monitor:domain"].includes(k)),
);

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
    throw new Error(
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

function readKeys(
  stack: StackKind,
  config: Readonly<Record<string, string | undefined>>,
  file: string,
  problems: string[],
): Values {
  const values: Partial<Record<Key, unknown>> = {};
  for (const fullKey of Object.keys(config)) {
    if (fullKey.startsWith("monitor:") && !(fullKey in KEYS)) {
      const known = Object.keys(KEYS).filter((k) => k.startsWith("monitor:")).join(", ");
      problems.push(`${fullKey} in ${file}: unknown config key; known keys: ${known}. Fix: rename or remove it`);
    }
  }
  for (const key of Object.keys(KEYS) as Key[]) {
    const { schema, kinds } = KEYS[key];
    const raw = config[key];
    if (raw !== undefined && kinds === "environments" && stack.kind === "preview") {
      problems.push(`${key} in ${file}: previews do not take this key (stage and prod do). Fix: set it in Pulumi.stage.yaml or Pulumi.prod.yaml`);
      continue;
    }
    let input: unknown = raw;
    if (raw !== undefined && STRUCTURED.has(key)) {
      try {
        input = JSON.parse(raw);
      } catch {
        problems.push(`${key} in ${file}: expected a YAML mapping, got text that is not one`);
        continue;
      }
    }
    if (input === undefined && !schema.safeParse(undefined).success) {
      problems.push(`${key} in ${file}: required but not set. Fix: add it`);
      continue;
    }
    const parsed = schema.safeParse(input);
    if (parsed.success) {
      values[key] = parsed.data;
    } else {
      for (const issue of parsed.error.issues) {
        const path = [key, ...issue.path.map(String)].join(".");
        problems.push(`${path} in ${file}: ${issue.message}`);
      }
    }
  }
  return values as Values;
}

function previewSettingsOf(values: Values): PreviewSettings {
  const settings = values["monitor:preview"] ?? {};
  return {
    platformStack: settings.platformStack ?? "organization/monitor/stage",
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
  if (databaseSettings.edition === "ENTERPRISE_PLUS" && /^db-(f1-micro|g1-small|custom-)/.test(databaseSettings.tier)) {
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
