import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { type StackConfig, loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, type Registration, evaluate } from "../infra/engine/evaluate";
import { buildStack } from "../infra/program";
import { Refusal } from "../shared-rules/refusal";

/** The repository root: where Pulumi.yaml and the stack files live. */
export const ROOT = resolve(__dirname, "..");

/**
 * Evaluations this worker has made, by stack and exact config: several suites evaluate the committed stacks
 * (stage alone about ninety times a run), and with the same config the program registers the same resources.
 * Each caller gets its own copy, so a suite that sorts or edits what it got cannot change what another sees.
 */
const evaluations = new Map<string, Promise<Evaluation>>();

/** Evaluates a stack exactly as `npm run plan` does: its committed config plus `--config` overrides. */
export async function evaluateStack(stack: string, overrides: Record<string, string> = {}): Promise<Evaluation> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, overrides);
  const key = JSON.stringify([stack, config, secretKeys]);
  let evaluation = evaluations.get(key);
  if (!evaluation) {
    evaluation = evaluate(stack, { config, secretKeys });
    evaluations.set(key, evaluation);
    // A refusal is not kept: the next caller sees it thrown afresh, with its own stack.
    evaluation.catch(() => evaluations.delete(key));
  }
  return structuredClone(await evaluation);
}

/**
 * Runs the program for a stack whose config is expected to be refused, and returns the error together with what
 * was registered before it was thrown (which should be nothing). `remove` drops keys, as a stack file without them;
 * `root` is where the config files are. Files that cannot be read (bad YAML) are refused before the program runs.
 */
export async function refusedStack(
  stack: string,
  overrides: Record<string, string> = {},
  remove: readonly string[] = [],
  root: string = ROOT,
): Promise<{ error: Error; registrations: Registration[] }> {
  let loaded: StackConfig;
  try {
    loaded = loadStackConfig(root, stack, overrides);
  } catch (err) {
    if (err instanceof Refusal) return { error: err, registrations: [] };
    throw err;
  }
  const { config, secretKeys } = loaded;
  for (const key of remove) delete config[key];
  let error: Error | undefined;
  const evaluation = await evaluate(stack, {
    config,
    secretKeys,
    root,
    program: () => {
      try {
        return buildStack();
      } catch (err) {
        error = err as Error;
        return {};
      }
    },
  });
  if (!error) throw new Error(`expected stack ${stack} to be refused, but it planned`);
  return { error, registrations: evaluation.registrations };
}

/** Type tokens the suites look resources up by. */
export const SERVICE = "gcp:cloudrunv2/service:Service";
export const JOB = "gcp:cloudrunv2/job:Job";
export const WORKER_POOL = "gcp:cloudrunv2/workerPool:WorkerPool";
export const INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance";
export const DATABASE = "gcp:sql/database:Database";
export const USER = "gcp:sql/user:User";
export const SECRET = "gcp:secretmanager/secret:Secret";
export const SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion";
export const SECRET_READER = "gcp:secretmanager/secretIamMember:SecretIamMember";
export const INVOKER = "gcp:cloudrunv2/serviceIamMember:ServiceIamMember";

export const PROJECT = "moz-fx-monitor-nonprod";
export const REGION = "us-central1";

/**
 * For the component suites: runs a program that declares one component, through the same engine but without the
 * monitor program or its stack files, so a component's tests do not depend on how the stacks compose it.
 */
export function evaluateComponent(program: () => Record<string, unknown>): Promise<Evaluation> {
  return evaluate("stage", { config: { "gcp:project": PROJECT, "gcp:region": REGION }, program });
}

export function ofType(evaluation: Evaluation, type: string): Registration[] {
  return evaluation.registrations.filter((r) => r.type === type);
}

export function one(evaluation: Evaluation, type: string, name?: string): Registration {
  const found = ofType(evaluation, type).filter((r) => name === undefined || r.name === name);
  if (found.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}`);
  }
  return found[0];
}

/**
 * Whether `pulumi destroy` must delete `first` before `second`: the engine deletes dependents before what they
 * depend on, and children before their parents, so this follows both edges transitively.
 */
export function deletedBefore(evaluation: Evaluation, first: Registration, second: Registration): boolean {
  const byUrn = new Map(evaluation.registrations.map((r) => [r.urn, r]));
  const seen = new Set<string>();
  const stack = [first.urn];
  while (stack.length > 0) {
    const urn = stack.pop()!;
    if (urn === second.urn) return urn !== first.urn;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const r = byUrn.get(urn);
    if (!r) continue;
    stack.push(...r.dependsOn);
    if (r.parent) stack.push(r.parent);
  }
  return false;
}

/**
 * The URNs `r` waits for on create, transitively: what it depends on and, where that is a component, everything the
 * component holds (a dependency on a component is one on each of its children).
 */
export function waitsForAll(evaluation: Evaluation, r: Registration): Set<string> {
  const seen = new Set<string>();
  const todo = [...r.dependsOn];
  while (todo.length > 0) {
    const urn = todo.pop()!;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const dep = evaluation.registrations.find((x) => x.urn === urn);
    if (dep) todo.push(...dep.dependsOn, ...evaluation.registrations.filter((c) => c.parent === urn).map((c) => c.urn));
  }
  return seen;
}

/** Every secret value in the clear, as the tests know it (from the inputs marked secret). */
export function secretValues(evaluation: Evaluation): string[] {
  const values: string[] = [];
  for (const r of evaluation.registrations) {
    for (const path of r.secretPaths) {
      const value = path
        .split(/\.|\[|\]/)
        .filter(Boolean)
        .reduce<unknown>(
          (v, k) => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[k] : undefined),
          r.rawInputs,
        );
      if (typeof value === "string") values.push(value);
    }
  }
  return values;
}

/** The 1-based line of a committed file where `text` first appears, so that rows follow the file as it grows. */
export function lineIn(file: string, text: string): number {
  const index = readFileSync(join(ROOT, file), "utf8").indexOf(text);
  if (index < 0) throw new Error(`${file} no longer has ${JSON.stringify(text)}`);
  return readFileSync(join(ROOT, file), "utf8").slice(0, index).split("\n").length;
}

/** A registration built by hand, as the engine records one (no parent, nothing protected), for rule-level tests. */
export function handMadeRegistration(
  type: string,
  inputs: Record<string, unknown>,
  { stack = "test", name = "res", unknownPaths }: { stack?: string; name?: string; unknownPaths?: string[] } = {},
): Registration {
  return {
    urn: `urn:pulumi:${stack}::monitor::${type}::${name}`,
    type,
    name,
    custom: true,
    read: false,
    parent: "",
    protect: false,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    dependsOn: [],
    propertyDependencies: {},
    inputs,
    secretPaths: [],
    ...(unknownPaths && { unknownPaths }),
    rawInputs: inputs,
  };
}

/** An evaluation of hand-made registrations, nothing invoked and no outputs. */
export const handMadeEvaluation = (registrations: Registration[], stack = "test"): Evaluation => ({
  stack,
  registrations,
  invocations: [],
  outputs: {},
});
