import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, evaluate } from "../infra/engine/evaluate";
import {
  DATABASE,
  INSTANCE,
  JOB,
  ROOT,
  SECRET_READER,
  SERVICE,
  WORKER_POOL,
  evaluateStack,
  ofType,
  one,
  waitsForAll,
} from "./harness";

// MonitorApp as stage composes it: the order it promises, the grants it makes and how it names them.

const [APP, CLOUDSQL_CLIENT, TOPIC, TOPIC_GRANT, SUBSCRIPTION_GRANT, ACCOUNT] = [
  "monitor:components:MonitorApp",
  "gcp:projects/iAMMember:IAMMember",
  "gcp:pubsub/topic:Topic",
  "gcp:pubsub/topicIAMMember:TopicIAMMember",
  "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember",
  "gcp:serviceaccount/account:Account",
];

let stage: Evaluation;
beforeAll(async () => {
  stage = await evaluateStack("stage");
});

const named = (ev: Evaluation, type: string, name: string) => one(ev, type, name);
const app = (ev: Evaluation) => ev.registrations.filter((r) => r.urn.includes(`::${APP}$`) || r.type === APP);

describe("MonitorApp in stage", () => {
  it("holds the whole app, and only the app: the instance, load balancer and uptime check stay in the stack", () => {
    const inside = new Set(app(stage).map((r) => r.type));
    for (const type of [DATABASE, SERVICE, JOB, WORKER_POOL, TOPIC, ACCOUNT]) expect(inside).toContain(type);
    for (const r of [...ofType(stage, INSTANCE), ...ofType(stage, "gcp:compute/globalAddress:GlobalAddress")]) {
      expect(r.urn).not.toContain(APP);
    }
  });

  it("runs the migration only once the database, secrets, identities, their grants and the queue exist", () => {
    const migration = named(stage, JOB, "migration");
    const before = waitsForAll(stage, migration);
    const needed = [
      ...ofType(stage, DATABASE),
      ...ofType(stage, SECRET_READER).filter((r) => r.urn.includes(APP)),
      ...ofType(stage, CLOUDSQL_CLIENT).filter((r) => r.name.startsWith("database-instance-cloudsql-client-")),
      ...ofType(stage, TOPIC_GRANT).filter((r) => r.name.startsWith("breach-notifications-")),
      ...ofType(stage, SUBSCRIPTION_GRANT),
      named(stage, TOPIC, "breach-notifications"),
      named(stage, ACCOUNT, "runtime"),
    ];
    expect(needed.length).toBeGreaterThan(10);
    for (const r of needed) expect(before, r.name).toContain(r.urn);
  });

  it("starts the web service, the worker and every scheduled job after the migration, each after its own identity", () => {
    const migration = named(stage, JOB, "migration");
    const jobs = ofType(stage, JOB).filter((j) => j !== migration && j.urn.includes(APP));
    expect(jobs).toHaveLength(3);
    for (const r of [one(stage, SERVICE), one(stage, WORKER_POOL), ...jobs])
      expect(waitsForAll(stage, r), r.name).toContain(migration.urn);
    expect(waitsForAll(stage, one(stage, WORKER_POOL))).toContain(named(stage, ACCOUNT, "worker").urn);
    for (const job of jobs) expect(waitsForAll(stage, job), job.name).toContain(named(stage, ACCOUNT, "scheduler").urn);
  });

  it("names every grant after its grantee, on the resource that owns what is granted", () => {
    const readers = ofType(stage, SECRET_READER)
      .filter((r) => r.urn.includes(APP))
      .map((r) => r.name);
    expect(readers.filter((n) => n.endsWith("-reader-runtime"))).toHaveLength(readers.length / 2);
    expect(readers.filter((n) => n.endsWith("-reader-worker"))).toHaveLength(readers.length / 2);
    expect(ofType(stage, SUBSCRIPTION_GRANT).map((r) => r.name)).toEqual(["breach-notifications-subscriber-worker"]);
    expect(
      ofType(stage, TOPIC_GRANT)
        .filter((r) => r.urn.includes(APP))
        .map((r) => r.name)
        .sort(),
    ).toEqual(["breach-notifications-publisher-runtime", "breach-notifications-viewer-runtime"]);
    // Cloud SQL connect is granted by the instance the identity connects to, and only the app's two identities get it
    // (the preview platform's database admin connects to the preview instance, which the platform grants).
    const clients = ofType(stage, CLOUDSQL_CLIENT).filter(
      (r) => r.inputs.role === "roles/cloudsql.client" && !r.urn.includes("monitor:components:PreviewPlatform"),
    );
    expect(clients.map((r) => r.name).sort()).toEqual([
      "database-instance-cloudsql-client-runtime",
      "database-instance-cloudsql-client-worker",
    ]);
    for (const r of clients) expect(r.parent).toMatch(/::monitor:components:PostgresInstance::database-instance$/);
  });
});

describe("MonitorApp without a release (an environment's bootstrap)", () => {
  let bootstrap: Evaluation;
  beforeAll(async () => {
    // A stack never deployed: its reference to itself reads no outputs (a deployed one refuses a bootstrap).
    const { config, secretKeys } = loadStackConfig(ROOT, "stage", { "monitor:bootstrap": "true" });
    bootstrap = await evaluate("stage", { config, secretKeys, stackOutputs: () => ({}) });
  });

  it("declares what must exist before the app can start, and runs nothing", () => {
    const types = new Set(app(bootstrap).map((r) => r.type));
    for (const type of [DATABASE, TOPIC, ACCOUNT, "gcp:secretmanager/secret:Secret", SECRET_READER])
      expect(types).toContain(type);
    for (const type of [SERVICE, JOB, WORKER_POOL, "gcp:cloudscheduler/job:Job"]) expect(types).not.toContain(type);
    expect(bootstrap.outputs.databaseName.value).toBe("monitor_stage");
  });
});
