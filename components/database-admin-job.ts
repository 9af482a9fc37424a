import type * as pulumi from "@pulumi/pulumi";
import type * as gcp from "../infra/gcp";
import { executionWait, singleTaskJob } from "./app-job";
import { cloudSqlSocketDirectory, cloudSqlVolume } from "./app-runtime";
import type { Retention } from "./options";

/**
 * The Postgres client every database admin job runs: the official image's psql 16, pinned by digest (the digest of
 * `postgres:16-alpine` as published on Docker Hub, which Cloud Run pulls from directly). It is not the app's image:
 * a preview's image is built from the pull request, and nothing from a pull request may run with the admin's
 * password. To move it: `docker buildx imagetools inspect postgres:16-alpine` and take the index digest.
 */
export const DATABASE_CLIENT_IMAGE =
  "docker.io/library/postgres:16-alpine@sha256:57c72fd2a128e416c7fcc499958864df5301e940bca0a56f58fddf30ffc07777";

/** The platform's database admin on the shared instance, as previews read it from the platform. */
export interface DatabaseAdmin {
  /** The admin's Postgres user (a Cloud SQL user, hence a member of cloudsqlsuperuser). */
  readonly user: pulumi.Input<string>;
  /** Secret Manager resource name of the admin's password. */
  readonly passwordSecret: pulumi.Input<string>;
  /** The service account the admin jobs run as: the only identity that may read that password. */
  readonly serviceAccountEmail: pulumi.Input<string>;
}

export interface DatabaseAdminJobArgs extends Retention {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  readonly region: string;
  readonly jobName: pulumi.Input<string>;
  readonly labels: Readonly<Record<string, string>>;
  readonly admin: DatabaseAdmin;
  /** `project:region:instance` of the instance, mounted at /cloudsql. */
  readonly connectionName: pulumi.Input<string>;
  /** The database psql connects to. */
  readonly database: pulumi.Input<string>;
  /** One script from preview-database-sql.ts, sent as it is (psql --command). */
  readonly sql: string;
  /** `PGOPTIONS`: the names the script reads (setupOptions). */
  readonly options: pulumi.Input<string>;
  /** Runs an execution named after it whenever it changes, and waits for it to succeed. */
  readonly executionToken: pulumi.Input<string>;
}

const TIMEOUT_SECONDS = 120;
/** A connection through the Auth Proxy can fail while the instance restarts; the scripts are idempotent. */
const MAX_RETRIES = 1;

/**
 * A Cloud Run job that runs one SQL script with psql as the platform's database admin, over the Cloud SQL socket:
 * libpq reads everything from its environment (PGHOST, PGUSER, PGDATABASE, PGOPTIONS, and PGPASSWORD from Secret
 * Manager, https://www.postgresql.org/docs/16/libpq-envars.html), so no value is ever part of the command line.
 * `runExecutionToken` makes the update wait until that execution has succeeded.
 */
export function databaseAdminJob(
  name: string,
  args: DatabaseAdminJobArgs,
  opts: pulumi.CustomResourceOptions,
): gcp.cloudrunv2.Job {
  const { volumes, volumeMounts } = cloudSqlVolume({ cloudSqlConnection: args.connectionName });
  const wait = executionWait(TIMEOUT_SECONDS, MAX_RETRIES);
  return singleTaskJob(
    name,
    {
      ...args,
      serviceAccount: args.admin.serviceAccountEmail,
      timeoutSeconds: TIMEOUT_SECONDS,
      maxRetries: MAX_RETRIES,
      runExecutionToken: args.executionToken,
      volumes,
      container: {
        image: DATABASE_CLIENT_IMAGE,
        // Exec form: the script is one argument, never parsed by a shell. No ~/.psqlrc, stop at the first error.
        commands: ["psql"],
        args: ["--no-psqlrc", "--set=ON_ERROR_STOP=1", "--command", args.sql],
        envs: [
          { name: "PGDATABASE", value: args.database },
          { name: "PGHOST", value: cloudSqlSocketDirectory(args.connectionName) },
          { name: "PGOPTIONS", value: args.options },
          {
            name: "PGPASSWORD",
            valueSource: { secretKeyRef: { secret: args.admin.passwordSecret, version: "latest" } },
          },
          { name: "PGUSER", value: args.admin.user },
        ],
        volumeMounts,
      },
    },
    { ...opts, customTimeouts: { create: wait, update: wait } },
  );
}
