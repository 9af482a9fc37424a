import { join } from "node:path";
import knex, { type Knex } from "knex";
import type { Client } from "pg";
import pgConnectionString from "pg-connection-string";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PREVIEW_SETUP_SQL, setupOptions } from "../components/preview-database-sql";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { namesFor } from "../infra/naming";
import { databaseAdminEmail } from "../infra/pipeline-contract";
import { PREVIEW_DATABASE_ROLE } from "../shared-rules/preview-database";
import { CLOUDSQL_ADMIN, CloudSqlEmulator } from "./cloud-sql-emulator";
import { DATABASE, JOB, SECRET_VERSION, USER, deletedBefore, evaluateStack, one, waitsForAll } from "./harness";
import { type PostgresServer, startPostgres } from "./postgres-server";

// One preview cannot see or harm another's database, proven on a real PostgreSQL 16 with Cloud SQL's role model
// (cloud-sql-emulator.ts): the platform and two previews are created from what the program renders (the users,
// passwords and databases it asks the Cloud SQL API for; the SQL, env and secrets of its jobs), each preview migrates
// as the app does, and then each tries everything a preview's code could try against the other.

const MIGRATIONS = join(__dirname, "preview-migrations");

interface Container {
  commands?: string[];
  args?: string[];
  envs: { name: string; value?: string; valueSource?: { secretKeyRef: { secret: string } } }[];
}

/** What a deployed preview holds: its user, its database, and the app's two connection variables. */
interface Deployed {
  user: string;
  password: string;
  database: string;
  databaseUrl: string;
  pgHost: string;
}

let server: PostgresServer;
let cloud: CloudSqlEmulator;
let platform: Evaluation;
const previews: Record<"a" | "b", Evaluation> = {} as never;
const deployed: Record<"a" | "b", Deployed> = {} as never;
const open: Client[] = [];

function containerOf(r: Registration): Container {
  return (r.rawInputs as any).template.template.containers[0];
}

/**
 * The named variables of a container's environment as Cloud Run gives them: secret references read from the
 * versions the stacks write (a sandbox secret's version is added by hand, so none is asked for here).
 */
function envOf<K extends string>(r: Registration, names: readonly K[], stacks: Evaluation[]): Record<K, string> {
  const versions = stacks.flatMap((s) => s.registrations.filter((v) => v.type === SECRET_VERSION));
  const envs = containerOf(r).envs;
  return Object.fromEntries(
    names.map((name) => {
      const e = envs.find((candidate) => candidate.name === name);
      if (!e) throw new Error(`${r.name} has no ${name}`);
      if (e.value !== undefined) return [name, e.value];
      const version = versions.find((v) => v.rawInputs.secret === e.valueSource!.secretKeyRef.secret);
      if (!version) throw new Error(`no stack writes the secret behind ${name}`);
      return [name, String(version.rawInputs.secretData)];
    }),
  ) as Record<K, string>;
}

/** The socket a path the program renders (`/cloudsql/<connection>`) names, below the test server's root. */
const onServer = (path: string) => join(server.root, path);

/** A session, kept for closing at the end. */
async function session(config: { user: string; password: string; database: string; host?: string }) {
  const client = await cloud.connect(config);
  open.push(client);
  return client;
}

/** Runs a database admin job as Cloud Run would: its psql script, as its user, with its PGOPTIONS and password. */
async function runAdminJob(job: Registration, ...stacks: Evaluation[]): Promise<void> {
  const { commands, args = [] } = containerOf(job);
  expect(commands).toEqual(["psql"]);
  const env = envOf(job, ["PGHOST", "PGUSER", "PGPASSWORD", "PGDATABASE", "PGOPTIONS"], stacks);
  const client = await cloud.connect({
    host: onServer(env.PGHOST),
    user: env.PGUSER,
    password: env.PGPASSWORD,
    database: env.PGDATABASE,
    options: env.PGOPTIONS,
  });
  try {
    // psql --command sends its argument as one query; so does node-postgres without parameters.
    await client.query(args[args.indexOf("--command") + 1]);
  } finally {
    await client.end();
  }
}

/**
 * The app's knex config under APP_ENV=cloudrun, on the test server's socket: mozilla/blurts-server src/db/knexfile.ts
 * (7c02ada) parses DATABASE_URL with pg-connection-string, then sets `ssl = false` and `host = process.env.PG_HOST`,
 * client "pg". Here PG_HOST is found below the server's root.
 */
function knexFor(env: { DATABASE_URL: string; PG_HOST: string }, as: { user?: string; database?: string } = {}) {
  // The app casts the same way: pg-connection-string's types allow a null database that knex's do not.
  const parsed = pgConnectionString.parse(env.DATABASE_URL) as Knex.PgConnectionConfig;
  const connection = { ...parsed, ...as, ssl: false, host: onServer(env.PG_HOST) };
  return knex({ client: "pg", connection, migrations: { directory: MIGRATIONS } });
}

/** `npm run db:migrate` (knex migrate:latest) with the env the migration job renders. */
async function migrate(env: { DATABASE_URL: string; PG_HOST: string }, as?: { user: string; database: string }) {
  const db = knexFor(env, as);
  try {
    await db.migrate.latest();
  } finally {
    await db.destroy();
  }
}

/** A preview's `pulumi up`, in the graph's order: user, database, access job, migration. */
async function deploy(preview: Evaluation): Promise<Deployed> {
  const user = one(preview, USER).rawInputs as { name: string; password: string; databaseRoles?: string[] };
  await cloud.createUser(user);
  const database = String(one(preview, DATABASE).rawInputs.name);
  await cloud.createDatabase(database);
  await runAdminJob(one(preview, JOB, "database-access"), platform, preview);
  const env = envOf(one(preview, JOB, "migration"), ["DATABASE_URL", "PG_HOST"], [platform, preview]);
  await migrate(env);
  return { user: user.name, password: user.password, database, databaseUrl: env.DATABASE_URL, pgHost: env.PG_HOST };
}

/** The error code and message a statement fails with, or "succeeded". */
async function attempt(client: Client, sql: string): Promise<string> {
  try {
    await client.query(sql);
    return "succeeded";
  } catch (err) {
    return (err as Error).message;
  }
}

beforeAll(async () => {
  // One at a time: the engine's mock runtime is process-wide.
  platform = await evaluateStack("previews");
  previews.a = await evaluateStack("pr-123");
  previews.b = await evaluateStack("pr-124");
  const volume = one(previews.a, JOB, "database-access").rawInputs as any;
  const connection: string = volume.template.template.volumes[0].cloudSqlInstance.instances[0];
  server = await startPostgres(connection, CLOUDSQL_ADMIN);
  cloud = await CloudSqlEmulator.start(server);
  // The platform: its admin (a Cloud SQL user like any other), then its init job, which creates the previews' role.
  const admin = one(platform, USER, "preview-platform-database-admin-user").rawInputs as {
    name: string;
    password: string;
  };
  await cloud.createUser(admin);
  await runAdminJob(one(platform, JOB, "preview-platform-database-admin-init"), platform);
  deployed.a = await deploy(previews.a);
  deployed.b = await deploy(previews.b);
});

afterAll(async () => {
  await Promise.all(open.map((c) => c.end().catch(() => undefined)));
  await cloud?.close();
  await server?.stop();
});

describe("what the program renders", () => {
  it("asks Cloud SQL for a preview user in the previews' role alone, and runs the access job before the migration", () => {
    for (const preview of [previews.a, previews.b]) {
      expect(one(preview, USER).rawInputs.databaseRoles).toEqual([PREVIEW_DATABASE_ROLE]);
      const access = one(preview, JOB, "database-access");
      const waits = waitsForAll(preview, access);
      expect(waits).toContain(one(preview, USER).urn);
      expect(waits).toContain(one(preview, DATABASE).urn);
      expect(waitsForAll(preview, one(preview, JOB, "migration"))).toContain(access.urn);
      // Teardown: the job, then the database and every grant in it, then the user.
      expect(deletedBefore(preview, access, one(preview, DATABASE))).toBe(true);
      expect(deletedBefore(preview, one(preview, DATABASE), one(preview, USER))).toBe(true);
    }
  });

  it("hands the names to the script as settings, and the script is the one the component renders", () => {
    const env = envOf(one(previews.a, JOB, "database-access"), ["PGOPTIONS", "PGDATABASE"], [platform, previews.a]);
    expect(env.PGOPTIONS).toBe(
      setupOptions({ database: "monitor_pr_123", user: "monitor_pr_123_app", role: PREVIEW_DATABASE_ROLE }),
    );
    const { args = [] } = containerOf(one(previews.a, JOB, "database-access"));
    expect(args[args.indexOf("--command") + 1]).toBe(PREVIEW_SETUP_SQL);
    expect(env.PGDATABASE).toBe("monitor_pr_123");
    // Both admin jobs run as the admin's account (in the identity project, never a preview's own account).
    for (const job of [
      one(previews.a, JOB, "database-access"),
      one(platform, JOB, "preview-platform-database-admin-init"),
    ]) {
      expect((job.rawInputs as any).template.template.serviceAccount).toBe(
        databaseAdminEmail("moz-fx-monitor-nonprod"),
      );
    }
    // DATABASE_URL alone names the same socket PG_HOST does (the app under stage/production reads the URL only).
    expect(pgConnectionString.parse(deployed.a.databaseUrl).host).toBe(deployed.a.pgHost);
  });
});

describe("each preview migrates under its own user", () => {
  it("ran its migrations with the app's knex config, and owns the tables they made", async () => {
    for (const preview of [deployed.a, deployed.b]) {
      const db = knexFor({ DATABASE_URL: preview.databaseUrl, PG_HOST: preview.pgHost });
      try {
        const tables = await db.raw<{ rows: { tablename: string; tableowner: string }[] }>(
          "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
        );
        expect(tables.rows).toEqual(
          ["breaches", "knex_migrations", "knex_migrations_lock", "subscribers"].map((tablename) => ({
            tablename,
            tableowner: preview.user,
          })),
        );
        await db("subscribers").insert({ primary_email: `${preview.user}@example.com` });
        // A second deploy of the same code migrates nothing and still works.
        await db.migrate.latest();
        expect(await db.migrate.currentVersion()).toBe("20260102000000");
      } finally {
        await db.destroy();
      }
    }
  });
});

describe("one preview cannot see or harm another's database", () => {
  const pairs = [
    ["a", "b"],
    ["b", "a"],
  ] as const;

  it.each(pairs)("%s cannot connect to %s's database, even after trying to grant itself CONNECT", async (x, y) => {
    const own = await session({
      user: deployed[x].user,
      password: deployed[x].password,
      database: deployed[x].database,
    });
    expect(await attempt(own, `GRANT CONNECT ON DATABASE ${deployed[y].database} TO ${deployed[x].user}`)).toBe(
      `permission denied for database ${deployed[y].database}`,
    );
    await expect(
      session({ user: deployed[x].user, password: deployed[x].password, database: deployed[y].database }),
    ).rejects.toThrow(`permission denied for database "${deployed[y].database}"`);
  });

  it.each(pairs)("%s cannot alter, drop, copy or take over %s's database or user", async (x, y) => {
    const own = await session({
      user: deployed[x].user,
      password: deployed[x].password,
      database: deployed[x].database,
    });
    const them = deployed[y];
    const refused: Record<string, string | RegExp> = {
      [`DROP DATABASE ${them.database}`]: `must be owner of database ${them.database}`,
      [`ALTER DATABASE ${them.database} OWNER TO ${deployed[x].user}`]: `must be owner of database ${them.database}`,
      [`ALTER DATABASE ${them.database} RENAME TO stolen`]: `must be owner of database ${them.database}`,
      [`ALTER DATABASE ${them.database} CONNECTION LIMIT 0`]: `must be owner of database ${them.database}`,
      [`CREATE DATABASE copied TEMPLATE ${them.database}`]: `permission denied to copy database "${them.database}"`,
      [`ALTER ROLE ${them.user} PASSWORD 'taken'`]: "permission denied to alter role",
      [`GRANT ${them.user} TO ${deployed[x].user}`]: `permission denied to grant role "${them.user}"`,
      [`SET ROLE ${them.user}`]: `permission denied to set role "${them.user}"`,
      [`GRANT cloudsqlsuperuser TO ${deployed[x].user}`]: 'permission denied to grant role "cloudsqlsuperuser"',
      [`REASSIGN OWNED BY ${them.user} TO ${deployed[x].user}`]: `permission denied to reassign objects`,
      [`DROP OWNED BY ${them.user}`]: `permission denied to drop objects`,
      [`DROP ROLE ${them.user}`]: `permission denied to drop role`,
    };
    for (const [sql, message] of Object.entries(refused)) expect(await attempt(own, sql), sql).toMatch(message);
  });

  it.each(pairs)("%s cannot end %s's sessions, nor read what they run", async (x, y) => {
    const theirs = await session({
      user: deployed[y].user,
      password: deployed[y].password,
      database: deployed[y].database,
    });
    const pid = (await theirs.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0].pid;
    const own = await session({
      user: deployed[x].user,
      password: deployed[x].password,
      database: deployed[x].database,
    });
    expect(await attempt(own, `SELECT pg_terminate_backend(${pid})`)).toMatch("permission denied to terminate process");
    expect(await attempt(own, `SELECT pg_cancel_backend(${pid})`)).toMatch("permission denied to cancel query");
    const seen = await own.query<{ query: string }>("SELECT query FROM pg_stat_activity WHERE pid = $1", [pid]);
    expect(seen.rows).toEqual([{ query: "<insufficient privilege>" }]);
    expect((await theirs.query("SELECT count(*)::int AS n FROM subscribers")).rows).toEqual([{ n: 1 }]);
  });

  it("leaves each preview's data where it was", async () => {
    for (const preview of [deployed.a, deployed.b]) {
      const own = await session({ user: preview.user, password: preview.password, database: preview.database });
      const rows = await own.query("SELECT primary_email FROM subscribers");
      expect(rows.rows).toEqual([{ primary_email: `${preview.user}@example.com` }]);
    }
  });

  it("ends a session another preview opened on the database before the access job closed it", async () => {
    const late = namesFor({ kind: "preview", stack: "pr-125", pr: "125" });
    await cloud.createUser({
      name: late.databaseUser,
      password: "late-preview-password",
      databaseRoles: [PREVIEW_DATABASE_ROLE],
    });
    await cloud.createDatabase(late.database);
    // The window between the API's CREATE DATABASE and the job: PUBLIC may still connect.
    const intruder = await session({ user: deployed.a.user, password: deployed.a.password, database: late.database });
    const access = one(previews.a, JOB, "database-access");
    const options = setupOptions({ database: late.database, user: late.databaseUser, role: PREVIEW_DATABASE_ROLE });
    await runAdminJob(
      { ...access, rawInputs: withEnv(access, { PGDATABASE: late.database, PGOPTIONS: options }) },
      platform,
      previews.a,
    );
    expect(await attempt(intruder, "SELECT 1")).not.toBe("succeeded");
    await expect(
      session({ user: deployed.a.user, password: deployed.a.password, database: late.database }),
    ).rejects.toThrow("permission denied");
  });
});

// The negative control: the same emulated instance and the same attacks, with the setup the program had before
// (each preview's user as the Cloud SQL API makes it without databaseRoles, so a member of cloudsqlsuperuser, and
// no access job). If these pass, the refusals above come from the mechanism, not from the emulation.
describe("the old setup (cloudsqlsuperuser membership, no access job) does let one preview harm another", () => {
  const [old, victim] = ["126", "127"].map((pr) => namesFor({ kind: "preview", stack: `pr-${pr}`, pr }));

  beforeAll(async () => {
    for (const names of [old, victim]) {
      // The user the program asks for, without its databaseRoles: the old setup.
      const password = String(one(previews.a, USER).rawInputs.password);
      await cloud.createUser({ name: names.databaseUser, password });
      await cloud.createDatabase(names.database);
    }
    const env = envOf(one(previews.a, JOB, "migration"), ["DATABASE_URL", "PG_HOST"], [platform, previews.a]);
    // The victim migrates as before: its own user, the same password (the two are copies of one preview's user).
    await migrate(env, { user: victim.databaseUser, database: victim.database });
  });

  it("lets one preview's user connect to another's database, drop its tables, then drop the database", async () => {
    const password = String(one(previews.a, USER).rawInputs.password);
    const intruder = await session({ user: old.databaseUser, password, database: victim.database });
    expect(await attempt(intruder, "DROP TABLE breaches, subscribers CASCADE")).toBe("succeeded");
    await intruder.end();
    const own = await session({ user: old.databaseUser, password, database: old.database });
    expect(await attempt(own, `DROP DATABASE ${victim.database}`)).toBe("succeeded");
    expect(await cloud.query("SELECT FROM pg_database WHERE datname = $1", [victim.database])).toEqual([]);
  });

  it("is refused by the access job, which names the fix", async () => {
    const access = one(previews.a, JOB, "database-access");
    const options = setupOptions({ database: old.database, user: old.databaseUser, role: PREVIEW_DATABASE_ROLE });
    await expect(
      runAdminJob(
        { ...access, rawInputs: withEnv(access, { PGDATABASE: old.database, PGOPTIONS: options }) },
        platform,
      ),
    ).rejects.toThrow(
      `user ${old.databaseUser} is a member of [cloudsqlsuperuser], not of ${PREVIEW_DATABASE_ROLE} alone: ` +
        `give its gcp.sql.User databaseRoles ["${PREVIEW_DATABASE_ROLE}"]`,
    );
  });
});

/** A copy of a job's inputs with some of its env values replaced (another preview's names, on the same job). */
function withEnv(job: Registration, values: Record<string, string>): Record<string, unknown> {
  const inputs = structuredClone(job.rawInputs) as any;
  for (const e of inputs.template.template.containers[0].envs) if (e.name in values) e.value = values[e.name];
  return inputs;
}
