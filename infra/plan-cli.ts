/**
 * `npm run plan -- <stack> [--json] [--fresh] [--config <key>=<value>]...`
 *
 * Evaluates the real program for a stack offline, runs the policy pack over it, and prints what `pulumi preview`
 * would create. `--fresh` shows what the first preview of the stack sees: values the providers compute unknown,
 * nothing deployed yet, and which policies could not decide on that. Exit codes: 0 planned, 1 the program or its
 * config failed, a mandatory policy is violated, or a mandatory policy could not run on what the preview knows
 * (messages only, no stack trace), 2 bad usage.
 */
import { resolve } from "node:path";
import { capacityRefusal, previewsCapacity, renderCapacity } from "./engine/capacity";
import { loadStackConfig } from "./engine/config-files";
import { evaluate } from "./engine/evaluate";
import { parityReport, renderParity } from "./engine/parity";
import { pipelineReport, renderPipelineReport } from "./engine/pipeline-report";
import { renderText, toPlan } from "./engine/render";
import type { Policies } from "@pulumi/policy";
import { type PolicyReport, analyze } from "../policies/offline";
import { parseStackName } from "../shared-rules/stack-name";

const USAGE = "usage: npm run plan -- <stack> [--json] [--fresh] [--config <key>=<value>]...";

interface Args {
  stack: string;
  json: boolean;
  /** As the stack's first preview sees it. */
  fresh: boolean;
  overrides: Record<string, string>;
}

export function parseArgs(argv: string[]): Args {
  let stack: string | undefined;
  let json = false;
  let fresh = false;
  const overrides: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--json") json = true;
    else if (arg === "--fresh") fresh = true;
    else if (arg === "--config" || arg === "-c") {
      const pair = argv[++i] ?? "";
      const eq = pair.indexOf("=");
      if (eq <= 0) throw new UsageError(`--config takes <key>=<value>, got "${pair}"`);
      overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
    } else if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    else if (stack === undefined) stack = arg;
    else throw new UsageError(`one stack at a time (got "${stack}" and "${arg}")`);
  }
  if (!stack) throw new UsageError("which stack? e.g. pr-123, stage, prod or pipeline");
  return { stack, json, fresh, overrides };
}

class UsageError extends Error {}

export interface PlanResult {
  text: string;
  /** A mandatory policy violated, or unable to decide: the plan is refused. */
  refused: boolean;
}

/** `policies`: the pack to judge the plan by (the monitor pack unless a caller brings its own, as the suites do). */
export async function plan(args: Args, root: string, policies?: Policies): Promise<PlanResult> {
  const kind = parseStackName(args.stack).kind;
  const { config, secretKeys } = loadStackConfig(root, args.stack, args.overrides);
  const evaluation = await evaluate(args.stack, { config, secretKeys, fresh: args.fresh });
  const result = toPlan(evaluation);
  const report = analyze(evaluation, policies);
  const { violations, couldNotRun } = report;
  const refused = [...violations, ...couldNotRun].some((v) => v.enforcementLevel === "mandatory");
  const parity = kind === "stage" || kind === "prod" ? parityReport(root) : undefined;
  const pipeline = kind === "pipeline" ? pipelineReport(evaluation) : undefined;
  const capacity = kind === "previews" ? await previewsCapacity(evaluation, root, args.overrides) : undefined;
  const overCapacity = capacity && capacityRefusal(args.stack, capacity);
  if (overCapacity) throw overCapacity;
  if (args.json) {
    const extra = { ...(parity && { parity }), ...(pipeline && { pipeline }), ...(capacity && { capacity }) };
    const policies = { policyViolations: violations, policiesNotRun: couldNotRun };
    return { text: JSON.stringify({ ...result, ...policies, ...extra }, null, 2), refused };
  }
  const sections = [renderText(result), renderPolicies(report)];
  if (parity) sections.push(renderParity(parity));
  if (capacity) sections.push(renderCapacity(capacity));
  if (pipeline) sections.push(renderPipelineReport(pipeline));
  return { text: sections.join("\n\n"), refused };
}

function renderPolicies({ violations, couldNotRun }: PolicyReport): string {
  if (violations.length === 0 && couldNotRun.length === 0) return "Policies: all passed.";
  const count = (list: { enforcementLevel: string }[], level: string) =>
    list.filter((v) => v.enforcementLevel === level).length;
  const line = (v: PolicyReport["violations"][number]) =>
    `  [${v.enforcementLevel}] ${v.policy}: ${v.urn ?? "(stack)"}\n      ${v.message}`;
  const lines = [
    violations.length === 0
      ? "Policies: no violation."
      : `Policies: ${count(violations, "mandatory")} mandatory, ${count(violations, "advisory")} advisory violation(s).`,
    ...violations.map(line),
  ];
  if (couldNotRun.length > 0) {
    lines.push(
      `Policies that could not run during preview (they read a value the preview does not know, and decided ` +
        `nothing): ${count(couldNotRun, "mandatory")} mandatory, ${count(couldNotRun, "advisory")} advisory.`,
      ...couldNotRun.map(line),
    );
  }
  return lines.join("\n");
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  try {
    const { text, refused } = await plan(args, resolve(__dirname, ".."));
    process.stdout.write(`${text}\n`);
    if (refused) {
      process.stderr.write(
        `Stack "${args.stack}" violates a mandatory policy, or one could not run: see Policies above.\n`,
      );
    }
    return refused ? 1 : 0;
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    // The failed program's other registrations may still reject with the same cause, now that the process lives
    // until stdout drains: it has been reported once, without a stack trace, and that is the answer.
    process.on("unhandledRejection", () => undefined);
    return 1;
  }
}

if (require.main === module) {
  // Not process.exit: on a pipe, stdout is written asynchronously, and exiting at once would cut the output at
  // the pipe's buffer (64 KiB), leaving `| jq` with half a JSON document. Node exits with this code once written.
  void main().then((code) => {
    process.exitCode = code;
  });
}
