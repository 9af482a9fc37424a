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
import { appValueProblem } from "../shared-rules/app-values";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";
import { EDITIONS, MAINTENANCE_WINDOW, RETAINED_BACKUPS, TIER, tierProblem } from "../shared-rules/cloud-sql";
import { QUANTITY } from "../shared-rules/cloud-run-limits";
import { cronProblem } from "../shared-rules/cron";
import { GCP_PROJECT_ID, GCP_REGION } from "../shared-rules/gcp-ids";
import { regionProblem } from "../shared-rules/gcp-regions";
import { DIGEST } from "../shared-rules/image-tags";
import { unanchored } from "../shared-rules/patterns";
import { HOSTNAME, HOSTNAME_EXPECTED } from "../shared-rules/hostname";
import { NOTIFICATION_CHANNEL } from "../shared-rules/notification-channels";
import { HH_MM } from "../shared-rules/time-of-day";
import { PIPELINE_KEYS } from "./pipeline-spec";
import type { StackKind } from "../shared-rules/stack-name";
import { keyOwnershipProblems } from "./config/key-ownership";
import { KINDS } from "./config/kinds";
import type { Origins } from "./config/origins";

/**
 * The config keys the program reads, each with its schema (which kinds of stack read it: infra/config/kinds.ts).
 * Schemas check one key's shape and say what is expected; rules that span keys (a required variable, a secret
 * declared twice) live in spec.ts. Anything else under `monitor:` is refused as a typo.
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
// A relative path is one mistake, reported once: not also as a directory without a Dockerfile.
const appSource = z.string().superRefine((dir, ctx) => {
  if (!isAbsolute(dir)) {
    ctx.addIssue({
      code: "custom",
      message: "expected an absolute path (the CLI's working directory is not the repository's)",
    });
  } else if (!existsSync(join(dir, "Dockerfile"))) {
    ctx.addIssue({ code: "custom", message: `no Dockerfile in "${dir}": expected the path of a checkout of the app` });
  }
});

/** `pulumi config` stores a boolean as text. */
const flag = z.enum(["true", "false"], { error: "expected true or false" }).transform((v) => v === "true");

const gcpProject = z.string().regex(GCP_PROJECT_ID, "expected a GCP project id (6-30 chars, lowercase)");
const gcpRegion = z
  .string()
  .regex(GCP_REGION, "expected a GCP region such as us-central1")
  .superRefine((region, ctx) => {
    const problem = GCP_REGION.test(region) ? regionProblem(region) : undefined;
    if (problem) ctx.addIssue({ code: "custom", message: `${problem} (shared-rules/gcp-regions.ts)` });
  });
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

/**
 * Checked entry by entry (not as a typed record), so that one bad value does not hide the other problems: first the
 * name (one the app reads, and one config may set), then the value as the app reads it (shared-rules/app-values.ts).
 */
const envMap = z.record(z.string(), z.unknown()).superRefine((env, ctx) => {
  for (const [name, raw] of Object.entries(env)) {
    const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
    if (!ENV_NAME.test(name)) {
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
      const why = typeof raw === "string" ? secretLookingValue(raw) : undefined;
      const typed = appValueProblem(name, raw);
      if (why) {
        issue(
          `the value of ${name} looks like a credential (${why}). Fix: remove it and declare it as a secret (${SECRET_HOME})`,
        );
      } else if (typed) issue(`${typed.problem}. Fix: ${typed.fix}`);
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
      // The shared preview instance is ENTERPRISE (components/preview-platform.ts).
      .superRefine((tier, ctx) => {
        const problem = tierProblem(tier, "ENTERPRISE");
        if (problem) ctx.addIssue({ code: "custom", message: problem });
      })
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
    .array(z.string().regex(NOTIFICATION_CHANNEL, "expected projects/<p>/notificationChannels/<id>"))
    .optional(),
});

const hostname = z.string().regex(HOSTNAME, `expected ${HOSTNAME_EXPECTED}`);

/**
 * `monitor:parity.differ`: the plain variables whose values stage and prod set apart on purpose, each with the
 * reason, so that the parity report (infra/engine/parity.ts) shows every other difference as one to look at.
 */
const parity = z.strictObject({
  differ: z
    .record(z.string(), z.unknown())
    .superRefine((entries, ctx) => {
      for (const [name, reason] of Object.entries(entries)) {
        const issue = (message: string) => ctx.addIssue({ code: "custom", path: [name], message });
        if (!(name in APP_VARIABLES)) {
          issue(
            `${name} is not a variable the app reads (a typo?). Fix: name a variable of monitor:env (shared-rules/app-env.ts lists them)`,
          );
        } else if (DERIVED_VARIABLES.includes(name)) {
          issue(`${name} is computed by the program for each stack, so it is never compared. Fix: remove it`);
        } else if (isSecretName(name)) {
          issue(`${name} is a secret: parity compares secrets by name, never by value. Fix: remove it`);
        } else if (typeof reason !== "string" || reason.trim() === "") {
          issue(`no reason given. Fix: say why stage and prod set ${name} apart (${name}: <reason>)`);
        }
      }
    })
    .transform((entries) => entries as Record<string, string>)
    .default({}),
});

/**
 * Every key the program reads, by name. Which kinds of stack read each is infra/config/kinds.ts's table; anything else
 * under `monitor:` is a typo. Project-level keys (Pulumi.yaml) reach every stack, the pipeline's too.
 */
const KEYS = {
  "gcp:project": gcpProject,
  "gcp:region": gcpRegion,
  "monitor:imageRepository": imageRepository,
  "monitor:imageTag": dockerTag.optional(),
  "monitor:deployId": deployId.optional(),
  "monitor:appSource": appSource.optional(),
  "monitor:bootstrap": flag.optional(),
  "monitor:connectionPool": connectionPool.optional(),
  "monitor:env": envMap,
  "monitor:preview": previewSettings.prefault({}),
  "monitor:service": sizing.optional(),
  "monitor:secrets": secretDeclarations.optional(),
  "monitor:secretValues": z.record(variableName, z.string()).optional(),
  "monitor:domain": hostname.optional(),
  "monitor:database": database.prefault({}),
  "monitor:schedules": schedules.prefault({}),
  "monitor:worker": worker.prefault({}),
  "monitor:alerts": alerts.optional(),
  "monitor:cirrus": cirrus.optional(),
  "monitor:parity": parity.prefault({}),
  "monitor:pipeline": PIPELINE_KEYS["monitor:pipeline"],
  "monitor:infraCommit": PIPELINE_KEYS["monitor:infraCommit"],
  "monitor:chatWebhookUrl": PIPELINE_KEYS["monitor:chatWebhookUrl"],
} as const;

type Key = keyof typeof KEYS;

/** Every key the program reads, for docs and tests that name keys. */
export const CONFIG_KEYS: readonly string[] = Object.keys(KEYS);
export type Values = { [K in Key]: z.infer<(typeof KEYS)[K]> };

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

/** Keys a deploy passes on the command line rather than in a stack file. */
const PER_DEPLOY: ReadonlySet<string> = new Set<Key>([
  "monitor:imageTag",
  "monitor:deployId",
  "monitor:appSource",
  "monitor:bootstrap",
  "monitor:infraCommit",
]);

/** The fix for a value its schema refuses: where to correct it, since the schema's message says what is expected. */
function fixFor(key: Key, path: string, origins: Origins): string {
  return PER_DEPLOY.has(key)
    ? `pass a valid value with --config ${key}=<value>`
    : `${origins.correct(path)} as expected`;
}

/** One key's value, or `ok: false` with its problems added to `problems`. */
function parseKey(
  key: Key,
  raw: string | undefined,
  origins: Origins,
  problems: string[],
): { ok: true; value: unknown } | { ok: false } {
  const schema = KEYS[key];
  let input: unknown = raw;
  if (raw !== undefined && STRUCTURED.has(key)) {
    try {
      input = JSON.parse(raw);
    } catch {
      problems.push(
        `${origins.at(key)}: expected a YAML mapping, got text that is not one. Fix: ${fixFor(key, key, origins)}`,
      );
      return { ok: false };
    }
  }
  if (input === undefined && !schema.safeParse(undefined).success) {
    problems.push(`${origins.at(key)}: required but not set. Fix: add it`);
    return { ok: false };
  }
  const parsed = schema.safeParse(input);
  if (parsed.success) return { ok: true, value: parsed.data };
  for (const issue of parsed.error.issues) {
    const path = [key, ...issue.path.map(String)].join(".");
    const fix = issue.message.includes("Fix:") ? "" : `. Fix: ${fixFor(key, path, origins)}`;
    problems.push(`${origins.at(path)}: ${issue.message}${fix}`);
  }
  return { ok: false };
}

export interface ReadKeys {
  values: Values;
  /** Keys refused here: what depends on them says nothing more (one mistake, one message). */
  refused: ReadonlySet<string>;
}

/**
 * Parses the keys `stack`'s kind reads from a flat config map (`namespace:key` → text), collecting one problem per
 * bad key or field, and refuses the keys it sets that nothing would read (infra/config/key-ownership.ts).
 */
export function readKeys(
  stack: StackKind,
  config: Readonly<Record<string, string | undefined>>,
  origins: Origins,
  problems: string[],
): ReadKeys {
  keyOwnershipProblems(
    stack,
    config,
    CONFIG_KEYS.filter((k) => k.startsWith("monitor:")),
    PER_DEPLOY,
    origins,
    problems,
  );
  const reads = KINDS[stack.kind].reads;
  const values: Partial<Record<Key, unknown>> = {};
  const refused = new Set<string>();
  for (const key of Object.keys(KEYS) as Key[]) {
    // A key the kind does not read keeps its default: set here, key-ownership.ts refused it; inherited, it is ignored.
    const parsed =
      key.startsWith("monitor:") && !reads.includes(key)
        ? { ok: false as const }
        : parseKey(key, config[key], origins, problems);
    if (parsed.ok) {
      values[key] = parsed.value;
    } else {
      if (reads.includes(key) || !key.startsWith("monitor:")) refused.add(key);
      // A refused key reads as its default, if it has one, so that the spec reads on and reports its own problems.
      const fallback = KEYS[key].safeParse(undefined);
      if (fallback.success) values[key] = fallback.data;
    }
  }
  return { values: values as Values, refused };
}
