import * as pulumi from "@pulumi/pulumi";
import type { SecretRef } from "./app-secrets";

/**
 * Everything a Monitor container needs, whatever command it runs: the web service, the migration job and the
 * scheduled jobs all take one AppRuntime, so they run the same bytes with the same environment.
 */
export interface AppRuntime {
  /** Image pinned by digest: `<repository>@sha256:<hex>`. */
  image: pulumi.Input<string>;
  serviceAccountEmail: pulumi.Input<string>;
  /** Plain and derived values, by variable name. */
  env: Record<string, pulumi.Input<string>>;
  /** Secret values, by variable name, read from Secret Manager at start. */
  secrets: Record<string, SecretRef>;
  /** `project:region:instance` of the Cloud SQL instance mounted at /cloudsql. */
  cloudSqlConnection: pulumi.Input<string>;
}

const CLOUDSQL_VOLUME = "cloudsql";
export const CLOUDSQL_MOUNT_PATH = "/cloudsql";

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
export function cloudSqlVolume(runtime: AppRuntime) {
  return {
    volumes: [{ name: CLOUDSQL_VOLUME, cloudSqlInstance: { instances: [runtime.cloudSqlConnection] } }],
    volumeMounts: [{ name: CLOUDSQL_VOLUME, mountPath: CLOUDSQL_MOUNT_PATH }],
  };
}

/** The app's `PG_HOST`: the socket directory the Cloud SQL volume creates for the instance. */
export function socketPath(connectionName: pulumi.Input<string>): pulumi.Output<string> {
  return pulumi.interpolate`${CLOUDSQL_MOUNT_PATH}/${connectionName}`;
}
