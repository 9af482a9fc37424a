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
  /** The tag to resolve to a digest at deploy time. */
  tag: string;
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
  preview: PreviewSettings;
  /** Secrets each preview generates for itself (the app issues and checks them). */
  generatedSecrets: string[];
}

export type StackSpec = PreviewSpec;

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

const dockerTag = z
  .string()
  .regex(
    /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/,
    "expected a Docker tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'",
  )
  .refine((t) => t !== "latest", "'latest' moves under you: give the tag of one build (the image is pinned by digest)");

const imageRepository = z
  .string()
  .regex(
    /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/,
    "expected a registry path without tag or digest, e.g. us-docker.pkg.dev/<project>/<repository>/blurts-server",
  );

const gcpProject = z.string().regex(/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/, "expected a GCP project id (6-30 chars, lowercase)");
const gcpRegion = z.string().regex(/^[a-z]+-[a-z]+[0-9]+$/, "expected a GCP region such as us-central1");

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
    } else {
      const why = secretLookingValue(String(raw));
      if (why) issue(`the value of ${name} looks like a credential (${why}); remove it and declare it as a secret`);
    }
  }
});

const sizing = z.strictObject({
  minInstances: z.number().int().min(0).max(100).optional(),
  maxInstances: z.number().int().min(1).max(1000).optional(),
  cpu: z.enum(["1", "2", "4", "8"]).optional(),
  memory: z
    .string()
    .regex(/^[0-9]+(Mi|Gi)$/, "expected a Kubernetes quantity such as 512Mi or 2Gi")
    .optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
});

const secretList = z.array(
  z.string().regex(ENV_NAME, "expected an environment variable name [A-Z_][A-Z0-9_]*"),
);

const previewSettings = z.strictObject({
  platformStack: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected <organization>/<project>/<stack>")
    .optional(),
  instanceConnectionName: z
    .string()
    .regex(/^[a-z][a-z0-9-]+:[a-z]+-[a-z]+[0-9]+:[a-z][a-z0-9-]*$/, "expected <project>:<region>:<instance>")
    .optional(),
  sandboxSecrets: secretList.optional(),
  maxConcurrent: z.number().int().min(1).max(100).optional(),
});

/** Every `monitor:` key the program reads; anything else under `monitor:` is a typo. */
const KEYS = {
  "gcp:project": gcpProject,
  "gcp:region": gcpRegion,
  "monitor:imageRepository": imageRepository,
  "monitor:imageTag": dockerTag.optional(),
  "monitor:env": envMap,
  "monitor:service": sizing.optional(),
  "monitor:preview": previewSettings.optional(),
} as const;

type Key = keyof typeof KEYS;
type Values = { [K in Key]: z.infer<(typeof KEYS)[K]> };

/** Keys whose value is an object or number in YAML and reaches the program as JSON text. */
const STRUCTURED: ReadonlySet<Key> = new Set(["monitor:env", "monitor:service", "monitor:preview"]);

const PREVIEW_SIZING: ServiceSizing = { minInstances: 0, maxInstances: 2, cpu: "1", memory: "512Mi", concurrency: 80 };

// ---------------------------------------------------------------------------------------------------------------

/** Reads the config of `stack` from a flat map (`namespace:key` → text, as the Pulumi engine passes it). */
export function buildSpec(stackName: string, config: Readonly<Record<string, string | undefined>>): StackSpec {
  const stack = parseStackName(stackName);
  const file = configFileOf(stack);
  const problems: string[] = [];
  const values = readKeys(config, file, problems);

  if (stack.kind !== "preview") {
    throw new ConfigError(stack.stack, [`the ${stack.kind} stack is not yet available in this program`]);
  }
  const spec = previewSpec(stack, values, file, problems);
  if (problems.length > 0) throw new ConfigError(stack.stack, problems);
  return spec as StackSpec;
}

function readKeys(config: Readonly<Record<string, string | undefined>>, file: string, problems: string[]): Values {
  const values: Partial<Record<Key, unknown>> = {};
  for (const fullKey of Object.keys(config)) {
    if (fullKey.startsWith("monitor:") && !(fullKey in KEYS)) {
      const known = Object.keys(KEYS).filter((k) => k.startsWith("monitor:")).join(", ");
      problems.push(`${fullKey} in ${file}: unknown config key; known keys: ${known}. Fix: rename or remove it`);
    }
  }
  for (const key of Object.keys(KEYS) as Key[]) {
    const raw = config[key];
    let input: unknown = raw;
    if (raw !== undefined && STRUCTURED.has(key)) {
      try {
        input = JSON.parse(raw);
      } catch {
        problems.push(`${key} in ${file}: expected a YAML mapping, got text that is not one`);
        continue;
      }
    }
    if (input === undefined && !KEYS[key].safeParse(undefined).success) {
      problems.push(`${key} in ${file}: required but not set. Fix: add it`);
      continue;
    }
    const parsed = KEYS[key].safeParse(input);
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

function previewSpec(
  stack: Extract<StackKind, { kind: "preview" }>,
  values: Values,
  file: string,
  problems: string[],
): PreviewSpec {
  const env = Object.fromEntries(Object.entries(values["monitor:env"] ?? {}).map(([k, v]) => [k, String(v)]));
  const settings = values["monitor:preview"] ?? {};
  const preview: PreviewSettings = {
    platformStack: settings.platformStack ?? "organization/monitor/stage",
    instanceConnectionName: settings.instanceConnectionName,
    sandboxSecrets: settings.sandboxSecrets ?? [],
    maxConcurrent: settings.maxConcurrent ?? 10,
  };
  const generatedSecrets = Object.entries(APP_VARIABLES)
    .filter(([, v]) => v.generatable)
    .map(([name]) => name);

  for (const name of preview.sandboxSecrets) {
    const key = `monitor:preview.sandboxSecrets in ${file}`;
    if (name in env) problems.push(`${key}: ${name} is also a plain value in monitor:env. Fix: keep one`);
    if (!isSecretName(name)) {
      problems.push(`${key}: ${name} is not a secret the app knows. Fix: plain values belong in monitor:env`);
    }
  }

  // Only meaningful once monitor:env itself is valid; otherwise its own problems say it all.
  const provided = new Set([...Object.keys(env), ...DERIVED_VARIABLES, ...generatedSecrets, ...preview.sandboxSecrets]);
  const missing = REQUIRED_VARIABLES.filter((name) => !provided.has(name));
  if (values["monitor:env"] !== undefined && missing.length > 0) {
    problems.push(
      `monitor:env in ${file}: the app refuses to start without ${missing.join(", ")}. Fix: add plain values ` +
        `to monitor:env, or secret names to monitor:preview.sandboxSecrets`,
    );
  }

  const service = { ...PREVIEW_SIZING, ...values["monitor:service"] };
  if (service.minInstances > service.maxInstances) {
    problems.push(
      `monitor:service in ${file}: minInstances (${service.minInstances}) is above maxInstances ` +
        `(${service.maxInstances}). Fix: raise maxInstances or lower minInstances`,
    );
  }

  const names = namesFor(stack);
  for (const violation of nameLimitViolations(names, [...generatedSecrets, "DATABASE_URL"])) {
    problems.push(`stack name "${stack.stack}": ${violation}. Fix: use a shorter stack name`);
  }

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
