/**
 * What Cloud SQL for PostgreSQL accepts for an instance's machine and its maintenance, checked before anything is
 * created: the config refuses a bad `monitor:database` with its key, PostgresInstance bad args passed to it directly.
 */

/** A tier name's shape (`db-custom-2-7680`, `db-g1-small`, `db-perf-optimized-N-2`); which tiers exist is GCP's. */
export const TIER = /^db-[a-z0-9-]+$/;

export type Edition = "ENTERPRISE" | "ENTERPRISE_PLUS";
export const EDITIONS: readonly [Edition, Edition] = ["ENTERPRISE", "ENTERPRISE_PLUS"];

/**
 * Tiers that only the ENTERPRISE edition offers (ENTERPRISE_PLUS has its own db-perf-optimized-* tiers); Postgres
 * 16+ defaults to ENTERPRISE_PLUS, which refuses these at create time.
 */
export const ENTERPRISE_ONLY_TIER = /^db-(f1-micro|g1-small|custom-)/;

/**
 * The N2 machine series, ENTERPRISE_PLUS only ("Machine series overview",
 * https://cloud.google.com/sql/docs/postgres/machine-series-overview: Enterprise Plus offers N2 and C4A, Enterprise
 * the shared-core, dedicated-core (custom) and N4 series).
 */
const ENTERPRISE_PLUS_ONLY_TIER = /^db-perf-optimized-/;

/**
 * A custom machine type, `db-custom-<vCPUs>-<MB>`, as "About instance settings"
 * (https://cloud.google.com/sql/docs/postgres/instance-settings, read 2026-12-07) allows it: "Cores: 1 to 96 (must
 * be either 1 or an even number)"; "Memory: 0.9 to 6.5 GB per vCPU (must be a multiple of 256 MB and at least
 * 3.75 GB)". Its GB is 1024 MB: the smallest tier, db-custom-1-3840, is its 3.75 GB.
 */
export const CUSTOM_TIER = {
  maxCpus: 96,
  memoryStepMb: 256,
  minMemoryMb: 3840,
  minMbPerCpu: 0.9 * 1024,
  maxMbPerCpu: 6.5 * 1024,
} as const;

/** The first-generation machine types (`db-n1-standard-2`), with the memory of one vCPU, for the custom equivalent. */
const LEGACY_N1_MB_PER_CPU: Readonly<Record<string, number>> = { standard: 3840, highmem: 6656 };

function customTierProblem(tier: string, cpus: number, mb: number): string | undefined {
  const { maxCpus, memoryStepMb, minMemoryMb, minMbPerCpu, maxMbPerCpu } = CUSTOM_TIER;
  if (cpus < 1 || cpus > maxCpus || (cpus > 1 && cpus % 2 !== 0)) {
    return `${tier} has ${cpus} vCPUs; a custom tier has 1 or an even number from 2 to ${maxCpus}`;
  }
  if (mb % memoryStepMb !== 0) {
    const below = Math.floor(mb / memoryStepMb) * memoryStepMb;
    return `${tier} has ${mb} MB of memory, not a multiple of ${memoryStepMb} MB (${below} or ${below + memoryStepMb})`;
  }
  if (mb < minMemoryMb) return `${tier} has ${mb} MB of memory; a custom tier has at least ${minMemoryMb} MB`;
  const perCpu = mb / cpus;
  if (perCpu < minMbPerCpu || perCpu > maxMbPerCpu) {
    const low = Math.max(minMemoryMb, Math.ceil((minMbPerCpu * cpus) / memoryStepMb) * memoryStepMb);
    const high = Math.floor((maxMbPerCpu * cpus) / memoryStepMb) * memoryStepMb;
    return (
      `${tier} has ${(perCpu / 1024).toFixed(2)} GB per vCPU; a custom tier has 0.9 to 6.5 GB per vCPU ` +
      `(${low} to ${high} MB for ${cpus} vCPU${cpus === 1 ? "" : "s"})`
    );
  }
  return undefined;
}

/**
 * Why Cloud SQL for PostgreSQL would refuse `tier` in `edition`, or undefined when no documented rule does. Tiers of
 * other series (N4, C4A, ...) pass: their list grows, and the API names them at create time.
 */
export function tierProblem(tier: string, edition: Edition): string | undefined {
  const custom = /^db-custom-(\d+)-(\d+)$/.exec(tier);
  if (custom) {
    const problem = customTierProblem(tier, Number(custom[1]), Number(custom[2]));
    if (problem) return problem;
  }
  // @pulumi/gcp types/input.d.ts, DatabaseInstanceSettings.tier: "Postgres supports only shared-core machine types,
  // and custom machine types"; the API answers "Only custom or shared-core instance Billing Tier type allowed for
  // PostgreSQL database".
  const legacy = /^db-n1-(standard|highmem)-(\d+)$/.exec(tier);
  if (legacy) {
    const cpus = Number(legacy[2]);
    return (
      `${tier} is a first-generation machine type, which Postgres instances do not take; ` +
      `the custom tier with its vCPUs and memory is db-custom-${cpus}-${cpus * LEGACY_N1_MB_PER_CPU[legacy[1]]}`
    );
  }
  if (edition === "ENTERPRISE_PLUS" && ENTERPRISE_ONLY_TIER.test(tier)) {
    return `${tier} exists only in the ENTERPRISE edition`;
  }
  if (edition === "ENTERPRISE" && ENTERPRISE_PLUS_ONLY_TIER.test(tier)) {
    return `${tier} exists only in the ENTERPRISE_PLUS edition`;
  }
  return undefined;
}

/** Automated backups kept (`backupRetentionSettings.retainedBackups`, unit COUNT). */
export const RETAINED_BACKUPS = { min: 1, max: 365 } as const;

/**
 * When Google may restart the instance for updates: `day` 1 (Monday) to 7, `hour` 0-23 UTC (@pulumi/gcp
 * types/input.d.ts, DatabaseInstanceSettingsMaintenanceWindow: "Day of week (`1-7`), starting on Monday", "Hour of
 * day (`0-23`)").
 */
export const MAINTENANCE_WINDOW = { day: { min: 1, max: 7 }, hour: { min: 0, max: 23 } } as const;
