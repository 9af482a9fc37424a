/**
 * How previews share one Cloud SQL instance without reaching each other's databases: the names the platform, every
 * preview and the policy pack agree on. The mechanism itself is in components/preview-database-access.ts.
 */

/** The shared preview instance (the preview platform's): only a preview on it needs the isolation below. */
export const SHARED_PREVIEW_INSTANCE = "monitor-previews";

/**
 * The role Cloud SQL makes every user it creates a member of, unless the user's `databaseRoles` says otherwise; it
 * owns every database the API creates (https://cloud.google.com/sql/docs/postgres/users).
 */
export const CLOUDSQL_SUPERUSER = "cloudsqlsuperuser";

/**
 * The NOLOGIN role, with no privilege of its own, that is a preview's user's only membership (`databaseRoles` on its
 * `gcp.sql.User`): it takes the place of cloudsqlsuperuser, and marks the user as a preview's.
 */
export const PREVIEW_DATABASE_ROLE = "monitor_preview";

/**
 * What Postgres (and Cloud SQL) accept as a role or database name here: lowercase, unquoted-safe, at most 63 bytes.
 * The program's names all fit it; a name that does not is refused before anything renders it into a job.
 */
export const SQL_IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;
