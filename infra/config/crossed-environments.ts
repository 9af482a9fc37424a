import type { StackKind } from "../../shared-rules/stack-name";
import { KINDS, type KindName, fileOfKind } from "./kinds";
import type { ConfigSources, Origins } from "./origins";

/**
 * A stack on one side of the prod/nonprod line never shares its project or its public domain with a stack on the
 * other (infra/config/kinds.ts, `environment`): prod pointed at stage's project would deploy over stage, and stage at
 * prod's would run unreviewed code against prod's data. Compared against what the other kinds' files give them.
 */

/** Keys that name where a stack lives: two environments with one value here are one environment. */
const PLACE_KEYS: Readonly<Record<string, string>> = { "gcp:project": "project", "monitor:domain": "domain" };

/**
 * The value a stack of `kind` sets for `key` itself: its file's, or for previews (no file) Pulumi.yaml's. A value a
 * stack only inherits is its own problem, reported when that stack is planned, rather than every other stack's.
 */
function valueOfKind(kind: KindName, key: string, sources: ConfigSources): string | undefined {
  const stack = KINDS[kind].stack;
  return stack ? sources.stacks[stack]?.[key] : sources.project[key];
}

/** Whether stacks of `kind` read `key` (every provider key counts: a provider reads it). */
function readBy(kind: KindName, key: string): boolean {
  return !key.startsWith("monitor:") || KINDS[kind].reads.includes(key);
}

/**
 * `refused`: keys already refused, which say nothing more (one mistake, one message). Returns the keys it refuses,
 * so that what depends on them says nothing more either.
 */
export function checkCrossedEnvironments(
  stack: StackKind,
  config: Readonly<Record<string, string | undefined>>,
  sources: ConfigSources,
  refused: ReadonlySet<string>,
  origins: Origins,
  problems: string[],
): string[] {
  const crossed: string[] = [];
  const side = KINDS[stack.kind].environment;
  if (!side) return crossed;
  for (const [key, what] of Object.entries(PLACE_KEYS)) {
    const value = config[key];
    if (value === undefined || refused.has(key) || !readBy(stack.kind, key)) continue;
    const others = (Object.keys(KINDS) as KindName[]).filter((kind) => {
      const otherSide = KINDS[kind].environment;
      return (
        otherSide !== undefined && otherSide !== side && readBy(kind, key) && valueOfKind(kind, key, sources) === value
      );
    });
    if (others.length === 0) continue;
    crossed.push(key);
    const whose = others.map((kind) => `${KINDS[kind].label}'s (${fileOfKind(kind)})`).join(" and ");
    problems.push(
      `${origins.at(key)}: ${value} is ${whose} ${what}, on the other side of the prod/nonprod line from ` +
        `${stack.stack}, which would then deploy into it. Fix: give ${stack.stack} its own ${what}`,
    );
  }
  return crossed;
}
