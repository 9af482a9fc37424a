/**
 * A Cloud SQL instance's connection budget: every process that may run against it at once (each Cloud Run
 * instance of a service or worker pool, each task of a job) holds a knex pool of up to `pool` connections, and
 * together they must fit under max_connections with room left for what keeps the instance running. Running out
 * does not fail a deploy: it fails requests in whichever process loses the race, which is why this is checked up
 * front, by the program when it sizes an instance and by the policy pack when it reviews one.
 *
 * The pool comes from config (`monitor:connectionPool`): blurts-server's src/db/knexfile.ts sets no pool for
 * APP_ENV=cloudrun, so knex's default of at most 10 connections per process applies.
 *
 * No imports: the program and the policy pack both use this file (the pack carries a copy, see policies/).
 */

/** A migration job runs one task (`taskCount: 1`), so one more pool per preview while it migrates. */
export const MIGRATION_TASKS_PER_PREVIEW = 1;

/**
 * Slots the app must not count on: Postgres keeps `superuser_reserved_connections` (3 by default) for
 * superusers, Cloud SQL's own agents (backups, monitoring) connect as `cloudsqladmin`, and an operator needs a
 * psql session through the Auth Proxy to look at an instance in trouble. A fixed number rather than a
 * percentage: 10 % of the smallest tiers (25, 50) would not even cover the superuser reservation.
 */
export const RESERVED_CONNECTIONS = 10;

/**
 * Cloud SQL for PostgreSQL's default max_connections when the flag is not set, from the table "Maximum
 * concurrent connections" in https://cloud.google.com/sql/docs/postgres/quotas (shared-core tiers by name,
 * the others by memory in GiB). The table does not say which row a boundary belongs to (is 7.5 GiB 200 or
 * 400?): a boundary takes the lower row, so that the check errs towards "does not fit".
 */
const SHARED_CORE_DEFAULTS: Readonly<Record<string, number>> = { "db-f1-micro": 25, "db-g1-small": 50 };
const DEFAULTS_BY_MEMORY: ReadonlyArray<readonly [maxGiB: number, connections: number]> = [
  [6, 100],
  [7.5, 200],
  [15, 400],
  [30, 500],
  [60, 600],
  [120, 800],
  [Infinity, 1000],
];

/** Memory of the tiers whose name says it: `db-custom-<vCPUs>-<MiB>` and the legacy `db-n1-*` machines. */
function tierMemoryGiB(tier: string): number | undefined {
  const custom = /^db-custom-\d+-(\d+)$/.exec(tier);
  if (custom) return Number(custom[1]) / 1024;
  const n1 = /^db-n1-(standard|highmem)-(\d+)$/.exec(tier);
  if (n1) return Number(n1[2]) * (n1[1] === "standard" ? 3.75 : 6.5);
  return undefined;
}

/** The documented default for `tier`, or undefined when the tier is not one whose default is known here. */
export function defaultMaxConnections(tier: string): number | undefined {
  if (tier in SHARED_CORE_DEFAULTS) return SHARED_CORE_DEFAULTS[tier];
  const memory = tierMemoryGiB(tier);
  if (memory === undefined || memory < 3.75) return undefined;
  return DEFAULTS_BY_MEMORY.find(([maxGiB]) => memory <= maxGiB)?.[1];
}

/** Connections `processes` app processes may hold at once, plus the reserve. */
export function connectionsNeeded(processes: number, pool: number): number {
  return processes * pool + RESERVED_CONNECTIONS;
}

/** Processes the previews on the shared instance may run at once: each preview's instances and its migration. */
export function previewProcesses(maxPreviews: number, maxInstancesPerPreview: number): number {
  return maxPreviews * (maxInstancesPerPreview + MIGRATION_TASKS_PER_PREVIEW);
}

/** The max_connections an instance gets: never below the tier's own default, always enough for its processes. */
export function maxConnectionsFor(tier: string, processes: number, pool: number): number {
  return Math.max(defaultMaxConnections(tier) ?? 0, connectionsNeeded(processes, pool));
}

/**
 * The shared preview instance's connection budget, counted as if every active preview were busy: each of its Cloud
 * Run instances and its migration task holding a full pool at once, plus the reserve. The limit is the tier's
 * documented default max_connections, not a raised flag: Cloud SQL derives that default from the instance's memory,
 * and every Postgres connection is a backend process with memory of its own (work_mem per sort or hash,
 * temp_buffers, catalog caches) beside the shared_buffers that take about a third of it
 * (https://cloud.google.com/sql/docs/postgres/manage-memory-usage-best-practices). Past the default, a busy hour of
 * previews could run the instance out of memory and restart it under every preview at once.
 */
export interface PreviewConnections {
  /** Connections held when every active preview is busy, plus the reserve. */
  used: number;
  /** The tier's documented default max_connections; undefined when the tier is not one this file knows. */
  limit: number | undefined;
  /** One busy preview's connections: (its instances + its migration task) x pool. */
  perPreview: number;
  /** Active previews the limit holds; undefined with the limit. */
  fits: number | undefined;
}

export function previewConnections(
  tier: string,
  maxActive: number,
  maxInstancesPerPreview: number,
  pool: number,
): PreviewConnections {
  const limit = defaultMaxConnections(tier);
  const perPreview = (maxInstancesPerPreview + MIGRATION_TASKS_PER_PREVIEW) * pool;
  return {
    used: connectionsNeeded(previewProcesses(maxActive, maxInstancesPerPreview), pool),
    limit,
    perPreview,
    fits: limit === undefined ? undefined : Math.max(0, Math.floor((limit - RESERVED_CONNECTIONS) / perPreview)),
  };
}

/**
 * Custom tiers to suggest, smallest first, one per step of the default: each is a valid custom machine (1 or an
 * even number of vCPUs, 0.9-6.5 GiB per vCPU, memory a multiple of 256 MiB:
 * https://cloud.google.com/sql/docs/postgres/instance-settings, "Machine type").
 */
const SUGGESTED_TIERS = [
  "db-custom-1-3840",
  "db-custom-2-7680",
  "db-custom-4-15360",
  "db-custom-4-16384",
  "db-custom-8-32768",
  "db-custom-16-65536",
  "db-custom-32-131072",
];

/** The smallest suggested tier whose default max_connections holds `connections`, or undefined past the largest. */
export function tierFor(connections: number): string | undefined {
  return SUGGESTED_TIERS.find((tier) => (defaultMaxConnections(tier) ?? 0) >= connections);
}

/** Labels that tell the policy pack how an instance was sized (GCP label values are text). */
export const BUDGET_LABELS = {
  /** Connections one app process may open: the knex pool's max. */
  pool: "connections-per-process",
  /** Shared preview instance: how many previews, and instances per preview, it is sized for. */
  maxPreviews: "max-previews",
  maxInstancesPerPreview: "max-instances-per-preview",
} as const;
