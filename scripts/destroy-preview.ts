/**
 * Tears down one pull request's preview: `pulumi destroy`, then removes the stack, retried with exponential
 * backoff. The retry is for the database: Cloud SQL refuses to drop it while connections remain, and a Cloud Run
 * revision's connections can outlive the service's deletion by a few seconds.
 *
 * Only `pr-<N>` stacks: stage, prod and pipeline are refused by name before anything is selected. The stack is
 * selected by name, never found through `pulumi stack ls`: on a DIY backend that reads every stack's checkpoint, and
 * the preview deployer may read only previews' (403 on stage's). A stack that does not exist is nothing to do.
 *
 * env: STACK, DESTROY_ATTEMPTS (default 5, at most 10), DESTROY_BACKOFF_SECONDS (first wait, doubled; default 15),
 *      PULUMI_BACKEND_URL (the state bucket; the Pulumi CLI reads it). The project is the repository root.
 */
import { resolve } from "node:path";
import type { Stack, Workspace } from "@pulumi/pulumi/automation";
import { parseStackName } from "../shared-rules/stack-name";
import { RefusedError, intEnv, requireEnv, run, sleep as realSleep, type Env, type Sleep } from "./lib/cli";

/** The part of an Automation API Stack this needs; tests pass a fake. */
export interface DestroyableStack {
  readonly name: string;
  destroy(options?: { onOutput?: (out: string) => void }): Promise<unknown>;
  readonly workspace: { removeStack(name: string): Promise<void> };
}

export interface DestroyOptions {
  /** @default 5 */
  readonly attempts?: number;
  /** First wait; doubled after each failure. @default 15000 */
  readonly baseDelayMs?: number;
  readonly sleep?: Sleep;
  readonly log?: (line: string) => void;
  readonly onOutput?: (out: string) => void;
}

/** Refuses anything that is not a preview stack, with the reason. */
export function requirePreviewStack(stack: string): string {
  let kind: string;
  try {
    kind = parseStackName(stack).kind;
  } catch {
    throw new RefusedError(
      `STACK "${stack}" is not a stack of the monitor project. Fix: pass the preview stack pr-<N> of the closed pull request.`,
    );
  }
  if (kind !== "preview") {
    throw new RefusedError(
      `STACK "${stack}" is the ${kind} stack; this only destroys previews (pr-<N>). Long-lived stacks are never destroyed by a workflow. ` +
        "Fix: pass a preview stack pr-<N>.",
    );
  }
  return stack;
}

/** The tail of an error: the Automation API's errors carry the whole CLI output, whose end says what failed. */
export function errorSummary(err: unknown, max = 1500): string {
  const text = (err instanceof Error ? err.message : String(err)).trim();
  return text.length > max ? `…${text.slice(-max)}` : text;
}

/** The line of CLI output that says what went wrong: the last one mentioning an error, else the last one. */
export function errorHeadline(err: unknown, max = 200): string {
  const lines = (err instanceof Error ? err.message : String(err))
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const line = [...lines].reverse().find((l) => /error/i.test(l)) ?? lines.at(-1) ?? "unknown error";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** A destroy that failed every attempt; `lastError` is the headline of the last failure. */
export class DestroyFailedError extends RefusedError {
  constructor(
    message: string,
    readonly attempts: number,
    readonly lastError: string,
  ) {
    super(message);
    this.name = "DestroyFailedError";
  }
}

const LOCKED = /currently locked/;

/** Destroys the stack's resources, then removes the stack; resolves with the attempts it took. */
export async function destroyAndRemove(stack: DestroyableStack, options: DestroyOptions = {}): Promise<number> {
  const attempts = options.attempts ?? 5;
  const baseDelayMs = options.baseDelayMs ?? 15_000;
  const sleep = options.sleep ?? realSleep;
  const log = options.log ?? console.log;
  let destroyed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      if (!destroyed) {
        await stack.destroy({ onOutput: options.onOutput });
        destroyed = true;
      }
      // Without force: the CLI refuses to remove a stack that still has resources, which is the last safety net.
      await stack.workspace.removeStack(stack.name);
      return attempt;
    } catch (err) {
      const summary = errorSummary(err);
      if (attempt >= attempts) {
        const lockHint = LOCKED.test(summary)
          ? ` The stack is locked by another update. If no workflow run is working on ${stack.name}, clear the lock with ` +
            `\`pulumi cancel --stack ${stack.name} --yes\` (it deletes every lock of the stack, so never while an update runs), then run this again.`
          : ` Run the workflow again; if it keeps failing, \`pulumi destroy --stack ${stack.name}\` by hand shows which resource refuses.`;
        throw new DestroyFailedError(
          `${destroyed ? "Removing" : "Destroying"} ${stack.name} failed ${attempts} times; last error:\n${summary}\n${lockHint.trim()}`,
          attempts,
          errorHeadline(err),
        );
      }
      const delay = baseDelayMs * 2 ** (attempt - 1);
      log(
        `${destroyed ? "Removing" : "Destroying"} ${stack.name} failed (attempt ${attempt}/${attempts}); retrying in ${delay / 1000}s:\n${summary}`,
      );
      await sleep(delay);
    }
  }
}

/** `pr-12` from `pr-12` or a fully qualified `organization/monitor/pr-12`, as `pulumi stack ls` may list it. */
export function shortStackName(name: string): string {
  return name.slice(name.lastIndexOf("/") + 1);
}

/** The project lives at the repository root (Pulumi.yaml), one level above scripts/. */
export const PROJECT_DIR = resolve(__dirname, "..");

/** The workspace the shells use: the repository's project, state where PULUMI_BACKEND_URL says. */
export async function projectWorkspace(): Promise<Workspace> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  return LocalWorkspace.create({ workDir: PROJECT_DIR });
}

export async function selectStack(workspace: Workspace, name: string): Promise<Stack> {
  const { Stack } = await import("@pulumi/pulumi/automation");
  return Stack.select(name, workspace);
}

/**
 * Whether `pulumi stack select` failed because the stack does not exist: the CLI says "no stack named '<name>'
 * found" (pulumi/pulumi pkg/backend/backenderr/backenderr.go, StackNotFoundError), which the Automation API turns
 * into its StackNotFoundError (@pulumi/pulumi automation/errors.js, `notFoundRegex`).
 */
export function isStackNotFound(err: unknown): boolean {
  return (
    (err instanceof Error && err.name === "StackNotFoundError") ||
    /no stack named '[^']*' found/.test(err instanceof Error ? err.message : String(err))
  );
}

/** Selects one stack by name; undefined when it does not exist. */
export async function selectIfExists(
  select: (name: string) => Promise<DestroyableStack>,
  name: string,
): Promise<DestroyableStack | undefined> {
  try {
    return await select(name);
  } catch (err) {
    if (isStackNotFound(err)) return undefined;
    throw err;
  }
}

export interface DestroyIo {
  /** Selects a stack of the project; the real one is the Automation API. */
  readonly select?: (name: string) => Promise<DestroyableStack>;
  readonly sleep?: Sleep;
}

export async function main(env: Env = process.env, io: DestroyIo = {}): Promise<number> {
  const name = requirePreviewStack(requireEnv(env, "STACK", { hint: "Pass pr-<N> for the closed pull request." }));
  const attempts = intEnv(env, "DESTROY_ATTEMPTS", { min: 1, max: 10, default: 5 });
  const baseDelayMs = intEnv(env, "DESTROY_BACKOFF_SECONDS", { min: 0, max: 120, default: 15 }) * 1000;
  const select = io.select ?? (async (n: string) => selectStack(await projectWorkspace(), n));
  const stack = await selectIfExists(select, name);
  if (!stack) {
    console.log(
      `There is no stack ${name} (the pull request never got a preview, or it is gone already): nothing to destroy.`,
    );
    return 0;
  }
  const took = await destroyAndRemove(stack, {
    attempts,
    baseDelayMs,
    sleep: io.sleep,
    onOutput: (out) => process.stdout.write(out),
  });
  console.log(`Destroyed and removed ${name}${took > 1 ? ` (after ${took} attempts)` : ""}.`);
  return 0;
}

if (require.main === module) run(() => main());
