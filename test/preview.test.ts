import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import {
  ORGANIZATION,
  PROJECT as PROJECT_NAME,
  type Evaluation,
  type Registration,
  evaluate,
} from "../infra/engine/evaluate";
import { mockDigest, mockPreviewPlatform, mockProjectNumber } from "../infra/engine/mocks";
import { renderText, toPlan } from "../infra/engine/render";
import { executionToken } from "../components/migration-job";
import {
  DATABASE,
  JOB,
  ROOT,
  SECRET,
  SECRET_READER,
  SECRET_VERSION,
  SERVICE,
  USER,
  deletedBefore,
  evaluateStack,
  ofType,
  one,
  secretValues,
} from "./harness";

const REPOSITORY = "us-docker.pkg.dev/moz-fx-monitor-previews/monitor-previews/blurts-server";
const PROJECT_NUMBER = mockProjectNumber("moz-fx-monitor-previews");
const URL = `https://monitor-pr-123-${PROJECT_NUMBER}.us-central1.run.app`;
const CONNECTION = "moz-fx-monitor-previews:us-central1:monitor-previews";

/** monitor:preview as Pulumi.yaml sets it, for tests that change one field of it. */
const COMMITTED_PREVIEW = JSON.parse(loadStackConfig(ROOT, "pr-123").config["monitor:preview"]);

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateStack("pr-123");
});

const container = (r: Registration) =>
  (r.type === JOB ? (r.inputs as any).template : r.inputs).template.containers[0] as Record<string, any>;
const envOf = (r: Registration) => Object.fromEntries(container(r).envs.map((e: any) => [e.name, e]));

describe("pr-123 declares a preview and nothing else", () => {
  it("declares exactly the preview's resources", () => {
    const declared = ev.registrations.map((r) => `${r.type} ${r.name}`).sort();
    expect(declared).toEqual(
      [
        // No API is enabled here: the previews stack enabled them, and the preview deployer may not.
        "pulumi:providers:gcp gcp",
        "pulumi:pulumi:StackReference preview-platform",
        "monitor:components:MonitorApp app",
        "monitor:components:RuntimeIdentity runtime",
        "gcp:serviceaccount/account:Account runtime",
        "gcp:projects/iAMMember:IAMMember database-instance-cloudsql-client-runtime",
        "gcp:pubsub/topicIAMMember:TopicIAMMember breach-notifications-publisher-runtime",
        "gcp:pubsub/topicIAMMember:TopicIAMMember breach-notifications-viewer-runtime",
        "monitor:components:AppDatabase database",
        "random:index/randomPassword:RandomPassword database-password",
        `${USER} database-user`,
        `${DATABASE} database`,
        "monitor:components:PreviewDatabaseAccess database-access",
        `${JOB} database-access`,
        "monitor:components:AppSecrets secrets",
        `${SECRET} secrets-database-url`,
        `${SECRET_VERSION} secrets-database-url`,
        `${SECRET_READER} secrets-database-url-reader-runtime`,
        `${SECRET} secrets-nextauth-secret`,
        `${SECRET_VERSION} secrets-nextauth-secret`,
        "random:index/randomPassword:RandomPassword secrets-nextauth-secret-value",
        `${SECRET_READER} secrets-nextauth-secret-reader-runtime`,
        `${SECRET} secrets-hibp-notify-token`,
        `${SECRET_VERSION} secrets-hibp-notify-token`,
        "random:index/randomPassword:RandomPassword secrets-hibp-notify-token-value",
        `${SECRET_READER} secrets-hibp-notify-token-reader-runtime`,
        `${SECRET_READER} secrets-oauth-client-secret-reader-runtime`,
        `${SECRET_READER} secrets-hibp-kanon-api-token-reader-runtime`,
        "monitor:components:MigrationJob migration",
        `${JOB} migration`,
        "monitor:components:WebService web",
        `${SERVICE} web`,
        "gcp:cloudrunv2/serviceIamMember:ServiceIamMember web-public-invoker",
      ].sort(),
    );
  });

  it("exports the URL, database, image and migration job", () => {
    expect(Object.fromEntries(Object.entries(ev.outputs).map(([k, o]) => [k, o.value]))).toEqual({
      url: URL,
      serviceName: "monitor-pr-123",
      databaseName: "monitor_pr_123",
      imageTag: "pr-123",
      imageDigest: mockDigest(`${REPOSITORY}:pr-123`),
      migrationJobName: "monitor-pr-123-migrate",
      migration: { runs: true, reason: expect.stringMatching(/^npm run db:migrate runs for a manual deploy/) },
    });
    expect(Object.values(ev.outputs).some((o) => o.secret)).toBe(false);
  });
});

describe("the database on the shared instance", () => {
  it("creates a database and its owner on the instance the previews stack exports", () => {
    const database = one(ev, DATABASE);
    const user = one(ev, USER);
    expect(database.inputs).toMatchObject({
      instance: "monitor-previews",
      name: "monitor_pr_123",
      project: "moz-fx-monitor-previews",
    });
    expect(user.inputs).toMatchObject({ instance: "monitor-previews", name: "monitor_pr_123_app" });
    expect(user.secretPaths).toEqual(["password"]);
  });

  it("leaves nothing behind on the shared instance", () => {
    for (const r of [one(ev, DATABASE), one(ev, USER)]) {
      expect(r.inputs.deletionPolicy ?? "DELETE").toBe("DELETE");
      expect(r.retainOnDelete).toBe(false);
    }
  });

  it("stores DATABASE_URL with the user's password in Secret Manager, never as a plain value", () => {
    const version = one(ev, SECRET_VERSION, "secrets-database-url");
    const password = one(ev, USER).rawInputs.password;
    expect(version.secretPaths).toEqual(["secretData"]);
    expect(version.rawInputs.secretData).toBe(
      `postgres://monitor_pr_123_app:${String(password)}@/monitor_pr_123?host=%2Fcloudsql%2F${encodeURIComponent(CONNECTION)}`,
    );
    expect(String(password)).toMatch(/^[A-Za-z0-9]{32}$/);
  });
});

describe("the runtime identity", () => {
  it("may connect to the shared preview instance only", () => {
    const grant = one(ev, "gcp:projects/iAMMember:IAMMember");
    expect(grant.inputs.role).toBe("roles/cloudsql.client");
    expect(grant.inputs.member).toBe(
      "serviceAccount:monitor-pr-123-run@moz-fx-monitor-previews.iam.gserviceaccount.com",
    );
    expect((grant.inputs.condition as any).expression).toBe(
      'resource.name == "projects/moz-fx-monitor-previews/instances/monitor-previews"',
    );
  });

  it("reads each of its secrets, and only its runtime identity does", () => {
    const readers = ofType(ev, SECRET_READER);
    expect(readers).toHaveLength(5);
    for (const r of readers) {
      expect(r.inputs.role).toBe("roles/secretmanager.secretAccessor");
      expect(r.inputs.member).toBe("serviceAccount:monitor-pr-123-run@moz-fx-monitor-previews.iam.gserviceaccount.com");
    }
    const readable = readers.map((r) => r.inputs.secretId).sort();
    expect(readable).toEqual(
      [
        `projects/${PROJECT_NUMBER}/secrets/monitor-pr-123-database-url`,
        `projects/${PROJECT_NUMBER}/secrets/monitor-pr-123-hibp-notify-token`,
        `projects/${PROJECT_NUMBER}/secrets/monitor-pr-123-nextauth-secret`,
        `projects/${PROJECT_NUMBER}/secrets/monitor-preview-hibp-kanon-api-token`,
        `projects/${PROJECT_NUMBER}/secrets/monitor-preview-oauth-client-secret`,
      ].sort(),
    );
  });
});

describe("the migration job", () => {
  it("runs npm run db:migrate on the deployed digest and gates the deploy on it", () => {
    const job = one(ev, JOB, "migration");
    const digest = mockDigest(`${REPOSITORY}:pr-123`);
    expect(job.inputs.name).toBe("monitor-pr-123-migrate");
    expect(container(job).image).toBe(`${REPOSITORY}@${digest}`);
    expect([...container(job).commands, ...container(job).args]).toEqual(["npm", "run", "db:migrate"]);
    expect(job.inputs.runExecutionToken).toBe(executionToken(digest, undefined));
    expect(job.inputs.startExecutionToken).toBeUndefined();
    expect(`${String(job.inputs.name)}${String(job.inputs.runExecutionToken)}`.length).toBeLessThan(63);
  });

  it("connects like the service does: same env, same socket, same identity", () => {
    const job = one(ev, JOB, "migration");
    const service = one(ev, SERVICE);
    expect(container(job).envs).toEqual(container(service).envs);
    expect(job.inputs.template).toMatchObject({
      template: {
        serviceAccount: "monitor-pr-123-run@moz-fx-monitor-previews.iam.gserviceaccount.com",
        volumes: [{ name: "cloudsql", cloudSqlInstance: { instances: [CONNECTION] } }],
      },
    });
  });
});

describe("the web service", () => {
  it("runs the image by digest, resolved from the pr-<N> tag", () => {
    expect(container(one(ev, SERVICE)).image).toBe(`${REPOSITORY}@${mockDigest(`${REPOSITORY}:pr-123`)}`);
  });

  it("is told its own URL, which Cloud Run will give it", () => {
    const env = envOf(one(ev, SERVICE));
    expect(env.SERVER_URL.value).toBe(URL);
    expect(env.NEXTAUTH_URL.value).toBe(URL);
    expect(env.PG_HOST.value).toBe(`/cloudsql/${CONNECTION}`);
    expect(env.GCP_PUBSUB_PROJECT_ID.value).toBe("moz-fx-monitor-previews");
    expect(env.APP_ENV.value).toBe("cloudrun");
  });

  it("reads every secret by reference, pinned to the version this stack wrote", () => {
    const env = envOf(one(ev, SERVICE));
    for (const name of ["DATABASE_URL", "NEXTAUTH_SECRET", "HIBP_NOTIFY_TOKEN"]) {
      expect(env[name].value).toBeUndefined();
      expect(env[name].valueSource.secretKeyRef).toEqual({
        secret: `projects/${PROJECT_NUMBER}/secrets/monitor-pr-123-${name.toLowerCase().replace(/_/g, "-")}`,
        version: "1",
      });
    }
    for (const name of ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"]) {
      expect(env[name].valueSource.secretKeyRef).toEqual({
        secret: `projects/${PROJECT_NUMBER}/secrets/monitor-preview-${name.toLowerCase().replace(/_/g, "-")}`,
        version: "latest",
      });
    }
  });

  it("mounts the shared instance's socket, probes the Dockerflow endpoints and scales to zero", () => {
    const service = one(ev, SERVICE);
    const c = container(service);
    expect(service.inputs.template).toMatchObject({
      scaling: { minInstanceCount: 0, maxInstanceCount: 1 },
      volumes: [{ name: "cloudsql", cloudSqlInstance: { instances: [CONNECTION] } }],
    });
    expect(c.volumeMounts).toEqual([{ name: "cloudsql", mountPath: "/cloudsql" }]);
    expect(c.startupProbe.httpGet.path).toBe("/__heartbeat__");
    expect(c.livenessProbe.httpGet.path).toBe("/__lbheartbeat__");
  });

  it("is public: anyone may invoke it", () => {
    const invoker = one(ev, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember");
    expect(invoker.inputs).toMatchObject({ name: "monitor-pr-123", role: "roles/run.invoker", member: "allUsers" });
  });

  it("waits for the migration, the database, its secrets and its identity before it deploys", () => {
    const service = one(ev, SERVICE);
    const urns = (type: string) => ofType(ev, type).map((r) => r.urn);
    expect(service.dependsOn).toEqual(
      expect.arrayContaining([...urns(JOB), ...urns(DATABASE), ...urns(SECRET_READER)]),
    );
    expect(service.dependsOn).toEqual(expect.arrayContaining(urns("gcp:projects/iAMMember:IAMMember")));
    expect(one(ev, JOB, "migration").dependsOn).toEqual(
      expect.arrayContaining([
        ...urns(DATABASE),
        ...urns(SECRET_READER),
        ...urns(JOB).filter((u) => !/migration$/.test(u)),
      ]),
    );
    // The image comes from the registry lookup and the identity's email: recorded per property, as policies see it.
    expect(service.propertyDependencies.template).toEqual(
      expect.arrayContaining(urns("gcp:serviceaccount/account:Account")),
    );
  });
});

describe("teardown", () => {
  it("nothing is protected and nothing refuses deletion", () => {
    for (const r of ev.registrations) {
      expect(r.protect, r.urn).toBe(false);
      expect(r.inputs.deletionProtection ?? false, r.urn).toBe(false);
    }
  });

  it("removes the service and the job before the database, and the database before its user", () => {
    const database = one(ev, DATABASE);
    expect(deletedBefore(ev, one(ev, SERVICE), database)).toBe(true);
    expect(deletedBefore(ev, one(ev, JOB, "migration"), database)).toBe(true);
    // The database access job, whose grants live in the database: gone before it, and the user after both.
    expect(deletedBefore(ev, one(ev, JOB, "database-access"), database)).toBe(true);
    expect(deletedBefore(ev, database, one(ev, USER))).toBe(true);
    expect(deletedBefore(ev, one(ev, USER), database)).toBe(false);
    expect(deletedBefore(ev, database, one(ev, SERVICE))).toBe(false);
  });

  it("labels everything that takes labels with the app, the environment and the PR", () => {
    const labelled = ev.registrations.filter((r) => [SERVICE, JOB, SECRET].includes(r.type));
    expect(labelled).toHaveLength(6);
    for (const r of labelled) {
      expect(r.inputs.labels).toEqual({
        app: "monitor",
        environment: "preview",
        stack: "pr-123",
        pr: "123",
        "managed-by": "pulumi",
      });
    }
  });
});

describe("determinism and secrecy", () => {
  it("two evaluations of one stack give the same graph", async () => {
    const again = await evaluateStack("pr-123");
    const shape = (e: Evaluation) =>
      e.registrations
        .map((r) => ({ urn: r.urn, inputs: r.rawInputs, dependsOn: r.dependsOn, parent: r.parent, protect: r.protect }))
        .sort((a, b) => a.urn.localeCompare(b.urn));
    expect(shape(again)).toEqual(shape(ev));
  });

  it("no secret value reaches the plan, as text or JSON", () => {
    const secrets = secretValues(ev);
    expect(secrets.length).toBeGreaterThanOrEqual(4);
    const plan = toPlan(ev);
    const printed = renderText(plan) + JSON.stringify(plan);
    for (const value of secrets) expect(printed).not.toContain(value);
    expect(printed).toContain("[secret]");
  });
});

describe("config that changes a preview", () => {
  it("deploys another tag when monitor:imageTag says so", async () => {
    const other = await evaluateStack("pr-123", { "monitor:imageTag": "abc1234" });
    expect(container(one(other, SERVICE)).image).toBe(`${REPOSITORY}@${mockDigest(`${REPOSITORY}:abc1234`)}`);
    expect(other.outputs.imageTag.value).toBe("abc1234");
  });

  it("uses a dedicated instance when monitor:preview.instanceConnectionName names one", async () => {
    const preview = JSON.stringify({
      ...COMMITTED_PREVIEW,
      instanceConnectionName: "moz-fx-monitor-nonprod:us-central1:pr-123-pg17",
    });
    const other = await evaluateStack("pr-123", { "monitor:preview": preview });
    expect(one(other, DATABASE).inputs.instance).toBe("pr-123-pg17");
    expect(envOf(one(other, SERVICE)).PG_HOST.value).toBe("/cloudsql/moz-fx-monitor-nonprod:us-central1:pr-123-pg17");
  });

  it("reads the platform from this project's previews stack, or from the stack monitor:preview.platformStack names", async () => {
    expect(one(ev, "pulumi:pulumi:StackReference").inputs.name).toBe(`${ORGANIZATION}/${PROJECT_NAME}/previews`);
    const sandboxSecrets = ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"];
    const preview = JSON.stringify({ ...COMMITTED_PREVIEW, sandboxSecrets, platformStack: "mozilla/monitor/stage" });
    const { config, secretKeys } = loadStackConfig(ROOT, "pr-123", { "monitor:preview": preview });
    const platform = mockPreviewPlatform("moz-fx-monitor-previews", "us-central1", sandboxSecrets);
    const other = await evaluate("pr-123", {
      config,
      secretKeys,
      stackOutputs: (name) => (name === "mozilla/monitor/stage" ? { previewPlatform: platform } : undefined),
    });
    expect(one(other, "pulumi:pulumi:StackReference").inputs.name).toBe("mozilla/monitor/stage");
  });

  it("fails clearly when the platform has no sandbox secret of a name previews ask for", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "pr-123");
    const platform = mockPreviewPlatform("moz-fx-monitor-previews", "us-central1", ["OAUTH_CLIENT_SECRET"]);
    const run = evaluate("pr-123", { config, secretKeys, stackOutputs: () => ({ previewPlatform: platform }) });
    await expect(run).rejects.toThrow(
      /monitor:preview.sandboxSecrets names HIBP_KANON_API_TOKEN, but the preview platform .* has no such secret/,
    );
  });
});
