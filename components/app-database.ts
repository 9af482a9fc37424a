import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import * as random from "@pulumi/random";
import { type Retention, retains, deletionPolicyFor } from "./options";

export interface AppDatabaseArgs extends Retention {
  /** Project and name of the Cloud SQL instance the database lives on. */
  readonly project: pulumi.Input<string>;
  readonly instance: pulumi.Input<string>;
  /** `project:region:instance`: the Cloud SQL volume's socket directory, which DATABASE_URL names as its host. */
  readonly connectionName: pulumi.Input<string>;
  readonly databaseName: string;
  readonly userName: string;
  /**
   * The user's only role memberships, in place of the cloudsqlsuperuser that Cloud SQL makes every user it creates a
   * member of (a user created with no roles gets cloudsqlsuperuser: the Admin API's InitialUser.roles, "If empty,
   * will grant role cloudsqlsuperuser"). A preview on the shared instance passes `["monitor_preview"]`.
   * @default none: a member of cloudsqlsuperuser, as the instance's only app user (stage, prod) may be
   */
  readonly databaseRoles?: readonly string[];
}

/**
 * The app's Postgres database and the user that owns it, with a generated password. The database depends on
 * its user, so teardown drops the database (and everything the user owns in it) before the user, which Postgres
 * requires. A preview's database on the shared instance takes seconds to create and costs nothing idle.
 */
export class AppDatabase extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly userName: pulumi.Output<string>;
  /** Secret. */
  readonly password: pulumi.Output<string>;
  /**
   * The app's `DATABASE_URL` (secret), pointing at the Cloud SQL volume's Unix socket (`?host=/cloudsql/<conn>`,
   * which pg-connection-string reads as the host). Under APP_ENV=cloudrun the app takes the host from `PG_HOST`
   * instead, the same socket; under "stage" and "production" it uses this URL as it is.
   */
  readonly url: pulumi.Output<string>;

  constructor(name: string, args: AppDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:AppDatabase", name, {}, opts);
    // Previews pass retain: false, so that `pulumi destroy` (which never reruns the program) can remove both.
    const protect = retains(args);
    // Alphanumeric only: the password travels inside DATABASE_URL, where other characters would need escaping.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const user = new gcp.sql.User(
      `${name}-user`,
      {
        project: args.project,
        instance: args.instance,
        name: args.userName,
        password: password.result,
        // Write-only, and "Existing database roles will be overwritten with new values from this field"
        // (@pulumi/gcp sql/user.d.ts): every update re-asserts exactly this list.
        ...(args.databaseRoles && { databaseRoles: [...args.databaseRoles] }),
      },
      { parent: this, protect },
    );
    const database = new gcp.sql.Database(
      name,
      // PREVENT makes the provider refuse a delete too, beside Pulumi's protect; previews must be deletable.
      {
        project: args.project,
        instance: args.instance,
        name: args.databaseName,
        deletionPolicy: deletionPolicyFor(protect),
      },
      { parent: this, dependsOn: [user], protect },
    );
    this.databaseName = database.name;
    this.userName = user.name;
    this.password = pulumi.secret(password.result);
    this.url = pulumi.secret(
      pulumi.interpolate`postgres://${user.name}:${password.result}@/${database.name}?host=${pulumi
        .output(args.connectionName)
        .apply((c) => encodeURIComponent(`/cloudsql/${c}`))}`,
    );
    this.registerOutputs({ databaseName: this.databaseName, userName: this.userName });
  }
}
