import { type EnvironmentSpec, buildSpec } from "../spec";
import { loadStackConfig } from "./config-files";

/**
 * What the two long-lived environments set differently. A variable that stage has and prod lacks, or that stage
 * sets to 6000 and prod to 5000, is how a release breaks prod after passing stage; the plan of either shows it
 * before it ships. Values that differ on purpose (each environment's own OAuth client, bucket, sender) are declared
 * with a reason under `monitor:parity.differ` in either stack file, so that every other difference stands out.
 * Secrets are compared by name only: their values are never in config.
 */
export interface ParityReport {
  /** Variable names (plain or secret) that stage sets and prod does not, and not declared as differing. */
  stageOnly: string[];
  prodOnly: string[];
  /** Plain variables both set, to different values, not declared as differing. */
  differingValues: { name: string; stage: string; prod: string }[];
  /** What `monitor:parity.differ` declares, and which file said so. */
  onPurpose: { name: string; reason: string; file: string }[];
  /** Declared as differing, yet set alike by both (or by neither): the entry has outlived its reason. */
  stale: string[];
}

type Environment = "stage" | "prod";
const ENVIRONMENTS: readonly Environment[] = ["stage", "prod"];

export function parityReport(root: string): ParityReport {
  const specs = Object.fromEntries(
    ENVIRONMENTS.map((stack) => {
      const { config, secretKeys, sources } = loadStackConfig(root, stack);
      return [stack, buildSpec(stack, config, secretKeys, sources) as EnvironmentSpec];
    }),
  ) as Record<Environment, EnvironmentSpec>;
  const { stage, prod } = specs;

  const onPurpose = new Map<string, { reason: string; file: string }>();
  for (const stack of ENVIRONMENTS) {
    for (const [name, reason] of Object.entries(specs[stack].parityDiffer)) {
      onPurpose.set(name, { reason, file: `Pulumi.${stack}.yaml` });
    }
  }
  const names = (spec: EnvironmentSpec) => new Set([...Object.keys(spec.env), ...Object.keys(spec.secrets)]);
  const [stageNames, prodNames] = [names(stage), names(prod)];
  const only = (these: Set<string>, those: Set<string>) =>
    [...these].filter((name) => !those.has(name) && !onPurpose.has(name)).sort();

  const both = Object.keys(stage.env).filter((name) => name in prod.env);
  const differs = (name: string) => stage.env[name] !== prod.env[name];
  return {
    stageOnly: only(stageNames, prodNames),
    prodOnly: only(prodNames, stageNames),
    differingValues: both
      .filter((name) => differs(name) && !onPurpose.has(name))
      .sort()
      .map((name) => ({ name, stage: stage.env[name], prod: prod.env[name] })),
    onPurpose: [...onPurpose]
      .map(([name, { reason, file }]) => ({ name, reason, file }))
      .sort((a, b) => a.name.localeCompare(b.name)),
    stale: [...onPurpose.keys()]
      .filter((name) => (stageNames.has(name) || prodNames.has(name) ? both.includes(name) && !differs(name) : true))
      .sort(),
  };
}

export function renderParity(report: ParityReport): string {
  const declared = report.onPurpose.length;
  const onPurpose = declared > 0 ? `, except ${declared} that differ on purpose (monitor:parity.differ)` : "";
  const clean = [report.stageOnly, report.prodOnly, report.differingValues, report.stale].every((l) => l.length === 0);
  if (clean) return `Parity: stage and prod set the same variables to the same values${onPurpose}.`;

  const lines = [`Parity: stage and prod differ${onPurpose}; look at:`];
  const list = (names: string[]) => names.join(", ");
  if (report.differingValues.length > 0) {
    lines.push("  values that differ (if on purpose, add them to monitor:parity.differ with the reason):");
    const width = Math.max(...report.differingValues.map((d) => d.name.length));
    for (const d of report.differingValues) {
      lines.push(`    ${d.name.padEnd(width)}  stage ${JSON.stringify(d.stage)}  prod ${JSON.stringify(d.prod)}`);
    }
  }
  if (report.stageOnly.length > 0) lines.push(`  stage has, prod lacks: ${list(report.stageOnly)}`);
  if (report.prodOnly.length > 0) lines.push(`  prod has, stage lacks: ${list(report.prodOnly)}`);
  if (report.stale.length > 0) {
    lines.push(`  in monitor:parity.differ but set alike (remove the entry): ${list(report.stale)}`);
  }
  return lines.join("\n");
}
