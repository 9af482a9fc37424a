/**
 * What previews cost per day: list prices in us-central1 (Tier 1), USD, without free tiers (they are per billing
 * account and stage already uses them) or committed-use discounts. Prices as published on the pages below,
 * checked 2026-05; `estimate: true` marks a usage assumption rather than a price.
 */
import type { Evaluation } from "../infra/engine/evaluate";

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
