import { describe, expect, it } from "vitest";
import { buildSpec } from "../infra/spec";
import { parseStackName } from "../shared-rules/stack-name";
import { refusedStack } from "./harness";

/** A preview's config as Pulumi.yaml gives it, for pure spec checks. */
const BASE: Record<string, string> = {
  "gcp:project": "moz-fx-monitor-nonprod",
  "gcp:region": "us-central1",
  "monitor:imageRepository": "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server",
  "monitor:env": JSON.stringify({
    SUPPORTED_LOCALES: "en",
    OAUTH_CLIENT_ID: "abc",
    OAUTH_AUTHORIZATION_URI: "https://accounts.example/authorization",
    OAUTH_TOKEN_URI: "https://oauth.example/v1/token",
    OAUTH_PROFILE_URI: "https://profile.example/v1/profile",
    OAUTH_ACCOUNT_URI: "https://accounts.example",
    FXA_SETTINGS_URL: "https://accounts.example/settings",
    EMAIL_FROM: "monitor@example.com",
    HIBP_API_ROOT: "https://haveibeenpwned.com/api/v3",
    HIBP_KANON_API_ROOT: "https://api.haveibeenpwned.com",
    HIBP_THROTTLE_DELAY: 5000,
    HIBP_THROTTLE_MAX_TRIES: 5,
    S3_BUCKET: "bucket",
    NIMBUS_UUID_NAMESPACE: "00000000-0000-0000-0000-000000000000",
    // A hosted Cirrus, so that the base needs no sidecar config (test/cirrus.test.ts covers the sidecar).
    NIMBUS_SIDECAR_URL: "https://cirrus.example/monitor_cirrus/",
  }),
  "monitor:preview": JSON.stringify({ sandboxSecrets: ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"] }),
};

const withEnv = (extra: Record<string, unknown>) => ({
  ...BASE,
  "monitor:env": JSON.stringify({ ...JSON.parse(BASE["monitor:env"]), ...extra }),
});

/** What the files hold when `config` is a preview's Pulumi.yaml, whole (these checks compare no stacks). */
const asPulumiYaml = (config: Record<string, string>) => ({ project: config, stacks: {} });

/** The message buildSpec refuses a config with, as if Pulumi.yaml held it. */
function refusal(stack: string, config: Record<string, string>): string {
  try {
    buildSpec(stack, config, [], asPulumiYaml(config));
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("the config was accepted");
}

describe("stack names", () => {
  it.each(["pr-1", "pr-123", "pr-99999", "stage", "prod", "pipeline"])("accepts %s", (name) => {
    expect(parseStackName(name).stack).toBe(name);
  });

  it.each(["pr-0", "pr-01", "pr-abc", "PR-5", "feature", "pr-", "pr--1", "stage2", "pr-1.5", ""])(
    "refuses %j and lists the valid forms",
    (name) => {
      expect(() => parseStackName(name)).toThrow(
        new RegExp(`^Stack "${name.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}" is not a stack of the monitor project`),
      );
      expect(() => parseStackName(name)).toThrow(/pr-<N>.*\n.*stage\n.*prod\n.*pipeline/s);
    },
  );

  it("keeps the PR number exactly as written", () => {
    expect(parseStackName("pr-123")).toEqual({ kind: "preview", stack: "pr-123", pr: "123" });
  });
});

describe("config refusals name the stack, the key and the fix", () => {
  it("accepts the base config", () => {
    expect(buildSpec("pr-7", BASE, [], asPulumiYaml(BASE)).kind).toBe("preview");
  });

  it.each([
    ["latest", /monitor:imageTag .*'latest' moves under you/],
    ["bad tag", /monitor:imageTag .*expected a Docker tag/],
    [".hidden", /monitor:imageTag .*expected a Docker tag/],
    ["x".repeat(129), /monitor:imageTag .*expected a Docker tag/],
    ["repo:tag", /monitor:imageTag .*expected a Docker tag/],
  ])("refuses the image tag %j", (tag, message) => {
    expect(refusal("pr-7", { ...BASE, "monitor:imageTag": tag })).toMatch(message);
  });

  it("refuses an image repository with a tag or digest in it", () => {
    expect(refusal("pr-7", { ...BASE, "monitor:imageRepository": "us-docker.pkg.dev/p/r/app:v1" })).toMatch(
      /monitor:imageRepository .*expected an Artifact Registry path without tag or digest/,
    );
  });

  it.each([["lower_case"], ["1START"], ["WITH-DASH"], ["SPACE NAME"]])("refuses the env var name %j", (name) => {
    expect(refusal("pr-7", withEnv({ [name]: "x" }))).toMatch(
      new RegExp(
        `monitor:env\\.${name.replace(/[-\s]/g, "\\$&")} in Pulumi\\.yaml .*is not an environment variable name: expected \\[A-Z_\\]\\[A-Z0-9_\\]\\*`,
      ),
    );
  });

  it.each(["PORT", "K_SERVICE", "K_REVISION", "CLOUD_RUN_JOB"])("refuses %s, which Cloud Run sets", (name) => {
    expect(refusal("pr-7", withEnv({ [name]: "1" }))).toMatch(
      new RegExp(`monitor:env\\.${name} .*set by Cloud Run itself\\. Fix: remove it`),
    );
  });

  it.each(["DATABASE_URL", "SERVER_URL", "NEXTAUTH_URL", "PG_HOST", "GCP_PUBSUB_TOPIC_NAME"])(
    "refuses %s, which the program computes",
    (name) => {
      expect(refusal("pr-7", withEnv({ [name]: "x" }))).toMatch(
        new RegExp(`monitor:env\\.${name} .*computed by the program`),
      );
    },
  );

  it.each([
    ["NEXTAUTH_SECRET", "abc"],
    ["SMTP_URL", "smtp://mail.example"],
    ["AWS_SECRET_ACCESS_KEY", "abc"],
    ["SOME_NEW_API_TOKEN", "abc"],
    ["FX_REMOTE_SETTINGS_WRITER_PASS", "abc"],
  ])("refuses the secret %s as a plain value", (name, value) => {
    expect(refusal("pr-7", withEnv({ [name]: value }))).toMatch(
      new RegExp(
        `monitor:env\\.${name} .*names a secret and must not be a plain value\\. Fix: remove it and declare it as a secret`,
      ),
    );
  });

  it.each([
    ["REDIS_URL", "redis://:hunter2@redis.internal:6379", "a URL with a password"],
    ["ADMINS", "AKIAABCDEFGHIJKLMNOP", "an AWS access key id"],
    ["OTEL_EXPORTER_OTLP_ENDPOINT", "https://user:pw@otel.example", "a URL with a password"],
    ["SENTRY_DSN", "-----BEGIN RSA PRIVATE KEY-----", "a private key"],
  ])("refuses a secret-looking value under %s", (name, value, why) => {
    expect(refusal("pr-7", withEnv({ [name]: value }))).toMatch(
      new RegExp(`monitor:env\\.${name} .*looks like a credential.*${why}`),
    );
  });

  it("accepts a Sentry DSN (a public key, no password) and REDIS_URL without a password", () => {
    const config = withEnv({ SENTRY_DSN: "https://abc123@o1.ingest.sentry.io/42", REDIS_URL: "redis://redis:6379" });
    const spec = buildSpec("pr-7", config, [], asPulumiYaml(config));
    if (spec.kind !== "preview") throw new Error("expected a preview");
    expect(spec.env.SENTRY_DSN).toBe("https://abc123@o1.ingest.sentry.io/42");
  });

  it("refuses nested values and reports every problem at once", () => {
    const message = refusal("pr-7", withEnv({ PORT: "1", ADMINS: { a: 1 }, lower: "x" }));
    expect(message).toMatch(/^Stack "pr-7" has invalid configuration:/);
    expect(message).toMatch(/monitor:env\.PORT/);
    expect(message).toMatch(/monitor:env\.ADMINS .*YAML reads this as the object \{"a":1\}; env values are text/);
    expect(message).toMatch(/monitor:env\.lower/);
  });

  it("names the variables the app cannot start without", () => {
    const env = JSON.parse(BASE["monitor:env"]);
    delete env.S3_BUCKET;
    delete env.EMAIL_FROM;
    expect(refusal("pr-7", { ...BASE, "monitor:env": JSON.stringify(env) })).toMatch(
      /monitor:env in Pulumi\.yaml .*refuses to start without EMAIL_FROM, S3_BUCKET\. Fix: add plain values/,
    );
  });

  it("refuses a sandbox secret that is also a plain value, or that the app does not read", () => {
    const preview = JSON.stringify({
      sandboxSecrets: ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN", "S3_BUCKET", "OAUTH_CLIENT_SECRETT"],
    });
    const message = refusal("pr-7", { ...BASE, "monitor:preview": preview });
    expect(message).toMatch(
      /monitor:preview\.sandboxSecrets in Pulumi\.yaml .*: S3_BUCKET is also a plain value in monitor:env\. Fix: keep one/,
    );
    expect(message).toMatch(/OAUTH_CLIENT_SECRETT is not a variable the app reads \(a typo\?\)/);
  });

  it("refuses a plain variable the app does not read, as a typo", () => {
    expect(refusal("pr-7", withEnv({ SUPORTED_LOCALES: "en" }))).toMatch(
      /monitor:env\.SUPORTED_LOCALES .*is not a variable the app reads \(a typo\?\)\. Fix: correct the name; if it is new in the app, add it to shared-rules\/app-env\.ts/,
    );
  });

  it("refuses an unknown monitor: key as a typo", () => {
    expect(refusal("pr-7", { ...BASE, "monitor:imagetag": "x" })).toMatch(
      /monitor:imagetag in Pulumi\.yaml .*unknown config key; known keys: .*monitor:imageTag/,
    );
  });

  it("refuses a missing required key", () => {
    const config = { ...BASE };
    delete config["gcp:project"];
    expect(refusal("pr-7", config)).toMatch(/gcp:project in Pulumi\.yaml .*required but not set\. Fix: add it/);
  });

  it("refuses preview sizing out of range", () => {
    const preview = JSON.stringify({
      sandboxSecrets: ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"],
      maxInstances: 0,
      maxOpen: 5000,
    });
    const message = refusal("pr-7", { ...BASE, "monitor:preview": preview });
    expect(message).toMatch(/monitor:preview\.maxInstances in Pulumi\.yaml .*>=1/);
    expect(message).toMatch(/monitor:preview\.maxOpen in Pulumi\.yaml .*<=1000/);
  });

  it("refuses a PR number whose names would break GCP's length limits", () => {
    const stack = `pr-${"9".repeat(20)}`;
    expect(refusal(stack, BASE)).toMatch(
      new RegExp(
        `stack name "${stack}": service account id "monitor-${stack}-run" is 35 characters; GCP allows at most 30`,
      ),
    );
  });
});

describe("a refused stack registers nothing", () => {
  it.each(["pr-0", "pr-01", "pr-abc", "PR-5", "feature"])("the stack name %s", async (stack) => {
    const { error, registrations } = await refusedStack(stack);
    expect(error.message).toMatch(new RegExp(`^Stack "${stack}" is not a stack of the monitor project`));
    expect(registrations).toEqual([]);
  });

  it.each([
    ["a bad image tag", { "monitor:imageTag": "latest" }],
    ["a reserved variable", { "monitor:env": JSON.stringify({ PORT: "8080" }) }],
    ["a secret given as plain config", { "monitor:env": JSON.stringify({ NEXTAUTH_SECRET: "hunter2" }) }],
  ])("%s", async (_, overrides) => {
    const { error, registrations } = await refusedStack("pr-42", overrides);
    expect(error.message).toMatch(/^Stack "pr-42" has invalid configuration/);
    expect(registrations).toEqual([]);
  });
});
