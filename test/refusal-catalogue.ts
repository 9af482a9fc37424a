/**
 * Every refusal the program and its workflow scripts make, one row each: what is refused, where, the key or input
 * the message names, and the fix it gives. test/refusal-catalogue.test.ts proves each row against the real program
 * (the message names the stack or input, the key and the fix, and nothing was registered or sent), and checks that
 * docs/troubleshooting.md's table is exactly `troubleshootingTable()`.
 *
 * After adding or changing a row: `npx ts-node --transpile-only test/refusal-catalogue.ts` prints the table to
 * paste between docs/troubleshooting.md's `refusal-catalogue` markers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadStackConfig } from "../infra/engine/config-files";
import { mockPreviewPlatform } from "../infra/engine/mocks";
import type { EvaluateOptions } from "../infra/engine/evaluate";
import { INFRA_COMMIT_PLACEHOLDER } from "../infra/pipeline-contract";
import type { Env } from "../scripts/lib/cli";
import { main as buildImage } from "../scripts/build-image";
import { main as destroyPreview } from "../scripts/destroy-preview";
import { main as driftIssue } from "../scripts/drift-issue";
import { main as jiraShipped } from "../scripts/jira-shipped";
import { main as notifyChat } from "../scripts/notify-chat";
import { main as previewAdmission } from "../scripts/preview-admission";
import { inputFromEnv, main as previewComment } from "../scripts/preview-comment";
import { main as qaLedger } from "../scripts/qa-ledger";
import { main as releasePulls } from "../scripts/release-pulls";
import { main as releaseTag } from "../scripts/release-tag";
import { main as requireAlertChannel } from "../scripts/require-alert-channel";
import { main as requireCurrentInfra } from "../scripts/require-current-infra";
import { main as requireE2e } from "../scripts/require-e2e";
import { main as smokeCheck } from "../scripts/smoke-check";
import { main as stageOrder } from "../scripts/stage-order";
import { main as sweepPreviews } from "../scripts/sweep-previews";
import { ROOT, lineIn } from "./harness";
import { ownCommitStep } from "./own-commit-step";

export type Fetch = typeof fetch;

interface Row {
  /** Groups the troubleshooting table. */
  area: string;
  /** What is refused, in a few words. */
  refused: string;
  /** What the message must say (beyond the key and the fix). */
  message: RegExp;
  /** Text of the message after `Fix:`, as the table shows it. */
  fix: string;
}

export interface StackRow extends Row {
  stack: string;
  /** Config as `--config` gives it, over the committed files. */
  overrides?: Record<string, string>;
  /** Keys absent from the stack's config (a stack file without them). */
  remove?: string[];
  /** Edits to the committed config files (`Pulumi.prod.yaml` → its new text), planned from a copy of them. */
  files?: Record<string, (text: string) => string>;
  /** The config key the message names (a dotted path for a field). */
  key: string;
  /**
   * "plan": refused while the program runs, from what the cloud reports (a stack reference, a secret's versions),
   * so `pulumi preview`, which `pulumi up` runs first, fails before anything is created. Default: refused from
   * config alone, before any resource is registered. "capacity": refused by `npm run plan -- previews`, which counts
   * what the previews project holds from the previews stack, a preview and the pipeline (infra/engine/capacity.ts).
   */
  at?: "plan" | "capacity";
  engine?: Pick<EvaluateOptions, "stackOutputs" | "missingSecretVersions" | "fresh">;
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

/** An edit of a committed config file: `find` replaced by `replace`, refusing a file that no longer has `find`. */
function edit(find: string, replace: string): (text: string) => string {
  return (text) => {
    if (!text.includes(find)) throw new Error(`the committed file no longer has ${JSON.stringify(find)}`);
    return text.replace(find, replace);
  };
}

const SES_LINE = lineIn("Pulumi.prod.yaml", "    SES_CONFIG_SET: monitor-prod\n");

/** Lines added at the end of a stack file's `config:` (its last top-level block). */
const append = (lines: string) => (text: string) => `${text.trimEnd()}\n${lines}\n`;

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
    files: {
      "Pulumi.yaml": edit(
        "default: us-docker.pkg.dev/moz-fx-monitor-previews/monitor-previews/blurts-server",
        "default: us-docker.pkg.dev/moz-fx-monitor-previews/monitor-previews/blurts-server:v1",
      ),
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
    message: /YAML reads this as the object \{"a":1\}; env values are text/,
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

  // Env values, by the type shared-rules/app-env.ts declares for each (shared-rules/app-values.ts)
  {
    area: "Env values",
    refused: "a URL without its scheme",
    stack: "stage",
    overrides: env("stage", { OAUTH_TOKEN_URI: "oauth.stage.mozaws.net/v1/token" }),
    key: "monitor:env.OAUTH_TOKEN_URI",
    message: /"oauth\.stage\.mozaws\.net\/v1\/token" is a URL without its scheme/,
    fix: "write it with one: https://oauth.stage.mozaws.net/v1/token",
  },
  {
    area: "Env values",
    refused: "a root URL the app appends its path to, ending in /",
    stack: "prod",
    overrides: env("prod", { HIBP_API_ROOT: "https://haveibeenpwned.com/api/v3/" }),
    key: "monitor:env.HIBP_API_ROOT",
    message: /the app appends \/breaches to it as text, so "https:\/\/haveibeenpwned\.com\/api\/v3\/" would call/,
    fix: "end it before that path: https://haveibeenpwned.com/api/v3",
  },
  {
    area: "Env values",
    refused: "a number with a unit",
    stack: "prod",
    overrides: env("prod", { HIBP_THROTTLE_DELAY: "5s" }),
    key: "monitor:env.HIBP_THROTTLE_DELAY",
    message: /"5s" is a number with a unit; the app reads it with parseInt, as 5 milliseconds/,
    fix: "write the number of milliseconds alone",
  },
  {
    area: "Env values",
    refused: "an empty required variable",
    stack: "prod",
    overrides: env("prod", { EMAIL_FROM: "" }),
    key: "monitor:env.EMAIL_FROM",
    message: /it is empty, which the app takes as unset, and it refuses to start without it/,
    fix: "give it a value, or remove it",
  },
  {
    area: "Env values",
    refused: "a value YAML reads as another type (a boolean for text)",
    stack: "stage",
    overrides: env("stage", { SES_CONFIG_SET: true }),
    key: "monitor:env.SES_CONFIG_SET",
    message: /YAML reads this as the boolean true, so the app would get the text "true"/,
    fix: 'quote the value as the app should read it, e.g. "true"',
  },
  {
    area: "Env values",
    refused: "a list with spaces the app would keep",
    stack: "stage",
    overrides: env("stage", { SUPPORTED_LOCALES: "en, fr" }),
    key: "monitor:env.SUPPORTED_LOCALES",
    message: /the app splits "en, fr" on "," without trimming, so " fr" keeps its spaces/,
    fix: "write it without spaces: en,fr",
  },
  {
    area: "Env values",
    refused: "a value the app silently replaces by its fallback",
    stack: "stage",
    overrides: env("stage", { OTEL_EXPORTER_OTLP_PROTOCOL: "grpc" }),
    key: "monitor:env.OTEL_EXPORTER_OTLP_PROTOCOL",
    message: /"grpc" is not one of http\/protobuf \(the app would silently use its fallback\)/,
    fix: "write one of http/protobuf",
  },
  {
    area: "Env values",
    refused: "a Nimbus namespace that is not a UUID",
    stack: "prod",
    overrides: env("prod", { NIMBUS_UUID_NAMESPACE: "monitor-prod" }),
    key: "monitor:env.NIMBUS_UUID_NAMESPACE",
    message: /"monitor-prod" is not a UUID the app's uuid package accepts/,
    fix: "write one such as the output of uuidgen",
  },
  {
    area: "Env values",
    refused: "prod with a NODE_ENV other than production",
    stack: "prod",
    overrides: env("prod", { NODE_ENV: "development" }),
    key: "monitor:env.NODE_ENV",
    message: /prod runs with NODE_ENV=development; the app gives production behaviour to NODE_ENV=production only/,
    fix: "set NODE_ENV: production in monitor:env",
  },
  {
    area: "Env values",
    refused: "prod without NODE_ENV",
    stack: "prod",
    overrides: env("prod", {}, ["NODE_ENV"]),
    key: "monitor:env.NODE_ENV",
    message: /prod leaves NODE_ENV unset, which the app reads as its fallback/,
    fix: "set NODE_ENV: production in monitor:env",
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
    // Encrypted, as `pulumi config set --secret` writes it: the row is about the declaration alone.
    files: {
      "Pulumi.prod.yaml": append("  monitor:secretValues:\n    HIBP_API_TOKEN:\n      secure: v1:AAAAAAAAAAAA"),
    },
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
    refused: "a preview platform without its database admin",
    stack: "pr-8",
    at: "plan",
    engine: {
      stackOutputs: () => ({
        previewPlatform: {
          ...mockPreviewPlatform("moz-fx-monitor-previews", "us-central1", [
            "OAUTH_CLIENT_SECRET",
            "HIBP_KANON_API_TOKEN",
          ]),
          databaseAdmin: undefined,
        },
      }),
    },
    key: "monitor:preview.platformStack",
    message: /has no database admin, without which this preview's database would be open to every other preview/,
    fix: "apply the previews stack first (it creates the admin), or set monitor:preview.platformStack to a platform that has one",
  },
  {
    area: "Secrets",
    refused: "a deploy that reads a secret with no version yet",
    stack: "stage",
    overrides: { "monitor:imageTag": "abc1234" },
    at: "plan",
    engine: { missingSecretVersions: ["monitor-stage-smtp-url"] },
    key: "SMTP_URL",
    message:
      /SMTP_URL \(it has no version yet\) cannot be read by the app.*\n {2}gcloud secrets versions add monitor-stage-smtp-url /,
    fix: "add the versions, then deploy again",
  },
  {
    area: "Secrets",
    refused: "a first deploy of an environment that skips the bootstrap (`--fresh`)",
    stack: "prod",
    overrides: { "monitor:imageTag": "2024.09.01" },
    at: "plan",
    engine: { fresh: true },
    key: "NEXTAUTH_SECRET",
    message:
      /NEXTAUTH_SECRET \(it has no version yet\), .*\n {2}gcloud secrets versions add monitor-prod-nextauth-secret /,
    fix: "for a new environment with --config monitor:bootstrap=true",
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
    files: { "Pulumi.yaml": edit("maxOpen: 100", "maxOpen: 5000") },
    key: "monitor:preview.maxOpen",
    message: /expected number to be <=1000/,
    fix: "correct monitor:preview.maxOpen in Pulumi.yaml",
  },
  {
    area: "Sizes",
    refused: "more busy previews than the shared instance's tier holds",
    stack: "previews",
    files: { "Pulumi.yaml": edit("maxActive: 20", "maxActive: 25") },
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
    overrides: { "monitor:service": json({ cpu: "8", memory: "4Gi" }) },
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
    refused: "a region that does not exist (or has no Cloud SQL)",
    stack: "stage",
    overrides: { "gcp:region": "europe-west5" },
    key: "gcp:region",
    message: /"europe-west5" is not a region where Cloud SQL offers the ENTERPRISE edition \(europe: europe-central2, /,
    fix: "correct gcp:region in Pulumi.stage.yaml",
  },
  {
    area: "Regions and tiers",
    refused: "a custom tier with an odd vCPU count",
    stack: "prod",
    overrides: { "monitor:database": json({ tier: "db-custom-3-7680" }) },
    key: "monitor:database.tier",
    message: /db-custom-3-7680 has 3 vCPUs; a custom tier has 1 or an even number from 2 to 96/,
    fix: "pick a tier Cloud SQL offers in the ENTERPRISE edition",
  },
  {
    area: "Regions and tiers",
    refused: "a custom tier's memory not in 256 MB steps",
    stack: "prod",
    overrides: { "monitor:database": json({ tier: "db-custom-2-8000" }) },
    key: "monitor:database.tier",
    message: /db-custom-2-8000 has 8000 MB of memory, not a multiple of 256 MB \(7936 or 8192\)/,
    fix: "pick a tier Cloud SQL offers in the ENTERPRISE edition",
  },
  {
    area: "Regions and tiers",
    refused: "a custom tier's memory per vCPU out of range",
    stack: "stage",
    overrides: { "monitor:database": json({ tier: "db-custom-1-8192" }) },
    key: "monitor:database.tier",
    message: /8\.00 GB per vCPU; a custom tier has 0\.9 to 6\.5 GB per vCPU \(3840 to 6656 MB for 1 vCPU\)/,
    fix: "pick a tier Cloud SQL offers in the ENTERPRISE edition",
  },
  {
    area: "Regions and tiers",
    refused: "a first-generation machine type",
    stack: "prod",
    overrides: { "monitor:database": json({ tier: "db-n1-standard-2" }) },
    key: "monitor:database.tier",
    message:
      /first-generation machine type, which Postgres instances do not take; the custom tier .* is db-custom-2-7680/,
    fix: "pick a tier Cloud SQL offers in the ENTERPRISE edition",
  },
  {
    area: "Regions and tiers",
    refused: "a preview instance tier of a shape Cloud SQL does not offer",
    stack: "previews",
    files: { "Pulumi.yaml": edit("instanceTier: db-custom-4-16384", "instanceTier: db-custom-3-16384") },
    key: "monitor:preview.instanceTier",
    message: /db-custom-3-16384 has 3 vCPUs/,
    fix: "correct monitor:preview.instanceTier in Pulumi.yaml",
  },
  {
    area: "Regions and tiers",
    refused: "a project id GCP would refuse",
    stack: "pr-7",
    files: { "Pulumi.yaml": edit("gcp:project: moz-fx-monitor-previews", "gcp:project: Monitor") },
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
    fix: "pick a tier Cloud SQL offers in the ENTERPRISE_PLUS edition",
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
    // A tier of a series whose memory its name does not say: tierProblem lets such names through (their list
    // grows, and the API names them at create time), but its default max_connections is not known here.
    files: { "Pulumi.yaml": edit("instanceTier: db-custom-4-16384", "instanceTier: db-example-standard-4") },
    key: "monitor:preview.instanceTier",
    message: /db-example-standard-4 is not a tier whose default max_connections is known here/,
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
    fix: "rename it to monitor:imageTag",
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
    message: /not read by previews \(pr-<N>\), so it would be silently ignored \(read by stage and prod\)/,
    fix: "drop --config monitor:secrets (it belongs in Pulumi.stage.yaml or Pulumi.prod.yaml)",
  },
  {
    area: "Stack files",
    refused: "`monitor:cirrus` in a preview (previews use `monitor:preview.cirrus`)",
    stack: "pr-1",
    overrides: { "monitor:cirrus": json(cirrusOf("stage")) },
    key: "monitor:cirrus",
    message: /not read by previews \(pr-<N>\)/,
    fix: "drop --config monitor:cirrus (it belongs in Pulumi.stage.yaml or Pulumi.prod.yaml)",
  },
  {
    area: "Stack files",
    refused: "a stage/prod key in the pipeline stack",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:domain": "monitor.mozilla.org" },
    key: "monitor:domain",
    message: /not read by the pipeline stack, so it would be silently ignored \(read by stage and prod\)/,
    fix: "remove it from Pulumi.pipeline.yaml (it belongs in Pulumi.stage.yaml or Pulumi.prod.yaml)",
  },
  {
    area: "Stack files",
    refused: "an image tag in the pipeline stack",
    stack: "pipeline",
    overrides: { "monitor:infraCommit": COMMIT, "monitor:imageTag": "3f9c2ab" },
    key: "monitor:imageTag",
    message: /not read by the pipeline stack/,
    fix: "remove it from Pulumi.pipeline.yaml (it is passed with --config to previews (pr-<N>), stage and prod)",
  },
  {
    area: "Stack files",
    refused: "a pipeline key in another stack",
    stack: "stage",
    overrides: { "monitor:infraCommit": COMMIT },
    key: "monitor:infraCommit",
    message: /not read by stage, so it would be silently ignored \(read by the pipeline stack\)/,
    fix: "remove it from Pulumi.stage.yaml (it is passed with --config to the pipeline stack)",
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
  {
    area: "Stack files",
    refused: "a parity exception for a variable the app does not read",
    stack: "prod",
    overrides: { "monitor:parity": json({ differ: { EMAIL_FORM: "each environment has its own sender" } }) },
    key: "monitor:parity.differ.EMAIL_FORM",
    message: /EMAIL_FORM is not a variable the app reads/,
    fix: "name a variable of monitor:env",
  },
  {
    area: "Stack files",
    refused: "a parity exception without its reason",
    stack: "stage",
    overrides: { "monitor:parity": json({ differ: { ADMINS: null } }) },
    key: "monitor:parity.differ.ADMINS",
    message: /no reason given/,
    fix: "say why stage and prod set ADMINS apart (ADMINS: <reason>)",
  },
  {
    area: "Stack files",
    refused: "prod without an alert notification channel",
    stack: "prod",
    remove: ["monitor:alerts"],
    key: "monitor:alerts.notificationChannels",
    message:
      /required for prod: its uptime alert is how an outage reaches a person, and with no channel it pages nobody/,
    fix: "add the on-call channel, projects/<project>/notificationChannels/<id>",
  },

  // Crossed environments: one stack pointed at another's project or domain, or set up with another's keys
  {
    area: "Crossed environments",
    refused: "prod on stage's project",
    stack: "prod",
    overrides: { "gcp:project": "moz-fx-monitor-nonprod" },
    key: "gcp:project",
    message:
      /moz-fx-monitor-nonprod is stage's \(Pulumi\.stage\.yaml\) project, on the other side of the prod\/nonprod line/,
    fix: "give prod its own project",
  },
  {
    area: "Crossed environments",
    refused: "prod on stage's domain",
    stack: "prod",
    overrides: { "monitor:domain": "monitor-stage.allizom.org" },
    key: "monitor:domain",
    message: /monitor-stage\.allizom\.org is stage's \(Pulumi\.stage\.yaml\) domain/,
    fix: "give prod its own domain",
  },
  {
    area: "Crossed environments",
    refused: "stage on prod's project",
    stack: "stage",
    overrides: { "gcp:project": "moz-fx-monitor-prod" },
    key: "gcp:project",
    message: /moz-fx-monitor-prod is prod's \(Pulumi\.prod\.yaml\) project/,
    fix: "give stage its own project",
  },
  {
    area: "Crossed environments",
    refused: "prod on the previews' project",
    stack: "prod",
    overrides: { "gcp:project": "moz-fx-monitor-previews" },
    key: "gcp:project",
    message:
      /moz-fx-monitor-previews is previews \(pr-<N>\)'s \(Pulumi\.yaml\) and the previews platform's \(Pulumi\.previews\.yaml\) project/,
    fix: "give prod its own project",
  },
  {
    area: "Crossed environments",
    refused: "the previews platform on prod's project",
    stack: "previews",
    files: { "Pulumi.previews.yaml": edit("gcp:project: moz-fx-monitor-previews", "gcp:project: moz-fx-monitor-prod") },
    key: "gcp:project",
    message:
      /moz-fx-monitor-prod is prod's \(Pulumi\.prod\.yaml\) project, on the other side of the prod\/nonprod line from previews/,
    fix: "give previews its own project",
  },
  {
    area: "Crossed environments",
    refused: "an app's key in Pulumi.previews.yaml",
    stack: "previews",
    files: { "Pulumi.previews.yaml": append("  monitor:env:\n    NODE_ENV: production") },
    key: "monitor:env",
    message:
      /monitor:env in Pulumi\.previews\.yaml: not read by the previews platform, so it would be silently ignored/,
    fix: "remove it from Pulumi.previews.yaml (it belongs in Pulumi.yaml, Pulumi.stage.yaml or Pulumi.prod.yaml)",
  },
  {
    area: "Crossed environments",
    refused: "a `monitor:preview` block in Pulumi.prod.yaml",
    stack: "prod",
    files: { "Pulumi.prod.yaml": append("  monitor:preview:\n    ttlDays: 3") },
    key: "monitor:preview",
    message: /not read by prod, so it would be silently ignored/,
    fix: "remove it from Pulumi.prod.yaml",
  },
  {
    area: "Crossed environments",
    refused: "a typo in a `gcp:` key",
    stack: "stage",
    overrides: { "gcp:regoin": "us-east1" },
    key: "gcp:regoin",
    message:
      /the gcp provider has no key regoin \(its keys are @pulumi\/gcp\/config\/vars\), so it would be silently ignored/,
    fix: "rename it to gcp:region",
  },
  {
    area: "Crossed environments",
    refused: "a `github:` key on a stack with no GitHub provider",
    stack: "prod",
    overrides: { "github:owner": "mozilla" },
    key: "github:owner",
    message: /prod uses no github provider, so it would be silently ignored \(github is used by the pipeline stack\)/,
    fix: "remove it from Pulumi.prod.yaml (it belongs in Pulumi.pipeline.yaml)",
  },
  {
    area: "Crossed environments",
    refused: "a namespace no provider reads (a typo)",
    stack: "stage",
    overrides: { "gpc:project": "moz-fx-monitor-nonprod" },
    key: "gpc:project",
    message: /no provider of this program reads the namespace gpc:/,
    fix: "rename it to gcp:project",
  },

  // YAML the CLI and the plan would read differently, or not at all
  {
    area: "YAML",
    refused: "a key given twice",
    stack: "prod",
    files: {
      "Pulumi.prod.yaml": edit(
        "    SES_CONFIG_SET: monitor-prod\n",
        "    SES_CONFIG_SET: monitor-prod\n    SES_CONFIG_SET: monitor-stage\n",
      ),
    },
    key: "monitor:env.SES_CONFIG_SET",
    message: new RegExp(
      `Pulumi\\.prod\\.yaml line ${SES_LINE + 1}, monitor:env\\.SES_CONFIG_SET: SES_CONFIG_SET is given twice ` +
        `in one mapping \\(lines ${SES_LINE} and ${SES_LINE + 1}\\)`,
    ),
    fix: "keep one",
  },
  {
    area: "YAML",
    refused: "a tab in the indentation",
    stack: "stage",
    files: { "Pulumi.stage.yaml": edit("    NODE_ENV: production\n", "\tNODE_ENV: production\n") },
    key: `Pulumi.stage.yaml line ${lineIn("Pulumi.stage.yaml", "    NODE_ENV: production\n")}`,
    message: /a tab indents this line; YAML indents with spaces only/,
    fix: "indent with spaces",
  },
  {
    area: "YAML",
    refused: "a merge key (`<<: *anchor`)",
    stack: "prod",
    files: {
      "Pulumi.prod.yaml": (text) =>
        edit(
          "  monitor:worker:\n",
          "  monitor:worker:\n    <<: *sizing\n",
        )(edit("  monitor:service:\n", "  monitor:service: &sizing\n")(text)),
    },
    key: "monitor:worker.<<",
    message:
      /a merge key: the Pulumi CLI \(YAML 1\.1\) merges the mapping in, npm run plan \(YAML 1\.2\) reads a key named <</,
    fix: "write the keys out",
  },
  {
    area: "YAML",
    refused: "an unquoted yes/no/on/off",
    stack: "prod",
    files: { "Pulumi.prod.yaml": edit("highAvailability: true", "highAvailability: yes") },
    key: "monitor:database.highAvailability",
    message:
      /yes is unquoted: the Pulumi CLI \(YAML 1\.1\) reads it as the boolean true, npm run plan \(YAML 1\.2\) as the text "yes"/,
    fix: 'quote it ("yes"), or write true if a boolean is meant',
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
    refused: "a bootstrap of a stack that is already deployed",
    stack: "prod",
    overrides: { "monitor:bootstrap": "true" },
    at: "plan",
    key: "monitor:bootstrap",
    message: /prod is already deployed and runs 2024\.09\.01 \(sha256:[0-9a-f]{64}\)\. .*would delete what runs it/,
    fix: "drop monitor:bootstrap (npx pulumi config rm --stack prod monitor:bootstrap) and deploy as usual",
  },
  {
    area: "Bootstrap and deploy id",
    refused: "`monitor:bootstrap` on a preview",
    stack: "pr-4",
    overrides: { "monitor:bootstrap": "true" },
    key: "monitor:bootstrap",
    message: /not read by previews \(pr-<N>\)/,
    fix: "drop --config monitor:bootstrap (it is passed with --config to stage and prod)",
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
    message: /not read by stage, so it would be silently ignored \(read by previews \(pr-<N>\)\)/,
    fix: "remove it from Pulumi.stage.yaml (it is passed with --config to previews (pr-<N>))",
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
    fix: "add it (see docs/pipeline.md)",
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
    refused: "the pipeline's own App as the release App",
    stack: "pipeline",
    overrides: pipeline((s) => (s.releaseAppId = s.githubAppId)),
    key: "monitor:pipeline.releaseAppId",
    message: /is the pipeline's own App \(githubAppId\), whose key administers both repositories/,
    fix: "register a GitHub App of its own for release tags",
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
const qaLedgerIo = (env: Env) => ({ env, log: () => undefined, warn: () => undefined });
/** A file a workflow step would have written (a release body, a list of pull requests). */
function inputFile(name: string, content: string): string {
  const path = join(mkdtempSync(join(tmpdir(), "refusal-catalogue-")), name);
  writeFileSync(path, content);
  return path;
}
const BUILD = {
  APP_DIR: "app",
  COMMIT_SHA: SHA,
  IMAGE_REPOSITORY: "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server",
  VERSION: "main",
  GITHUB_SERVER_URL: "https://github.com",
  GITHUB_REPOSITORY: "mozilla/blurts-server",
  GITHUB_RUN_ID: "1",
};
/** git as it answers for a commit the clone does not have; nothing else is run. */
const noGit = (): Promise<string> => Promise.reject(new Error("fatal: not a tree object"));
const QUIET = { info: () => {}, warn: () => {}, error: () => {} };

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
    refused: "a release from a branch that is not main or a protected release branch",
    script: "scripts/release-tag.ts target",
    env: { TARGET_REF: "feature/x" },
    input: "TARGET_REF",
    exit: 1,
    message: /TARGET_REF "feature\/x" is not a branch a release may be cut from/,
    fix: "cut a release/<name> branch from the released commit",
    run: (env) => releaseTag(["target"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a latest release the checkout has no tag for (tags not fetched)",
    script: "scripts/release-tag.ts next",
    env: { LATEST_RELEASE: "2024.08.30" },
    input: "LATEST_RELEASE",
    exit: 2,
    message: /LATEST_RELEASE "2024\.08\.30" is not among the checkout's 0 tags, so its tags were not fetched/,
    fix: "check the app out with fetch-depth: 0",
    run: (env) => releaseTag(["next"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a latest release that is not a tag name",
    script: "scripts/release-tag.ts next",
    env: { LATEST_RELEASE: "2024.08.30 $(id)" },
    input: "LATEST_RELEASE",
    exit: 2,
    message: /LATEST_RELEASE is not a release's tag/,
    fix: "pass the tag name of the release marked latest",
    run: (env) => releaseTag(["next"], releaseIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "an argument after the command",
    script: "scripts/release-tag.ts next",
    env: { TARGET_REF: "main" },
    input: "release-tag.ts next",
    exit: 2,
    message: /takes no arguments, got \["main"\]/,
    fix: "pass its inputs through env:",
    run: (env) => releaseTag(["next", "main"], releaseIo(env)),
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
      PULUMI_BACKEND_URL: "gs://monitor-pulumi-state",
      BODY_FILE: join(tmpdir(), "preview-comment.md"),
      RUN_URL: "https://github.com/o/r/actions/runs/1",
      [input]: "",
    },
    input,
    exit: 2,
    message: new RegExp(`${input} is not set`),
    fix,
    run: (env, fetch) => previewAdmission(env, { fetch }),
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
    message: /STACK "pr-4" is not checked for drift; only stage, previews, prod are/,
    fix: "pass one of stage, previews, prod",
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
    refused: "an app deploy pinned to an infra commit whose program or stack files differ from main's",
    script: "scripts/require-current-infra.ts",
    env: { PINNED_COMMIT: SHA },
    input: "PINNED_COMMIT",
    exit: 1,
    message: /runs other program and stack files than main \([0-9a-f]{40}\): Pulumi\.prod\.yaml/,
    fix: "apply the pipeline stack at main (re-pin)",
    // The git of a checkout at SHA whose main has moved on; test/scripts-require-current-infra.test.ts runs real git.
    run: (env) =>
      requireCurrentInfra(env, (args) =>
        args[0] === "diff" ? "Pulumi.prod.yaml\n" : args.includes("HEAD") ? `${SHA}\n` : `${"f".repeat(40)}\n`,
      ),
  },
  {
    area: "Workflow inputs",
    refused: "a body file in a directory that does not exist",
    script: "scripts/preview-comment.ts",
    env: {
      STATE: "destroyed",
      PR_NUMBER: "42",
      RUN_URL: "https://github.com/o/r/actions/runs/1",
      BODY_FILE: join(tmpdir(), "no-such-directory-for-the-catalogue", "body.md"),
    },
    input: "BODY_FILE",
    exit: 2,
    message: /BODY_FILE points to ".*body\.md", which cannot be written: its directory .* does not exist/,
    fix: "give a path in a directory that exists, under $RUNNER_TEMP",
    run: (env) => previewComment(env),
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
    script: "own-commit step (inline in each reusable workflow)",
    env: {},
    input: "ACTIONS_ID_TOKEN_REQUEST_URL",
    exit: 2,
    message: /are not set, so this job cannot get an OIDC token/,
    fix: "give the job `permissions: id-token: write`",
    run: (env) => ownCommitStep(env),
  },
  {
    area: "Workflow inputs",
    refused: "a prod deploy while QA boxes are unchecked",
    script: "scripts/qa-ledger.ts check",
    env: {
      BODY_FILE: inputFile(
        "release-body.md",
        "<!-- qa-ledger:start -->\n- [x] #6740 Index fxa_uid by @mansaj · no ticket\n- [ ] #6753 Mntor 5299 by @codemist · no ticket\n<!-- qa-ledger:end -->\n",
      ),
    },
    input: "BODY_FILE",
    exit: 1,
    message: /The QA ledger in BODY_FILE has 1 of 2 item\(s\) unchecked:\n {2}- #6753 Mntor 5299 by @codemist/,
    fix: "ask QA to verify them on stage and check their boxes in the pre-release",
    run: (env) => qaLedger(["check"], qaLedgerIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a release without a QA ledger",
    script: "scripts/qa-ledger.ts check",
    env: { BODY_FILE: inputFile("release-body.md", "## What's Changed\n* Mntor 5299 by @codemist in #6753\n") },
    input: "BODY_FILE",
    exit: 2,
    message: /BODY_FILE has no QA ledger/,
    fix: "run the app's Pre-release workflow by hand with ledger_tag set to this tag",
    run: (env) => qaLedger(["check"], qaLedgerIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "pull requests that are not the API's array",
    script: "scripts/qa-ledger.ts render",
    env: { PULLS_FILE: inputFile("pulls.json", '{"total_count": 1}'), BODY_FILE: "/nonexistent/body.md" },
    input: "PULLS_FILE",
    exit: 2,
    message: /PULLS_FILE is not a JSON array of pull requests/,
    fix: "write it with scripts/release-pulls.ts in an earlier step",
    run: (env) => qaLedger(["render"], qaLedgerIo(env)),
  },
  {
    area: "Workflow inputs",
    refused: "a ledger for a tag that is not a calendar tag",
    script: "scripts/release-pulls.ts",
    env: { TAG: "main", PULLS_FILE: "/nonexistent/pulls.json", ...GITHUB },
    input: "TAG",
    exit: 2,
    message: /TAG is not a calendar tag/,
    fix: "Pass the pre-release's tag",
    run: (env, fetch) => releasePulls(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a Jira token without its account",
    script: "scripts/jira-shipped.ts",
    env: {
      JIRA_API_TOKEN: "token",
      TAG: "2024.09.01",
      BODY_FILE: inputFile("release-body.md", "<!-- qa-ledger:start -->\n<!-- qa-ledger:end -->\n"),
    },
    input: "JIRA_USER_EMAIL",
    exit: 2,
    message: /JIRA_USER_EMAIL is empty while JIRA_API_TOKEN is set/,
    fix: "set both secrets (the Atlassian account's email and its API token), or neither",
    run: (env, fetch) => jiraShipped(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "shipped tickets that are not ticket keys",
    script: "scripts/notify-chat.ts",
    env: {
      CHAT_WEBHOOK_URL: "https://chat.example/hook",
      STATUS: "succeeded",
      ENVIRONMENT: "prod",
      TAG: "2024.09.01",
      JIRA_TICKETS: "MNTOR-1 <!channel>",
    },
    input: "JIRA_TICKETS",
    exit: 2,
    message: /JIRA_TICKETS is not a list of MNTOR ticket keys/,
    fix: "pass the jira-shipped step's tickets output",
    run: (env, fetch) => notifyChat(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "an image repository outside Artifact Registry",
    script: "scripts/build-image.ts",
    env: { ...BUILD, IMAGE_REPOSITORY: "docker.io/mozilla/blurts-server" },
    input: "IMAGE_REPOSITORY",
    exit: 2,
    message: /IMAGE_REPOSITORY is not an Artifact Registry image path/,
    fix: "set vars.IMAGE_REPOSITORY of the environment",
    run: (env) => buildImage(env, noGit, QUIET),
  },
  {
    area: "Workflow inputs",
    refused: "building a commit the app's checkout lacks",
    script: "scripts/build-image.ts",
    env: BUILD,
    input: "COMMIT_SHA",
    exit: 1,
    message: /COMMIT_SHA 3f9c2ab0123456789abcdef0123456789abcdef0 is not in the app's checkout/,
    fix: "check out COMMIT_SHA into APP_DIR before this step",
    run: (env) => buildImage(env, noGit, QUIET),
  },
  {
    area: "Workflow inputs",
    refused: "stage's deployed tag that is no short SHA",
    script: "scripts/stage-order.ts",
    env: { COMMIT_SHA: SHA, DEPLOYED: "2024.09.01", ...GITHUB },
    input: "DEPLOYED",
    exit: 2,
    message: /DEPLOYED is not a short commit SHA/,
    fix: "pass stage's imageTag output",
    run: (env, fetch) => stageOrder(env, fetch),
  },
  {
    area: "Workflow inputs",
    refused: "a prod deploy while its uptime alert pages nobody (the committed placeholder channel)",
    script: "scripts/require-alert-channel.ts",
    env: { STACK_FILE: join(ROOT, "Pulumi.prod.yaml") },
    input: "STACK_FILE",
    exit: 1,
    message: /STACK_FILE Pulumi\.prod\.yaml: monitor:alerts\.notificationChannels holds only the placeholder channel/,
    fix: "put the on-call channel in its place in a reviewed PR",
    run: (env) => requireAlertChannel(env),
  },
];

// ---------------------------------------------------------------------------------------------------------------

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n\s*/g, " ");
const code = (text: string) => (text.includes("`") ? cell(text) : `\`${cell(text)}\``);

/** docs/troubleshooting.md's table: every row, grouped by area in catalogue order. */
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
