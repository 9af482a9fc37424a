import * as pulumi from "@pulumi/pulumi";
import { PREVIEW_DATABASE_ROLE } from "../shared-rules/preview-database";
import { DATABASE_CLIENT_IMAGE, type DatabaseAdmin, databaseAdminJob } from "./database-admin-job";
import { executionToken } from "./migration-job";
import { PREVIEW_SETUP_SQL, setupOptions } from "./preview-database-sql";

export interface PreviewDatabaseAccessArgs {
  readonly region: string;
  readonly jobName: string;
  readonly labels: Readonly<Record<string, string>>;
  /** The platform's admin, whose identity runs the job. */
  readonly admin: DatabaseAdmin;
  /** The shared instance's `project:region:instance`. */
  readonly connectionName: pulumi.Input<string>;
  /** The preview's database and user, as the Cloud SQL API created them. */
  readonly databaseName: pulumi.Input<string>;
  readonly userName: pulumi.Input<string>;
  /**
   * Changes on every deploy that migrates (the migration's execution token): the setup runs, and re-checks what it
   * checks, before each migration, and a re-run of the same deploy runs nothing new.
   */
  readonly deployToken: pulumi.Input<string>;
}

/**
 * One preview's database, closed to every other preview on the shared instance. Cloud SQL makes every user its API
 * creates a member of cloudsqlsuperuser, which owns every database the API creates, and Postgres grants CONNECT on a
 * database to PUBLIC ("About PostgreSQL users and roles", https://cloud.google.com/sql/docs/postgres/users): so any
 * preview's user could connect to, alter and drop another preview's database. Two things close that:
 * - the preview's `gcp.sql.User` names `databaseRoles: ["monitor_preview"]`, a role with no privilege, which replaces
 *   the cloudsqlsuperuser membership (AppDatabase);
 * - this job, run as the platform's database admin before the migration, checks that the database and the user are
 *   what the API created for this preview, revokes PUBLIC's CONNECT and TEMPORARY, and grants the preview's user
 *   CONNECT and TEMPORARY on its database and USAGE and CREATE on its schema public (PREVIEW_SETUP_SQL).
 * The database stays cloudsqlsuperuser's: under PostgreSQL 16 the admin cannot hand it to the user (ALTER ... OWNER
 * needs SET ROLE to the new owner, which nobody holds on a user the API created), and the migrations need only what
 * is granted. Teardown needs nothing more: the job goes first, then the database (and every grant in it), then the
 * user, which owns nothing left.
 */
export class PreviewDatabaseAccess extends pulumi.ComponentResource {
  readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: PreviewDatabaseAccessArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:PreviewDatabaseAccess", name, {}, opts);
    const options = pulumi
      .all([args.databaseName, args.userName])
      .apply(([database, user]) => setupOptions({ database, user, role: PREVIEW_DATABASE_ROLE }));
    // A new script or client reruns it too; the deploy's token keeps execution names unique (see decideMigration).
    const token = pulumi
      .output(args.deployToken)
      .apply((deploy) => executionToken(deploy, `${DATABASE_CLIENT_IMAGE}\n${PREVIEW_SETUP_SQL}`));
    const job = databaseAdminJob(
      name,
      {
        region: args.region,
        jobName: args.jobName,
        labels: args.labels,
        admin: args.admin,
        connectionName: args.connectionName,
        database: args.databaseName,
        sql: PREVIEW_SETUP_SQL,
        options,
        executionToken: token,
        // Disposable with its preview.
        retain: false,
      },
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.jobName = job.name;
    this.registerOutputs({ jobName: this.jobName });
  }
}
