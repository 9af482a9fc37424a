import type {
  Policies,
  PolicyResource,
  PolicyResourceOptions,
  ReportViolation,
  ResourceValidation,
  ResourceValidationArgs,
  StackValidationArgs,
} from "@pulumi/policy";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { policies as monitorPolicies } from "./rules";
import type { Props } from "./rules/stack";

/**
 * Runs the pack over an offline evaluation the way the Pulumi engine and @pulumi/policy's analyzer server would
 * over a real preview, so that the tests enforce the same rules as `--policy-pack policies`.
 *
 * What the engine sends (pulumi/pulumi pkg/resource/deploy: step_generator.go, step_executor.go), and so this:
 * - resource policies see every registered resource, custom or component: the engine analyzes each
 *   RegisterResource and checks no `custom` flag. Read resources (a StackReference) never reach an analyzer;
 * - stack policies see the same set (the engine's "news"; reads are kept apart), with parent and dependencies
 *   resolved to those resources and unknown URNs dropped.
 * Where this differs: props are the registration's inputs with secrets redacted, for both kinds (the engine gives
 * stack policies the outputs, and both kinds secrets in the clear); the evaluation has no provider or root stack
 * resources; there is no pack config, so getConfig returns {}.
 *
 * Unknowns, as in a first preview (a fresh evaluation): the engine sends a value it cannot know yet as a sentinel
 * string, and the server wraps props in @pulumi/policy's own proxy, which throws UnknownValueError when a policy
 * reads one. The server then reports "can't run policy ... during preview" as an advisory and moves on, so a
 * mandatory policy that cannot decide passes silently. Here the same proxy throws, and such a policy is reported
 * apart, as one that could not run: never as a pass.
 */

export interface PolicyViolation {
  policy: string;
  enforcementLevel: "mandatory" | "advisory";
  urn?: string;
  message: string;
}

/** A policy that read a value the preview does not know, and so decided nothing (for that resource, if any). */
export interface PolicyNotRun {
  policy: string;
  enforcementLevel: "mandatory" | "advisory";
  urn?: string;
  /** CrossGuard's words: `<type> value at .<path> can't be known during preview`. */
  message: string;
}

export interface PolicyReport {
  violations: PolicyViolation[];
  couldNotRun: PolicyNotRun[];
}

/**
 * @pulumi/policy's proxy module: the server wraps props with it. Internal to the package (its typings export
 * nothing), hence the typed require; the pack's own copy, so that its error class is the one rules may meet.
 */
interface CrossGuardProxy {
  unknownCheckingProxy<T extends object>(props: T): T;
  UnknownValueError: new (...args: never[]) => Error;
  /** The sentinel the engine sends for an unknown value, whatever its type; the proxy throws on reading it. */
  unknownStringValue: string;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const crossGuard = require("@pulumi/policy/proxy") as CrossGuardProxy;

/** What `args.notApplicable()` throws; the server reports it as "not applicable", never as a violation. */
export class NotApplicable extends Error {
  constructor(readonly reason?: string) {
    super(reason ?? "not applicable");
  }
}

function notApplicable(reason?: string): never {
  throw new NotApplicable(reason);
}

type Typed = { __pulumiType?: unknown; isInstance?: (obj: unknown) => boolean };

/** The token validateResourceOfType attaches to its function, and the SDK's classes carry (not in the typings). */
function pulumiTypeOf(thing: unknown): string | undefined {
  const token = (thing as Typed | undefined)?.__pulumiType;
  return typeof token === "string" && token.length > 0 ? token : undefined;
}

function isTypeOf(type: string, resourceClass: unknown): boolean {
  const token = pulumiTypeOf(resourceClass);
  if (token) return token === type;
  const isInstance = (resourceClass as Typed).isInstance;
  return typeof isInstance === "function" && isInstance({ __pulumiType: type }) === true;
}

function optionsOf(r: Registration): PolicyResourceOptions {
  return {
    protect: r.protect,
    ignoreChanges: [],
    deleteBeforeReplace: r.deleteBeforeReplace,
    aliases: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
    additionalSecretOutputs: [],
    ...(r.parent ? { parent: r.parent } : {}),
  };
}

/** `a.b[0].c` → ["a", "b", "0", "c"], as the engine's recorder writes paths. */
function pathParts(path: string): string[] {
  return path.match(/[^.[\]]+/g) ?? [];
}

/** The inputs as the engine sends them: each unknown as the sentinel, the whole behind CrossGuard's proxy. */
function propsOf(r: Registration): Props {
  const props = structuredClone(r.inputs) as Props;
  for (const path of r.unknownPaths ?? []) {
    const parts = pathParts(path);
    const last = parts.pop();
    const holder = parts.reduce<Props | undefined>((at, key) => at?.[key], props);
    if (last !== undefined && holder && typeof holder === "object") holder[last] = crossGuard.unknownStringValue;
  }
  return crossGuard.unknownCheckingProxy(props);
}

/** What ResourceValidationArgs and PolicyResource share; the props are a copy, as each RPC deserializes anew. */
function described(r: Registration) {
  const props = propsOf(r);
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    opts: optionsOf(r),
    isType: (resourceClass: unknown) => isTypeOf(r.type, resourceClass),
    // The SDK's asType is generic in the resource class it is given; the recorded props are what it returns.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assignable to every instantiation of it
    asType: (resourceClass: unknown): any => (isTypeOf(r.type, resourceClass) ? props : undefined),
  };
}

const noConfig = <T extends object>(): T => ({}) as T;

/** The arguments CrossGuard passes a resource validation for `r`. */
export function resourceArgs(r: Registration): ResourceValidationArgs {
  return { ...described(r), stackTags: new Map(), getConfig: noConfig, notApplicable };
}

/** The arguments CrossGuard passes a stack validation for these (registered, not read) resources. */
function stackArgs(registered: Registration[]): StackValidationArgs {
  const byUrn = new Map<string, PolicyResource>();
  for (const r of registered) byUrn.set(r.urn, { ...described(r), dependencies: [], propertyDependencies: {} });
  for (const r of registered) {
    const resource = byUrn.get(r.urn)!;
    const parent = byUrn.get(r.parent);
    if (parent) resource.parent = parent;
    resource.dependencies = r.dependsOn.flatMap((urn) => byUrn.get(urn) ?? []);
    resource.propertyDependencies = Object.fromEntries(
      Object.entries(r.propertyDependencies).map(([key, urns]) => [key, urns.flatMap((urn) => byUrn.get(urn) ?? [])]),
    );
  }
  return { resources: [...byUrn.values()], stackTags: new Map(), getConfig: noConfig, notApplicable };
}

/** The level the server applies: the policy's own, else the pack's default (advisory); undefined when disabled. */
function levelOf(policy: Policies[number]): PolicyViolation["enforcementLevel"] | undefined {
  const level = policy.enforcementLevel ?? "advisory";
  if (level === "disabled") return undefined;
  return level === "advisory" ? "advisory" : "mandatory";
}

/**
 * Calls one validation; a not-applicable policy reports nothing, one that read an unknown says so through
 * `notRun`. Offline runs are synchronous by contract.
 */
function run(policyName: string, validate: () => unknown, notRun: (message: string) => void): void {
  try {
    if (validate() instanceof Promise) throw new Error("offline policies must validate synchronously");
  } catch (e) {
    if (e instanceof NotApplicable) return;
    if (e instanceof crossGuard.UnknownValueError) return notRun(e.message);
    throw new Error(`policy ${policyName} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

/**
 * The pack's verdict on an evaluation, with the policies that could not decide on what a preview knows. For
 * callers that want the violations alone, see runPolicies.
 */
export function analyze(
  evaluation: Omit<Evaluation, "invocations">,
  policies: Policies = monitorPolicies,
): PolicyReport {
  const violations: PolicyViolation[] = [];
  const couldNotRun: PolicyNotRun[] = [];
  const registered = evaluation.registrations.filter((r) => !r.read);
  const urns = new Set(registered.map((r) => r.urn));

  for (const r of registered) {
    for (const policy of policies) {
      const enforcementLevel = levelOf(policy);
      if (!enforcementLevel || !("validateResource" in policy) || !policy.validateResource) continue;
      const validations: ResourceValidation[] = [policy.validateResource].flat();
      // The server's shortcut: a single typed validation is not even called for other types.
      if (validations.length === 1 && pulumiTypeOf(validations[0]) && pulumiTypeOf(validations[0]) !== r.type) continue;
      // Whatever URN a resource validation passes, the engine attributes the violation to the resource.
      const report: ReportViolation = (message) =>
        violations.push({ policy: policy.name, enforcementLevel, urn: r.urn, message });
      const notRun = (message: string) =>
        couldNotRun.push({ policy: policy.name, enforcementLevel, urn: r.urn, message });
      for (const validate of validations) run(policy.name, () => validate(resourceArgs(r), report), notRun);
    }
  }

  for (const policy of policies) {
    const enforcementLevel = levelOf(policy);
    if (!enforcementLevel || !("validateStack" in policy)) continue;
    const token = pulumiTypeOf(policy.validateStack);
    if (token && !registered.some((r) => r.type === token)) continue;
    // A URN outside the stack goes to the root stack in the engine: here, to no resource.
    const report: ReportViolation = (message, urn) =>
      violations.push({ policy: policy.name, enforcementLevel, urn: urn && urns.has(urn) ? urn : undefined, message });
    const notRun = (message: string) => couldNotRun.push({ policy: policy.name, enforcementLevel, message });
    run(policy.name, () => policy.validateStack(stackArgs(registered), report), notRun);
  }
  return { violations, couldNotRun };
}

/**
 * The violations alone. A policy that could not decide is an error here, not a pass: a caller that wants to see
 * those (a fresh evaluation) uses analyze.
 */
export function runPolicies(
  evaluation: Omit<Evaluation, "invocations">,
  policies: Policies = monitorPolicies,
): PolicyViolation[] {
  const { violations, couldNotRun } = analyze(evaluation, policies);
  if (couldNotRun.length > 0) {
    const which = couldNotRun.map((n) => `${n.policy} on ${n.urn ?? "the stack"}: ${n.message}`).join("; ");
    throw new Error(`policies could not run on what the preview knows: ${which}`);
  }
  return violations;
}
