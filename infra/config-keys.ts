import { existsSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { z } from "zod";
import {
  APP_VARIABLES,
  DERIVED_VARIABLES,
  ENV_NAME,
  RESERVED_VARIABLES,
  isSecretName,
  secretLookingValue,
} from "../shared-rules/app-env";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";
import { EDITIONS, MAINTENANCE_WINDOW, RETAINED_BACKUPS, TIER } from "../shared-rules/cloud-sql";
import { QUANTITY } from "../shared-rules/cloud-run-limits";
import { cronProblem } from "../shared-rules/cron";
import { GCP_PROJECT_ID, GCP_REGION } from "../shared-rules/gcp-ids";
import { DIGEST } from "../shared-rules/image-tags";
import { unanchored } from "../shared-rules/patterns";
import { HOSTNAME, HOSTNAME_EXPECTED } from "../shared-rules/hostname";
import { HH_MM } from "../shared-rules/time-of-day";
import { PIPELINE_KEYS } from "./pipeline-spec";
import type { StackKind } from "../shared-rules/stack-name";

/**
 * The config keys the program reads, each with its schema and the stack kinds that may set it. Schemas check one
 * key's shape and say what is expected; rules that span keys (a required variable, a secret declared twice) live in
 * spec.ts. Anything else under `monitor:` is refused as a typo.
 *
 * A default that is the same for every stack kind is the schema's (`.default`, and `.prefault({})` on a mapping, so
 * that an absent key still gets its fields' defaults); one that depends on the kind is in spec.ts's table for it.
 */

const DOCKER_TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
const dockerTag = z
  .string()
  .regex(DOCKER_TAG, "expected a Docker tag: letters, digits, '_', '.', '-', at most 128, not starting with '.' or '-'")
  .refine((t) => t !== "latest", "'latest' moves under you: give the tag of one build (the image is pinned by digest)");

const imageRepository = z.string().refine((path) => artifactRegistryPath(path) !== undefined, {
  error:
    "expected an Artifact Registry path without tag or digest, <location>-docker.pkg.dev/<project>/<repository>/<image>, " +
    "e.g. us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server (tags are resolved through its API)",
});

/** One deploy's id: CI passes `<run id>-<run attempt>`; it names the migration execution with the digest. */
const deployId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,39}$/,
    "expected a deploy id of lowercase letters, digits and '-', at most 40, e.g. 9876543210-1 (<run id>-<attempt>)",
  );

/** The app's checkout for a preview to build (a directory with the app's Dockerfile). */
const appSource = z
  .string()
  .refine((dir) => isAbsolute(dir), "expected an absolute path (the CLI's working directory is not the repository's)")
  .refine((dir) => existsSync(join(dir, "Dockerfile")), {
    error: (issue) => `no Dockerfile in "${String(issue.input)}": expected the path of a checkout of the app`,
  });

/** `pulumi config` stores a boolean as text. */
const flag = z.enum(["true", "false"], { error: "expected true or false" }).transform((v) => v === "true");

const gcpProject = z.string().regex(GCP_PROJECT_ID, "expected a GCP project id (6-30 chars, lowercase)");
const gcpRegion = z.string().regex(GCP_REGION, "expected a GCP region such as us-central1");
const variableName = z.string().regex(ENV_NAME, "expected an environment variable name [A-Z_][A-Z0-9_]*");
const cron = z.string().superRefine((schedule, ctx) => {
  const problem = cronProblem(schedule);
  if (problem) ctx.addIssue({ code: "custom", message: `${problem} (Cloud Scheduler's unix cron, in UTC)` });
});
const quantity = z.string().regex(QUANTITY, "expected a Kubernetes quantity such as 512Mi or 2Gi");
const cpu = z.enum(["1", "2", "4", "8"]);
const between = ({ min, max }: { readonly min: number; readonly max: number }) => z.number().int().min(min).max(max);

/** Where a secret is declared instead of a plain value, for the env refusals' fix. */
const SECRET_HOME = "monitor:secrets in Pulumi.<stack>.yaml; for previews, monitor:preview.sandboxSecrets";

/** Checked entry by entry (not as a typed record), so that one bad value does not hide the other problems. */
const envMap = z.record(z.string(), z.unknown()).superRefine((env, ctx) => {
  for (const [name, raw] of Object.entries(env)) {
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
    if (!["string", "number", "boolean"].includes(typeof raw)) {
      issue("expected a string, number or boolean (env values are text). Fix: give it one value, nested in nothing");
    } else if (!ENV_NAME.test(name)) {
      issue(
        `"${name}" is not an environment variable name: expected [A-Z_][A-Z0-9_]*. Fix: rename it as the app spells it`,
      );
    } else if (RESERVED_VARIABLES.includes(name)) {
      issue(`${name} is set by Cloud Run itself. Fix: remove it`);
    } else if (DERIVED_VARIABLES.includes(name)) {
      issue(`${name} is computed by the program from the resources it creates. Fix: remove it`);
    } else if (isSecretName(name)) {
      issue(
        `${name} names a secret and must not be a plain value. Fix: remove it and declare it as a secret (${SECRET_HOME})`,
      );
    } else if (!(name in APP_VARIABLES)) {
      issue(
        `${name} is not a variable the app reads (a typo?). Fix: correct the name; if it is new in the app, add it to shared-rules/app-env.ts`,
      );
    } else {
      const why = secretLookingValue(String(raw));
      if (why)
        issue(
          `the value of ${name} looks like a credential (${why}). Fix: remove it and declare it as a secret (${SECRET_HOME})`,
        );
    }
  }
});

/** Connections one app process may open (its knex pool's max); unset: what the app configures (knexPoolMax). */
const connectionPool = z.number().int().min(1).max(100);

const sizing = z.strictObject({
  minInstances: z.number().int().min(0).max(100).optional(),
  maxInstances: z.number().int().min(1).max(1000).optional(),
  cpu: cpu.optional(),
  memory: quantity.optional(),
  concurrency: z.number().int().min(1).max(1000).optional(),
});

/** Monitor's Cirrus sidecar (components/cirrus.ts): previews under monitor:preview.cirrus, environments monitor:cirrus. */
const cirrus = z.strictObject({
  image: z
    .string()
    .regex(
      new RegExp(`^[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9._-]+)+@${unanchored(DIGEST)}$`),
      "expected an image pinned by digest, <registry path>@sha256:<64 hex>, e.g. " +
        "us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus@sha256:<digest>; a tag can move under a running service",
    ),
  remoteSettingsUrl: remoteSettingsChangeset(),
  previewUrl: remoteSettingsChangeset().optional(),
  appId: z.string().regex(/^[a-z][a-z0-9._-]*$/, "expected Experimenter's application id, e.g. monitor.cirrus"),
  appName: z.string().regex(/^[a-z][a-z0-9_]*$/, "expected Experimenter's application name, e.g. monitor_cirrus"),
  channel: z.enum(["staging", "production"], {
    error: 'expected "staging" or "production" (the channels of the monitor-web feature manifests in the image)',
  }),
  fmlPath: z
    .string()
    .regex(/^\/[A-Za-z0-9._/-]+\.ya?ml$/, "expected an absolute path to a .yaml file inside the image")
    .optional(),
  cpu: z.enum(["1", "2"]).default("1"),
  memory: quantity.default("512Mi"),
});

function remoteSettingsChangeset() {
  return z
    .string()
    .regex(
      /^https:\/\/[a-z0-9.-]+(:[0-9]+)?\/v1\/buckets\/[a-z0-9_-]+\/collections\/[a-z0-9_-]+\/changeset\?_expected=[0-9]+$/,
      "expected an https Remote Settings changeset URL, e.g. " +
        "https://firefox.settings.services.mozilla.com/v1/buckets/main/collections/nimbus-web-experiments/changeset?_expected=0",
    );
}

const previewSettings = z
  .strictObject({
    platformStack: z
      .string()
      .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "expected <organization>/<project>/<stack>")
      .optional(),
    instanceConnectionName: z
      .string()
      .regex(
        new RegExp(`^${unanchored(GCP_PROJECT_ID)}:${unanchored(GCP_REGION)}:[a-z][a-z0-9-]*$`),
        "expected <project>:<region>:<instance>",
      )
      .optional(),
    /** Where the previews' CI identities live: a project other than the previews', whose service accounts are theirs. */
    identityProject: gcpProject.optional(),
    sandboxSecrets: z.array(variableName).default([]),
    /**
     * Previews that may exist at once. What fits the previews project (service accounts, IAM principals on shared
     * policies) is counted by `npm run plan -- previews` from the program itself (infra/engine/capacity.ts); the
     * bound here is only the sweeper's (PREVIEW_CAP).
     */
    maxOpen: z.number().int().min(1).max(1000).default(100),
    /** Previews holding database connections at once: the shared instance is sized for them, admission counts them. */
    maxActive: z.number().int().min(1).max(1000).default(20),
    /** The sweeper destroys a preview whose stack was last updated longer ago than this. */
    ttlDays: z.number().int().min(1).max(90).default(7),
    maxInstances: z.number().int().min(1).max(10).default(1),
    instanceTier: z
      .string()
      .regex(TIER, "expected a Cloud SQL tier such as db-custom-4-16384")
      .default("db-custom-4-16384"),
    cirrus: cirrus.optional(),
  })
  .refine((p) => p.maxActive <= p.maxOpen, {
    path: ["maxActive"],
    message: "more previews active than may be open. Fix: lower maxActive to at most maxOpen",
  });

const secretDeclarations = z.record(
  variableName,
  z.enum(["managed", "config"], {
    error: 'expected "managed" (versions added in Secret Manager) or "config" (pulumi config set --secret)',
  }),
);

const database = z
  .strictObject({
    tier: z.string().regex(TIER, "expected a Cloud SQL tier such as db-custom-2-7680").optional(),
    edition: z.enum(EDITIONS).optional(),
    highAvailability: z.boolean().optional(),
    /** Every environment keeps backups; point-in-time recovery unless its config turns it off. */
    pointInTimeRecovery: z.boolean().default(true),
    retainedBackups: between(RETAINED_BACKUPS).optional(),
    backupStartTime: z.string().regex(HH_MM, "expected HH:MM in UTC").default("05:00"),
    maintenanceWindow: z
      .strictObject({ day: between(MAINTENANCE_WINDOW.day), hour: between(MAINTENANCE_WINDOW.hour) })
      .optional(),
    maxConnections: z.number().int().min(25).max(262143).optional(),
  })
  .refine((d) => !(d.highAvailability && d.pointInTimeRecovery === false), {
    message:
      "highAvailability needs pointInTimeRecovery (Cloud SQL refuses a regional instance without it). " +
      "Fix: set pointInTimeRecovery: true, or highAvailability: false",
  });

/** monitor-app.md: breaches every 10 minutes, unverified subscribers daily, Remote Settings hourly. */
const schedules = z.strictObject({
  dbPullBreaches: cron.default("*/10 * * * *"),
  deleteUnverifiedSubscribers: cron.default("30 3 * * *"),
  remoteSettingsPullBreaches: cron.default("15 * * * *"),
});

const worker = z.strictObject({
  instances: z.number().int().min(1).max(10).default(1),
  cpu: cpu.default("1"),
  memory: quantity.default("1Gi"),
});

const alerts = z.strictObject({
  notificationChannels: z
    .array(
      z
        .string()
        .regex(/^projects\/[^/]+\/notificationChannels\/[0-9]+$/, "expected projects/<p>/notificationChannels/<id>"),
    )
    .optional(),
});

const hostname = z.string().regex(HOSTNAME, `expected ${HOSTNAME_EXPECTED}`);

/**
 * Every key the program reads, and which stack kinds may set it ("deploys": previews, stage and prod); anything else
 * under `monitor:` is a typo. Project-level keys (Pulumi.yaml) reach every stack, the pipeline's too.
 */
const KEYS = {
  "gcp:project": { schema: gcpProject, kinds: "all" },
  "gcp:region": { schema: gcpRegion, kinds: "all" },
  "monitor:imageRepository": { schema: imageRepository, kinds: "all" },
  "monitor:imageTag": { schema: dockerTag.optional(), kinds: "deploys" },
  "monitor:deployId": { schema: deployId.optional(), kinds: "deploys" },
  "monitor:appSource": { schema: appSource.optional(), kinds: "previews" },
  "monitor:bootstrap": { schema: flag.optional(), kinds: "environments" },
  "monitor:connectionPool": { schema: connectionPool.optional(), kinds: "deploys" },
  "monitor:env": { schema: envMap, kinds: "all" },
  "monitor:preview": { schema: previewSettings.prefault({}), kinds: "all" },
  "monitor:service": { schema: sizing.optional(), kinds: "environments" },
  "monitor:secrets": { schema: secretDeclarations.optional(), kinds: "environments" },
  "monitor:secretValues": { schema: z.record(variableName, z.string()).optional(), kinds: "environments" },
  "monitor:domain": { schema: hostname.optional(), kinds: "environments" },
  "monitor:database": { schema: database.prefault({}), kinds: "environments" },
  "monitor:schedules": { schema: schedules.prefault({}), kinds: "environments" },
  "monitor:worker": { schema: worker.prefault({}), kinds: "environments" },
  "monitor:alerts": { schema: alerts.optional(), kinds: "environments" },
  "monitor:cirrus": { schema: cirrus.optional(), kinds: "environments" },
  "monitor:pipeline": { schema: PIPELINE_KEYS["monitor:pipeline"], kinds: "pipeline" },
  "monitor:infraCommit": { schema: PIPELINE_KEYS["monitor:infraCommit"], kinds: "pipeline" },
  "monitor:chatWebhookUrl": { schema: PIPELINE_KEYS["monitor:chatWebhookUrl"], kinds: "pipeline" },
} as const;

type Key = keyof typeof KEYS;

/** Every key the program reads, for docs and tests that name keys. */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);
export type Values = { [K in Key]: z.infer<(typeof KEYS)[K]["schema"]> };

/** Keys whose value reaches the program as JSON text (YAML mappings, lists and numbers). */
const STRUCTURED: ReadonlySet<Key> = new Set(
  (Object.keys(KEYS) as Key[]).filter(
    (k) =>
      ![
        "gcp:project",
        "gcp:region",
        "monitor:imageRepository",
        "monitor:imageTag",
        "monitor:deployId",
        "monitor:appSource",
        "monitor:bootstrap",
        "monitor:domain",
        "monitor:infraCommit",
        "monitor:chatWebhookUrl",
      ].includes(k),
  ),
);

/** Why `stack` may not set a key of `kinds`, with the fix; undefined when it may. */
function misplaced(kinds: (typeof KEYS)[Key]["kinds"], stack: StackKind): string | undefined {
  if (stack.kind === "previews" && (kinds === "environments" || kinds === "deploys")) {
    return "the previews platform deploys no app (its settings are monitor:preview in Pulumi.yaml). Fix: remove it";
  }
  if (kinds === "environments" && stack.kind === "preview") {
    return "previews do not take this key (stage and prod do). Fix: set it in Pulumi.stage.yaml or Pulumi.prod.yaml";
  }
  if (kinds === "environments" && stack.kind === "pipeline") {
    return "the pipeline stack deploys no app, so it does not take this key (stage and prod do). Fix: move it to Pulumi.stage.yaml or Pulumi.prod.yaml";
  }
  if (kinds === "deploys" && stack.kind === "pipeline") {
    return "the pipeline stack deploys no image. Fix: remove it";
  }
  if (kinds === "previews" && stack.kind !== "preview") {
    return `only previews take this key (${stack.stack} never builds; it deploys a tag). Fix: remove it`;
  }
  if (kinds === "pipeline" && stack.kind !== "pipeline") {
    return "only the pipeline stack takes this key. Fix: move it to Pulumi.pipeline.yaml (or pass it only to the pipeline stack)";
  }
  return undefined;
}

/** Keys a deploy passes on the command line rather than in a stack file. */
const PER_DEPLOY: ReadonlySet<Key> = new Set([
  "monitor:imageTag",
  "monitor:deployId",
  "monitor:appSource",
  "monitor:bootstrap",
  "monitor:infraCommit",
]);

/** The fix for a value its schema refuses: where to correct it, since the schema's message says what is expected. */
function fixFor(key: Key, path: string, file: string): string {
  return PER_DEPLOY.has(key)
    ? `pass a valid value with --config ${key}=<value>`
    : `correct ${path} in ${file.split(" ")[0]} as expected`;
}

/** One key's value, or `ok: false` with its problems added to `problems`. */
function parseKey(
  key: Key,
  stack: StackKind,
  raw: string | undefined,
  file: string,
  problems: string[],
): { ok: true; value: unknown } | { ok: false } {
  const { schema, kinds } = KEYS[key];
  const refusal = raw === undefined ? undefined : misplaced(kinds, stack);
  if (refusal) {
    problems.push(`${key} in ${file}: ${refusal}`);
    return { ok: false };
  }
  let input: unknown = raw;
  if (raw !== undefined && STRUCTURED.has(key)) {
    try {
      input = JSON.parse(raw);
    } catch {
      problems.push(
        `${key} in ${file}: expected a YAML mapping, got text that is not one. Fix: ${fixFor(key, key, file)}`,
      );
      return { ok: false };
    }
  }
  if (input === undefined && !schema.safeParse(undefined).success) {
    problems.push(`${key} in ${file}: required but not set. Fix: add it`);
    return { ok: false };
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  for (const issue of parsed.error.issues) {
    const path = [key, ...issue.path.map(String)].join(".");
    const fix = issue.message.includes("Fix:") ? "" : `. Fix: ${fixFor(key, path, file)}`;
    problems.push(`${path} in ${file}: ${issue.message}${fix}`);
  }
  return { ok: false };
}

/** Parses every key of a flat config map (`namespace:key` → text), collecting one problem per bad key or field. */
export function readKeys(
  stack: StackKind,
  config: Readonly<Record<string, string | undefined>>,
  file: string,
  problems: string[],
): Values {
  const values: Partial<Record<Key, unknown>> = {};
  for (const fullKey of Object.keys(config)) {
    if (fullKey.startsWith("monitor:") && !(fullKey in KEYS)) {
      const known = Object.keys(KEYS)
        .filter((k) => k.startsWith("monitor:"))
        .join(", ");
      problems.push(`${fullKey} in ${file}: unknown config key; known keys: ${known}. Fix: rename or remove it`);
    }
  }
  for (const key of Object.keys(KEYS) as Key[]) {
    const parsed = parseKey(key, stack, config[key], file, problems);
    if (parsed.ok) {
      values[key] = parsed.value;
    } else {
      // A refused key reads as its default, if it has one, so that the spec reads on and reports its own problems.
      const fallback = KEYS[key].schema.safeParse(undefined);
      if (fallback.success) values[key] = fallback.data;
    }
  }
  return values as Values;
}
