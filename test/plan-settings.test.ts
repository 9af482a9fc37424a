import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { mockDigest } from "../infra/engine/mocks";
import { leavesOf } from "../infra/engine/properties";
import { type Plan, renderText, toPlan } from "../infra/engine/render";
import { INSTANCE, JOB, ROOT, SERVICE, WORKER_POOL, evaluateStack } from "./harness";

// The settings a reviewer decides on: changing one in a stack file must change a line of the text plan (and the
// JSON), so that `npm run plan` before and after an edit shows what the edit does. One evaluation per stack
// carries every change of its rows; each row's line names its own new value, so each row is proven on its own.

const SCHEDULER = "gcp:cloudscheduler/job:Job";
const ALERT = "gcp:monitoring/alertPolicy:AlertPolicy";
const CIRRUS_DIGEST = `sha256:${"c1".repeat(32)}`;
const REPOSITORY = "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server";

interface Row {
  /** The config a reviewer changes, as the stack file spells it. */
  setting: string;
  /** Where the change shows: a resource input (type and property path) or an environment table entry. */
  at: { type: string; path: string } | { env: string; name: string };
  /** The value it shows after the change. */
  value: string | number;
}

interface Case {
  stack: string;
  /** Every row's change at once, as `--config` overrides (structured keys as JSON). */
  overrides: (committed: Record<string, string>) => Record<string, string>;
  rows: Row[];
}

/** A structured key of the committed config with some fields replaced. */
const merged = (committed: Record<string, string>, key: string, fields: Record<string, unknown>) => ({
  [key]: JSON.stringify({ ...(JSON.parse(committed[key] ?? "{}") as object), ...fields }),
});

const CASES: Case[] = [
  {
    stack: "prod",
    overrides: (c) => ({
      ...merged(c, "monitor:service", { minInstances: 3, maxInstances: 40, cpu: "4", memory: "4Gi", concurrency: 60 }),
      ...merged(c, "monitor:database", {
        tier: "db-custom-4-15360",
        retainedBackups: 45,
        backupStartTime: "03:30",
        maintenanceWindow: { day: 5, hour: 2 },
        maxConnections: 400,
      }),
      ...merged(c, "monitor:worker", { instances: 3, cpu: "2", memory: "2Gi" }),
      ...merged(c, "monitor:schedules", {
        dbPullBreaches: "*/5 * * * *",
        deleteUnverifiedSubscribers: "0 4 * * *",
        remoteSettingsPullBreaches: "45 * * * *",
      }),
      ...merged(c, "monitor:cirrus", {
        image: `us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus@${CIRRUS_DIGEST}`,
        cpu: "2",
        memory: "1Gi",
      }),
      ...merged(c, "monitor:alerts", {
        notificationChannels: ["projects/moz-fx-monitor-prod/notificationChannels/42"],
      }),
      ...merged(c, "monitor:env", { S3_BUCKET: "monitor-prod-breach-logos-2" }),
      "monitor:imageTag": "2024.10.01",
    }),
    rows: [
      { setting: "service.minInstances", at: { type: SERVICE, path: "template.scaling.minInstanceCount" }, value: 3 },
      { setting: "service.maxInstances", at: { type: SERVICE, path: "template.scaling.maxInstanceCount" }, value: 40 },
      {
        setting: "service.cpu",
        at: { type: SERVICE, path: "template.containers[app].resources.limits.cpu" },
        value: "4",
      },
      {
        setting: "service.memory",
        at: { type: SERVICE, path: "template.containers[app].resources.limits.memory" },
        value: "4Gi",
      },
      {
        setting: "service.concurrency",
        at: { type: SERVICE, path: "template.maxInstanceRequestConcurrency" },
        value: 60,
      },
      { setting: "database.tier", at: { type: INSTANCE, path: "settings.tier" }, value: "db-custom-4-15360" },
      {
        setting: "database.retainedBackups",
        at: { type: INSTANCE, path: "settings.backupConfiguration.backupRetentionSettings.retainedBackups" },
        value: 45,
      },
      {
        setting: "database.backupStartTime",
        at: { type: INSTANCE, path: "settings.backupConfiguration.startTime" },
        value: "03:30",
      },
      {
        setting: "database.maintenanceWindow",
        at: { type: INSTANCE, path: "settings.maintenanceWindow.day" },
        value: 5,
      },
      {
        setting: "database.maxConnections",
        at: { type: INSTANCE, path: "settings.databaseFlags[max_connections].value" },
        value: "400",
      },
      { setting: "worker.instances", at: { type: WORKER_POOL, path: "scaling.manualInstanceCount" }, value: 3 },
      {
        setting: "worker.cpu",
        at: { type: WORKER_POOL, path: "template.containers[0].resources.limits.cpu" },
        value: "2",
      },
      { setting: "schedules.dbPullBreaches", at: { type: SCHEDULER, path: "schedule" }, value: "*/5 * * * *" },
      {
        setting: "schedules.deleteUnverifiedSubscribers",
        at: { type: SCHEDULER, path: "schedule" },
        value: "0 4 * * *",
      },
      {
        setting: "schedules.remoteSettingsPullBreaches",
        at: { type: SCHEDULER, path: "schedule" },
        value: "45 * * * *",
      },
      {
        setting: "cirrus.image",
        at: { type: SERVICE, path: "template.containers[cirrus].image" },
        value: `us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus@${CIRRUS_DIGEST}`,
      },
      {
        setting: "cirrus.cpu",
        at: { type: SERVICE, path: "template.containers[cirrus].resources.limits.cpu" },
        value: "2",
      },
      {
        setting: "cirrus.memory",
        at: { type: SERVICE, path: "template.containers[cirrus].resources.limits.memory" },
        value: "1Gi",
      },
      {
        setting: "alerts.notificationChannels",
        at: { type: ALERT, path: "notificationChannels[0]" },
        value: "projects/moz-fx-monitor-prod/notificationChannels/42",
      },
      {
        setting: "env.S3_BUCKET",
        at: { env: "monitor-prod", name: "S3_BUCKET" },
        value: "monitor-prod-breach-logos-2",
      },
      {
        setting: "imageTag (a deploy)",
        at: { type: JOB, path: "template.template.containers[0].image" },
        // What the engine's registry answers for the tag: mocks.ts digests `<repository>:<tag>`.
        value: `${REPOSITORY}@${mockDigest(`${REPOSITORY}:2024.10.01`)}`,
      },
    ],
  },
  {
    stack: "stage",
    overrides: (c) => merged(c, "monitor:cirrus", { channel: "production" }),
    rows: [
      { setting: "cirrus.channel", at: { env: "monitor-stage/cirrus", name: "CIRRUS_CHANNEL" }, value: "production" },
    ],
  },
  {
    stack: "previews",
    // A larger tier: a smaller one would not hold the committed maxActive busy (the spec refuses it).
    overrides: (c) => merged(c, "monitor:preview", { instanceTier: "db-custom-8-32768" }),
    rows: [
      {
        setting: "preview.instanceTier (the shared preview instance)",
        at: { type: INSTANCE, path: "settings.tier" },
        value: "db-custom-8-32768",
      },
    ],
  },
  {
    stack: "pr-123",
    overrides: (c) => merged(c, "monitor:preview", { maxInstances: 3 }),
    rows: [
      { setting: "preview.maxInstances", at: { type: SERVICE, path: "template.scaling.maxInstanceCount" }, value: 3 },
    ],
  },
];

/** The value a row's place holds in a plan, for every resource of its type (the JSON a `--json` reader gets). */
function valuesAt(plan: Plan, at: Row["at"]): unknown[] {
  if ("env" in at) return (plan.env[at.env] ?? []).filter((e) => e.name === at.name).map((e) => e.value);
  return plan.resources.filter((r) => r.type === at.type).map((r) => leavesOf(r.inputs).get(at.path));
}

/** The line the text plan prints for a row's value: `path=value` under its resource, or the env table's row. */
function lineFor(row: Row): RegExp {
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  if ("env" in row.at) return new RegExp(`^ {2}${escape(row.at.name)} +${escape(String(row.value))}$`, "m");
  return new RegExp(`^ +${escape(row.at.path)}=${escape(String(row.value))}$`, "m");
}

describe.each(CASES)("the text plan of $stack shows the settings a reviewer decides on", (c) => {
  let base: Plan;
  let changed: Plan;
  // In a hook, not at collection: evaluations share Pulumi's process-wide mock state, so they run one at a time.
  beforeAll(async () => {
    base = toPlan(await evaluateStack(c.stack));
    changed = toPlan(await evaluateStack(c.stack, c.overrides(loadStackConfig(ROOT, c.stack).config)));
  });

  for (const row of c.rows) {
    it(`${row.setting}: a line of the text plan and a value of the JSON change`, () => {
      expect(valuesAt(base, row.at)).not.toContain(row.value);
      expect(valuesAt(changed, row.at)).toContain(row.value);
      expect(renderText(base)).not.toMatch(lineFor(row));
      expect(renderText(changed)).toMatch(lineFor(row));
    });
  }
});

describe("what the text plan shows of the Cirrus sidecar", () => {
  it("its image by digest, its cpu and memory, and its settings as an environment table of its own", async () => {
    const text = renderText(toPlan(await evaluateStack("prod")));
    expect(text).toMatch(
      /\n {8}template\.containers\[cirrus\]\.image=us-docker\.pkg\.dev\/moz-fx-cirrus-prod\/cirrus-prod\/cirrus@sha256:[0-9a-f]{64}\n/,
    );
    expect(text).toMatch(/\n {8}template\.containers\[cirrus\]\.resources\.limits\.cpu=1\n/);
    expect(text).toMatch(/\n\nEnvironment of monitor-prod\/cirrus:\n(.*\n)*? {2}CIRRUS_CHANNEL +production\n/);
  });
});

describe("property paths", () => {
  it("key a list of named entries by name, index any other list, and keep empty lists and mappings", () => {
    const leaves = leavesOf({
      envs: [
        { name: "A", value: "1" },
        { name: "B", valueSource: { secretKeyRef: { secret: "s", version: "latest" } } },
        { name: "C" },
      ],
      args: ["run", "x"],
      flags: [],
      labels: {},
    });
    expect(Object.fromEntries(leaves)).toEqual({
      "envs[A].value": "1",
      "envs[B].valueSource.secretKeyRef.secret": "s",
      "envs[B].valueSource.secretKeyRef.version": "latest",
      "envs[C]": {},
      "args[0]": "run",
      "args[1]": "x",
      flags: [],
      labels: {},
    });
    // Two entries of one name cannot be keyed by it.
    expect([...leavesOf({ l: [{ name: "x" }, { name: "x" }] }).keys()]).toEqual(["l[0].name", "l[1].name"]);
  });
});
