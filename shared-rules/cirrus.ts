/**
 * Cirrus, Mozilla's Nimbus server (mozilla/experimenter, cirrus/server), as a sidecar of the web service: what the
 * config produces (infra/spec.ts) and the sidecar runs with (components/cirrus.ts). Facts from cirrus/server: the
 * image runs `uvicorn cirrus.main:app --port 8001`, and bakes Experimenter's feature manifests in at
 * `/fml/<app slug>/<channel>.fml.yaml` (monitor-web: staging, production).
 */
export interface CirrusSettings {
  /** `<registry path>@sha256:<digest>`, e.g. us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus@sha256:… */
  readonly image: string;
  /** Remote Settings changeset of the live experiments (collection nimbus-web-experiments). */
  readonly remoteSettingsUrl: string;
  /** Remote Settings changeset of preview experiments (nimbus-web-preview), for `?nimbus_preview=true`. @default none */
  readonly previewUrl?: string;
  /** Experimenter's application id for Monitor, `monitor.cirrus`. */
  readonly appId: string;
  /** Experimenter's application name for Monitor, `monitor_cirrus`. */
  readonly appName: string;
  readonly channel: "staging" | "production";
  /** Feature manifest inside the image. */
  readonly fmlPath: string;
  readonly cpu: string;
  readonly memory: string;
  /** Reported to Glean and Sentry as the environment, e.g. `monitor-prod`. */
  readonly environmentName: string;
}

/** The port the image's command binds; NIMBUS_SIDECAR_URL must name it. */
export const CIRRUS_PORT = 8001;
