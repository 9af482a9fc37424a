import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import * as random from "@pulumi/random";

export interface PreviewDatabaseArgs {
  /** Project and name of the shared Cloud SQL instance the database lives on. */
  project: pulumi.Input<string>;
  instance: pulumi.Input<string>;
  databaseName: string;
  userName: string;
}

/**
 * One pull request's Postgres database and its owner on the shared preview instance: seconds to create, nothing
 * to pay while idle, and gone with the preview. The database depends on its user so that teardown drops the
 * database (and everything the user owns in it) before the user, which Postgres requires.
 */
export class PreviewDatabase extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  readonly userName: pulumi.Output<string>;
  /** Secret. */
  readonly password: pulumi.Output<string>;

  constructor(name: string, args: PreviewDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:PreviewDatabase", name, {}, opts);
    // Alphanumeric only: the password travels inside DATABASE_URL, where other characters would need escaping.
    const password = new random.RandomPassword(`${name}-password`, { length: 32, special: false }, { parent: this });
    const user = new gcp.sql.User(
      `${name}-user`,
      { project: args.project, instance: args.instance, name: args.userName, password: password.result },
      { parent: this },
    );
    const database = new gcp.sql.Database(
      name,
      { project: args.project, instance: args.instance, name: args.databaseName, deletionPolicy: "DELETE" },
      { parent: this, dependsOn: [user] },
    );
    this.databaseName = database.name;
    this.userName = user.name;
    this.password = pulumi.secret(password.result);
    this.registerOutputs({ databaseName: this.databaseName, userName: this.userName });
  }
}
