/**
 * `npm run plan -- <stack> [--json] [--fresh] [--diff [<git ref>]] [--config <key>=<value>]...` (see HELP)
 *
 * Evaluates the real program for a stack offline, runs the policy pack over it, and prints what `pulumi preview`
 * would create. `--fresh` shows what the first preview of the stack sees: values the providers compute unknown,
 * nothing deployed yet, and which policies could not decide on that. `--diff` prints only what the working tree
 * changes against the plan at a git ref. Exit codes: 0 planned; 1 the program or its config failed, a mandatory
 * policy is violated, or a mandatory policy could not run on what the preview knows (messages only, no stack
 * trace); 2 bad usage.
 */
import { resolve } from "node:path";
import { capacityRefusal, previewsCapacity, renderCapacity } from "./engine/capacity";
import { basePlan, checkout, GitRefError } from "./engine/base-plan";
import { loadStackConfig, secureValues } from "./engine/config-files";
import { readConfigSources } from "./config/files";
import { Origins } from "./config/origins";
import { type PlanDocument, diffPlans, diffSecrets, renderDiff } from "./engine/diff";
import { evaluate } from "./engine/evaluate";
import { parityReport, renderParity } from "./engine/parity";
import { pipelineReport, renderPipelineReport } from "./engine/pipeline-report";
import { renderText, toPlan } from "./engine/render";
import type { Policies } from "@pulumi/policy";
import { type PolicyReport, analyze } from "../policies/offline";
import { parseStackName } from "../shared-rules/stack-name";

const USAGE = "usage: npm run plan -- <stack> [--json] [--fresh] [--diff [<git ref>]] [--config <key>=<value>]...";

const HELP = `${USAGE}

Plans a stack of the monitor project offline (no cloud, no credentials): the resources \`pulumi preview\` would
create with the settings a reviewer decides on, every container's environment (secrets by reference only), the
outputs and the policy pack's verdict.

  <stack>                  pr-<N>, stage, prod, previews (with the previews' capacity) or pipeline
  --json                   the same as JSON
  --fresh                  as the stack's first preview sees it: nothing deployed, computed values unknown
  --diff [<git ref>]       only what would change against the plan at the ref (default main): resources,
                           properties, environment values, secrets by name; --diff=<ref> also works
  -c, --config <key>=<value>
                           override a config value, as \`pulumi preview --config\` does (--config=<key>=<value>)
  -h, --help               this text

Exit codes: 0 planned, 1 refused (the message names the stack, the key and the fix), 2 bad usage.
Examples:
  npm run plan -- pr-123
  npm run plan -- prod --diff
  npm run plan -- prod --config monitor:imageTag=2024.09.01 --json`;

interface Args {
  stack: string;
  json: boolean;
  /** As the stack's first preview sees it. */
  fresh: boolean;
  /** Print only what changes against the plan at this git ref. */
  diff?: string;
  overrides: Record<string, string>;
}

/** What the command line asks for: a plan, or the help text. */
export type Request = Args | { help: true };

/** The default of `--diff`: the branch a pull request here merges into. */
export const DIFF_DEFAULT_REF = "main";

export function parseArgs(argv: string[]): Request {
  let stack: string | undefined;
  let json = false;
  let fresh = false;
  let diff: string | undefined;
  let diffTookNext = false;
  const overrides: Record<string, string> = {};
  const configPair = (pair: string) => {
    const eq = pair.indexOf("=");
    if (eq <= 0) throw new UsageError(`--config takes <key>=<value>, got "${pair}"`);
    overrides[pair.slice(0, eq)] = pair.slice(eq + 1);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    // An option's value may follow it or be joined to it with "=", as the Pulumi CLI's flag parser takes it
    // (spf13/pflag flag.go: parseLongArg splits `--name=value` at the first "=", parseSingleShortArg takes `-c=value`).
    const [option, joined] = arg.startsWith("-") && arg.includes("=") ? splitOnce(arg, "=") : [arg, undefined];
    if (joined !== undefined && ["--json", "--fresh", "--help", "-h"].includes(option)) {
      throw new UsageError(`${option} takes no value (got "${arg}")`);
    }
    if (arg === "--help" || arg === "-h") return { help: true };
    else if (arg === "--json") json = true;
    else if (arg === "--fresh") fresh = true;
    else if (option === "--config" || option === "-c") configPair(joined ?? argv[++i] ?? "");
    else if (option === "--diff") {
      if (joined !== undefined) diff = joined;
      else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith("-")) {
        diff = argv[++i];
        diffTookNext = true;
      } else diff = DIFF_DEFAULT_REF;
      if (diff === "") throw new UsageError("--diff= names no git ref. Fix: --diff <ref>, or --diff alone for main");
    } else if (arg.startsWith("-"))
      throw new UsageError(`unknown option ${option} (npm run plan -- --help lists them)`);
    else if (stack === undefined) stack = arg;
    else throw new UsageError(`one stack at a time (got "${stack}" and "${arg}")`);
  }
  if (!stack) {
    throw new UsageError(
      diffTookNext
        ? `which stack? --diff took "${diff}" as its git ref. Fix: name the stack first (prod --diff), or write --diff=<ref>`
        : "which stack? e.g. pr-123, stage, prod or pipeline",
    );
  }
  return { stack, json, fresh, ...(diff !== undefined && { diff }), overrides };
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

class UsageError extends Error {}

export interface PlanResult {
  text: string;
  /** A mandatory policy violated, or unable to decide: the plan is refused. */
  refused: boolean;
}

/** `policies`: the pack to judge the plan by (the monitor pack unless a caller brings its own, as the suites do). */
export async function plan(args: Args, root: string, policies?: Policies): Promise<PlanResult> {
  if (args.diff !== undefined) return planDiff({ ...args, diff: args.diff }, root, policies);
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
  const overCapacity =
    capacity &&
    capacityRefusal(args.stack, capacity, (path) =>
      new Origins(parseStackName(args.stack), config, readConfigSources(root, args.stack)).at(path),
    );
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

/**
 * The working tree's plan against the plan at `args.diff`, both as `--json` documents; the ref's runs in a process
 * of its own (base-plan.ts) while this one evaluates. Refused as the working tree's plan is.
 */
async function planDiff(args: Args & { diff: string }, root: string, policies?: Policies): Promise<PlanResult> {
  const base = checkout(root, args.diff);
  const [before, current] = await Promise.all([
    basePlan(base, args),
    plan({ ...args, json: true, diff: undefined }, root, policies),
  ]);
  const secrets = diffSecrets(secureValues(base.root, args.stack), secureValues(root, args.stack));
  const { ref, commit } = base;
  const diff = diffPlans(before, JSON.parse(current.text) as PlanDocument, { ref, commit }, secrets);
  return { text: args.json ? JSON.stringify(diff, null, 2) : renderDiff(diff), refused: current.refused };
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
  let request: Request;
  try {
    request = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if ("help" in request) {
    process.stdout.write(`${HELP}\n`);
    return 0;
  }
  const args = request;
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
    if (err instanceof GitRefError) return 2;
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
