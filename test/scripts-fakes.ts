import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Fetch } from "../scripts/lib/github";

/** One recorded request of the fake fetch. */
export interface Call {
  readonly method: string;
  readonly url: URL;
  readonly headers: Record<string, string>;
  readonly body?: unknown;
}

export type Route = (call: Call) => { status?: number; body?: unknown; headers?: Record<string, string> } | undefined;

/** A fetch that answers from `route` (404 when it returns nothing) and records every call. */
export function fakeFetch(route: Route): { fetch: Fetch; calls: Call[] } {
  const calls: Call[] = [];
  const impl = async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = new URL(String(input));
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const call: Call = {
      method: init.method ?? "GET",
      url,
      headers,
      body: init.body ? JSON.parse(String(init.body)) : undefined,
    };
    calls.push(call);
    const answer = route(call) ?? { status: 404, body: { message: "Not Found" } };
    return new Response(answer.body === undefined ? null : JSON.stringify(answer.body), {
      status: answer.status ?? 200,
      headers: { "content-type": "application/json", ...answer.headers },
    });
  };
  return { fetch: impl, calls };
}

/** A fresh $GITHUB_OUTPUT-style file and a reader for it. */
export function tempFile(name = "file"): { path: string; read: () => string } {
  const path = join(mkdtempSync(join(tmpdir(), "scripts-test-")), name);
  return { path, read: () => readFileSync(path, "utf8") };
}

/** Runs `fn` with console output captured, so assertions can read what a main() printed. */
export async function captureConsole<T>(fn: () => Promise<T>): Promise<{ result: T; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const log = console.log;
  const error = console.error;
  console.log = (...a: unknown[]) => void out.push(a.join(" "));
  console.error = (...a: unknown[]) => void err.push(a.join(" "));
  try {
    return { result: await fn(), out: out.join("\n"), err: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}
