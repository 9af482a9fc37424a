import * as pulumi from "@pulumi/pulumi";
import type { SecretRef } from "./app-secrets";

/**
 * Everything a Monitor container needs, whatever command it runs: the web service, the migration job and the
 * scheduled jobs all take one AppRuntime, so they run the same bytes with the same environment.
 */
export interface AppRuntime {
  /** Image pinned by digest: `<repository>@sha256:<hex>`. */
  readonly image: pulumi.Input<string>;
  readonly serviceAccountEmail: pulumi.Input<string>;
  /** Plain and derived values, by variable name. */
  readonly env: Readonly<Record<string, pulumi.Input<string>>>;
  /** Secret values, by variable name, read from Secret Manager at start. */
  readonly secrets: Readonly<Record<string, SecretRef>>;
  /** `project:region:instance` of the Cloud SQL instance mounted at /cloudsql. */
  readonly cloudSqlConnection: pulumi.Input<string>;
}

const CLOUDSQL_VOLUME = "cloudsql";
const CLOUDSQL_MOUNT_PATH = "/cloudsql";

/** Cloud Run `envs`, sorted by name so that the rendered template does not change with insertion order. */
export function containerEnvs(runtime: AppRuntime) {
  const plain = Object.entries(runtime.env).map(([name, value]) => ({ name, value }));
  const secret = Object.entries(runtime.secrets).map(([name, ref]) => ({
    name,
    valueSource: { secretKeyRef: { secret: ref.secret, version: ref.version } },
  }));
  return [...plain, ...secret].sort((a, b) => a.name.localeCompare(b.name));
}

/** The Cloud SQL socket volume (Cloud Run runs the Auth Proxy for it) and its mount. */
export function cloudSqlVolume(runtime: Pick<AppRuntime, "cloudSqlConnection">) {
  return {
    volumes: [{ name: CLOUDSQL_VOLUME, cloudSqlInstance: { instances: [runtime.cloudSqlConnection] } }],
    volumeMounts: [{ name: CLOUDSQL_VOLUME, mountPath: CLOUDSQL_MOUNT_PATH }],
  };
}

/** The socket directory the Cloud SQL volume creates for an instance: `/cloudsql/<project:region:instance>`. */
export function cloudSqlSocketDirectory(connectionName: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`${CLOUDSQL_MOUNT_PATH}/${connectionName}`;
}

export interface DerivedEnvArgs {
  /** What the app runs as: `appEnvFor(kind)` (shared-rules/app-env.ts). */
  readonly appEnv: string;
  /** Where users reach the app: `SERVER_URL` and `NEXTAUTH_URL`. */
  readonly url: pulumi.Input<string>;
  readonly cloudSqlConnection: pulumi.Input<string>;
  /** The project that owns the topic (a preview publishes to the platform's, in stage's project). */
  readonly pubsubProject: pulumi.Input<string>;
  readonly pubsubTopic: pulumi.Input<string>;
  /** Only where a consumer runs (stage and prod). @default unset: no GCP_PUBSUB_SUBSCRIPTION_NAME */
  readonly pubsubSubscription?: pulumi.Input<string>;
}

/**
 * The variables the program computes from what it creates (app-env.ts marks them `derived`), so that nobody types
 * a URL, a socket path or a topic name by hand. DATABASE_URL is derived too, but as a secret (AppDatabase.url).
 */
export function derivedEnv(args: DerivedEnvArgs): Record<string, pulumi.Input<string>> {
  return {
    APP_ENV: args.appEnv,
    SERVER_URL: args.url,
    NEXTAUTH_URL: args.url,
    PG_HOST: cloudSqlSocketDirectory(args.cloudSqlConnection),
    GCP_PUBSUB_PROJECT_ID: args.pubsubProject,
    GCP_PUBSUB_TOPIC_NAME: args.pubsubTopic,
    ...(args.pubsubSubscription !== undefined && { GCP_PUBSUB_SUBSCRIPTION_NAME: args.pubsubSubscription }),
  };
}

/**
 * The volumes and the one container that run `npm run <script>` with the shared runtime: the same image, env,
 * secrets and Cloud SQL socket as the web service. Cloud Run jobs and worker pools take both as they are.
 */
export function npmScriptTemplate(runtime: AppRuntime, script: string) {
  checkScript(script);
  const { volumes, volumeMounts } = cloudSqlVolume(runtime);
  return {
    volumes,
    container: {
      image: runtime.image,
      // Exec form, no shell: the script name is passed as one argument.
      commands: ["npm"],
      args: ["run", script],
      envs: containerEnvs(runtime),
      volumeMounts,
    },
  };
}

/** Refuses what is not an npm script name, before a component that runs it registers anything. */
export function checkScript(script: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9:._-]*$/.test(script)) {
    throw new Error(
      `"${script}" is not an npm script name (letters, digits and : . _ - only, e.g. "cron:breach-alerts")`,
    );
  }
}
