/**
 * Every refusal the program and its workflow scripts make, one row each: what is refused, where, the key or input
 * the message names, and the fix it gives. test/refusal-catalogue.test.ts proves each row against the real program
 * (the message names the stack or input, the key and the fix, and nothing was registered or sent), and checks that
 * the README's troubleshooting table is exactly `troubleshootingTable()`.
 *
 * After adding or changing a row: `npx ts-node --transpile-only test/refusal-catalogue.ts` prints the table to
 * paste between the README's `refusal-catalogue` markers.
 */
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadStackConfig } from "../infra/engine/config-files";
import { mockPreviewPlatform } from "../infra/engine/mocks";
import type { EvaluateOptions } from "../infra/engine/evaluate";
import { INFRA_COMMIT_PLACEHOLDER } from "../infra/pipeline-contract";
import type { Env } from "../scripts/lib/cli";
import { main as destroyPreview } from "../scripts/destroy-preview";
import { main as driftIssue } from "../scripts/drift-issue";
import { main as notifyChat } from "../scripts/notify-chat";
import { requestToken } from "../scripts/own-commit";
import { main as previewAdmission } from "../scripts/preview-admission";
import { inputFromEnv } from "../scripts/preview-comment";
import { main as releaseTag } from "../scripts/release-tag";
import { main as requireE2e } from "../scripts/require-e2e";
import { main as smokeCheck } from "../scripts/smoke-check";
import { main as sweepPreviews } from "../scripts/sweep-previews";
import { ROOT } from "./harness";

export type Fetch = typeof fetch;

interface Row {
  /** Groups the README's table. */
  area: string;
  /** What is refused, in a few words. */
  refused: string;
  /** What the message must say (beyond the key and the fix). */
  message: RegExp;
  /** Text of the message after `Fix:`, as the README shows it. */
  fix: string;
}

export interface StackRow extends Row {
  stack: string;
  /** Config as `--config` gives it, over the committed files. */
  overrides?: Record<string, string>;
  /** Keys absent from the stack's config (a stack file without them). */
  remove?: string[];
  /** The config key the message names (a dotted path for a field). */
  key: string;
  /**
   * "plan": refused while the program runs, from what the cloud reports (a stack reference, a secret's versions),
   * so `pulumi preview`, which `pulumi up` runs first, fails before anything is created. Default: refused from
   * config alone, before any resource is registered. "capacity": refused by `npm run plan -- previews`, which counts
   * what the previews project holds from the previews stack, a preview and the pipeline (infra/engine/capacity.ts).
   */
  at?: "plan" | "capacity";
  engine?: Pick<EvaluateOptions, "stackOutputs" | "missingSecretVersions">;
}

export interface ScriptRow extends Row {
  /** `scripts/<name>.ts`, with the subcommand where it has one. */
  script: string;
  env: Env;
  /** The environment variable the message names. */
  input: string;
  /** 2: called wrongly (UsageError); 1: refused (RefusedError). */
  exit: 1 | 2;
  /** Runs the script's exported entry with `env`; any network call goes to `fetch`. */
  run: (env: Env, fetch: Fetch) => Promise<unknown>;
}

// ---------------------------------------------------------------------------------------------------------------
// Committed config, to change one thing at a time.

const committed = (stack: string) => loadStackConfig(ROOT, stack).config;
const json = (value: unknown) => JSON.stringify(value);
const envOf = (stack: string) => JSON.parse(committed(stack)["monitor:env"]);
const cirrusOf = (stack: "stage" | "prod") => JSON.parse(committed(stack)["monitor:cirrus"]);
const previewOf = () => JSON.parse(committed("pr-1")["monitor:preview"]);

/** `monitor:env` of `stack` with some variables added or replaced, and some dropped. */
function env(stack: string, extra: Record<string, unknown>, drop: string[] = []) {
  const values = { ...envOf(stack), ...extra };
  for (const name of drop) delete values[name];
  return { "monitor:env": json(values) };
}

const COMMIT = "3f9c2ab0123456789abcdef0123456789abcdef0";
/** The pipeline's committed settings with one change, applied from a valid commit. */
function pipeline(change: (settings: any) => void) {
  const settings = JSON.parse(committed("pipeline")["monitor:pipeline"]);
  change(settings);
  return { "monitor:infraCommit": COMMIT, "monitor:pipeline": json(settings) };
}

// ---------------------------------------------------------------------------------------------------------------

export const STACK_ROWS: StackRow[] = [
  // Stack names and PR numbers
  ...(["pr-0", "pr-01", "PR-5", "feature"] as const).map((stack): StackRow => ({
    area: "Stack names",
    refused:
      stack === "pr-0" ? "PR number 0" : stack === "pr-01" ? "a PR number with a leading zero" : `the name ${stack}`,
    stack,
    key: "stack name",
    message:
      /is not a stack of the monitor project\. Valid stack names:\n {2}- pr-<N>.*\n {2}- previews .*\n {2}- stage\n {2}- prod\n {2}- pipeline/,
    fix: "select one with `pulumi stack select <name>`",
  })),
  {
    area: "Stack names",
    refused: "a PR number so long that GCP names overflow",
    stack: `pr-${"9".repeat(20)}`,
    key: "stack name",
    message: /service account id "monitor-pr-9+-run" is 35 characters; GCP allows at most 30/,
    fix: "use a shorter stack name",
  },

  // Image tags and repositories
  {
    area: "Image tags",
    refused: "`latest`",
    stack: "pr-7",
    overrides: { "monitor:imageTag": "latest" },
    key: "monitor:imageTag",
    message: /'latest' moves under you/,
    fix: "pass a valid value with --config monitor:imageTag=<value>",
  },
  {
    area: "Image tags",
    refused: "a string that is not a Docker tag",
    stack: "pr-7",
    overrides: { "monitor:imageTag": "repo:tag" },
    key: "monitor:imageTag",
    message: /expected a Docker tag/,
    fix: "pass a valid value with --config monitor:imageTag=<value>",
  },
  {
    area: "Image tags",
    refused: "a calendar tag on stage",
    stack: "stage",
    overrides: { "monitor:imageTag": "2024.09.01" },
    key: "monitor:imageTag",
    message: /stage deploys a short commit SHA \(7-40 lowercase hex\)/,
    fix: "pass the right tag with --config monitor:imageTag=<tag>",
  },
  {
    area: "Image tags",
    refused: "a short SHA on prod",
    stack: "prod",
    overrides: { "monitor:imageTag": "abc1234" },
    key: "monitor:imageTag",
    message: /prod deploys a calendar tag YYYY\.MM\.DD or YYYY\.MM\.DD\.N/,
    fix: "pass the right tag with --config monitor:imageTag=<tag>",
  },
  {
    area: "Image tags",
    refused: "a calendar tag of a day that does not exist",
    stack: "prod",
    overrides: { "monitor:imageTag": "2024.02.30" },
    key: "monitor:imageTag",
    message: /prod deploys a calendar tag/,
    fix: "pass the right tag with --config monitor:imageTag=<tag>",
  },
  {
    area: "Image tags",
    refused: "an image repository outside Artifact Registry",
    stack: "prod",
    overrides: { "monitor:imageRepository": "docker.io/mozilla/blurts-server" },
    key: "monitor:imageRepository",
    message: /expected an Artifact Registry path without tag or digest/,
    fix: "correct monitor:imageRepository in Pulumi.prod.yaml",
  },
  {
    area: "Image tags",
    refused: "an image repository with a tag in it",
    stack: "pr-7",
    overrides: {
      "monitor:imageRepository": "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server:v1",
    },
    key: "monitor:imageRepository",
    message: /expected an Artifact Registry path without tag or digest/,
    fix: "correct monitor:imageRepository in Pulumi.yaml",
  },
  {
    area: "Image tags",
    refused: "no image repository at all",
    stack: "prod",
    remove: ["monitor:imageRepository"],
    key: "monitor:imageRepository",
    message: /required but not set/,
    fix: "add it",
  },
  {
    area: "Image tags",
    refused: "no tag on an environment's first deploy",
    stack: "stage",
    key: "monitor:imageTag",
    at: "plan",
    engine: { stackOutputs: () => ({}) },
    message: /no image is deployed yet, so there is nothing to keep/,
    fix: "pass the image to deploy with --config monitor:imageTag=<tag>",
  },

  // Environment variables
  {
    area: "Env vars",
    refused: "a name that is not an env var name",
    stack: "pr-7",
    overrides: env("pr-7", { lower_case: "x" }),
    key: "monitor:env.lower_case",
    message: /"lower_case" is not an environment variable name/,
    fix: "rename it as the app spells it",
  },
  {
    area: "Env vars",
    refused: "a variable Cloud Run reserves (PORT, K_*, CLOUD_RUN_*)",
    stack: "stage",
    overrides: env("stage", { PORT: "8080" }),
    key: "monitor:env.PORT",
    message: /PORT is set by Cloud Run itself/,
    fix: "remove it",
  },
  {
    area: "Env vars",
    refused: "a derived variable (DATABASE_URL, SERVER_URL, NEXTAUTH_URL, PG_HOST, GCP_PUBSUB_*)",
    stack: "prod",
    overrides: env("prod", { SERVER_URL: "https://monitor.mozilla.org" }),
    key: "monitor:env.SERVER_URL",
    message: /SERVER_URL is computed by the program/,
    fix: "remove it",
  },
  {
    area: "Env vars",
    refused: "a secret as a plain value",
    stack: "pr-7",
    overrides: env("pr-7", { NEXTAUTH_SECRET: "hunter2" }),
    key: "monitor:env.NEXTAUTH_SECRET",
    message: /NEXTAUTH_SECRET names a secret and must not be a plain value/,
    fix: "remove it and declare it as a secret",
  },
  {
    area: "Env vars",
    refused: "an unknown secret-looking name (…_TOKEN, …_PASSWORD, …)",
    stack: "stage",
    overrides: env("stage", { SOME_NEW_API_TOKEN: "abc" }),
    key: "monitor:env.SOME_NEW_API_TOKEN",
    message: /SOME_NEW_API_TOKEN names a secret/,
    fix: "remove it and declare it as a secret",
  },
  {
    area: "Env vars",
    refused: "a value that looks like a credential",
    stack: "prod",
    overrides: env("prod", { REDIS_URL: "redis://:hunter2@redis.internal:6379" }),
    key: "monitor:env.REDIS_URL",
    message: /the value of REDIS_URL looks like a credential \(it is a URL with a password in it\)/,
    fix: "remove it and declare it as a secret",
  },
  {
    area: "Env vars",
    refused: "a variable the app does not read (a typo)",
    stack: "prod",
    overrides: env("prod", { EMAIL_FORM: "x" }),
    key: "monitor:env.EMAIL_FORM",
    message: /EMAIL_FORM is not a variable the app reads \(a typo\?\)/,
    fix: "correct the name; if it is new in the app, add it to shared-rules/app-env.ts",
  },
  {
    area: "Env vars",
    refused: "a nested value",
    stack: "pr-7",
    overrides: env("pr-7", { ADMINS: { a: 1 } }),
    key: "monitor:env.ADMINS",
    message: /expected a string, number or boolean/,
    fix: "give it one value, nested in nothing",
  },
  {
    area: "Env vars",
    refused: "a variable the app requires, missing",
    stack: "pr-7",
    overrides: env("pr-7", {}, ["EMAIL_FROM"]),
    key: "monitor:env",
    message: /the app refuses to start without EMAIL_FROM/,
    fix: "add plain values to monitor:env, or secret names to monitor:preview.sandboxSecrets",
  },
  {
    area: "Env vars",
    refused: "a required secret neither plain nor declared",
    stack: "prod",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("prod")["monitor:secrets"]), HIBP_NOTIFY_TOKEN: undefined }),
    },
    key: "monitor:env",
    message: /the app refuses to start without HIBP_NOTIFY_TOKEN/,
    fix: "add plain values to monitor:env, or declare secrets in monitor:secrets",
  },

  // Secrets
  {
    area: "Secrets",
    refused: "`monitor:secretValues` in plaintext",
    stack: "stage",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("stage")["monitor:secrets"]), SMTP_URL: "config" }),
      "monitor:secretValues": json({ SMTP_URL: "smtp://x" }),
    },
    key: "monitor:secretValues",
    message: /monitor:secretValues in Pulumi\.stage\.yaml is stored in plaintext/,
    fix: "remove it and set each value with `pulumi config set --secret --path 'monitor:secretValues.<NAME>' <value>`",
  },
  {
    area: "Secrets",
    refused: "a `config` secret without its value",
    stack: "stage",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("stage")["monitor:secrets"]), SMTP_URL: "config" }),
    },
    key: "monitor:secrets.SMTP_URL",
    message: /declared as config, but monitor:secretValues\.SMTP_URL is not set/,
    fix: "pulumi config set --stack stage --secret --path 'monitor:secretValues.SMTP_URL' <value>",
  },
  {
    area: "Secrets",
    refused: "a secret value never declared",
    stack: "prod",
    overrides: { "monitor:secretValues": json({ HIBP_API_TOKEN: "x" }) },
    key: "monitor:secretValues.HIBP_API_TOKEN",
    message: /not declared/,
    fix: "add HIBP_API_TOKEN: config to monitor:secrets",
  },
  {
    area: "Secrets",
    refused: "a secret that is also a plain value",
    stack: "stage",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("stage")["monitor:secrets"]), S3_BUCKET: "managed" }),
    },
    key: "monitor:secrets.S3_BUCKET",
    message: /S3_BUCKET is also a plain value in monitor:env/,
    fix: "keep one",
  },
  {
    area: "Secrets",
    refused: "a derived variable declared as a secret",
    stack: "stage",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("stage")["monitor:secrets"]), DATABASE_URL: "managed" }),
    },
    key: "monitor:secrets.DATABASE_URL",
    message: /DATABASE_URL is computed by the program/,
    fix: "remove it",
  },
  {
    area: "Secrets",
    refused: "a secret the app does not read (a typo)",
    stack: "prod",
    overrides: {
      "monitor:secrets": json({ ...JSON.parse(committed("prod")["monitor:secrets"]), NEXTAUTH_SECRETS: "managed" }),
    },
    key: "monitor:secrets.NEXTAUTH_SECRETS",
    message: /NEXTAUTH_SECRETS is not a variable the app reads \(a typo\?\)/,
    fix: "correct it, or add it to shared-rules/app-env.ts",
  },
  {
    area: "Secrets",
    refused: "a secret source other than managed or config",
    stack: "prod",
    overrides: { "monitor:secrets": json({ ...JSON.parse(committed("prod")["monitor:secrets"]), SMTP_URL: "vault" }) },
    key: "monitor:secrets.SMTP_URL",
    message: /expected "managed" \(versions added in Secret Manager\) or "config"/,
    fix: "correct monitor:secrets.SMTP_URL in Pulumi.prod.yaml",
  },
  {
    area: "Secrets",
    refused: "a preview sandbox secret the app does not read",
    stack: "pr-7",
    overrides: {
      "monitor:preview": json({
        ...previewOf(),
        sandboxSecrets: [...previewOf().sandboxSecrets, "OAUTH_CLIENT_SECRETT"],
      }),
    },
    key: "monitor:preview.sandboxSecrets",
    message: /OAUTH_CLIENT_SECRETT is not a variable the app reads/,
    fix: "correct it, or add it to shared-rules/app-env.ts",
  },
  {
    area: "Secrets",
    refused: "a preview sandbox secret the platform lacks",
    stack: "pr-7",
    at: "plan",
    engine: {
      stackOutputs: () => ({
        previewPlatform: mockPreviewPlatform("moz-fx-monitor-nonprod", "us-central1", ["OAUTH_CLIENT_SECRET"]),
      }),
    },
    key: "monitor:preview.sandboxSecrets",
    message: /names HIBP_KANON_API_TOKEN, but the preview platform .* has no such secret/,
    fix: "apply the previews stack (it creates the sandbox secrets monitor:preview.sandboxSecrets names), or remove it from monitor:preview.sandboxSecrets",
  },
  {
    area: "Secrets",
    refused: "a deploy that reads a secret with no version yet",
    stack: "stage",
    overrides: { "monitor:imageTag": "abc1234" },
    at: "plan",
    engine: { missingSecretVersions: ["monitor-stage-smtp-url"] },
    key: "SMTP_URL",
    message: /SMTP_URL \(it has no version yet\) cannot be read by the app/,
    fix: "add the versions, then deploy again:\n  gcloud secrets versions add monitor-stage-smtp-url",
  },

  // Schedules
  {
    area: "Schedules",
    refused: "a schedule that is not five-field cron",
    stack: "stage",
    overrides: { "monitor:schedules": json({ dbPullBreaches: "every 10 minutes" }) },
    key: "monitor:schedules.dbPullBreaches",
    message: /a cron schedule has 5 fields .*"every 10 minutes" has 3/,
    fix: "correct monitor:schedules.dbPullBreaches in Pulumi.stage.yaml",
  },
  {
    area: "Schedules",
    refused: "a cron field out of range",
    stack: "prod",
    overrides: { "monitor:schedules": json({ deleteUnverifiedSubscribers: "0 24 * * *" }) },
    key: "monitor:schedules.deleteUnverifiedSubscribers",
    message: /the hour field "24" of "0 24 \* \* \*" is not valid \(values 0-23\)/,
    fix: "correct monitor:schedules.deleteUnverifiedSubscribers in Pulumi.prod.yaml",
  },

  // Sizes
  {
    area: "Sizes",
    refused: "minInstances above maxInstances",
    stack: "prod",
    overrides: { "monitor:service": json({ minInstances: 5, maxInstances: 2 }) },
    key: "monitor:service",
    message: /minInstances \(5\) is above maxInstances \(2\)/,
    fix: "raise maxInstances or lower minInstances",
  },
  {
    area: "Sizes",
    refused: "a CPU count Cloud Run does not offer",
    stack: "stage",
    overrides: { "monitor:service": json({ cpu: "3" }) },
    key: "monitor:service.cpu",
    message: /expected one of "1"\|"2"\|"4"\|"8"/,
    fix: "correct monitor:service.cpu in Pulumi.stage.yaml",
  },
  {
    area: "Sizes",
    refused: "memory that is not a quantity",
    stack: "prod",
    overrides: { "monitor:worker": json({ memory: "1GB" }) },
    key: "monitor:worker.memory",
    message: /expected a Kubernetes quantity such as 512Mi or 2Gi/,
    fix: "correct monitor:worker.memory in Pulumi.prod.yaml",
  },
  {
    area: "Sizes",
    refused: "more memory than the CPU count allows (Cloud Run)",
    stack: "stage",
    overrides: { "monitor:service": json({ cpu: "1", memory: "8Gi" }) },
    key: "monitor:service",
    message: /memory 8Gi needs at least 2 CPU, not 1/,
    fix: "change monitor:service.cpu or monitor:service.memory",
  },
  {
    area: "Sizes",
    refused: "less memory than the CPU count needs (Cloud Run)",
    stack: "prod",
    overrides: { "monitor:worker": json({ cpu: "4", memory: "1Gi" }) },
    key: "monitor:worker",
    message: /4 CPU needs at least 2Gi of memory, not 1Gi/,
    fix: "change monitor:worker.cpu or monitor:worker.memory",
  },
  {
    area: "Sizes",
    refused: "no breach-alerts worker",
    stack: "prod",
    overrides: { "monitor:worker": json({ instances: 0 }) },
    key: "monitor:worker.instances",
    message: /expected number to be >=1/,
    fix: "correct monitor:worker.instances in Pulumi.prod.yaml",
  },
  {
    area: "Sizes",
    refused: "max_connections below what the stack may open",
    stack: "prod",
    overrides: { "monitor:database": json({ maxConnections: 250 }) },
    key: "monitor:database.maxConnections",
    message: /250 is below the 290 connections prod may open \(56 processes x 5 per pool \+ 10 reserved\)/,
    fix: "raise it, remove it (the program sizes it), or lower monitor:service.maxInstances",
  },
  {
    area: "Sizes",
    refused: "a connection pool of 0",
    stack: "stage",
    overrides: { "monitor:connectionPool": "0" },
    key: "monitor:connectionPool",
    message: /expected number to be >=1/,
    fix: "correct monitor:connectionPool in Pulumi.stage.yaml",
  },
  {
    area: "Sizes",
    refused: "preview instances or concurrency out of range",
    stack: "pr-7",
    overrides: { "monitor:preview": json({ ...previewOf(), maxOpen: 5000 }) },
    key: "monitor:preview.maxOpen",
    message: /expected number to be <=1000/,
    fix: "correct monitor:preview.maxOpen in Pulumi.yaml",
  },
  {
    area: "Sizes",
    refused: "more busy previews than the shared instance's tier holds",
    stack: "previews",
    overrides: { "monitor:preview": json({ ...previewOf(), maxActive: 25 }) },
    key: "monitor:preview.maxActive",
    message:
      /25 active previews need 510 connections on the shared preview instance .* over the 500 that db-custom-4-16384 is sized for/,
    fix: "lower monitor:preview.maxActive to at most 24",
  },
  {
    area: "Sizes",
    refused: "more open previews than the previews project has service accounts for",
    stack: "previews",
    at: "capacity",
    overrides: { "monitor:preview": json({ ...previewOf(), maxOpen: 101 }) },
    key: "monitor:preview.maxOpen",
    message: /needs 101 service accounts on projects\/moz-fx-monitor-previews .* over the 100 allowed/,
    fix: "lower monitor:preview.maxOpen to at most 100",
  },
  {
    area: "Sizes",
    refused: "app and Cirrus above 8 vCPU",
    stack: "prod",
    overrides: { "monitor:service": json({ cpu: "8" }) },
    key: "monitor:cirrus.cpu",
    message: /the app's 8 and Cirrus's 1 vCPU exceed Cloud Run's 8 per instance/,
    fix: "lower monitor:service.cpu or the sidecar's cpu",
  },

  // Regions, projects, tiers and editions
  {
    area: "Regions and tiers",
    refused: "a region that is not a GCP region",
    stack: "stage",
    overrides: { "gcp:region": "us central" },
    key: "gcp:region",
    message: /expected a GCP region such as us-central1/,
    fix: "correct gcp:region in Pulumi.stage.yaml",
  },
  {
    area: "Regions and tiers",
    refused: "a project id GCP would refuse",
    stack: "pr-7",
    overrides: { "gcp:project": "Monitor" },
    key: "gcp:project",
    message: /expected a GCP project id/,
    fix: "correct gcp:project in Pulumi.yaml",
  },

  {
    area: "Regions and tiers",
    refused: "a custom tier in the ENTERPRISE_PLUS edition",
    stack: "prod",
    overrides: { "monitor:database": json({ edition: "ENTERPRISE_PLUS", tier: "db-custom-2-7680" }) },
    key: "monitor:database.tier",
    message: /db-custom-2-7680 exists only in the ENTERPRISE edition/,
    fix: "set monitor:database.edition to ENTERPRISE or pick a db-perf-optimized-* tier",
  },
  {
    area: "Regions and tiers",
    refused: "an edition Cloud SQL does not have",
    stack: "stage",
    overrides: { "monitor:database": json({ edition: "STANDARD" }) },
    key: "monitor:database.edition",
    message: /expected one of "ENTERPRISE"\|"ENTERPRISE_PLUS"/,
    fix: "correct monitor:database.edition in Pulumi.stage.yaml",
  },
  {
    area: "Regions and tiers",
    refused: "high availability without point-in-time recovery",
    stack: "prod",
    overrides: { "monitor:database": json({ highAvailability: true, pointInTimeRecovery: false }) },
    key: "monitor:database",
    message: /highAvailability needs pointInTimeRecovery/,
    fix: "set pointInTimeRecovery: true, or highAvailability: false",
  },
  {
    area: "Regions and tiers",
    refused: "a preview instance tier that is not a Cloud SQL tier",
    stack: "previews",
    overrides: { "monitor:preview": json({ ...previewOf(), instanceTier: "n1-standard-1" }) },
    key: "monitor:preview.instanceTier",
    message: /expected a Cloud SQL tier such as db-custom-4-16384/,
    fix: "correct monitor:preview.instanceTier in Pulumi.previews.yaml",
  },
  {
    area: "Regions and tiers",
    refused: "a preview instance tier whose default max_connections is not known",
    stack: "previews",
    overrides: { "monitor:preview": json({ ...previewOf(), instanceTier: "db-custom-1-2048" }) },
    key: "monitor:preview.instanceTier",
    message: /db-custom-1-2048 is not a tier whose default max_connections is known here/,
    fix: "set monitor:preview.instanceTier to a db-custom-<vCPUs>-<MiB> tier of at least 3840 MiB",
  },
  {
    area: "Regions and tiers",
    refused: "a backup time that is not HH:MM",
    stack: "prod",
    overrides: { "monitor:database": json({ backupStartTime: "5am" }) },
    key: "monitor:database.backupStartTime",
    message: /expected HH:MM in UTC/,
    fix: "correct monitor:database.backupStartTime in Pulumi.prod.yaml",
  },

  // Stack-file typos and keys in the wrong stack
  {
    area: "Stack files",
    refused: "an unknown `monitor:` key",
    stack: "pr-7",
    overrides: { "monitor:imagetag": "x" },
    key: "monitor:imagetag",
    message: /unknown config key; known keys: .*monitor:imageTag/,
    fix: "rename or remove it",
  },
  {
    area: "Stack files",
    refused: "an unknown field in a structured key",
    stack: "prod",
    overrides: { "monitor:service": json({ maxInstance: 3 }) },
    key: "monitor:service",
    message: /Unrecognized key: "maxInstance"/,
    fix: "correct monitor:service in Pulumi.prod.yaml",
  },
  {
    area: "Stack files",
    refused: "text where a mapping belongs",
    stack: "stage",
    overrides: { "monitor:service": "big" },
    key: "monitor:service",
    message: /expected a YAML mapping, got text that is not one/,
    fix: "correct monitor:service in Pulumi.stage.yaml",
  },
  {
    area: "Stack files",
    refused: "a stage/prod key in a preview",
    stack: "pr-3",
    overrides: { "monitor:secrets": "{}" },
    key: "monitor:secrets",
    message: /previews do not take this key \(stage and prod do\)/,
    fix: "set it in Pulumi.stage.yaml or Pulumi.prod.yaml",
  },
  {
    area: "Stack files",
    refused: "`monitor:cirrus` in a preview (previews use `monitor:preview.cirrus`)",
    stack: "pr-1",
    overrides: { "monitor:cirrus": json(cirrusOf("stage")) },
    key: "monitor:cirrus",
    message: /previews do not take this key/,
    fix: "set it in Pulumi.stage.yaml or Pulumi.prod.yaml",
  },
  {
    area: "Stack files",
    refused: "a stage/prod key in the pipeline stack",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:domain": "monitor.mozilla.org" },
    key: "monitor:domain",
    message: /the pipeline stack deploys no app/,
    fix: "move it to Pulumi.stage.yaml or Pulumi.prod.yaml",
  },
  {
    area: "Stack files",
    refused: "an image tag in the pipeline stack",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:imageTag": "3f9c2ab" },
    key: "monitor:imageTag",
    message: /the pipeline stack deploys no image/,
    fix: "remove it",
  },
  {
    area: "Stack files",
    refused: "a pipeline key in another stack",
    stack: "stage",
    overrides: { "monitor:infraCommit": COMMIT },
    key: "monitor:infraCommit",
    message: /only the pipeline stack takes this key/,
    fix: "move it to Pulumi.pipeline.yaml",
  },
  {
    area: "Stack files",
    refused: "no domain for stage or prod",
    stack: "stage",
    remove: ["monitor:domain"],
    key: "monitor:domain",
    message: /required for stage \(its public hostname\)/,
    fix: "add it, e.g. monitor.mozilla.org",
  },
  {
    area: "Stack files",
    refused: "a URL where the domain belongs",
    stack: "prod",
    overrides: { "monitor:domain": "https://monitor.mozilla.org/" },
    key: "monitor:domain",
    message: /expected a hostname such as monitor\.mozilla\.org \(no scheme, no path\)/,
    fix: "correct monitor:domain in Pulumi.prod.yaml",
  },
  {
    area: "Stack files",
    refused: "an alert channel that is not a channel's name",
    stack: "prod",
    overrides: { "monitor:alerts": json({ notificationChannels: ["sre@mozilla.com"] }) },
    key: "monitor:alerts.notificationChannels.0",
    message: /expected projects\/<p>\/notificationChannels\/<id>/,
    fix: "correct monitor:alerts.notificationChannels.0 in Pulumi.prod.yaml",
  },

  // Bootstrap and deploy ids
  {
    area: "Bootstrap and deploy id",
    refused: "an image tag with `monitor:bootstrap`",
    stack: "stage",
    overrides: { "monitor:bootstrap": "true", "monitor:imageTag": "abc1234" },
    key: "monitor:imageTag",
    message: /a bootstrap deploys no image and runs no migration/,
    fix: "drop monitor:imageTag for the bootstrap, add the secret versions it lists, then deploy without monitor:bootstrap",
  },
  {
    area: "Bootstrap and deploy id",
    refused: "a deploy id with `monitor:bootstrap`",
    stack: "prod",
    overrides: { "monitor:bootstrap": "true", "monitor:deployId": "1-1" },
    key: "monitor:deployId",
    message: /a bootstrap deploys no image and runs no migration/,
    fix: "drop monitor:deployId for the bootstrap",
  },
  {
    area: "Bootstrap and deploy id",
    refused: "`monitor:bootstrap` on a preview",
    stack: "pr-4",
    overrides: { "monitor:bootstrap": "true" },
    key: "monitor:bootstrap",
    message: /previews do not take this key/,
    fix: "set it in Pulumi.stage.yaml or Pulumi.prod.yaml",
  },
  {
    area: "Bootstrap and deploy id",
    refused: "`monitor:bootstrap` other than true/false",
    stack: "stage",
    overrides: { "monitor:bootstrap": "yes" },
    key: "monitor:bootstrap",
    message: /expected true or false/,
    fix: "pass a valid value with --config monitor:bootstrap=<value>",
  },
  {
    area: "Bootstrap and deploy id",
    refused: "a deploy id that is not `<run id>-<attempt>`",
    stack: "stage",
    overrides: { "monitor:deployId": "Upper-Case" },
    key: "monitor:deployId",
    message: /expected a deploy id of lowercase letters, digits and '-', at most 40/,
    fix: "pass a valid value with --config monitor:deployId=<value>",
  },

  // Cirrus, the Nimbus sidecar
  {
    area: "Cirrus",
    refused: "a localhost NIMBUS_SIDECAR_URL with no sidecar",
    stack: "pr-123",
    overrides: { "monitor:preview": json({ ...previewOf(), cirrus: undefined }) },
    key: "monitor:env.NIMBUS_SIDECAR_URL",
    message: /is http:\/\/localhost:8001, but no Cirrus sidecar runs behind it \(monitor:preview\.cirrus is not set\)/,
    fix: "set monitor:preview.cirrus (image by digest, remoteSettingsUrl, appId, appName, channel)",
  },
  {
    area: "Cirrus",
    refused: "a sidecar the URL does not point at",
    stack: "stage",
    overrides: env("stage", { NIMBUS_SIDECAR_URL: "https://cirrus.example/monitor_cirrus/" }),
    key: "monitor:cirrus",
    message:
      /runs a Cirrus sidecar, but NIMBUS_SIDECAR_URL is https:\/\/cirrus\.example\/monitor_cirrus\/, so the app would never call it/,
    fix: "remove monitor:cirrus to use that hosted Cirrus, or set NIMBUS_SIDECAR_URL to http://localhost:8001",
  },
  {
    area: "Cirrus",
    refused: "a hosted Cirrus over plain http",
    stack: "pr-7",
    overrides: {
      ...env("pr-7", { NIMBUS_SIDECAR_URL: "http://cirrus.example/" }),
      "monitor:preview": json({ ...previewOf(), cirrus: undefined }),
    },
    key: "monitor:env.NIMBUS_SIDECAR_URL",
    message: /a hosted Cirrus is reached over the internet/,
    fix: "use https",
  },
  {
    area: "Cirrus",
    refused: "a Cirrus URL whose path lacks the trailing /",
    stack: "pr-7",
    overrides: {
      ...env("pr-7", { NIMBUS_SIDECAR_URL: "https://cirrus.example/monitor_cirrus" }),
      "monitor:preview": json({ ...previewOf(), cirrus: undefined }),
    },
    key: "monitor:env.NIMBUS_SIDECAR_URL",
    message: /would call \/monitor_cirrusv2\/features/,
    fix: 'end the path with "/"',
  },
  {
    area: "Cirrus",
    refused: "a sidecar URL on another port",
    stack: "stage",
    overrides: env("stage", { NIMBUS_SIDECAR_URL: "http://localhost:9000/" }),
    key: "monitor:env.NIMBUS_SIDECAR_URL",
    message: /the Cirrus sidecar answers plain HTTP on port 8001; got "http:\/\/localhost:9000\/"/,
    fix: "set it to http://localhost:8001",
  },
  {
    area: "Cirrus",
    refused: "a sidecar image by tag",
    stack: "prod",
    overrides: {
      "monitor:cirrus": json({
        ...cirrusOf("prod"),
        image: "us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus:sha-1a2b3c4",
      }),
    },
    key: "monitor:cirrus.image",
    message: /expected an image pinned by digest/,
    fix: "correct monitor:cirrus.image in Pulumi.prod.yaml",
  },
  {
    area: "Cirrus",
    refused: "prod's sidecar on the staging channel",
    stack: "prod",
    overrides: { "monitor:cirrus": json({ ...cirrusOf("prod"), channel: "staging" }) },
    key: "monitor:cirrus.channel",
    message: /prod would serve staging experiments to users/,
    fix: "set it to production",
  },
  {
    area: "Cirrus",
    refused: "a channel the image has no manifest for",
    stack: "stage",
    overrides: { "monitor:cirrus": json({ ...cirrusOf("stage"), channel: "beta" }) },
    key: "monitor:cirrus.channel",
    message: /expected "staging" or "production"/,
    fix: "correct monitor:cirrus.channel in Pulumi.stage.yaml",
  },
  {
    area: "Cirrus",
    refused: "a Remote Settings URL that is not an https changeset",
    stack: "prod",
    overrides: { "monitor:cirrus": json({ ...cirrusOf("prod"), remoteSettingsUrl: "http://rs.example/" }) },
    key: "monitor:cirrus.remoteSettingsUrl",
    message: /expected an https Remote Settings changeset URL/,
    fix: "correct monitor:cirrus.remoteSettingsUrl in Pulumi.prod.yaml",
  },

  // A preview's app checkout
  {
    area: "Preview build",
    refused: "a relative `monitor:appSource`",
    stack: "pr-5",
    overrides: { "monitor:appSource": "app" },
    key: "monitor:appSource",
    message: /expected an absolute path/,
    fix: "pass a valid value with --config monitor:appSource=<value>",
  },
  {
    area: "Preview build",
    refused: "a `monitor:appSource` with no Dockerfile",
    stack: "pr-5",
    overrides: { "monitor:appSource": tmpdir() },
    key: "monitor:appSource",
    message: /no Dockerfile in ".*": expected the path of a checkout of the app/,
    fix: "pass a valid value with --config monitor:appSource=<value>",
  },
  {
    area: "Preview build",
    refused: "`monitor:appSource` on stage or prod",
    stack: "stage",
    overrides: { "monitor:appSource": "/tmp" },
    key: "monitor:appSource",
    message: /only previews take this key \(stage never builds; it deploys a tag\)/,
    fix: "remove it",
  },

  // The pipeline stack
  {
    area: "Pipeline",
    refused: "no `monitor:infraCommit`",
    stack: "pipeline",
    key: "monitor:infraCommit",
    message: /required for the pipeline stack: the commit of this repository/,
    fix: "pass --config monitor:infraCommit=$(git rev-parse HEAD)",
  },
  {
    area: "Pipeline",
    refused: "a short or symbolic `monitor:infraCommit`",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": "main" },
    key: "monitor:infraCommit",
    message: /expected the full 40-hex commit/,
    fix: "pass a valid value with --config monitor:infraCommit=<value>",
  },
  {
    area: "Pipeline",
    refused: "the callers' placeholder as `monitor:infraCommit`",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": INFRA_COMMIT_PLACEHOLDER },
    key: "monitor:infraCommit",
    message: /the placeholder the caller files carry/,
    fix: "pass a valid value with --config monitor:infraCommit=<value>",
  },
  {
    area: "Pipeline",
    refused: "no `monitor:pipeline`",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT },
    remove: ["monitor:pipeline"],
    key: "monitor:pipeline",
    message: /required for the pipeline stack \(repositories, projects, state, reviewers\)/,
    fix: "add it (see the README's Pipeline section)",
  },
  {
    area: "Pipeline",
    refused: "a chat webhook in plaintext",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:chatWebhookUrl": "https://chat.example/hooks/x" },
    key: "monitor:chatWebhookUrl",
    message: /is stored in plaintext/,
    fix: "`pulumi config set --stack pipeline --secret monitor:chatWebhookUrl <url>`",
  },
  {
    area: "Pipeline",
    refused: "prod sharing a project with stage or previews",
    stack: "pipeline",
    overrides: pipeline((s) => (s.projects.prod = s.projects.stage)),
    key: "monitor:pipeline.projects.prod",
    message: /prod shares the project moz-fx-monitor-nonprod with stage/,
    fix: "give prod its own project",
  },
  {
    area: "Pipeline",
    refused: "the infra repository with the app's id",
    stack: "pipeline",
    overrides: pipeline((s) => (s.infraRepository.id = s.appRepository.id)),
    key: "monitor:pipeline.infraRepository",
    message: /has the app repository's id/,
    fix: "give this repository's own id",
  },
  {
    area: "Pipeline",
    refused: "a repository without its owner",
    stack: "pipeline",
    overrides: pipeline((s) => (s.appRepository.name = "blurts-server")),
    key: "monitor:pipeline.appRepository.name",
    message: /expected <owner>\/<name>/,
    fix: "correct monitor:pipeline.appRepository.name in Pulumi.pipeline.yaml",
  },
  {
    area: "Pipeline",
    refused: "a repository id as text",
    stack: "pipeline",
    overrides: pipeline((s) => (s.appRepository.id = "126358286")),
    key: "monitor:pipeline.appRepository.id",
    message: /expected number/,
    fix: "correct monitor:pipeline.appRepository.id in Pulumi.pipeline.yaml",
  },
  {
    area: "Pipeline",
    refused: "prod without reviewing teams",
    stack: "pipeline",
    overrides: pipeline((s) => (s.prodReviewerTeams = [])),
    key: "monitor:pipeline.prodReviewerTeams",
    message: /prod needs at least one reviewing team/,
    fix: "correct monitor:pipeline.prodReviewerTeams in Pulumi.pipeline.yaml",
  },
  {
    area: "Pipeline",
    refused: "a project id GCP would refuse",
    stack: "pipeline",
    overrides: pipeline((s) => (s.projects.preview = "Previews")),
    key: "monitor:pipeline.projects.preview",
    message: /expected a GCP project id/,
    fix: "correct monitor:pipeline.projects.preview in Pulumi.pipeline.yaml",
  },
  {
    area: "Pipeline",
    refused: "an unknown field in `monitor:pipeline`",
    stack: "pipeline",
    overrides: pipeline((s) => (s.sreTeam = "x")),
    key: "monitor:pipeline",
    message: /Unrecognized key: "sreTeam"/,
    fix: "correct monitor:pipeline in Pulumi.pipeline.yaml",
  },
  {
    area: "Pipeline",
    refused: "PR images deleted before their preview expires",
    stack: "pipeline",
    overrides: pipeline((s) => (s.registry.prImageTtlDays = 3)),
    key: "monitor:pipeline.registry.prImageTtlDays",
    message: /3 days is shorter than a preview may live \(monitor:preview\.ttlDays, 7\)/,
    fix: "raise prImageTtlDays or lower monitor:preview.ttlDays",
  },
  {
    area: "Pipeline",
    refused: "a registry that is not Artifact Registry",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:imageRepository": "ghcr.io/mozilla/blurts-server" },
    key: "monitor:imageRepository",
    message: /expected an Artifact Registry path without tag or digest/,
    fix: "correct monitor:imageRepository in Pulumi.pipeline.yaml",
  },
];

// ---------------------------------------------------------------------------------------------------------------
// Workflow inputs: the scripts' own refusals, before they change or send anything.

const releaseIo = (env: Env) => ({ env, now: new Date("2024-09-02T00:10:00Z"), tags: () => [], log: () => undefined });
const GITHUB = { GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "mozilla/blurts-server" };
const SHA = "3f9c2ab0123456789abcdef0123456789abcdef0";

export const SCRIPT_ROWS: ScriptRow[] = [
  {
    area: "Workflow inputs",
    refused: "an environment without a tag rule",
    script: "scripts/release-tag.ts validate",
    env: { ENVIRONMENT: "staging", TAG: "3f9c2ab" },
    input: "ENVIRONMENT",
    exit: 1,
    message: /ENVIRONMENT "staging" is not one this workflow deploys/,
    fix: "choose one of: stage, prod",
    run: (env) => releaseTag(["validate"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a short SHA for prod",
    script: "scripts/release-tag.ts validate",
    env: { ENVIRONMENT: "prod", TAG: "3f9c2ab" },
    input: "TAG",
    exit: 1,
    message: /TAG "3f9c2ab" cannot be deployed to prod: expected a calendar tag/,
    fix: "run the deploy again with such a tag",
    run: (env) => releaseTag(["validate"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a calendar tag for stage",
    script: "scripts/release-tag.ts validate",
    env: { ENVIRONMENT: "stage", TAG: "2024.09.01" },
    input: "TAG",
    exit: 1,
    message: /TAG "2024\.09\.01" cannot be deployed to stage: expected a short commit SHA/,
    fix: "run the deploy again with such a tag",
    run: (env) => releaseTag(["validate"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "no tag",
    script: "scripts/release-tag.ts validate",
    env: { ENVIRONMENT: "prod" },
    input: "TAG",
    exit: 2,
    message: /TAG is not set/,
    fix: "Pass the workflow's tag input through env:",
    run: (env) => releaseTag(["validate"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a target ref with shell characters",
    script: "scripts/release-tag.ts next",
    env: { TARGET_REF: "main; rm -rf /" },
    input: "TARGET_REF",
    exit: 2,
    message: /TARGET_REF is not a branch, tag or commit/,
    fix: "pass TARGET_REF as a branch, tag or commit",
    run: (env) => releaseTag(["next"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "destroying a long-lived stack",
    script: "scripts/destroy-preview.ts",
    env: { STACK: "prod" },
    input: "STACK",
    exit: 1,
    message: /STACK "prod" is the prod stack; this only destroys previews/,
    fix: "pass a preview stack pr-<N>",
    run: (env) => destroyPreview(env),
  },
  {
    area: "Workflow inputs",
    refused: "destroying a stack of another project",
    script: "scripts/destroy-preview.ts",
    env: { STACK: "pr-01" },
    input: "STACK",
    exit: 1,
    message: /STACK "pr-01" is not a stack of the monitor project/,
    fix: "pass the preview stack pr-<N> of the closed pull request",
    run: (env) => destroyPreview(env),
  },
  {
    area: "Workflow inputs",
    refused: "no stack to destroy",
    script: "scripts/destroy-preview.ts",
    env: {},
    input: "STACK",
    exit: 2,
    message: /STACK is not set/,
    fix: "Pass pr-<N> for the closed pull request",
    run: (env) => destroyPreview(env),
  },
  {
    area: "Workflow inputs",
    refused: "more destroy attempts than allowed",
    script: "scripts/destroy-preview.ts",
    env: { STACK: "pr-4", DESTROY_ATTEMPTS: "50" },
    input: "DESTROY_ATTEMPTS",
    exit: 2,
    message: /DESTROY_ATTEMPTS must be a whole number from 1 to 10, got "50"/,
    fix: "pass DESTROY_ATTEMPTS in that range",
    run: (env) => destroyPreview(env),
  },
  {
    area: "Workflow inputs",
    refused: "a preview cap that is not a number",
    script: "scripts/sweep-previews.ts",
    env: { PREVIEW_TTL_DAYS: "7", PREVIEW_CAP: "ten", ...GITHUB },
    input: "PREVIEW_CAP",
    exit: 2,
    message: /PREVIEW_CAP must be a whole number from 0 to 1000/,
    fix: "Set it from the repository variable PREVIEW_CAP",
    run: (env, fetch) => sweepPreviews(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "no preview TTL",
    script: "scripts/sweep-previews.ts",
    env: { PREVIEW_CAP: "10", ...GITHUB },
    input: "PREVIEW_TTL_DAYS",
    exit: 2,
    message: /PREVIEW_TTL_DAYS is not set/,
    fix: "Set it from the repository variable PREVIEW_TTL_DAYS",
    run: (env, fetch) => sweepPreviews(env, fetch),
  },
  ...(
    [
      ["no active-preview cap", "PREVIEW_ACTIVE_CAP", "Set it from the repository variable PREVIEW_ACTIVE_CAP"],
      [
        "admission without the deployer's token",
        "GOOGLE_OAUTH_ACCESS_TOKEN",
        "Give the auth step token_format: access_token",
      ],
    ] as const
  ).map(([refused, input, fix]): ScriptRow => ({
    area: "Workflow inputs",
    refused,
    script: "scripts/preview-admission.ts",
    env: {
      PR_NUMBER: "42",
      PREVIEW_CAP: "100",
      PREVIEW_ACTIVE_CAP: "20",
      GCP_PROJECT: "moz-fx-monitor-previews",
      GOOGLE_OAUTH_ACCESS_TOKEN: "ya29.token",
      BODY_FILE: join(tmpdir(), "preview-comment.md"),
      RUN_URL: "https://github.com/o/r/actions/runs/1",
      [input]: "",
    },
    input,
    exit: 2,
    message: new RegExp(`${input} is not set`),
    fix,
    run: (env, fetch) =>
      previewAdmission(env, { fetch, listStacks: () => Promise.reject(new Error("no listing in a refusal")) }),
  })),
  {
    area: "Workflow inputs",
    refused: "a smoke-check URL with a path",
    script: "scripts/smoke-check.ts",
    env: { URL: "https://monitor.example/__heartbeat__" },
    input: "URL",
    exit: 2,
    message: /URL is not the service's base URL/,
    fix: "Pass the stack's url output",
    run: (env, fetch) => smokeCheck(env, { fetch, sleep: () => Promise.resolve() }),
  },
  {
    area: "Workflow inputs",
    refused: "drift issues for a preview",
    script: "scripts/drift-issue.ts",
    env: { DRIFTED: "true", STACK: "pr-4", ...GITHUB },
    input: "STACK",
    exit: 1,
    message: /STACK "pr-4" is not checked for drift; only stage and prod are/,
    fix: "pass stage or prod",
    run: (env, fetch) => driftIssue(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a drift result other than true/false",
    script: "scripts/drift-issue.ts",
    env: { DRIFTED: "yes", STACK: "stage", ...GITHUB },
    input: "DRIFTED",
    exit: 2,
    message: /DRIFTED must be "true" or "false", got "yes"/,
    fix: "pass DRIFTED as true or false",
    run: (env, fetch) => driftIssue(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a chat webhook that is not https",
    script: "scripts/notify-chat.ts",
    env: { CHAT_WEBHOOK_URL: "http://chat.example/hook", STATUS: "deployed", ENVIRONMENT: "prod", TAG: "2024.09.01" },
    input: "CHAT_WEBHOOK_URL",
    exit: 2,
    message: /CHAT_WEBHOOK_URL is not an https URL/,
    fix: "set the CHAT_WEBHOOK_URL secret to the webhook's https URL",
    run: (env, fetch) => notifyChat(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "an unknown deploy status",
    script: "scripts/notify-chat.ts",
    env: { CHAT_WEBHOOK_URL: "https://chat.example/hook", STATUS: "done", ENVIRONMENT: "prod", TAG: "2024.09.01" },
    input: "STATUS",
    exit: 2,
    message: /STATUS is not one of/,
    fix: "pass one of them",
    run: (env, fetch) => notifyChat(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "an unknown comment state",
    script: "scripts/preview-comment.ts",
    env: { STATE: "gone", PR_NUMBER: "42", RUN_URL: "https://github.com/o/r/actions/runs/1" },
    input: "STATE",
    exit: 2,
    message: /STATE must be one of deployed, destroyed, skipped, failed, got "gone"/,
    fix: "pass one of them",
    run: (env) => Promise.resolve().then(() => inputFromEnv(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a PR number that is not one",
    script: "scripts/preview-comment.ts",
    env: { STATE: "destroyed", PR_NUMBER: "0", RUN_URL: "https://github.com/o/r/actions/runs/1" },
    input: "PR_NUMBER",
    exit: 2,
    message: /PR_NUMBER is not a pull request number/,
    fix: "pass PR_NUMBER as a pull request number",
    run: (env) => Promise.resolve().then(() => inputFromEnv(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a short SHA where E2E needs the full commit",
    script: "scripts/require-e2e.ts",
    env: { COMMIT_SHA: "3f9c2ab", ...GITHUB },
    input: "COMMIT_SHA",
    exit: 2,
    message: /COMMIT_SHA is not a full 40-hex commit SHA/,
    fix: "Resolve the release tag first",
    run: (env, fetch) => requireE2e(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a missing GitHub token",
    script: "scripts/require-e2e.ts",
    env: { COMMIT_SHA: SHA, GITHUB_REPOSITORY: "mozilla/blurts-server" },
    input: "GITHUB_TOKEN",
    exit: 2,
    message: /GITHUB_TOKEN is not set/,
    fix: "Pass it in the step's env: GITHUB_TOKEN: ${{ github.token }}",
    run: (env, fetch) => requireE2e(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a job without `id-token: write`",
    script: "scripts/own-commit.ts",
    env: {},
    input: "ACTIONS_ID_TOKEN_REQUEST_URL",
    exit: 1,
    message: /are not set, so this job cannot get an OIDC token/,
    fix: "give the job `permissions: id-token: write`",
    run: (env, fetch) => requestToken(env, fetch),
  },
];

// ---------------------------------------------------------------------------------------------------------------

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n\s*/g, " ");
const code = (text: string) => (text.includes("`") ? cell(text) : `\`${cell(text)}\``);

/** The README's troubleshooting table: every row, grouped by area in catalogue order. */
export function troubleshootingTable(): string {
  const lines = [
    "| area | refused | stack or script | key or input | fix (as the message says it) |",
    "|---|---|---|---|---|",
  ];
  for (const row of STACK_ROWS) {
    const where =
      row.at === "plan"
        ? `\`${row.stack}\` (at plan)`
        : row.at === "capacity"
          ? `\`${row.stack}\` (\`npm run plan\`)`
          : `\`${row.stack.length > 12 ? `${row.stack.slice(0, 8)}…` : row.stack}\``;
    lines.push(`| ${row.area} | ${cell(row.refused)} | ${where} | ${code(row.key)} | ${cell(row.fix)} |`);
  }
  for (const row of SCRIPT_ROWS) {
    lines.push(`| ${row.area} | ${cell(row.refused)} | \`${row.script}\` | \`${row.input}\` | ${cell(row.fix)} |`);
  }
  return lines.join("\n");
}

if (require.main === module) console.log(troubleshootingTable());
