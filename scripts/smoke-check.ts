/**
 * After a deploy: the app answers its Dockerflow heartbeat and reports the commit that was deployed.
 *
 * `GET /__heartbeat__` must be 200 with `"success": true`; `GET /__version__` must report a `commit` (the full SHA the
 * image was built from, written into version.json at build time) equal to or starting with COMMIT_SHA. Both are
 * retried together with a bounded backoff: a new revision can take a moment to receive traffic, and until it does
 * the old one answers with its own commit.
 *
 * env: URL (the service's https URL), COMMIT_SHA (optional, 7-40 hex), ATTEMPTS (default 20, at most 60),
 *      BACKOFF_SECONDS (first wait, doubled each time up to 30s; default 3, at most 30).
 */
import {
  RefusedError,
  intEnv,
  optionalEnv,
  requireEnv,
  run,
  sleep as realSleep,
  type Env,
  type Sleep,
} from "./lib/cli";
import type { Fetch } from "./lib/github";

export interface SmokeOptions {
  readonly url: string;
  readonly commit?: string;
  readonly attempts: number;
  readonly backoffMs: number;
  readonly maxBackoffMs?: number;
  readonly fetch: Fetch;
  readonly sleep: Sleep;
  readonly log: (line: string) => void;
  /** Per request. @default 10000 */
  readonly timeoutMs?: number;
}

/** Wait before attempt `attempt` (1-based, after the first): base × 2^(n-1), capped. */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number): number {
  return Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
}

/** What is wrong with one heartbeat answer, or undefined when it is healthy. */
export function heartbeatProblem(status: number, body: unknown): string | undefined {
  if (status !== 200) return `/__heartbeat__ answered ${status}`;
  if (typeof body !== "object" || body === null || (body as { success?: unknown }).success !== true) {
    return `/__heartbeat__ answered 200 without "success": true`;
  }
  return undefined;
}

/** What is wrong with one version answer for the expected commit, or undefined when it matches. */
export function versionProblem(status: number, body: unknown, commit: string | undefined): string | undefined {
  if (status !== 200) return `/__version__ answered ${status}`;
  const reported = typeof body === "object" && body !== null ? (body as { commit?: unknown }).commit : undefined;
  if (typeof reported !== "string" || reported === "") return `/__version__ reports no commit`;
  if (commit && !reported.toLowerCase().startsWith(commit.toLowerCase())) {
    return `/__version__ reports commit ${reported.slice(0, 40)}, not ${commit}`;
  }
  return undefined;
}

async function getJson(options: SmokeOptions, path: string): Promise<{ status: number; body: unknown }> {
  const response = await options.fetch(new URL(path, options.url), {
    headers: { accept: "application/json" },
    redirect: "manual",
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  return { status: response.status, body };
}

/** Resolves with the reported commit once both checks pass; rejects with the last problem after all attempts. */
export async function smokeCheck(options: SmokeOptions): Promise<string> {
  let problem = "no attempt made";
  for (let attempt = 1; attempt <= options.attempts; attempt++) {
    if (attempt > 1) await options.sleep(backoffDelay(attempt - 1, options.backoffMs, options.maxBackoffMs ?? 30_000));
    try {
      const heartbeat = await getJson(options, "/__heartbeat__");
      problem = heartbeatProblem(heartbeat.status, heartbeat.body) ?? "";
      if (!problem) {
        const version = await getJson(options, "/__version__");
        problem = versionProblem(version.status, version.body, options.commit) ?? "";
        if (!problem) return String((version.body as { commit: string }).commit);
      }
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      problem = `request failed: ${(err as Error).name === "TimeoutError" ? "timed out" : (cause ?? (err as Error).message)}`;
    }
    options.log(`attempt ${attempt}/${options.attempts}: ${problem}`);
  }
  throw new RefusedError(
    `Smoke check of ${options.url} failed after ${options.attempts} attempts: ${problem}. ` +
      "Check the service's logs for the revision the deploy created; a wrong commit means traffic did not move to it.",
  );
}

export async function main(env: Env = process.env, io: { fetch?: Fetch; sleep?: Sleep } = {}): Promise<number> {
  const url = requireEnv(env, "URL", {
    pattern: /^https?:\/\/[^\s/?#]+\/?$/,
    expected: "the service's base URL, e.g. https://monitor-stage.example (no path)",
    hint: "Pass the stack's url output.",
  });
  const commit = optionalEnv(env, "COMMIT_SHA", {
    pattern: /^[0-9a-f]{7,40}$/,
    expected: "7 to 40 lowercase hex characters",
  });
  const attempts = intEnv(env, "ATTEMPTS", { min: 1, max: 60, default: 20 });
  const backoffSeconds = intEnv(env, "BACKOFF_SECONDS", { min: 0, max: 30, default: 3 });
  const reported = await smokeCheck({
    url,
    commit,
    attempts,
    backoffMs: backoffSeconds * 1000,
    fetch: io.fetch ?? fetch,
    sleep: io.sleep ?? realSleep,
    log: console.log,
  });
  console.log(`${url} is healthy and runs commit ${reported}.`);
  return 0;
}

if (require.main === module) run(() => main());
