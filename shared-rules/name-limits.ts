/**
 * Limits GCP's APIs put on the names this program gives, and the headroom a derived suffix needs. The config checks
 * every derived name against them before anything is created (infra/naming.ts), and components that derive names
 * of their own check those.
 */

/** Most GCP resource names: RFC 1035 labels, a lowercase letter first, no hyphen last. */
export const RFC1035_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const RFC1035_MAX_LENGTH = 63;

/** Length of the digest prefix used as a migration's execution token (see NAME_LIMITS.migrationJob). */
export const EXECUTION_TOKEN_LENGTH = 12;

export const NAME_LIMITS = {
  /** Cloud Run service names: the URL `<name>-<project number>.<region>.run.app` needs a 63-char DNS label. */
  service: 49,
  /** Cloud Run job names; `runExecutionToken` must fit beside the name within 63. */
  migrationJob: RFC1035_MAX_LENGTH - 1 - EXECUTION_TOKEN_LENGTH,
  /** IAM service account ids: 6 to 30 characters. */
  runtimeServiceAccount: 30,
  /** Postgres identifiers. */
  database: 63,
  databaseUser: 63,
  /** Secret Manager secret ids. */
  secret: 255,
} as const;
