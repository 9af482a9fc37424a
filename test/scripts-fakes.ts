import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Fetch } from "../scripts/lib/github";
import type { BucketObject, ObjectLister } from "../scripts/lib/state-bucket";

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
  const answer = (input: string | URL | Request, init: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : input);
    const headers = Object.fromEntries(
      Object.entries((init.headers ?? {}) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const call: Call = {
      method: init.method ?? "GET",
      url,
      headers,
      body: jsonBody(init.body),
    };
    calls.push(call);
    const routed = route(call) ?? { status: 404, body: { message: "Not Found" } };
    return new Response(routed.body === undefined ? null : JSON.stringify(routed.body), {
      status: routed.status ?? 200,
      headers: { "content-type": "application/json", ...routed.headers },
    });
  };
  // Not async, nothing to await; the executor still turns a throw (a bad URL or body, a throwing route) into a
  // rejection, as a real fetch reports its failures.
  const impl = (input: string | URL | Request, init: RequestInit = {}) =>
    new Promise<Response>((resolve) => resolve(answer(input, init)));
  return { fetch: impl, calls };
}

/** The scripts send JSON text; any other body is a fake this file does not cover, so it says so. */
function jsonBody(body: RequestInit["body"]): unknown {
  if (!body) return undefined;
  if (typeof body !== "string") throw new Error(`fakeFetch reads JSON string bodies only, got ${typeof body}`);
  return JSON.parse(body);
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

/**
 * A state bucket for scripts/lib/state-bucket.ts: lists the names it holds under a prefix, as the GCS listing does,
 * and records each prefix asked for. It has no way to read an object: a lister that only lists is the point.
 */
export function fakeBucket(objects: readonly BucketObject[]): { lister: ObjectLister; listed: string[] } {
  const listed: string[] = [];
  return {
    listed,
    lister: {
      list: (prefix) => {
        listed.push(prefix);
        return Promise.resolve(objects.filter((o) => o.name.startsWith(prefix)));
      },
    },
  };
}
