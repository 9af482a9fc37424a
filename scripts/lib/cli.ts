/**
 * What every script under scripts/ shares: reading its inputs from the environment with errors that name the
 * variable and the fix, the exit-code convention the workflows rely on, and a bounded sleep that tests replace.
 *
 * Exit codes: 0 done, 1 refused or failed (the job should stop), 2 usage (the workflow calls the script wrongly).
 * Inputs come only from environment variables: the workflows pass untrusted values through `env:`, never through a
 * shell line, so a value here is data and is never interpolated into a command.
 */

/** The workflow called the script wrongly (a missing or malformed variable, an unknown subcommand): exit 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/** The input was understood and the answer is no, or the outside world said no: exit 1. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RefusedError";
  }
}

export type Env = Readonly<Record<string, string | undefined>>;

export interface EnvRule {
  /** What the value is for and how to set it, appended to the error (e.g. "set it from vars.PREVIEW_CAP"). */
  readonly hint?: string;
  /** The value must match this; `expected` says what a valid one looks like. */
  readonly pattern?: RegExp;
  readonly expected?: string;
}

/** A required variable: present, not blank, and of the expected form; otherwise a UsageError naming it. */
export function requireEnv(env: Env, name: string, rule: EnvRule = {}): string {
  const value = optionalEnv(env, name, rule);
  if (value === undefined) {
    throw new UsageError(`${name} is not set. Fix: ${rule.hint ?? `set ${name} in the step's env:.`}`);
  }
  return value;
}

/** An optional variable: undefined when unset or blank (Actions passes an unset `vars.X` as ""). */
export function optionalEnv(env: Env, name: string, rule: EnvRule = {}): string | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === "") return undefined;
  const value = raw.trim();
  if (rule.pattern && !rule.pattern.test(value)) {
    // The value itself is not echoed: some inputs are secrets (a webhook URL), and others are untrusted text.
    const expected = rule.expected ?? `of the form ${rule.pattern}`;
    throw new UsageError(`${name} is not ${expected}. Fix: ${rule.hint ?? `pass ${name} as ${expected}.`}`);
  }
  return value;
}

/** A whole number in [min, max], or the default when unset. */
export function intEnv(
  env: Env,
  name: string,
  bounds: { min: number; max: number; default?: number },
  hint?: string,
): number {
  const raw = optionalEnv(env, name);
  if (raw === undefined) {
    if (bounds.default !== undefined) return bounds.default;
    throw new UsageError(`${name} is not set. Fix: ${hint ?? `set ${name} in the step's env:.`}`);
  }
  const value = /^[0-9]+$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < bounds.min || value > bounds.max) {
    throw new UsageError(
      `${name} must be a whole number from ${bounds.min} to ${bounds.max}, got "${raw}". Fix: ${hint ?? `pass ${name} in that range.`}`,
    );
  }
  return value;
}

/** "true" or "false" (Actions renders booleans so), or the default when unset. */
export function boolEnv(env: Env, name: string, fallback: boolean): boolean {
  const raw = optionalEnv(env, name);
  if (raw === undefined) return fallback;
  if (raw === "true") return true;
  if (raw === "false") return false;
  throw new UsageError(`${name} must be "true" or "false", got "${raw}". Fix: pass ${name} as true or false.`);
}

/** `owner/repo`, as GITHUB_REPOSITORY gives it. */
export const REPOSITORY = /^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/;
/** A full commit SHA. */
export const FULL_SHA = /^[0-9a-f]{40}$/;

export type Sleep = (ms: number) => Promise<void>;
export const sleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Log {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/**
 * Log lines in the Actions log. Warnings and errors become annotations on the run; their text is encoded as the
 * workflow-command format requires, so a multi-line message stays one annotation.
 */
export function consoleLog(env: Env = process.env): Log {
  const actions = env.GITHUB_ACTIONS === "true";
  const encode = (s: string) => s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
  return {
    info: (message) => console.log(message),
    warn: (message) => console.error(actions ? `::warning::${encode(message)}` : `warning: ${message}`),
    error: (message) => console.error(actions ? `::error::${encode(message)}` : `error: ${message}`),
  };
}

/** The exit code for what a script's main() threw. */
export function exitCodeFor(err: unknown): 1 | 2 {
  return err instanceof UsageError ? 2 : 1;
}

/**
 * Runs a script's main() and exits with the convention above. Anything thrown is reported by its message only:
 * a stack trace says nothing to the person reading the job log.
 */
export function run(main: () => Promise<number | void>, log: Log = consoleLog()): void {
  main().then(
    (code) => {
      process.exitCode = code ?? 0;
    },
    (err: unknown) => {
      log.error(err instanceof Error ? err.message : String(err));
      process.exitCode = exitCodeFor(err);
    },
  );
}
