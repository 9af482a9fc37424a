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
 */

export interface PolicyViolation {
  policy: string;
  enforcementLevel: "mandatory" | "advisory";
  urn?: string;
  message: string;
}

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

/** What ResourceValidationArgs and PolicyResource share; the props are a copy, as each RPC deserializes anew. */
function described(r: Registration) {
  const props = structuredClone(r.inputs);
  return {
    type: r.type,
    props,
    urn: r.urn,
    name: r.name,
    opts: optionsOf(r),
    isType: (resourceClass: unknown) => isTypeOf(r.type, resourceClass),
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

/** Calls one validation; a not-applicable policy reports nothing. Offline runs are synchronous by contract. */
function run(policyName: string, validate: () => unknown): void {
  try {
    if (validate() instanceof Promise) throw new Error("offline policies must validate synchronously");
  } catch (e) {
    if (e instanceof NotApplicable) return;
    throw new Error(`policy ${policyName} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
}

export function runPolicies(evaluation: Omit<Evaluation, "invocations">, policies: Policies = monitorPolicies): PolicyViolation[] {
  const violations: PolicyViolation[] = [];
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
      for (const validate of validations) run(policy.name, () => validate(resourceArgs(r), report));
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
    run(policy.name, () => policy.validateStack(stackArgs(registered), report));
  }
  return violations;
}
