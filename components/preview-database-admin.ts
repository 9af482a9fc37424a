import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import * as random from "@pulumi/random";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import { PREVIEW_DATABASE_ROLE } from "../shared-rules/preview-database";
import { AppSecrets } from "./app-secrets";
import { DATABASE_CLIENT_IMAGE, type DatabaseAdmin, databaseAdminJob } from "./database-admin-job";
import { executionToken } from "./migration-job";
import { type Grantee, type Retention, deletionPolicyFor, retains } from "./options";
import type { PostgresInstance } from "./postgres-instance";
import { PLATFORM_INIT_SQL, setupOptions } from "./preview-database-sql";

export interface PreviewDatabaseAdminArgs extends Retention {
  readonly project: string;
  readonly region: string;
  /** The shared preview instance. */
  readonly instance: PostgresInstance;
  /**
   * Its `project:region:instance`, as known before it exists (the instance's own output is unknown at a first
   * preview, and the job's PGHOST is judged by the policy pack then).
   */
  readonly connectionName: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The service account the admin jobs run as, created by the pipeline stack in the identity project (with its
   * connection to this instance, and actAs for the two deployers that deploy these jobs): see `databaseAdminEmail()`.
   */
  readonly serviceAccountEmail: string;
}

/**
 * The one database user on the shared preview instance that is trusted with every preview's database: a Cloud SQL
 * user (so a member of cloudsqlsuperuser, which owns every database the API creates), its generated password in
 * Secret Manager, readable only by the service account the admin jobs run as (`monitor-previews-db-admin`, which the
 * pipeline stack keeps outside this project: the previews project's 100 service accounts are one per open preview).
 *
 * Its init job creates the previews' role (`monitor_preview`, NOLOGIN, no privilege; PLATFORM_INIT_SQL), which every
 * preview's user must exist beside before Cloud SQL can put it in its `databaseRoles`. Each preview then runs
 * PreviewDatabaseAccess as this admin.
 *
 * Whoever may act as the account may read the password, so only the two deployers are granted that, and the preview
 * deployer gains nothing by it: its custom role on the instance (`cloudsql.users.update`) already lets it set any
 * user's password. What pull-request code runs as (each preview's own account) can read neither.
 */
export class PreviewDatabaseAdmin extends pulumi.ComponentResource {
  /** What previews read from the platform (no secret value: the secret's name only). */
  readonly admin: pulumi.Output<{ user: string; passwordSecret: string; serviceAccountEmail: string }>;

  constructor(name: string, args: PreviewDatabaseAdminArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:PreviewDatabaseAdmin", name, {}, opts);
    const retain = retains(args);
    const child = { parent: this };
    const identity: Grantee = { key: "database-admin", member: `serviceAccount:${args.serviceAccountEmail}` };
    // Alphanumeric: it travels in PGPASSWORD, and nothing else needs escaping.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, child);
    const user = new gcp.sql.User(
      `${name}-user`,
      {
        project: args.project,
        instance: args.instance.instanceName,
        name: PREVIEW_PLATFORM_NAMES.databaseAdminUser,
        password: password.result,
        deletionPolicy: deletionPolicyFor(retain),
      },
      { ...child, protect: retain },
    );
    const secrets = new AppSecrets(
      `${name}-secret`,
      {
        project: args.project,
        secretIdOf: () => PREVIEW_PLATFORM_NAMES.databaseAdminSecretId,
        secrets: { PGPASSWORD: { kind: "value", value: password.result } },
        labels: { ...args.labels, role: "preview-database-admin" },
        retain,
      },
      child,
    );
    const grants = secrets.grantAccess(identity);
    const passwordSecret = secrets.refs.PGPASSWORD.secret;
    const admin: DatabaseAdmin = { user: user.name, passwordSecret, serviceAccountEmail: args.serviceAccountEmail };

    databaseAdminJob(
      `${name}-init`,
      {
        project: args.project,
        region: args.region,
        jobName: PREVIEW_PLATFORM_NAMES.databaseInitJob,
        labels: args.labels,
        admin,
        connectionName: args.connectionName,
        database: "postgres",
        sql: PLATFORM_INIT_SQL,
        options: setupOptions({ role: PREVIEW_DATABASE_ROLE }),
        // Runs when the script or the client changes (it is idempotent), and on the platform's first deploy.
        executionToken: executionToken(DATABASE_CLIENT_IMAGE, PLATFORM_INIT_SQL),
        retain,
      },
      { ...child, dependsOn: [user, secrets, ...grants] },
    );

    this.admin = pulumi.all([user.name, passwordSecret]).apply(([userName, secret]) => ({
      user: userName,
      passwordSecret: secret,
      serviceAccountEmail: args.serviceAccountEmail,
    }));
    this.registerOutputs({ admin: this.admin });
  }
}
