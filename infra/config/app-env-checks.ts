import { APP_VARIABLES, DERIVED_VARIABLES, REQUIRED_VARIABLES } from "../../shared-rules/app-env";
import { prodValueOf } from "../../shared-rules/app-values";
import type { StackKind } from "../../shared-rules/stack-name";
import { KINDS } from "./kinds";
import type { Origins } from "./origins";

/**
 * The rules on the app's environment that span keys: what the app cannot start without, what a secret may be, and
 * what prod must run with. Each value's own type is checked with its key (config-keys.ts, shared-rules/app-values.ts).
 */

/**
 * The app's required variables that neither config, nor the program, nor a secret provides. `env` is undefined
 * when monitor:env was refused (its own problems say it all), as is `provided` when the key providing secrets was.
 */
export function checkRequired(
  env: Readonly<Record<string, unknown>> | undefined,
  provided: Iterable<string> | undefined,
  fix: string,
  origins: Origins,
  problems: string[],
): void {
  if (env === undefined || provided === undefined) return;
  const all = new Set([...Object.keys(env), ...DERIVED_VARIABLES, ...provided]);
  const missing = REQUIRED_VARIABLES.filter((name) => !all.has(name));
  if (missing.length > 0) {
    problems.push(`${origins.at("monitor:env")}: the app refuses to start without ${missing.join(", ")}. Fix: ${fix}`);
  }
}

/**
 * A variable declared as a secret must be one the app reads (a typo guard) and not one the program computes. Any
 * app variable may be a secret (REDIS_URL is one when it carries a password); none may be both secret and plain.
 */
export function checkSecretName(name: string, env: Record<string, string>, at: string, problems: string[]): void {
  if (name in env) problems.push(`${at}: ${name} is also a plain value in monitor:env. Fix: keep one`);
  if (DERIVED_VARIABLES.includes(name)) problems.push(`${at}: ${name} is computed by the program. Fix: remove it`);
  else if (!(name in APP_VARIABLES)) {
    problems.push(
      `${at}: ${name} is not a variable the app reads (a typo?). Fix: correct it, or add it to shared-rules/app-env.ts`,
    );
  }
}

/** Prod runs the values the catalogue names for it (NODE_ENV=production), set explicitly. */
export function checkProdValues(
  stack: StackKind,
  env: Readonly<Record<string, unknown>> | undefined,
  origins: Origins,
  problems: string[],
): void {
  if (env === undefined || KINDS[stack.kind].environment !== "prod") return;
  for (const name of Object.keys(APP_VARIABLES)) {
    const required = prodValueOf(name);
    if (required === undefined || env[name] === required) continue;
    const runs =
      env[name] === undefined
        ? `leaves ${name} unset, which the app reads as its fallback`
        : `runs with ${name}=${typeof env[name] === "string" ? env[name] : JSON.stringify(env[name])}`;
    problems.push(
      `${origins.at(`monitor:env.${name}`)}: ${stack.stack} ${runs}; the app gives production behaviour to ` +
        `${name}=${required} only. Fix: set ${name}: ${required} in monitor:env`,
    );
  }
}
