import { CIRRUS_PORT, type CirrusSettings } from "../../shared-rules/cirrus";
import { MAX_CPU_PER_INSTANCE } from "../../shared-rules/cloud-run-limits";
import type { ServiceSizing } from "../../shared-rules/sizing";
import type { StackKind } from "../../shared-rules/stack-name";
import type { Values } from "../config-keys";
import type { Names } from "../naming";
import type { Origins } from "./origins";

type CirrusConfig = NonNullable<Values["monitor:cirrus"]>;
const LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"];

/**
 * The app reaches Nimbus at NIMBUS_SIDECAR_URL: either a Cirrus sidecar on localhost, which `key` must then
 * configure, or a hosted Cirrus, and then no sidecar runs. A localhost URL with nothing behind it would make every
 * experiment lookup fail; a sidecar the URL does not point at would run for nothing. Called only when `key` itself
 * was read without a problem, so that a bad sidecar setting is reported once, as itself.
 */
export function cirrusSettings(
  stack: StackKind,
  env: Record<string, string>,
  config: CirrusConfig | undefined,
  key: string,
  service: ServiceSizing,
  names: Names,
  origins: Origins,
  problems: string[],
): CirrusSettings | undefined {
  const raw = env.NIMBUS_SIDECAR_URL;
  if (raw === undefined) return undefined; // checkRequired reports it
  const at = origins.at("monitor:env.NIMBUS_SIDECAR_URL");
  const local = `http://localhost:${CIRRUS_PORT}`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return undefined; // the value's type check (shared-rules/app-values.ts) reports it
  }
  // getExperiments.ts appends "v2/features" to the path as it is.
  if (!url.pathname.endsWith("/")) {
    problems.push(
      `${at}: the app appends v2/features to the URL's path, so "${raw}" would call ${url.pathname}v2/features. Fix: end the path with "/"`,
    );
  }
  const isLocal = LOCAL_HOSTS.includes(url.hostname);
  if (isLocal && !config) {
    problems.push(
      `${at} is ${raw}, but no Cirrus sidecar runs behind it (${key} is not set), so every experiment lookup would fail. ` +
        `Fix: set ${key} (image by digest, remoteSettingsUrl, appId, appName, channel) to run Cirrus beside the app, ` +
        "or point NIMBUS_SIDECAR_URL at a hosted Cirrus (https)",
    );
    return undefined;
  }
  if (!isLocal && config) {
    problems.push(
      `${origins.at(key)} runs a Cirrus sidecar, but NIMBUS_SIDECAR_URL is ${raw}, so the app would never call it. ` +
        `Fix: remove ${key} to use that hosted Cirrus, or set NIMBUS_SIDECAR_URL to ${local}`,
    );
    return undefined;
  }
  if (!isLocal) {
    if (url.protocol !== "https:") problems.push(`${at}: a hosted Cirrus is reached over the internet. Fix: use https`);
    return undefined;
  }
  if (url.protocol !== "http:" || Number(url.port) !== CIRRUS_PORT) {
    problems.push(
      `${at}: the Cirrus sidecar answers plain HTTP on port ${CIRRUS_PORT}; got "${raw}". Fix: set it to ${local}`,
    );
  }
  const settings: CirrusSettings = {
    image: config!.image,
    remoteSettingsUrl: config!.remoteSettingsUrl,
    previewUrl: config!.previewUrl,
    appId: config!.appId,
    appName: config!.appName,
    channel: config!.channel,
    fmlPath: config!.fmlPath ?? `/fml/monitor-web/${config!.channel}.fml.yaml`,
    cpu: config!.cpu,
    memory: config!.memory,
    environmentName: names.service,
  };
  if (stack.kind === "prod" && settings.channel !== "production") {
    problems.push(
      `${origins.at(`${key}.channel`)}: prod would serve ${settings.channel} experiments to users. Fix: set it to production`,
    );
  }
  if (Number(service.cpu) + Number(settings.cpu) > MAX_CPU_PER_INSTANCE) {
    problems.push(
      `${origins.at(`${key}.cpu`)}: the app's ${service.cpu} and Cirrus's ${settings.cpu} vCPU exceed Cloud Run's ${MAX_CPU_PER_INSTANCE} per instance. ` +
        "Fix: lower monitor:service.cpu or the sidecar's cpu",
    );
  }
  return settings;
}
