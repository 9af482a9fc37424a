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

/** Automated backups kept (`backupRetentionSettings.retainedBackups`, unit COUNT). */
export const RETAINED_BACKUPS = { min: 1, max: 365 } as const;

/** When Google may restart the instance for updates: `day` 1 (Monday) to 7, `hour` 0-23 UTC. */
export const MAINTENANCE_WINDOW = { day: { min: 1, max: 7 }, hour: { min: 0, max: 23 } } as const;
