import { CIRRUS_PORT, type CirrusSettings } from "../shared-rules/cirrus";
import type { SidecarContainer } from "./web-service";

/**
 * Cirrus, Mozilla's Nimbus server (mozilla/experimenter, cirrus/server), as a sidecar of the web service: the app
 * asks it which experiments and features a visitor gets (`POST ${NIMBUS_SIDECAR_URL}v2/features/`, see the app's
 * src/app/functions/server/getExperiments.ts). Facts from cirrus/server: the image runs
 * `uvicorn cirrus.main:app --port 8001`; it reads its settings from CIRRUS_* variables (cirrus/settings.py); it
 * answers `GET /__lbheartbeat__` and `GET /__heartbeat__` without touching anything else; and the image bakes
 * Experimenter's feature manifests in at `/fml/<app slug>/<channel>.fml.yaml` (monitor-web: staging, production).
 */
export const CIRRUS_CONTAINER = "cirrus";

export function cirrusSidecar(settings: CirrusSettings): SidecarContainer {
  const env: Record<string, string> = {
    CIRRUS_REMOTE_SETTING_URL: settings.remoteSettingsUrl,
    CIRRUS_APP_ID: settings.appId,
    CIRRUS_APP_NAME: settings.appName,
    CIRRUS_CHANNEL: settings.channel,
    CIRRUS_FML_PATH: settings.fmlPath,
    CIRRUS_ENV_NAME: settings.environmentName,
    CIRRUS_INSTANCE_NAME: settings.environmentName,
    // Not CIRRUS_REMOTE_SETTING_REQUIRE_FETCH_BEFORE_START: with it, a Remote Settings outage would keep every new
    // instance from starting; without it, Cirrus serves the manifest's defaults until its first fetch succeeds,
    // which is what the app falls back to anyway when Cirrus fails.
    ...(settings.previewUrl && { CIRRUS_REMOTE_SETTING_PREVIEW_URL: settings.previewUrl }),
  };
  return {
    name: CIRRUS_CONTAINER,
    image: settings.image,
    envs: Object.entries(env)
      .map(([name, value]) => ({ name, value }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    resources: { limits: { cpu: settings.cpu, memory: settings.memory }, startupCpuBoost: true, cpuIdle: true },
    // The app starts only once this passes (its container dependsOn this one).
    startupProbe: {
      httpGet: { path: "/__lbheartbeat__", port: CIRRUS_PORT },
      periodSeconds: 2,
      timeoutSeconds: 2,
      failureThreshold: 30,
    },
    livenessProbe: {
      httpGet: { path: "/__heartbeat__", port: CIRRUS_PORT },
      periodSeconds: 30,
      timeoutSeconds: 5,
      failureThreshold: 3,
    },
  };
}
