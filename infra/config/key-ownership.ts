import * as docker from "@pulumi/docker/config/vars";
import * as gcp from "@pulumi/gcp/config/vars";
import * as github from "@pulumi/github/config/vars";
import type { StackKind } from "../../shared-rules/stack-name";
import { KINDS, type KindName, fileOfKind, readersOf } from "./kinds";
import { COMMAND_LINE, type Origins } from "./origins";

/**
 * Which keys a stack may set: its kind's own `monitor:` keys (infra/config/kinds.ts), the keys of the providers it
 * uses, and the CLI's own `pulumi:` keys. A key the stack's program never reads is silently ignored by the engine,
 * so one in the stack's own file (or on its command line) is a mistake: a typo, or a key of another kind of stack.
 * A project-level key (Pulumi.yaml) reaches every stack; a stack whose kind does not read it just ignores it.
 */

/**
 * The keys each provider takes, from the provider package's own config module (its `config/vars` exports one getter
 * per key, e.g. @pulumi/gcp/config/vars.d.ts): a key that is not there is a typo the provider would ignore.
 */
const PROVIDER_KEYS: Readonly<Record<string, ReadonlySet<string>>> = {
  gcp: new Set(Object.keys(gcp)),
  github: new Set(Object.keys(github)),
  docker: new Set(Object.keys(docker)),
};

/** The namespace the Pulumi CLI keeps for itself (`pulumi:tags`, `pulumi:disable-default-providers`, ...). */
const CLI_NAMESPACE = "pulumi";

/** Levenshtein distance, for "did you mean" on a mistyped key. */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The known name closest to `name` (at most two edits away, or a difference of case), if any. */
function nearest(name: string, known: Iterable<string>): string | undefined {
  let best: { name: string; d: number } | undefined;
  for (const candidate of known) {
    const d = candidate.toLowerCase() === name.toLowerCase() ? 0.5 : distance(name, candidate);
    if (d <= 2 && (!best || d < best.d)) best = { name: candidate, d };
  }
  return best?.name;
}

function list(items: readonly string[], conjunction = "and"): string {
  return items.length <= 1
    ? items.join("")
    : `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1]}`;
}

/** How to take a key off this stack: out of its file, or off its command line. */
function removal(key: string, origins: Origins): string {
  const origin = origins.of(key);
  return origin === COMMAND_LINE ? `drop --config ${key}` : `remove it from ${origin}`;
}

/**
 * Problems with keys `stack` sets that nothing would read: unknown `monitor:` keys, `monitor:` keys of other kinds,
 * provider keys no provider has or the stack uses no provider of, namespaces nothing reads.
 */
export function keyOwnershipProblems(
  stack: StackKind,
  config: Readonly<Record<string, string | undefined>>,
  monitorKeys: readonly string[],
  perDeploy: ReadonlySet<string>,
  origins: Origins,
  problems: string[],
): void {
  const row = KINDS[stack.kind];
  for (const key of Object.keys(config)) {
    if (config[key] === undefined) continue;
    const [namespace, name] = key.split(":", 2);
    const own = origins.isOwn(key);
    if (namespace === "monitor") {
      if (!monitorKeys.includes(key)) {
        const guess = nearest(key, monitorKeys);
        problems.push(
          `${origins.at(key)}: unknown config key; known keys: ${monitorKeys.join(", ")}. ` +
            `Fix: ${guess ? `rename it to ${guess}` : "rename or remove it"}`,
        );
      } else if (own && !row.reads.includes(key)) {
        const readers = readersOf(key).map((k) => KINDS[k]);
        const home = perDeploy.has(key)
          ? `it is passed with --config to ${list(readers.map((r) => r.label))}`
          : `it belongs in ${list([...new Set(readersOf(key).map(fileOfKind))], "or")}`;
        problems.push(
          `${origins.at(key)}: not read by ${row.label}, so it would be silently ignored ` +
            `(read by ${list(readers.map((r) => r.label))}). Fix: ${removal(key, origins)} (${home})`,
        );
      }
    } else if (namespace in PROVIDER_KEYS) {
      if (!own) continue;
      if (!PROVIDER_KEYS[namespace].has(name)) {
        const guess = nearest(name, PROVIDER_KEYS[namespace]);
        problems.push(
          `${origins.at(key)}: the ${namespace} provider has no key ${name} (its keys are @pulumi/${namespace}/config/vars), ` +
            `so it would be silently ignored. Fix: ${guess ? `rename it to ${namespace}:${guess}` : removal(key, origins)}`,
        );
      } else if (!row.providers.includes(namespace)) {
        const users = (Object.keys(KINDS) as KindName[]).filter((k) => KINDS[k].providers.includes(namespace));
        problems.push(
          `${origins.at(key)}: ${row.label} uses no ${namespace} provider, so it would be silently ignored ` +
            `(${namespace} is used by ${list(users.map((k) => KINDS[k].label))}). Fix: ${removal(key, origins)} (it belongs in ${list([...new Set(users.map(fileOfKind))], "or")})`,
        );
      }
    } else if (namespace !== CLI_NAMESPACE && own) {
      const known = ["monitor", ...Object.keys(PROVIDER_KEYS), CLI_NAMESPACE];
      const guess = nearest(namespace, known);
      problems.push(
        `${origins.at(key)}: no provider of this program reads the namespace ${namespace}: (it reads ${known.join(", ")}), ` +
          `so it would be silently ignored. Fix: ${guess ? `rename it to ${guess}:${name}` : removal(key, origins)}`,
      );
    }
  }
}
