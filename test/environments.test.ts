import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { derivedEnv } from "../components/app-runtime";
import { DERIVED_VARIABLES } from "../shared-rules/app-env";
import { loadStackConfig } from "../infra/engine/config-files";
import { DEPLOYED_TAGS, type Evaluation, type Registration, evaluate } from "../infra/engine/evaluate";
import { mockDigest, mockProjectNumber } from "../infra/engine/mocks";
import { parityReport, renderParity } from "../infra/engine/parity";
import { renderText, toPlan } from "../infra/engine/render";
import { buildSpec } from "../infra/spec";
import {
  INSTANCE,
  JOB,
  ROOT,
  SECRET,
  SECRET_VERSION,
  SERVICE,
  WORKER_POOL,
  deletedBefore,
  evaluateStack,
  ofType,
  one,
  secretValues,
} from "./harness";

const REPO = {
  stage: "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server",
  prod: "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server",
};
const DECLARED_SECRETS = [
  "NEXTAUTH_SECRET",
  "OAUTH_CLIENT_SECRET",
  "HIBP_KANON_API_TOKEN",
  "HIBP_NOTIFY_TOKEN",
  "HIBP_API_TOKEN",
  "SMTP_URL",
  "REDIS_URL",
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "FX_REMOTE_SETTINGS_WRITER_PASS",
];

const containerOf = (r: Registration): any => {
  const i = r.inputs as any;
  return (r.type === JOB ? i.template.template : i.template).containers[0];
};
const envOf = (r: Registration): Record<string, any> =>
  Object.fromEntries(containerOf(r).envs.map((e: any) => [e.name, e]));
const inEnv = (ev: Evaluation, name: string) => ev.registrations.filter((r) => r.urn.includes(`::${name}`));

/** Config of a committed stack with some keys replaced, as `--config` would. */
function configOf(stack: "stage" | "prod", overrides: Record<string, unknown> = {}) {
  const { config, secretKeys, sources } = loadStackConfig(ROOT, stack);
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) delete config[key];
    else config[key] = typeof value === "string" ? value : JSON.stringify(value);
  }
  return { config, secretKeys, sources };
}

function refusal(stack: "stage" | "prod", overrides: Record<string, unknown>, secretKeys: string[] = []): string {
  const { config, sources } = configOf(stack, overrides);
  try {
    buildSpec(stack, config, secretKeys, sources);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("the config was accepted");
}

/** A scratch copy of the project and stack files, to edit as a PR would. */
function copyOfRoot(): string {
  const root = mkdtempSync(join(tmpdir(), "monitor-files-"));
  for (const file of ["Pulumi.yaml", "Pulumi.stage.yaml", "Pulumi.prod.yaml"]) {
    writeFileSync(join(root, file), readFileSync(join(ROOT, file)));
  }
  return root;
}

const evs: Record<"stage" | "prod", Evaluation> = {} as any;
beforeAll(async () => {
  evs.stage = await evaluateStack("stage", { "monitor:imageTag": "abc1234" });
  evs.prod = await evaluateStack("prod", { "monitor:imageTag": "2024.09.01" });
});

/** The stack without the preview platform stage also owns (its database admin has a job and a secret of its own). */
function withoutPreviewPlatform(evaluation: Evaluation): Evaluation {
  const platform = (r: Registration) => r.urn.includes("monitor:components:PreviewPlatform");
  return { ...evaluation, registrations: evaluation.registrations.filter((r) => !platform(r)) };
}

describe.each(["stage", "prod"] as const)("%s, from its committed stack file", (stack) => {
  const ev = () => withoutPreviewPlatform(evs[stack]);

  it("runs one image digest everywhere: web, migration, worker and the three scheduled jobs", () => {
    const tag = stack === "stage" ? "abc1234" : "2024.09.01";
    const ref = `${REPO[stack]}@${mockDigest(`${REPO[stack]}:${tag}`)}`;
    const runners = [...ofType(ev(), SERVICE), ...ofType(ev(), JOB), ...ofType(ev(), WORKER_POOL)];
    expect(runners).toHaveLength(1 + 4 + 1);
    for (const r of runners) expect(containerOf(r).image, r.name).toBe(ref);
    expect(ev().outputs.imageTag.value).toBe(tag);
    expect(ev().outputs.imageDigest.value).toBe(mockDigest(`${REPO[stack]}:${tag}`));
  });

  it("runs each of the app's commands where monitor-app.md says", () => {
    const command = (r: Registration) => [...(containerOf(r).commands ?? []), ...(containerOf(r).args ?? [])].join(" ");
    expect(Object.fromEntries(ofType(ev(), JOB).map((r) => [r.inputs.name, command(r)]))).toEqual({
      [`monitor-${stack}-migrate`]: "npm run db:migrate",
      [`monitor-${stack}-db-pull-breaches`]: "npm run cron:db-pull-breaches",
      [`monitor-${stack}-db-delete-unverified-subscribers`]: "npm run cron:db-delete-unverified-subscribers",
      [`monitor-${stack}-remote-settings-pull-breaches`]: "npm run cron:remote-settings-pull-breaches",
    });
    expect(command(one(ev(), WORKER_POOL))).toBe("npm run cron:breach-alerts");
  });

  it("triggers the scheduled jobs on the default schedules, in UTC", () => {
    const schedules = Object.fromEntries(
      ofType(ev(), "gcp:cloudscheduler/job:Job").map((r) => [r.name, [r.inputs.schedule, r.inputs.timeZone]]),
    );
    expect(schedules).toEqual({
      "db-pull-breaches-trigger": ["*/10 * * * *", "Etc/UTC"],
      "db-delete-unverified-subscribers-trigger": ["30 3 * * *", "Etc/UTC"],
      "remote-settings-pull-breaches-trigger": ["15 * * * *", "Etc/UTC"],
    });
  });

  it("derives the URLs, the socket and the Pub/Sub names, and reads every declared secret by reference", () => {
    const env = envOf(one(ev(), SERVICE));
    const host = stack === "stage" ? "monitor-stage.allizom.org" : "monitor.mozilla.org";
    expect(env.SERVER_URL.value).toBe(`https://${host}`);
    expect(env.NEXTAUTH_URL.value).toBe(`https://${host}`);
    expect(env.PG_HOST.value).toMatch(
      new RegExp(`^/cloudsql/moz-fx-monitor-(nonprod|prod):us-central1:monitor-${stack}$`),
    );
    expect(env.GCP_PUBSUB_TOPIC_NAME.value).toBe("hibp-breaches");
    expect(env.GCP_PUBSUB_SUBSCRIPTION_NAME.value).toBe("hibp-breaches-alerts");
    for (const name of [...DECLARED_SECRETS, "DATABASE_URL"]) {
      expect(env[name].value, name).toBeUndefined();
      expect(env[name].valueSource.secretKeyRef.secret).toMatch(new RegExp(`/secrets/monitor-${stack}-[a-z-]+$`));
    }
  });

  it("creates each declared secret, readable by the runtime identity only, with no value written by the program", () => {
    const secrets = inEnv(ev(), "monitor:components:MonitorApp$monitor:components:AppSecrets$").filter(
      (r) => r.type === SECRET && r.name.startsWith("secrets-"),
    );
    expect(secrets.map((r) => r.inputs.secretId).sort()).toEqual(
      [...DECLARED_SECRETS, "DATABASE_URL"].map((n) => `monitor-${stack}-${n.toLowerCase().replace(/_/g, "-")}`).sort(),
    );
    const versions = ofType(ev(), SECRET_VERSION).map((r) => r.name);
    expect(versions).toEqual(["secrets-database-url"]);
    const readers = ofType(ev(), "gcp:secretmanager/secretIamMember:SecretIamMember");
    const project = stack === "stage" ? "moz-fx-monitor-nonprod" : "moz-fx-monitor-prod";
    expect(new Set(readers.map((r) => r.inputs.member))).toEqual(
      new Set(
        ["run", "worker"].map((id) => `serviceAccount:monitor-${stack}-${id}@${project}.iam.gserviceaccount.com`),
      ),
    );
    expect(readers).toHaveLength(2 * (DECLARED_SECRETS.length + 1));
  });

  it("retains exactly what holds state or runs the app, in Pulumi and at GCP", () => {
    const protectedTypes = new Set(
      ev()
        .registrations.filter((r) => r.protect)
        .map((r) => r.type),
    );
    // And what DNS points at: the load balancer's address and the certificate's DNS authorization.
    expect(protectedTypes).toEqual(
      new Set([
        INSTANCE,
        "gcp:sql/database:Database",
        "gcp:sql/user:User",
        SECRET,
        "gcp:pubsub/topic:Topic",
        "gcp:pubsub/subscription:Subscription",
        SERVICE,
        JOB,
        WORKER_POOL,
        "gcp:cloudscheduler/job:Job",
        "gcp:compute/globalAddress:GlobalAddress",
        "gcp:certificatemanager/dnsAuthorization:DnsAuthorization",
      ]),
    );
    for (const r of ofType(ev(), SECRET)) expect(r.protect && r.inputs.deletionProtection, r.name).toBe(true);
    for (const r of ofType(ev(), INSTANCE)) {
      expect(r.inputs.deletionProtection).toBe(true);
      expect((r.inputs.settings as any).deletionProtectionEnabled).toBe(true);
    }
    for (const r of [...ofType(ev(), SERVICE), ...ofType(ev(), JOB), ...ofType(ev(), WORKER_POOL)]) {
      expect(r.protect, r.name).toBe(true);
      expect(r.inputs.deletionProtection, r.name).toBe(true);
    }
    const policed = ["gcp:pubsub/topic:Topic", "gcp:pubsub/subscription:Subscription", "gcp:cloudscheduler/job:Job"];
    // The preview platform's topic holds nothing for longer than ten minutes: it is the one left deletable.
    for (const r of ev().registrations.filter((x) => policed.includes(x.type) && x.protect)) {
      expect(r.inputs.deletionPolicy, r.name).toBe("PREVENT");
    }
  });

  it("keeps the app's instance reachable through the connector only, encrypted, with backups retained", () => {
    const instance = ofType(ev(), INSTANCE).find((r) => r.inputs.name === `monitor-${stack}`)!;
    expect(instance.inputs).toMatchObject({
      databaseVersion: "POSTGRES_16",
      settings: {
        edition: "ENTERPRISE",
        retainBackupsOnDelete: true,
        ipConfiguration: { sslMode: "ENCRYPTED_ONLY", authorizedNetworks: [] },
        backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
      },
    });
  });

  it("serves the public web app on its domain through the load balancer, but nothing else is public", () => {
    expect(ofType(ev(), "gcp:cloudrun/domainMapping:DomainMapping")).toEqual([]);
    const entry = one(ev(), "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry");
    expect(entry.inputs.hostname).toBe(stack === "stage" ? "monitor-stage.allizom.org" : "monitor.mozilla.org");
    expect((one(ev(), SERVICE).inputs as any).ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    const invokers = ofType(ev(), "gcp:cloudrunv2/serviceIamMember:ServiceIamMember");
    expect(invokers.map((r) => [r.inputs.name, r.inputs.member])).toEqual([[`monitor-${stack}`, "allUsers"]]);
    expect(JSON.stringify(one(ev(), WORKER_POOL).inputs)).not.toMatch(/allUsers|ingress/);
  });

  it("checks /__heartbeat__ on the public hostname and alerts on failure", () => {
    const check = one(ev(), "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig");
    expect(JSON.stringify(check.inputs)).toContain(
      stack === "stage" ? "monitor-stage.allizom.org" : "monitor.mozilla.org",
    );
    expect((check.inputs.httpCheck as any).path).toBe("/__heartbeat__");
    expect(ofType(ev(), "gcp:monitoring/alertPolicy:AlertPolicy")).toHaveLength(1);
  });

  it("gates the web service, worker and jobs on the migration", () => {
    const migration = ofType(ev(), JOB).find((r) => r.name === "migration")!;
    for (const r of [one(ev(), SERVICE), one(ev(), WORKER_POOL), ...ofType(ev(), JOB).filter((j) => j !== migration)]) {
      expect(r.dependsOn, r.name).toContain(migration.urn);
    }
    expect(deletedBefore(ev(), one(ev(), SERVICE), ofType(ev(), "gcp:sql/database:Database")[0])).toBe(true);
  });

  it("never prints a secret value", () => {
    const printed = renderText(toPlan(ev())) + JSON.stringify(toPlan(ev()));
    const secrets = secretValues(ev());
    expect(secrets.length).toBeGreaterThan(0);
    for (const value of secrets) expect(printed).not.toContain(value);
  });
});

describe("prod is shaped for production, stage smaller", () => {
  const instanceOf = (stack: "stage" | "prod") =>
    ofType(evs[stack], INSTANCE).find((r) => r.inputs.name === `monitor-${stack}`)!.inputs.settings as any;

  it("prod: regional HA, point-in-time recovery, 30 backups, a maintenance window; stage: zonal and smaller", () => {
    expect(instanceOf("prod")).toMatchObject({
      tier: "db-custom-2-7680",
      availabilityType: "REGIONAL",
      backupConfiguration: { pointInTimeRecoveryEnabled: true, backupRetentionSettings: { retainedBackups: 30 } },
      maintenanceWindow: { day: 3, hour: 6 },
    });
    expect(instanceOf("stage")).toMatchObject({ tier: "db-custom-1-3840", availabilityType: "ZONAL" });
  });

  it("prod keeps two warm instances and two breach-alert consumers; stage scales to zero", () => {
    expect((one(evs.prod, SERVICE).inputs.template as any).scaling).toEqual({
      minInstanceCount: 2,
      maxInstanceCount: 50,
    });
    expect(containerOf(one(evs.prod, SERVICE)).resources.limits).toEqual({ cpu: "2", memory: "2Gi" });
    expect((one(evs.stage, SERVICE).inputs.template as any).scaling).toEqual({
      minInstanceCount: 0,
      maxInstanceCount: 5,
    });
    expect(JSON.stringify(one(evs.prod, WORKER_POOL).inputs)).toMatch(/"manualInstanceCount":2/);
  });
});

describe("stage owns nothing of the previews (they have a project and a stack of their own)", () => {
  it("declares no preview instance, sandbox secret, topic or grant, and exports no platform", () => {
    const ofPreviews = evs.stage.registrations.filter(
      (r) => r.name.startsWith("preview-platform") || JSON.stringify(r.inputs).includes("monitor-preview"),
    );
    expect(ofPreviews.map((r) => `${r.type} ${r.name}`)).toEqual([]);
    expect(evs.stage.outputs.previewPlatform).toBeUndefined();
    expect(evs.prod.outputs.previewPlatform).toBeUndefined();
  });
});

describe("image tags", () => {
  it("keeps the deployed image when no tag is given", async () => {
    const ev = await evaluateStack("prod");
    const digest = mockDigest(`${REPO.prod}:${DEPLOYED_TAGS.prod}`);
    expect(containerOf(one(ev, SERVICE)).image).toBe(`${REPO.prod}@${digest}`);
    expect(ev.outputs.imageTag.value).toBe(DEPLOYED_TAGS.prod);
  });

  it("asks for a tag on the first deploy, when nothing is deployed to keep", async () => {
    const { config, secretKeys } = configOf("stage");
    const first = evaluate("stage", { config, secretKeys, stackOutputs: () => ({}) });
    await expect(first).rejects.toThrow(
      /Stack "stage": no image is deployed yet, so there is nothing to keep\. Fix: pass the image to deploy with --config monitor:imageTag=<tag>/,
    );
  });

  it.each([
    ["stage", "2024.09.01", /stage deploys a short commit SHA/],
    ["stage", "ABC1234", /stage deploys a short commit SHA/],
    ["prod", "abc1234", /prod deploys a calendar tag YYYY\.MM\.DD or YYYY\.MM\.DD\.N/],
    ["prod", "2024.02.30", /prod deploys a calendar tag/],
    ["prod", "2024.09.01.0", /prod deploys a calendar tag/],
    ["prod", "prod-2024.09.01", /prod deploys a calendar tag/],
  ] as const)("%s refuses the tag %s", (stack, tag, message) => {
    expect(refusal(stack, { "monitor:imageTag": tag })).toMatch(message);
  });

  it.each([["2024.09.01"], ["2024.02.27.1"], ["2024.02.29"]])("prod accepts %s", (tag) => {
    const { config, sources } = configOf("prod", { "monitor:imageTag": tag });
    expect(() => buildSpec("prod", config, [], sources)).not.toThrow();
  });
});

describe("secrets whose value is encrypted stack config", () => {
  const overrides = {
    "monitor:secrets": { ...Object.fromEntries(DECLARED_SECRETS.map((n) => [n, "managed"])), SMTP_URL: "config" },
    "monitor:secretValues": { SMTP_URL: "smtps://monitor:s3cr3t-value@email-smtp.us-west-2.amazonaws.com:465" },
    "monitor:imageTag": "abc1234",
  };

  it("writes the value as a pinned version, marked secret, and never prints it", async () => {
    const { config } = configOf("stage", overrides);
    const ev = await evaluate("stage", { config, secretKeys: ["monitor:secretValues"] });
    const version = one(ev, SECRET_VERSION, "secrets-smtp-url");
    expect(version.secretPaths).toEqual(["secretData"]);
    expect(version.rawInputs.secretData).toBe("smtps://monitor:s3cr3t-value@email-smtp.us-west-2.amazonaws.com:465");
    expect(envOf(one(ev, SERVICE)).SMTP_URL.valueSource.secretKeyRef.version).toBe("1");
    expect(renderText(toPlan(ev))).not.toContain("s3cr3t-value");
  });

  it("reads a value committed as ciphertext (pulumi config set --secret --path) as a secret", async () => {
    const root = copyOfRoot();
    const stage = parse(readFileSync(join(root, "Pulumi.stage.yaml"), "utf8"));
    stage.config["monitor:secrets"].SMTP_URL = "config";
    stage.config["monitor:secretValues"] = { SMTP_URL: { secure: "v1:Tm90QVJlYWxDaXBoZXJ0ZXh0QnV0V2VsbEZvcm1lZA==" } };
    writeFileSync(join(root, "Pulumi.stage.yaml"), stringify(stage));
    const { config, secretKeys } = loadStackConfig(root, "stage", { "monitor:imageTag": "abc1234" });
    expect(secretKeys).toEqual(["monitor:secretValues"]);
    const ev = await evaluate("stage", { config, secretKeys });
    const version = one(ev, SECRET_VERSION, "secrets-smtp-url");
    expect(version.secretPaths).toEqual(["secretData"]);
    expect(version.inputs.secretData).toBe("[secret]");
    expect(renderText(toPlan(ev))).not.toContain("Tm90QVJlYWxDaXBoZXJ0ZXh0");
  });

  it("refuses a value committed in plaintext", () => {
    expect(refusal("stage", overrides)).toMatch(
      /monitor:secretValues in Pulumi\.stage\.yaml is stored in plaintext\. Fix: .*pulumi config set --secret --path 'monitor:secretValues\.<NAME>'/,
    );
  });

  it("refuses a config secret without a value, and a value without a declaration", () => {
    const message = refusal("stage", { ...overrides, "monitor:secretValues": { HIBP_API_TOKEN: "x" } }, [
      "monitor:secretValues",
    ]);
    expect(message).toMatch(
      /monitor:secrets\.SMTP_URL in Pulumi\.stage\.yaml: declared as config, but monitor:secretValues\.SMTP_URL is not set\. Fix: pulumi config set --stack stage --secret --path 'monitor:secretValues\.SMTP_URL' <value>/,
    );
    expect(message).toMatch(
      /monitor:secretValues\.HIBP_API_TOKEN in Pulumi\.stage\.yaml: not declared\. Fix: add HIBP_API_TOKEN: config to monitor:secrets/,
    );
  });
});

describe("refusals before any resource", () => {
  const stageEnv = () => JSON.parse(loadStackConfig(ROOT, "stage").config["monitor:env"]);

  it("names the variables the app requires that prod lacks, and the stack file", () => {
    const env = stageEnv();
    delete env.EMAIL_FROM;
    expect(refusal("prod", { "monitor:env": env, "monitor:secrets": { SMTP_URL: "managed" } })).toMatch(
      /monitor:env in Pulumi\.prod\.yaml: the app refuses to start without NEXTAUTH_SECRET, OAUTH_CLIENT_SECRET, EMAIL_FROM, HIBP_KANON_API_TOKEN, HIBP_NOTIFY_TOKEN\. Fix: add plain values to monitor:env, or declare secrets in monitor:secrets/,
    );
  });

  it("refuses a secret-looking name as a plain value, and an unknown variable", () => {
    const message = refusal("prod", { "monitor:env": { ...stageEnv(), HIBP_API_TOKEN: "abc", EMAIL_FORM: "x" } });
    expect(message).toMatch(/monitor:env\.HIBP_API_TOKEN in Pulumi\.prod\.yaml: HIBP_API_TOKEN names a secret/);
    expect(message).toMatch(
      /monitor:env\.EMAIL_FORM in Pulumi\.prod\.yaml: EMAIL_FORM is not a variable the app reads \(a typo\?\)/,
    );
  });

  it("refuses a secret declared twice, or one the program computes", () => {
    const message = refusal("stage", {
      "monitor:secrets": { DATABASE_URL: "managed", S3_BUCKET: "managed", NEXTAUTH_SECRETS: "managed" },
    });
    expect(message).toMatch(
      /monitor:secrets\.DATABASE_URL in Pulumi\.stage\.yaml: DATABASE_URL is computed by the program/,
    );
    expect(message).toMatch(
      /monitor:secrets\.S3_BUCKET in Pulumi\.stage\.yaml: S3_BUCKET is also a plain value in monitor:env/,
    );
    expect(message).toMatch(
      /monitor:secrets\.NEXTAUTH_SECRETS in Pulumi\.stage\.yaml: NEXTAUTH_SECRETS is not a variable the app reads \(a typo\?\)/,
    );
  });

  it("refuses a database that Cloud SQL would refuse", () => {
    expect(refusal("prod", { "monitor:database": { highAvailability: true, pointInTimeRecovery: false } })).toMatch(
      /monitor:database in Pulumi\.prod\.yaml: highAvailability needs pointInTimeRecovery/,
    );
    expect(refusal("prod", { "monitor:database": { edition: "ENTERPRISE_PLUS", tier: "db-custom-2-7680" } })).toMatch(
      /monitor:database\.tier in Pulumi\.prod\.yaml: db-custom-2-7680 exists only in the ENTERPRISE edition/,
    );
  });

  it("refuses a bad schedule, a missing domain, a bad sizing and stage/prod keys in a preview", () => {
    expect(refusal("stage", { "monitor:schedules": { dbPullBreaches: "every 10 minutes" } })).toMatch(
      /monitor:schedules\.dbPullBreaches in Pulumi\.stage\.yaml: a cron schedule has 5 fields .*"every 10 minutes" has 3/,
    );
    expect(refusal("stage", { "monitor:domain": undefined })).toMatch(
      /monitor:domain in Pulumi\.stage\.yaml: required for stage/,
    );
    expect(refusal("prod", { "monitor:service": { minInstances: 5, maxInstances: 2 } })).toMatch(
      /minInstances \(5\) is above maxInstances \(2\)/,
    );
    const { config, sources } = loadStackConfig(ROOT, "pr-3", { "monitor:secrets": "{}" });
    expect(() => buildSpec("pr-3", config, [], sources)).toThrow(
      /monitor:secrets \(from --config\): not read by previews \(pr-<N>\)/,
    );
  });

  it("refuses the pipeline stack without its config, naming the keys it needs", () => {
    expect(() => buildSpec("pipeline", {})).toThrow(
      /^Stack "pipeline" has invalid configuration:\n.*monitor:pipeline in Pulumi\.pipeline\.yaml: required/s,
    );
  });
});

describe("derived variables", () => {
  it("the program computes exactly what the app catalogue marks as derived", () => {
    const env = derivedEnv({
      appEnv: "stage",
      url: "u",
      cloudSqlConnection: "p:r:i",
      pubsubProject: "p",
      pubsubTopic: "t",
      pubsubSubscription: "s",
    });
    expect([...Object.keys(env), "DATABASE_URL"].sort()).toEqual([...DERIVED_VARIABLES].sort());
  });
});

describe("parity between stage and prod", () => {
  /** A copy of the stack files with `change` applied to the parsed config of each. */
  function edited(change: Partial<Record<"stage" | "prod", (config: any) => void>>): string {
    const root = copyOfRoot();
    for (const [stack, apply] of Object.entries(change)) {
      const file = join(root, `Pulumi.${stack}.yaml`);
      const doc = parse(readFileSync(file, "utf8"));
      apply(doc.config);
      writeFileSync(file, stringify(doc));
    }
    return root;
  }

  it("the committed stack files set the same variables, and their values differ only where prod says why", () => {
    const report = parityReport(ROOT);
    expect(report).toMatchObject({ stageOnly: [], prodOnly: [], differingValues: [], stale: [] });
    expect(report.onPurpose).toContainEqual({
      name: "OAUTH_CLIENT_ID",
      reason: "prod signs in with the production Firefox Accounts client",
      file: "Pulumi.prod.yaml",
    });
    expect(renderParity(report)).toBe(
      `Parity: stage and prod set the same variables to the same values, except ${report.onPurpose.length} that ` +
        "differ on purpose (monitor:parity.differ).",
    );
  });

  it("shows both values of a variable meant to match, as the plan prints them", () => {
    const root = edited({ prod: (c) => (c["monitor:env"].HIBP_THROTTLE_DELAY = 6000) });
    const report = parityReport(root);
    expect(report.differingValues).toEqual([{ name: "HIBP_THROTTLE_DELAY", stage: "5000", prod: "6000" }]);
    expect(renderParity(report)).toMatch(
      /^Parity: stage and prod differ, except \d+ that differ on purpose \(monitor:parity\.differ\); look at:\n {2}values that differ \(if on purpose, add them to monitor:parity\.differ with the reason\):\n {4}HIBP_THROTTLE_DELAY {2}stage "5000" {2}prod "6000"$/,
    );
  });

  it("reports a key that stage has and prod lacks, and the reverse, unless a stack file says it differs on purpose", () => {
    const root = edited({
      prod: (c) => {
        delete c["monitor:env"].AWS_REGION;
        c["monitor:env"].OTEL_EXPORTER_OTLP_ENDPOINT = "https://otel.example";
      },
    });
    expect(parityReport(root)).toMatchObject({
      stageOnly: ["AWS_REGION"],
      prodOnly: ["OTEL_EXPORTER_OTLP_ENDPOINT"],
    });
    const excused = edited({
      prod: (c) => (c["monitor:env"].OTEL_EXPORTER_OTLP_ENDPOINT = "https://otel.example"),
      stage: (c) => (c["monitor:parity"] = { differ: { OTEL_EXPORTER_OTLP_ENDPOINT: "stage sends no traces" } }),
    });
    const report = parityReport(excused);
    expect(report.prodOnly).toEqual([]);
    expect(report.onPurpose).toContainEqual({
      name: "OTEL_EXPORTER_OTLP_ENDPOINT",
      reason: "stage sends no traces",
      file: "Pulumi.stage.yaml",
    });
  });

  it("names an exception whose values have come to match, so that the entry goes", () => {
    const root = edited({ prod: (c) => (c["monitor:env"].SES_CONFIG_SET = "monitor-stage") });
    const report = parityReport(root);
    expect(report.stale).toEqual(["SES_CONFIG_SET"]);
    expect(renderParity(report)).toMatch(
      /\n {2}in monitor:parity\.differ but set alike \(remove the entry\): SES_CONFIG_SET$/,
    );
  });

  it("refuses an exception that names no plain variable, or gives no reason", () => {
    const { config } = loadStackConfig(ROOT, "prod");
    const differ = { EMAIL_FORM: "typo", SERVER_URL: "derived", SMTP_URL: "secret", ADMINS: "", S3_BUCKET: null };
    const refused = () => buildSpec("prod", { ...config, "monitor:parity": JSON.stringify({ differ }) });
    expect(refused).toThrow(
      /monitor:parity\.differ\.EMAIL_FORM in Pulumi\.prod\.yaml: EMAIL_FORM is not a variable the app reads/,
    );
    expect(refused).toThrow(
      /monitor:parity\.differ\.SERVER_URL in Pulumi\.prod\.yaml: SERVER_URL is computed by the program/,
    );
    expect(refused).toThrow(/monitor:parity\.differ\.SMTP_URL in Pulumi\.prod\.yaml: SMTP_URL is a secret/);
    expect(refused).toThrow(/monitor:parity\.differ\.ADMINS in Pulumi\.prod\.yaml: no reason given\. Fix: say why/);
    expect(refused).toThrow(/monitor:parity\.differ\.S3_BUCKET in Pulumi\.prod\.yaml: no reason given/);
    expect(() => buildSpec("pr-3", { ...loadStackConfig(ROOT, "pr-3").config, "monitor:parity": "{}" })).toThrow(
      /monitor:parity \(from --config\): not read by previews \(pr-<N>\), so it would be silently ignored/,
    );
  });

  it("uses stage's own project number for its URLs (different projects, different numbers)", () => {
    expect(mockProjectNumber("moz-fx-monitor-prod")).not.toBe(mockProjectNumber("moz-fx-monitor-nonprod"));
  });
});
