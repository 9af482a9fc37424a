import { CLOUDSQL_SUPERUSER, SQL_IDENTIFIER } from "../shared-rules/preview-database";

/**
 * The SQL the platform's database admin runs on the shared preview instance, exactly as the Cloud Run jobs send it
 * and as test/preview-database-isolation.test.ts runs it against a real PostgreSQL 16.
 *
 * Each script is one text sent as one simple-protocol query: `psql --command` does that ("If the command string
 * contains multiple SQL commands, they are processed in a single transaction, unless there are explicit BEGIN/COMMIT
 * commands included in the string to divide it into multiple transactions", psql's documentation, option -c), and so
 * does node-postgres' `client.query(text)` without parameters, which is how the test sends it.
 *
 * No name is spliced into the text: the names arrive as custom settings in the connection's startup options
 * (`PGOPTIONS="-c monitor.preview_database=..."`, libpq's environment, or node-postgres' `options`), the scripts read
 * them with current_setting(), and every statement that needs one as an identifier builds it with format('%I'),
 * the server's own identifier quoting. The names are also checked against SQL_IDENTIFIER before they are rendered.
 */

/** The custom settings the scripts read, by what they hold. */
export const SETUP_SETTINGS = {
  database: "monitor.preview_database",
  user: "monitor.preview_user",
  role: "monitor.preview_role",
} as const;

export type SetupValues = { readonly [K in keyof typeof SETUP_SETTINGS]: string };

/**
 * The startup options (`PGOPTIONS`) that hand the names to a script: `-c monitor.preview_role=monitor_preview ...`.
 * Only the settings given are rendered (the platform's script needs the role alone). Refuses a name that is not a
 * plain lowercase identifier: libpq splits the options on spaces, and such a name never comes from the program.
 */
export function setupOptions(values: Partial<SetupValues>): string {
  return (Object.keys(SETUP_SETTINGS) as (keyof SetupValues)[])
    .filter((key) => values[key] !== undefined)
    .map((key) => {
      const value = values[key]!;
      if (!SQL_IDENTIFIER.test(value)) {
        throw new Error(
          `${SETUP_SETTINGS[key]} "${value}" is not a lowercase SQL identifier (${SQL_IDENTIFIER.source}): ` +
            "the program derives these names, so it was given one from somewhere else",
        );
      }
      return `-c ${SETUP_SETTINGS[key]}=${value}`;
    })
    .join(" ");
}

// PostgreSQL 16 is where CREATEROLE stopped being a near-superuser: "Restrict the privileges of CREATEROLE and its
// ability to modify other roles ... now require the role requesting the change to have ADMIN OPTION permission"
// (https://www.postgresql.org/docs/16/release-16.html). Cloud SQL gives every user it creates CREATEROLE, so on 15 or
// older one preview's user could change another's password or grant itself cloudsqlsuperuser.
const REQUIRE_POSTGRES_16 = `
  IF current_setting('server_version_num')::int < 160000 THEN
    RAISE EXCEPTION 'preview isolation needs PostgreSQL 16 or later (CREATEROLE is limited to roles one administers from 16 on); this server runs %',
      current_setting('server_version');
  END IF;`;

/**
 * Run once by the platform (and again on every change of this text: it is idempotent), in the `postgres` database:
 * creates the previews' role, NOLOGIN and with no privilege, before any preview's user names it in `databaseRoles`
 * ("Custom roles must be created in the database before you can assign them", @pulumi/gcp sql/user.d.ts). A role of
 * that name that the admin did not create (another user with CREATEROLE could have) is refused, not adopted.
 */
export const PLATFORM_INIT_SQL = `DO $init$
DECLARE
  preview_role text := current_setting('${SETUP_SETTINGS.role}');
  existing pg_roles;
  administrators text;
BEGIN${REQUIRE_POSTGRES_16}
  SELECT * INTO existing FROM pg_roles WHERE rolname = preview_role;
  IF NOT FOUND THEN
    EXECUTE format('CREATE ROLE %I NOLOGIN', preview_role);
    RETURN;
  END IF;
  SELECT string_agg(pg_get_userbyid(member), ', ' ORDER BY pg_get_userbyid(member)) INTO administrators
    FROM pg_auth_members WHERE roleid = existing.oid AND admin_option AND member <> current_user::regrole;
  IF existing.rolcanlogin OR administrators IS NOT NULL
     OR EXISTS (SELECT FROM pg_auth_members WHERE member = existing.oid) THEN
    RAISE EXCEPTION 'role % exists but is not the one this admin creates (login %, administered by [%], a member of other roles %): drop it as the platform admin and run the platform again',
      preview_role, existing.rolcanlogin, coalesce(administrators, ''), EXISTS (SELECT FROM pg_auth_members WHERE member = existing.oid);
  END IF;
END
$init$;`;

/**
 * Run for every preview deploy before its migration, as the platform admin, connected to the preview's database:
 * 1. checks that the database and the user are the ones the Cloud SQL API created for this preview (the database
 *    owned by cloudsqlsuperuser; the user a member of the previews' role alone, which `databaseRoles` asked for, and
 *    administered by nobody), so that a name squatted by another preview, or a user still in cloudsqlsuperuser, is
 *    refused instead of trusted;
 * 2. takes CONNECT and TEMPORARY away from PUBLIC (which every database has by default) and gives them to the
 *    preview's user alone, with USAGE and CREATE on schema public (owned by pg_database_owner since PostgreSQL 15,
 *    here cloudsqlsuperuser), which is all knex needs to migrate: the tables it creates are then the user's own;
 * 3. once that is committed, ends any session another preview opened on this database before CONNECT was revoked
 *    (revoking does not close sessions), and fails the deploy if it cannot.
 */
export const PREVIEW_SETUP_SQL = `BEGIN;
DO $setup$
DECLARE
  db text := current_setting('${SETUP_SETTINGS.database}');
  app text := current_setting('${SETUP_SETTINGS.user}');
  preview_role text := current_setting('${SETUP_SETTINGS.role}');
  app_oid oid;
  owner_name name;
  memberships text;
  administrators text;
BEGIN${REQUIRE_POSTGRES_16}
  IF current_database() <> db THEN
    RAISE EXCEPTION 'connected to database %, not to the preview''s database %', current_database(), db;
  END IF;
  SELECT pg_get_userbyid(datdba) INTO owner_name FROM pg_database WHERE datname = db;
  IF owner_name IS DISTINCT FROM '${CLOUDSQL_SUPERUSER}' THEN
    RAISE EXCEPTION 'database % is owned by %, not by ${CLOUDSQL_SUPERUSER} as every database the Cloud SQL API creates: someone else created it; drop it and deploy the preview again',
      db, owner_name;
  END IF;
  SELECT oid INTO app_oid FROM pg_roles WHERE rolname = app;
  IF app_oid IS NULL THEN
    RAISE EXCEPTION 'user % does not exist: the preview''s gcp.sql.User must be created before this job', app;
  END IF;
  SELECT string_agg(pg_get_userbyid(roleid), ', ' ORDER BY pg_get_userbyid(roleid)) INTO memberships
    FROM pg_auth_members WHERE member = app_oid;
  IF memberships IS DISTINCT FROM preview_role THEN
    RAISE EXCEPTION 'user % is a member of [%], not of % alone: give its gcp.sql.User databaseRoles ["%"]',
      app, coalesce(memberships, ''), preview_role, preview_role;
  END IF;
  SELECT string_agg(pg_get_userbyid(member), ', ' ORDER BY pg_get_userbyid(member)) INTO administrators
    FROM pg_auth_members WHERE roleid = app_oid;
  IF administrators IS NOT NULL THEN
    RAISE EXCEPTION 'roles [%] can act as user %, which the Cloud SQL API never grants: someone else created it; delete it and deploy the preview again',
      administrators, app;
  END IF;
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', db);
  EXECUTE format('GRANT CONNECT, TEMPORARY ON DATABASE %I TO %I', db, app);
  EXECUTE format('GRANT USAGE, CREATE ON SCHEMA public TO %I', app);
END
$setup$;
COMMIT;
DO $sessions$
DECLARE
  intruder record;
BEGIN
  FOR intruder IN
    SELECT pid, usename FROM pg_stat_activity
    WHERE datname = current_setting('${SETUP_SETTINGS.database}')
      AND pid <> pg_backend_pid()
      AND usename <> current_setting('${SETUP_SETTINGS.user}')
      AND NOT EXISTS (SELECT FROM pg_roles WHERE oid = usesysid AND rolsuper)
      AND NOT pg_has_role(usesysid, '${CLOUDSQL_SUPERUSER}', 'MEMBER')
  LOOP
    BEGIN
      PERFORM pg_terminate_backend(intruder.pid);
    EXCEPTION WHEN insufficient_privilege THEN
      RAISE EXCEPTION 'user % (pid %) connected to database % before CONNECT was revoked, and this admin may not end its session: end it as a member of pg_signal_backend and deploy again',
        intruder.usename, intruder.pid, current_setting('${SETUP_SETTINGS.database}');
    END;
  END LOOP;
END
$sessions$;`;
