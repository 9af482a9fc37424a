/**
 * What previews cost per day: list prices in us-central1 (Tier 1), USD, without free tiers (they are per billing
 * account and stage already uses them) or committed-use discounts. Prices as published on the pages below,
 * checked 2026-05; `estimate: true` marks a usage assumption rather than a price.
 */
import { resolve } from "node:path";
import { type PreviewsCapacity, previewsCapacity } from "../infra/engine/capacity";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, evaluate } from "../infra/engine/evaluate";

export const PRICES_CHECKED = "2026-05";

export const PRICES = {
  runVcpuSecond: { usd: 0.000024, source: "https://cloud.google.com/run/pricing (request-based billing, Tier 1)" },
  runGibSecond: { usd: 0.0000025, source: "https://cloud.google.com/run/pricing (request-based billing, Tier 1)" },
  runMillionRequests: { usd: 0.4, source: "https://cloud.google.com/run/pricing" },
  sqlVcpuHour: {
    usd: 0.0413,
    source:
      "https://cloud.google.com/sql/pricing (Enterprise edition, dedicated core; also usage.ai's May 2026 summary)",
  },
  sqlGibHour: { usd: 0.007, source: "https://cloud.google.com/sql/pricing (Enterprise edition)" },
  sqlF1MicroHour: { usd: 0.0105, source: "https://cloud.google.com/sql/pricing (shared core db-f1-micro)" },
  sqlSsdGibMonth: { usd: 0.17, source: "https://cloud.google.com/sql/pricing (SSD storage)" },
  secretVersionMonth: {
    usd: 0.06,
    source: "https://cloud.google.com/secret-manager/pricing (active version per location)",
  },
  secretTenThousandAccesses: { usd: 0.03, source: "https://cloud.google.com/secret-manager/pricing" },
  registryGibMonth: { usd: 0.1, source: "https://cloud.google.com/artifact-registry/pricing (storage)" },
} as const;

/** Usage assumptions (estimates): what an "active" preview day and a preview's footprint look like. */
export const USAGE = {
  /** Request-billed instance time on a day someone reviews the PR and E2E runs against it. */
  activeInstanceHours: 2,
  activeRequests: 5_000,
  /** Instance starts on an active day; each start reads every secret of both containers once. */
  activeInstanceStarts: 10,
  /** The app image a preview pushes (`pr-<N>` tag), kept until the registry's cleanup. */
  imageGib: 0.5,
  /** Smallest SSD a Cloud SQL instance gets. */
  instanceDiskGib: 10,
  daysPerMonth: 30,
} as const;

export interface PreviewFootprint {
  /** Sum over the service's containers, billed while an instance handles requests. */
  vcpu: number;
  memoryGib: number;
  /** Secret versions the preview owns (each billed while active) and secrets its containers read at start. */
  secretVersions: number;
  secretsReadAtStart: number;
}

function cpuOf(value: string): number {
  return value.endsWith("m") ? Number(value.slice(0, -1)) / 1000 : Number(value);
}

function gibOf(value: string): number {
  const units: Record<string, number> = { Mi: 1 / 1024, Gi: 1, M: 1e6 / 2 ** 30, G: 1e9 / 2 ** 30 };
  const match = /^(\d+(?:\.\d+)?)(Mi|Gi|M|G)$/.exec(value);
  if (!match) throw new Error(`unknown memory size ${value}`);
  return Number(match[1]) * units[match[2]];
}

/** A preview's billable footprint, read from its planned service and secrets. */
export function footprintOf(preview: Evaluation): PreviewFootprint {
  const service = preview.registrations.find((r) => r.type === "gcp:cloudrunv2/service:Service");
  if (!service) throw new Error(`no Cloud Run service in ${preview.stack}`);
  // The service's inputs as the provider received them: the fields a preview's cost depends on.
  type Container = { resources: { limits: { cpu: string; memory: string } }; envs?: { valueSource?: unknown }[] };
  const containers = (service.inputs as { template: { containers: Container[] } }).template.containers;
  return {
    vcpu: containers.reduce((sum, c) => sum + cpuOf(c.resources.limits.cpu), 0),
    memoryGib: containers.reduce((sum, c) => sum + gibOf(c.resources.limits.memory), 0),
    secretVersions: preview.registrations.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion")
      .length,
    secretsReadAtStart: containers.reduce((sum, c) => sum + (c.envs ?? []).filter((e) => e.valueSource).length, 0),
  };
}

/** Memory and vCPUs of a `db-custom-<vCPU>-<MiB>` tier. */
export function customTier(tier: string): { vcpu: number; memoryGib: number } {
  const match = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  if (!match) throw new Error(`not a custom tier: ${tier}`);
  return { vcpu: Number(match[1]), memoryGib: Number(match[2]) / 1024 };
}

/** A Cloud SQL instance's day: compute around the clock plus its disk. */
export function instancePerDay(tier: string): number {
  const hourly =
    tier === "db-f1-micro"
      ? PRICES.sqlF1MicroHour.usd
      : customTier(tier).vcpu * PRICES.sqlVcpuHour.usd + customTier(tier).memoryGib * PRICES.sqlGibHour.usd;
  return hourly * 24 + (USAGE.instanceDiskGib * PRICES.sqlSsdGibMonth.usd) / USAGE.daysPerMonth;
}

/** One preview's own cost per day, without any database instance. */
export function previewPerDay(f: PreviewFootprint, active: boolean): number {
  const storage =
    (f.secretVersions * PRICES.secretVersionMonth.usd + USAGE.imageGib * PRICES.registryGibMonth.usd) /
    USAGE.daysPerMonth;
  if (!active) return storage;
  const seconds = USAGE.activeInstanceHours * 3600;
  const compute = seconds * (f.vcpu * PRICES.runVcpuSecond.usd + f.memoryGib * PRICES.runGibSecond.usd);
  const requests = (USAGE.activeRequests / 1e6) * PRICES.runMillionRequests.usd;
  const accesses = ((USAGE.activeInstanceStarts * f.secretsReadAtStart) / 1e4) * PRICES.secretTenThousandAccesses.usd;
  return storage + compute + requests + accesses;
}

export interface FleetCost {
  previews: number;
  /** Shared design: one instance for all, plus each preview's own. */
  sharedIdle: number;
  sharedActive: number;
  /** The design it replaces: an instance per preview, plus each preview's own. */
  perPreviewIdle: number;
  perPreviewActive: number;
}

export function fleetPerDay(n: number, f: PreviewFootprint, sharedTier: string, perPreviewTier: string): FleetCost {
  const shared = instancePerDay(sharedTier);
  const own = instancePerDay(perPreviewTier);
  return {
    previews: n,
    sharedIdle: shared + n * previewPerDay(f, false),
    sharedActive: shared + n * previewPerDay(f, true),
    perPreviewIdle: n * (own + previewPerDay(f, false)),
    perPreviewActive: n * (own + previewPerDay(f, true)),
  };
}

/** A dollar figure as docs/previews.md shows it: cents, or tenths of a cent below a dollar. */
function usd(x: number): string {
  return `$${x.toFixed(x < 1 ? 3 : 2)}`;
}

/** Cost of the previews at a config: the shared instance, one preview idle and active, and the whole fleet. */
export function costTable(f: PreviewFootprint, tier: string, open: number, active: number): string {
  const { vcpu, memoryGib } = customTier(tier);
  const idle = previewPerDay(f, false);
  const busy = previewPerDay(f, true);
  const instance = instancePerDay(tier);
  const fleet = instance + (open - active) * idle + active * busy;
  const month = (day: number) => usd(day * USAGE.daysPerMonth);
  return [
    `| previews cost | at the committed config | per day | per ${USAGE.daysPerMonth} days |`,
    "|---|---|---|---|",
    `| the shared instance | \`${tier}\`: ${vcpu} vCPU x $${PRICES.sqlVcpuHour.usd}/h + ${memoryGib} GiB x ` +
      `$${PRICES.sqlGibHour.usd}/h, ${USAGE.instanceDiskGib} GiB SSD, around the clock | ${usd(instance)} | ${month(instance)} |`,
    `| a preview, idle | scaled to zero: no instance billed; ${f.secretVersions} secret versions, a ` +
      `${USAGE.imageGib} GiB image | ${usd(idle)} | ${month(idle)} |`,
    `| a preview, active | ${USAGE.activeInstanceHours} instance-hours of ${f.vcpu} vCPU and ` +
      `${f.memoryGib} GiB (app and Cirrus), ${USAGE.activeRequests.toLocaleString("en")} requests (estimate) | ` +
      `${usd(busy)} | ${month(busy)} |`,
    `| ${open} open, ${active} of them active every day | | ${usd(fleet)} | ${month(fleet)} |`,
  ].join("\n");
}

/** The capacity docs/previews.md shows beside the cost: each limit, used and allowed, with its source. */
export function capacityTable(c: PreviewsCapacity): string {
  const number = (n: number) => n.toLocaleString("en");
  return [
    "| limit | on | used | of | source |",
    "|---|---|---|---|---|",
    ...c.limits.map((l) => `| ${l.kind} | \`${l.on}\` | ${number(l.used)} | ${number(l.limit)} | <${l.source}> |`),
  ].join("\n");
}

/**
 * docs/previews.md's "Preview capacity and cost" tables, from the committed config: the capacity as `npm run plan --
 * previews` counts it, and the cost of that fleet. `npx ts-node --transpile-only bench/cost.ts` prints them to paste
 * between docs/previews.md's `preview-capacity` markers; test/capacity.test.ts checks that the page shows exactly these.
 */
export async function previewTables(root: string): Promise<string> {
  const previews = await evaluate("previews", loadStackConfig(root, "previews"));
  const capacity = await previewsCapacity(previews, root, {});
  const preview = await evaluate("pr-1", loadStackConfig(root, "pr-1"));
  return [
    capacityTable(capacity),
    "",
    costTable(footprintOf(preview), capacity.instanceTier, capacity.openPreviews, capacity.activePreviews),
    "",
    `us-central1 list prices checked ${PRICES_CHECKED}, without free tiers or committed-use discounts: ` +
      [
        `[Cloud SQL](${PRICES.sqlVcpuHour.source.split(" ")[0]})`,
        `[Cloud Run](${PRICES.runVcpuSecond.source.split(" ")[0]})`,
        `[Secret Manager](${PRICES.secretVersionMonth.source.split(" ")[0]})`,
        `[Artifact Registry](${PRICES.registryGibMonth.source.split(" ")[0]})`,
      ].join(", ") +
      "; usage assumptions in `bench/cost.ts`.",
  ].join("\n");
}

if (require.main === module) {
  previewTables(resolve(__dirname, "..")).then(
    (tables) => console.log(tables),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
