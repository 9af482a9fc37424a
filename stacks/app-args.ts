import type { MonitorAppArgs } from "../components/monitor-app";
import type { EnvironmentSpec, PreviewSpec } from "../infra/spec";

/** What MonitorApp takes from an app stack's spec as it is, whatever the kind: the rest each stack decides. */
export function appArgsOf(
  spec: PreviewSpec | EnvironmentSpec,
): Pick<MonitorAppArgs, "project" | "region" | "names" | "labels" | "appEnv" | "env" | "service" | "cirrus"> {
  const { project, region, names, labels, appEnv, env, service, cirrus } = spec;
  return { project, region, names, labels, appEnv, env, service, cirrus };
}
