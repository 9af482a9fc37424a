import type { ResourceValidationArgs } from "@pulumi/policy";
import { type StackKind, parseStackName } from "../shared-rules/stack-name";

/**
 * What every area's rules read: the stack a resource belongs to, from its URN, so that one pack serves every stack
 * and a rule that concerns one environment says so itself; and values a preview may not know yet.
 */

/** A resource's inputs as CrossGuard hands them over: untyped (its own `ResourceValidationArgs.props` is `any`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the pack's input type, see eslint.config.mjs
export type Props = Record<string, any>;

/**
 * Reads a value a preview may not know. In `pulumi preview`, CrossGuard hands policies props behind a proxy
 * (@pulumi/policy/proxy.js) that throws its UnknownValueError on reading a value the engine cannot know yet; the
 * server then reports "can't run policy ... during preview" as an advisory, so a mandatory rule that lets it
 * escape decides nothing. A rule that can decide without the value catches it here. (The class is internal to
 * the package, hence the name check.)
 */
export function knownOr<T, U>(read: () => T, whenUnknown: U): T | U {
  try {
    return read();
  } catch (e) {
    if (e instanceof Error && e.constructor.name === "UnknownValueError") return whenUnknown;
    throw e;
  }
}

/** Stands for a value the preview does not know, where a rule can decide without it. */
export const UNKNOWN = Symbol("unknown during preview");

/** `urn:pulumi:<stack>::<project>::<type>::<name>` → its stack, or undefined for a name the program refuses anyway. */
export function stackOf(urn: string): StackKind | undefined {
  try {
    return parseStackName(urn.split("::")[0].replace(/^urn:pulumi:/, ""));
  } catch {
    return undefined;
  }
}

export function longLived(args: ResourceValidationArgs): Extract<StackKind, { kind: "stage" | "prod" }> {
  const stack = stackOf(args.urn);
  if (stack?.kind === "stage" || stack?.kind === "prod") return stack;
  return args.notApplicable("only stage and prod keep state");
}

/** The web service's name, stated here (not taken from infra/naming) so that a rename there is checked, not trusted. */
export function webServiceName(stack: StackKind): string {
  return `monitor-${stack.kind === "preview" ? `pr-${stack.pr}` : stack.kind}`;
}
