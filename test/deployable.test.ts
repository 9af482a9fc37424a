import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { decideMigration, executionToken } from "../components/migration-job";
import { loadStackConfig } from "../infra/engine/config-files";
import { DEPLOYED_BUILD_TIMES, DEPLOYED_TAGS, type Evaluation, evaluate } from "../infra/engine/evaluate";
import { mockDigest, mockMigrationHead, mockPreviewPlatform } from "../infra/engine/mocks";
import { runPolicies } from "../policies/offline";
import { maxConnectionsFor } from "../shared-rules/connection-budget";
import {
  INSTANCE,
  JOB,
  ROOT,
  SECRET,
  SERVICE,
  WORKER_POOL,
  evaluateStack,
  ofType,
  one,
  refusedStack,
  waitsForAll,
} from "./harness";

// What a review against GCP's rules found would fail a real `pulumi up`, each with the behaviour that replaces it.

const NONPROD = "moz-fx-monitor-nonprod";
const STAGE_REPO = `us-docker.pkg.dev/${NONPROD}/monitor-nonprod/blurts-server`;
const PROD_REPO = "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server";
/** Previews push to a registry of their own, in their own project (the previews stack's). */
const PREVIEW_REPO = "us-docker.pkg.dev/moz-fx-monitor-previews/monitor-previews/blurts-server";
const DOCKER_IMAGE = "docker:index/image:Image";
const TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember";
const PROJECT_MEMBER = "gcp:projects/iAMMember:IAMMember";

const containerImage = (ev: Evaluation, type = SERVICE) => {
  const inputs = one(ev, type).inputs as any;
  return (type === JOB ? inputs.template.template : inputs.template).containers[0].image as string;
};
const outputs = (ev: Evaluation) =>
  Object.fromEntries(Object.entries(ev.outputs).map(([k, o]) => [k, o.value])) as Record<string, any>;

/** A directory that looks like a checkout of the app. */
function appCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), "blurts-server-"));
  writeFileSync(join(dir, "Dockerfile"), "FROM node:20-alpine\n");
  return dir;
}

describe("1. images resolve with Google credentials alone", () => {
  let stage: Evaluation;
  beforeAll(async () => {
    stage = await evaluateStack("stage", { "monitor:imageTag": "abc1234", "monitor:deployId": "42-1" });
  });

  it("stage asks the Artifact Registry API for the tag, never the Docker provider", () => {
    const tokens = stage.invocations.map((i) => i.token);
    expect(tokens).toContain("gcp:artifactregistry/getDockerImage:getDockerImage");
    expect(tokens.filter((t) => t.startsWith("docker:"))).toEqual([]);
    expect(stage.invocations.find((i) => i.token.endsWith("getDockerImage"))!.inputs).toEqual({
      project: NONPROD,
      location: "us",
      repositoryId: "monitor-nonprod",
      imageName: "blurts-server:abc1234",
    });
    expect(ofType(stage, DOCKER_IMAGE)).toEqual([]);
  });

  it("every container runs the digest the registry reported", () => {
    const digest = mockDigest(`${STAGE_REPO}:abc1234`);
    expect(containerImage(stage)).toBe(`${STAGE_REPO}@${digest}`);
    expect(containerImage(stage, WORKER_POOL)).toBe(`${STAGE_REPO}@${digest}`);
    expect(outputs(stage).imageDigest).toBe(digest);
  });

  it("a preview given the app's checkout builds and pushes its own image with a short-lived token", async () => {
    const checkout = appCheckout();
    const ev = await evaluateStack("pr-123", { "monitor:appSource": checkout });
    const image = one(ev, DOCKER_IMAGE);
    expect(image.inputs).toMatchObject({
      imageName: `${PREVIEW_REPO}:pr-123`,
      build: {
        context: checkout,
        dockerfile: `${checkout}/Dockerfile`,
        platform: "linux/amd64",
        cacheFrom: { images: [`${PREVIEW_REPO}:pr-123`] },
        args: { BUILDKIT_INLINE_CACHE: "1" },
      },
    });
    // The token makes the whole registry block secret: it never reaches the plan, the state in clear, or a log.
    expect(image.inputs.registry).toBe("[secret]");
    expect(image.secretPaths).toEqual(["registry"]);
    expect(image.rawInputs.registry).toEqual({
      server: "us-docker.pkg.dev",
      username: "oauth2accesstoken",
      password: "offline-access-token",
    });
    expect(JSON.stringify(image.inputs)).not.toContain("offline-access-token");
    expect(ev.invocations.map((i) => i.token)).toContain("gcp:organizations/getClientConfig:getClientConfig");
    expect(ev.invocations.map((i) => i.token)).not.toContain("gcp:artifactregistry/getDockerImage:getDockerImage");
    // It runs the digest its own push produced.
    expect(containerImage(ev)).toBe(`${PREVIEW_REPO}@${mockDigest(`${PREVIEW_REPO}:pr-123`)}`);
  });

  it("a preview without a checkout resolves its pr-<N> tag as stage does", async () => {
    const ev = await evaluateStack("pr-123");
    expect(ofType(ev, DOCKER_IMAGE)).toEqual([]);
    expect(ev.invocations.find((i) => i.token.endsWith("getDockerImage"))!.inputs.imageName).toBe(
      "blurts-server:pr-123",
    );
  });

  it.each([
    [
      "stage",
      { "monitor:appSource": "/tmp" },
      /monitor:appSource in Pulumi\.stage\.yaml: not read by stage, so it would be silently ignored \(read by previews \(pr-<N>\)\)\. Fix: remove it from Pulumi\.stage\.yaml/,
    ],
    [
      "pr-5",
      { "monitor:appSource": "app" },
      /^[^\n]*\n {2}- monitor:appSource \(from --config\): expected an absolute path[^\n]*$/,
    ],
    [
      "pr-5",
      { "monitor:appSource": tmpdir() },
      /monitor:appSource \(from --config\): no Dockerfile in ".*": expected the path of a checkout of the app/,
    ],
    [
      "prod",
      { "monitor:imageRepository": "docker.io/mozilla/blurts-server" },
      /monitor:imageRepository in Pulumi\.prod\.yaml: expected an Artifact Registry path/,
    ],
  ])("refuses %s with %j before anything is registered", async (stack, overrides, message) => {
    const { error, registrations } = await refusedStack(stack, overrides);
    expect(error.message).toMatch(new RegExp(`^Stack "${stack}" has invalid configuration`));
    expect(error.message).toMatch(message);
    expect(registrations).toEqual([]);
  });
});

describe("2 and 3. a preview in another project than the platform it shares", () => {
  const PREVIEWS = "moz-fx-monitor-previews";
  let ev: Evaluation;
  beforeAll(async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "pr-77", { "gcp:project": PREVIEWS });
    const platform = mockPreviewPlatform(NONPROD, "us-central1", ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"]);
    ev = await evaluate("pr-77", { config, secretKeys, stackOutputs: () => ({ previewPlatform: platform }) });
  });

  it("binds cloudsql.client in the instance's project, conditioned on that instance", () => {
    const binding = one(ev, PROJECT_MEMBER, "database-instance-cloudsql-client-runtime");
    expect(binding.inputs).toMatchObject({
      project: NONPROD,
      role: "roles/cloudsql.client",
      member: `serviceAccount:monitor-pr-77-run@${PREVIEWS}.iam.gserviceaccount.com`,
      condition: { expression: `resource.name == "projects/${NONPROD}/instances/monitor-previews"` },
    });
    expect(one(ev, "gcp:serviceaccount/account:Account").inputs.project).toBe(PREVIEWS);
  });

  it("may publish to the platform's topic and check that it exists, there", () => {
    const granted = ofType(ev, TOPIC_MEMBER).map((r) => r.inputs);
    expect(granted).toEqual([
      expect.objectContaining({
        project: NONPROD,
        topic: "monitor-preview-hibp-breaches",
        role: "roles/pubsub.publisher",
      }),
      expect.objectContaining({
        project: NONPROD,
        topic: "monitor-preview-hibp-breaches",
        role: "roles/pubsub.viewer",
      }),
    ]);
    for (const g of granted)
      expect(g.member).toBe(`serviceAccount:monitor-pr-77-run@${PREVIEWS}.iam.gserviceaccount.com`);
  });

  it("tells the app which project owns the topic", () => {
    const envs = (one(ev, SERVICE).inputs as any).template.containers[0].envs;
    expect(envs.find((e: any) => e.name === "GCP_PUBSUB_PROJECT_ID").value).toBe(NONPROD);
    expect(envs.find((e: any) => e.name === "GCP_PUBSUB_TOPIC_NAME").value).toBe("monitor-preview-hibp-breaches");
  });
});

describe("4. every deploy that migrates gets its own execution", () => {
  const D = mockDigest("x");

  it("derives the token from the digest and the deploy id, short enough for the execution name", () => {
    expect(executionToken(D, "100-1")).toMatch(/^[0-9a-f]{12}$/);
    expect(executionToken(D, "100-1")).toBe(executionToken(D, "100-1"));
    expect(executionToken(D, "100-2")).not.toBe(executionToken(D, "100-1"));
    expect(executionToken(mockDigest("y"), "100-1")).not.toBe(executionToken(D, "100-1"));
  });

  it("decides: a new image migrates, a re-run of the same deploy does not, a retry does, a rollback does not", () => {
    const previous = {
      digest: D,
      buildTime: "2024-09-01T00:00:00Z",
      migrationToken: executionToken(D, "100-1"),
      migrationHead: "20240901000000_b.js",
    };
    const newer = {
      digest: mockDigest("newer"),
      buildTime: "2024-09-02T00:00:00Z",
      migrationHead: "20240902000000_c.js",
    };
    expect(decideMigration({ ...newer, deployId: "200-1", keep: false, previous })).toEqual({
      runs: true,
      token: executionToken(newer.digest, "200-1"),
      reason: "npm run db:migrate runs for deploy 200-1 before traffic moves",
      databaseHead: "20240902000000_c.js",
    });
    expect(decideMigration({ digest: D, deployId: "100-1", keep: false, previous })).toMatchObject({
      runs: false,
      token: previous.migrationToken,
    });
    expect(decideMigration({ digest: D, deployId: "100-2", keep: false, previous })).toMatchObject({ runs: true });
    expect(decideMigration({ digest: D, keep: true, previous })).toEqual({
      token: previous.migrationToken,
      runs: false,
      reason: "the image is unchanged: no migration runs",
      databaseHead: previous.migrationHead,
    });
    const older = {
      digest: mockDigest("older"),
      buildTime: "2024-08-30T00:00:00Z",
      migrationHead: "20240830000000_a.js",
    };
    expect(decideMigration({ ...older, deployId: "300-1", keep: false, previous })).toEqual({
      runs: false,
      token: previous.migrationToken,
      reason: expect.stringMatching(
        /^this image's newest migration \(20240830000000_a\.js\) is older than the database's/,
      ),
      // The database keeps the newer migrations: the next deploy compares with them, not with this image.
      databaseHead: previous.migrationHead,
    });
  });

  it("decides by migration set, not build time: a fix built later from a release branch runs no migration (issue 14, item 12)", () => {
    // main applied 20240905..._d.js; the fix was cut from the release before it and built after everything else.
    const previous = {
      digest: D,
      buildTime: "2024-09-05T00:00:00Z",
      migrationToken: executionToken(D, "100-1"),
      migrationHead: "20240905000000_d.js",
    };
    const fix = { digest: mockDigest("fix"), buildTime: "2024-09-06T00:00:00Z", migrationHead: "20240901000000_b.js" };
    expect(decideMigration({ ...fix, deployId: "400-1", keep: false, previous })).toMatchObject({
      runs: false,
      token: previous.migrationToken,
      databaseHead: "20240905000000_d.js",
    });
    // The same set (main's next merge after the fix, or a rollback to a release with the same migrations) migrates:
    // knex applies nothing it has, and anything merged with an older timestamp it does not have yet.
    const same = {
      digest: mockDigest("same"),
      buildTime: "2024-09-04T00:00:00Z",
      migrationHead: "20240905000000_d.js",
    };
    expect(decideMigration({ ...same, deployId: "500-1", keep: false, previous })).toMatchObject({ runs: true });
  });

  it("falls back to build time only for images that record no migration set (built before the record existed)", () => {
    const previous = { digest: D, buildTime: "2024-09-01T00:00:00Z", migrationToken: executionToken(D, "100-1") };
    const older = { digest: mockDigest("older"), buildTime: "2024-08-30T00:00:00Z" };
    expect(decideMigration({ ...older, deployId: "300-1", keep: false, previous })).toMatchObject({
      runs: false,
      token: previous.migrationToken,
      reason: expect.stringMatching(/^rollback: .*records no migration set; .*newer migrations stay applied$/),
    });
    const later = { digest: mockDigest("later"), buildTime: "2024-09-02T00:00:00Z" };
    expect(decideMigration({ ...later, deployId: "300-1", keep: false, previous })).toMatchObject({ runs: true });
  });

  it("stage keeps its migrations when a release-branch fix built after main's last merge is deployed to it", async () => {
    // The fix (abc1234) is built in 2025 by the engine's clock, after what stage runs; what stage's database has is
    // newer than anything the fix carries.
    const { config, secretKeys } = loadStackConfig(ROOT, "stage", {
      "monitor:imageTag": "abc1234",
      "monitor:deployId": "9876543210-3",
    });
    const running = await evaluateStack("stage");
    const stageOutputs: Record<string, unknown> = { ...outputs(running), migrationHead: "29991231000000_main_only.js" };
    const ev = await evaluate("stage", { config, secretKeys, stackOutputs: () => stageOutputs });
    expect(one(ev, JOB, "migration").inputs.runExecutionToken).toBe(stageOutputs.migrationToken);
    expect(outputs(ev).migration).toMatchObject({ runs: false });
    expect(outputs(ev).migration.reason).toContain("older than the database's (29991231000000_main_only.js)");
    expect(outputs(ev).migrationHead).toBe("29991231000000_main_only.js");
  });

  it("stage runs the migration of a new image under the deploy's own token", async () => {
    const ev = await evaluateStack("stage", { "monitor:imageTag": "abc1234", "monitor:deployId": "9876543210-2" });
    const token = executionToken(mockDigest(`${STAGE_REPO}:abc1234`), "9876543210-2");
    expect(one(ev, JOB, "migration").inputs.runExecutionToken).toBe(token);
    expect(outputs(ev).migrationToken).toBe(token);
    expect(outputs(ev).migration).toEqual({
      runs: true,
      reason: "npm run db:migrate runs for deploy 9876543210-2 before traffic moves",
    });
  });

  it("a prod rollback to an older release keeps the running token and says so in the plan", async () => {
    const ev = await evaluateStack("prod", { "monitor:imageTag": "2024.08.30", "monitor:deployId": "555-1" });
    const deployed = await evaluateStack("prod");
    expect(one(ev, JOB, "migration").inputs.runExecutionToken).toBe(outputs(deployed).migrationToken);
    expect(outputs(ev).migration).toEqual({
      runs: false,
      reason:
        `this image's newest migration (${mockMigrationHead("2024-08-30T00:00:00Z")}) is older than the database's ` +
        `(${mockMigrationHead(DEPLOYED_BUILD_TIMES.prod)}): a rollback or a release-branch fix. No migration runs ` +
        "(knex would refuse the missing files); newer migrations stay applied",
    });
    // The rolled-back image is what runs.
    expect(containerImage(ev)).toBe(`${PROD_REPO}@${mockDigest(`${PROD_REPO}:2024.08.30`)}`);
  });

  it("an env-var change keeps the image and runs nothing", async () => {
    const ev = await evaluateStack("prod");
    expect(outputs(ev).imageTag).toBe(DEPLOYED_TAGS.prod);
    expect(outputs(ev).migration.runs).toBe(false);
  });

  it("gives the job time for every attempt, above the provider's 20-minute default", async () => {
    const ev = await evaluateStack("stage", { "monitor:imageTag": "abc1234" });
    const job = one(ev, JOB, "migration");
    const template = (job.inputs as any).template.template;
    const attempts = template.maxRetries + 1;
    const seconds = Number(template.timeout.replace(/s$/, ""));
    for (const wait of [job.customTimeouts?.create, job.customTimeouts?.update]) {
      expect(Number(wait!.replace(/m$/, "")) * 60).toBeGreaterThan(seconds * attempts);
      expect(Number(wait!.replace(/m$/, "")) * 60).toBeGreaterThan(20 * 60);
    }
  });

  it.each([["Upper-Case"], ["-starts-with-dash"], ["x".repeat(41)], ["has space"]])(
    "refuses the deploy id %j",
    async (id) => {
      const { error, registrations } = await refusedStack("stage", { "monitor:deployId": id });
      expect(error.message).toMatch(
        /monitor:deployId in Pulumi\.stage\.yaml: expected a deploy id of lowercase letters, digits and '-'/,
      );
      expect(registrations).toEqual([]);
    },
  );
});

describe("5. an environment's first deploy is two steps", () => {
  /** Before its first update a stack's reference to itself reads no outputs. */
  const NEVER_DEPLOYED = () => ({});
  const STAGE_SECRETS = ["monitor-stage-nextauth-secret", "monitor-stage-smtp-url"];
  let bootstrap: Evaluation;
  beforeAll(async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "stage", { "monitor:bootstrap": "true" });
    bootstrap = await evaluate("stage", {
      config,
      secretKeys,
      stackOutputs: NEVER_DEPLOYED,
      missingSecretVersions: [...STAGE_SECRETS, "monitor-preview-oauth-client-secret"],
    });
  });

  it("bootstrap creates what must exist before the app can start, and nothing that runs it", () => {
    const types = new Set(bootstrap.registrations.map((r) => r.type));
    for (const needed of [
      INSTANCE,
      "gcp:sql/database:Database",
      "gcp:sql/user:User",
      SECRET,
      "gcp:serviceaccount/account:Account",
      "gcp:pubsub/topic:Topic",
      "gcp:pubsub/subscription:Subscription",
    ]) {
      expect(types).toContain(needed);
    }
    for (const absent of [
      SERVICE,
      JOB,
      WORKER_POOL,
      "gcp:cloudscheduler/job:Job",
      "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    ]) {
      expect(types).not.toContain(absent);
    }
    // No image is needed, so nothing reads the registry.
    expect(bootstrap.invocations.map((i) => i.token)).not.toContain(
      "gcp:artifactregistry/getDockerImage:getDockerImage",
    );
  });

  it("says it is a bootstrap", () => {
    expect(outputs(bootstrap).bootstrap).toBe(true);
  });

  it("lists the secret versions still owed, as the commands that add them", () => {
    expect(outputs(bootstrap).owedSecretVersions).toEqual([
      `gcloud secrets versions add monitor-stage-nextauth-secret --project ${NONPROD} --data-file=-`,
      `gcloud secrets versions add monitor-stage-smtp-url --project ${NONPROD} --data-file=-`,
    ]);
  });

  it("a normal deploy with versions owed fails at plan time with that list, before the rollout", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "stage", { "monitor:imageTag": "abc1234" });
    await expect(evaluate("stage", { config, secretKeys, missingSecretVersions: STAGE_SECRETS })).rejects.toThrow(
      new RegExp(
        '^Stack "stage": NEXTAUTH_SECRET \\(it has no version yet\\), SMTP_URL \\(it has no version yet\\) cannot be read by the app\\. ' +
          "Fix: add the versions, then deploy again \\(.*\\):\\n  gcloud secrets versions add monitor-stage-nextauth-secret",
      ),
    );
  });

  it("a bootstrap lists what it cannot confirm (an API only now enabled); a deploy lets the provider's error stand", async () => {
    const disabled =
      "googleapi: Error 403: Secret Manager API has not been used in project 1 before or it is disabled.";
    const failing = { "monitor-stage-smtp-url": disabled };
    const first = loadStackConfig(ROOT, "stage", { "monitor:bootstrap": "true" });
    const ev = await evaluate("stage", { ...first, stackOutputs: NEVER_DEPLOYED, failingSecretVersions: failing });
    expect(outputs(ev).owedSecretVersions).toEqual([
      `gcloud secrets versions add monitor-stage-smtp-url --project ${NONPROD} --data-file=-`,
    ]);
    const deploy = loadStackConfig(ROOT, "stage", { "monitor:imageTag": "abc1234" });
    await expect(evaluate("stage", { ...deploy, failingSecretVersions: failing })).rejects.toThrow(
      /Secret Manager API has not been used/,
    );
  });

  it("a bootstrap of a stack that already runs an image is refused at plan time, naming what runs", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "prod", { "monitor:bootstrap": "true" });
    // The offline engine's prod runs 2024.09.01 (its last outputs).
    await expect(evaluate("prod", { config, secretKeys })).rejects.toThrow(
      /^Stack "prod": monitor:bootstrap: prod is already deployed and runs 2024\.09\.01 \(sha256:[0-9a-f]{64}\)\. .*would delete what runs it: the web service.* Fix: drop monitor:bootstrap \(npx pulumi config rm --stack prod monitor:bootstrap\)/,
    );
  });

  it("a bootstrap may run again while the stack has only a bootstrap's outputs (no image)", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "stage", { "monitor:bootstrap": "true" });
    const again = await evaluate("stage", {
      config,
      secretKeys,
      stackOutputs: () => ({ bootstrap: true, owedSecretVersions: [], databaseName: "monitor_stage" }),
    });
    expect(outputs(again).bootstrap).toBe(true);
  });

  it.each([
    [
      "stage",
      { "monitor:bootstrap": "true", "monitor:imageTag": "abc1234" },
      /monitor:imageTag: a bootstrap deploys no image and runs no migration\. Fix: drop monitor:imageTag/,
    ],
    [
      "prod",
      { "monitor:bootstrap": "true", "monitor:deployId": "1-1" },
      /monitor:deployId: a bootstrap deploys no image/,
    ],
    ["pr-4", { "monitor:bootstrap": "true" }, /monitor:bootstrap \(from --config\): not read by previews/],
    ["stage", { "monitor:bootstrap": "yes" }, /monitor:bootstrap in Pulumi\.stage\.yaml: expected true or false/],
  ])("refuses %s with %j", async (stack, overrides, message) => {
    const { error, registrations } = await refusedStack(stack, overrides);
    expect(error.message).toMatch(message);
    expect(registrations).toEqual([]);
  });
});

describe("9. every instance is sized for every process that may connect", () => {
  it.each([
    // web max + worker instances + 3 scheduled jobs + the migration, 5 connections each (the app's knex pool
    // outside APP_ENV=cloudrun).
    ["stage", "db-custom-1-3840", 5 + 1 + 3 + 1, 100],
    ["prod", "db-custom-2-7680", 50 + 2 + 3 + 1, 290],
  ] as const)("%s sets max_connections explicitly from the app's pool", async (stack, tier, processes, expected) => {
    const ev = await evaluateStack(stack);
    const settings = (one(ev, INSTANCE, "database-instance").inputs as any).settings;
    expect(maxConnectionsFor(tier, processes, 5)).toBe(expected);
    expect(settings.databaseFlags).toEqual([{ name: "max_connections", value: String(expected) }]);
    expect(settings.userLabels["connections-per-process"]).toBe("5");
    expect(runPolicies(ev).filter((v) => v.policy === "connection-budget")).toEqual([]);
  });

  it("sizes the shared preview instance for the active previews' instances and migrations, at a preview's pool (10)", async () => {
    const ev = await evaluateStack("previews");
    const settings = (ofType(ev, INSTANCE).find((r) => r.name === "preview-platform-instance")!.inputs as any).settings;
    // 20 active x (1 instance + 1 migration) x 10 + 10 reserved = 410, under db-custom-4-16384's default of 500.
    expect(maxConnectionsFor(settings.tier, 20 * (1 + 1), 10)).toBe(500);
    expect(settings.databaseFlags).toEqual([{ name: "max_connections", value: "500" }]);
  });

  it("follows the configured pool", async () => {
    const ev = await evaluateStack("prod", { "monitor:connectionPool": "5" });
    const settings = (one(ev, INSTANCE, "database-instance").inputs as any).settings;
    expect(settings.databaseFlags[0].value).toBe(String(maxConnectionsFor("db-custom-2-7680", 56, 5)));
  });

  it("refuses a configured max_connections below what prod may open", async () => {
    const { error, registrations } = await refusedStack("prod", {
      "monitor:database": JSON.stringify({ maxConnections: 250 }),
    });
    expect(error.message).toMatch(
      /monitor:database\.maxConnections in Pulumi\.prod\.yaml: 250 is below the 290 connections prod may open \(56 processes x 5 per pool \+ 10 reserved\)\. Fix: raise it/,
    );
    expect(registrations).toEqual([]);
  });
});

describe("IAM where the resource lives: the deployer may act as exactly what it deploys", () => {
  const ACT_AS = "gcp:serviceaccount/iAMMember:IAMMember";
  it.each([
    ["stage", NONPROD],
    ["prod", "moz-fx-monitor-prod"],
  ] as const)(
    "%s grants its deployer serviceAccountUser on the runtime, worker and scheduler accounts only",
    async (stack, project) => {
      const ev = await evaluateStack(stack);
      const grants = ofType(ev, ACT_AS);
      expect(grants.map((g) => g.name).sort()).toEqual([
        "runtime-act-as-deployer",
        "scheduler-act-as-deployer",
        "worker-act-as-deployer",
      ]);
      for (const g of grants) {
        expect(g.inputs).toMatchObject({
          role: "roles/iam.serviceAccountUser",
          member: `serviceAccount:monitor-deploy-${stack}@${project}.iam.gserviceaccount.com`,
        });
        expect(String(g.inputs.serviceAccountId)).toMatch(
          new RegExp(`^projects/${project}/serviceAccounts/monitor-${stack}-(run|worker|scheduler)@`),
        );
      }
      // Never project-wide.
      expect(ofType(ev, PROJECT_MEMBER).map((r) => r.inputs.role)).not.toContain("roles/iam.serviceAccountUser");
    },
  );

  it("every Cloud Run resource and scheduler trigger waits for the grant that lets its deployer act as its account", async () => {
    const ev = await evaluateStack("prod");
    const grants = new Set(ofType(ev, ACT_AS).map((r) => r.urn));
    const dependsOnGrant = (r: (typeof ev.registrations)[number]) =>
      [...waitsForAll(ev, r)].some((urn) => grants.has(urn));
    for (const r of [...ofType(ev, SERVICE), ...ofType(ev, JOB), ...ofType(ev, WORKER_POOL)]) {
      expect(dependsOnGrant(r), r.name).toBe(true);
    }
  });

  it("stage grants the preview deployer nothing (the previews stack grants it, in the previews project)", async () => {
    const ev = await evaluateStack("stage");
    const toPreviews = ev.registrations.filter((r) => JSON.stringify(r.inputs).includes("monitor-deploy-preview"));
    expect(toPreviews.map((r) => r.name)).toEqual([]);
  });
});

describe("two registries: stage and prod deploy from the pipeline's, previews push to their own", () => {
  it("stage, prod and the pipeline stack name one image repository; previews and their platform another", () => {
    const repositories = (stacks: string[]) =>
      new Set(stacks.map((stack) => loadStackConfig(ROOT, stack).config["monitor:imageRepository"]));
    expect(repositories(["stage", "prod", "pipeline"])).toEqual(new Set([STAGE_REPO]));
    expect(repositories(["pr-1", "previews"])).toEqual(new Set([PREVIEW_REPO]));
  });
});

describe("config GCP would refuse on deploy is refused at plan time", () => {
  it.each([
    [
      "prod",
      { "monitor:service": JSON.stringify({ cpu: "1", memory: "8Gi" }) },
      /monitor:service in Pulumi\.prod\.yaml: memory 8Gi needs at least 2 CPU, not 1\. Fix: change monitor:service\.cpu or monitor:service\.memory/,
    ],
    [
      "prod",
      { "monitor:service": JSON.stringify({ cpu: "4", memory: "1Gi" }) },
      /monitor:service in Pulumi\.prod\.yaml: 4 CPU needs at least 2Gi of memory, not 1Gi/,
    ],
    [
      "stage",
      { "monitor:worker": JSON.stringify({ memory: "64Gi" }) },
      /monitor:worker in Pulumi\.stage\.yaml: memory 64Gi is above Cloud Run's 32Gi/,
    ],
    [
      "stage",
      { "monitor:worker": JSON.stringify({ memory: "256Mi" }) },
      /monitor:worker in Pulumi\.stage\.yaml: memory 256Mi is below Cloud Run's 512Mi/,
    ],
  ])("refuses %s with %j", async (stack, overrides, message) => {
    const { error, registrations } = await refusedStack(stack, overrides);
    expect(error.message).toMatch(message);
    expect(registrations).toEqual([]);
  });

  it("accepts a shape at the limits (the Cirrus sidecar takes the rest of the instance's 8 CPU)", async () => {
    const ev = await evaluateStack("prod", { "monitor:service": JSON.stringify({ cpu: "4", memory: "16Gi" }) });
    expect(
      (one(ev, SERVICE).inputs as any).template.containers.find((c: any) => c.name === "app").resources.limits,
    ).toEqual({ cpu: "4", memory: "16Gi" });
  });
});

describe("APP_ENV is what the stack is, never typed by hand", () => {
  const appEnvOf = (ev: Evaluation) =>
    (one(ev, SERVICE).inputs as any).template.containers
      .find((c: any) => c.name === "app" || c.envs)
      .envs.find((e: any) => e.name === "APP_ENV").value;

  it.each([
    ["prod", "production"],
    ["stage", "stage"],
    ["pr-123", "cloudrun"],
  ])(
    "%s runs as APP_ENV=%s (the app gives prod behaviour, like its Firefox Accounts issuer, to production only)",
    async (stack, expected) => {
      expect(appEnvOf(await evaluateStack(stack))).toBe(expected);
    },
  );

  it("refuses APP_ENV in config, as every derived variable", async () => {
    const env = JSON.parse(loadStackConfig(ROOT, "prod").config["monitor:env"]);
    const { error, registrations } = await refusedStack("prod", {
      "monitor:env": JSON.stringify({ ...env, APP_ENV: "cloudrun" }),
    });
    expect(error.message).toMatch(/monitor:env\.APP_ENV in Pulumi\.prod\.yaml: APP_ENV is computed by the program/);
    expect(registrations).toEqual([]);
  });

  it("DATABASE_URL names the Cloud SQL socket, so the app connects under any APP_ENV", async () => {
    const ev = await evaluateStack("prod");
    const version = ofType(ev, "gcp:secretmanager/secretVersion:SecretVersion").find(
      (r) => r.name === "secrets-database-url",
    )!;
    expect(String(version.rawInputs.secretData)).toMatch(
      /^postgres:\/\/monitor_prod_app:[A-Za-z0-9]{32}@\/monitor_prod\?host=%2Fcloudsql%2Fmoz-fx-monitor-prod%3Aus-central1%3Amonitor-prod$/,
    );
  });
});
