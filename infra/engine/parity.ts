import { type EnvironmentSpec, buildSpec } from "../spec";
import { loadStackConfig } from "./config-files";

/**
 * Which variables one long-lived environment sets and the other does not. A key that stage has and prod lacks is
 * how a release breaks prod after passing stage; the plan of either shows the difference before it ships.
 */
export interface ParityReport {
  /** Variable names (plain or secret) that stage sets and prod does not. */
  stageOnly: string[];
  prodOnly: string[];
}

function variables(spec: EnvironmentSpec): Set<string> {
  return new Set([...Object.keys(spec.env), ...Object.keys(spec.secrets)]);
}

export function parityReport(root: string): ParityReport {
  const specOf = (stack: "stage" | "prod") => {
    const { config, secretKeys, sources } = loadStackConfig(root, stack);
    return buildSpec(stack, config, secretKeys, sources) as EnvironmentSpec;
  };
  const stage = variables(specOf("stage"));
  const prod = variables(specOf("prod"));
  return {
    stageOnly: [...stage].filter((name) => !prod.has(name)).sort(),
    prodOnly: [...prod].filter((name) => !stage.has(name)).sort(),
  };
}

export function renderParity(report: ParityReport): string {
  if (report.stageOnly.length === 0 && report.prodOnly.length === 0) {
    return "Parity: stage and prod set the same variables.";
  }
  const list = (names: string[]) => (names.length > 0 ? names.join(", ") : "(none)");
  return [
    "Parity: stage and prod differ.",
    `  stage has, prod lacks: ${list(report.stageOnly)}`,
    `  prod has, stage lacks: ${list(report.prodOnly)}`,
  ].join("\n");
}
