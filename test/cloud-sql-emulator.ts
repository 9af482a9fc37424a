import { Client, type ClientConfig } from "pg";
import type { PostgresServer } from "./postgres-server";

/**
 * Cloud SQL for PostgreSQL's role model on a plain PostgreSQL 16, as Google documents it, so that what the program
 * asks the Cloud SQL Admin API for can be replayed here. Each step cites its source; what no document states is
 * marked as assumed, and assumed the way that favours an attacker.
 */

/** The superuser Google keeps for itself: "Used by Google internally ... Not accessible to customers". */
export const CLOUDSQL_ADMIN = "cloudsqladmin";
const CLOUDSQL_SUPERUSER = "cloudsqlsuperuser";

export class CloudSqlEmulator {
  private constructor(
    private readonly server: PostgresServer,
    private readonly admin: Client,
  ) {}

  /** The instance as Cloud SQL creates it: its roles, and the default `postgres` user. */
  static async start(server: PostgresServer): Promise<CloudSqlEmulator> {
    const admin = new Client({
      host: server.socketDirectory,
      user: server.superuser.user,
      password: server.superuser.password,
      database: "postgres",
    });
    await admin.connect();
    const emulator = new CloudSqlEmulator(server, admin);
    // https://cloud.google.com/sql/docs/postgres/users: "the cloudsqlsuperuser role ... CREATEROLE, CREATEDB, and
    // LOGIN. It does not have the SUPERUSER or REPLICATION attributes" (as the role members inherit from; the role
    // itself cannot log in). Its membership of pg_monitor shows in a public `\du` of a real instance; that of
    // pg_signal_backend is assumed (an admin or a preview in it could end others' sessions), worst case.
    await admin.query(`CREATE ROLE ${CLOUDSQL_SUPERUSER} NOLOGIN CREATEROLE CREATEDB`);
    await admin.query(`GRANT pg_monitor, pg_signal_backend TO ${CLOUDSQL_SUPERUSER}`);
    // The `postgres` database belongs to the customer's admin role on Cloud SQL, not to Google's superuser.
    await admin.query(`ALTER DATABASE postgres OWNER TO ${CLOUDSQL_SUPERUSER}`);
    return emulator;
  }

  /**
   * `users.insert` for a BUILT_IN user: "All users you create using Cloud SQL are created as part of the
   * cloudsqlsuperuser role, and have the same set of attributes as the postgres user: CREATEROLE, CREATEDB, and
   * LOGIN" (https://cloud.google.com/sql/docs/postgres/users). With `databaseRoles` ("Role memberships of the
   * user", Admin API v1 User), the user joins those roles instead; that they replace cloudsqlsuperuser is what the
   * Admin API says of its InitialUser.roles ("If empty, will grant role cloudsqlsuperuser") and @pulumi/gcp of
   * this field ("Existing database roles will be overwritten"), inferred for users.insert. That the user keeps
   * CREATEROLE and CREATEDB with them is assumed, worst case.
   */
  async createUser(user: { name: string; password: string; databaseRoles?: readonly string[] }): Promise<void> {
    const name = this.admin.escapeIdentifier(user.name);
    await this.admin.query(
      `CREATE ROLE ${name} LOGIN CREATEROLE CREATEDB PASSWORD ${this.admin.escapeLiteral(user.password)}`,
    );
    const roles = user.databaseRoles?.length ? user.databaseRoles : [CLOUDSQL_SUPERUSER];
    await this.admin.query(`GRANT ${roles.map((r) => this.admin.escapeIdentifier(r)).join(", ")} TO ${name}`);
  }

  /**
   * `databases.insert`: the database belongs to cloudsqlsuperuser, and keeps Postgres' default privileges (CONNECT
   * and TEMPORARY for PUBLIC). Reproduced on real instances (issue 15); no Cloud SQL page states the owner.
   */
  async createDatabase(name: string): Promise<void> {
    const database = this.admin.escapeIdentifier(name);
    await this.admin.query(`CREATE DATABASE ${database} OWNER ${CLOUDSQL_SUPERUSER}`);
  }

  /** `databases.delete`, as Google's superuser: fails while sessions are open, as Postgres does. */
  async deleteDatabase(name: string): Promise<void> {
    await this.admin.query(`DROP DATABASE ${this.admin.escapeIdentifier(name)}`);
  }

  /** `users.delete`: DROP ROLE, which Postgres refuses while the role owns or is granted anything. */
  async deleteUser(name: string): Promise<void> {
    await this.admin.query(`DROP ROLE ${this.admin.escapeIdentifier(name)}`);
  }

  /** A statement as Google's superuser (what the tests inspect, never what the program does). */
  async query<R extends object = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]> {
    return (await this.admin.query<R>(text, values)).rows;
  }

  /** A session on the instance's socket, or on `host` (a socket directory below the server's root). */
  async connect(config: ClientConfig): Promise<Client> {
    const client = new Client({ host: this.server.socketDirectory, ...config });
    // A session the server ends (pg_terminate_backend) reports on the client, not on a query: keep it quiet.
    client.on("error", () => undefined);
    await client.connect();
    return client;
  }

  async close(): Promise<void> {
    await this.admin.end();
  }
}
