import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { backoffDelay, heartbeatProblem, main, smokeCheck, versionProblem } from "../scripts/smoke-check";
import { captureConsole, fakeFetch } from "./scripts-fakes";

const SHA = "3f9c2ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";
const noSleep = () => Promise.resolve();

describe("smoke check verdicts", () => {
  it("wants a 200 heartbeat with success: true", () => {
    expect(heartbeatProblem(200, { success: true, message: "OK" })).toBeUndefined();
    expect(heartbeatProblem(503, {})).toBe("/__heartbeat__ answered 503");
    expect(heartbeatProblem(200, { success: false })).toBe('/__heartbeat__ answered 200 without "success": true');
    expect(heartbeatProblem(200, "<html>")).toContain("without");
  });

  it("wants /__version__ to report the deployed commit, a short SHA matching its start", () => {
    expect(versionProblem(200, { commit: SHA }, SHA)).toBeUndefined();
    expect(versionProblem(200, { commit: SHA }, "3f9c2ab")).toBeUndefined();
    expect(versionProblem(200, { commit: SHA }, undefined)).toBeUndefined();
    expect(versionProblem(200, { commit: "aaaaaaa" }, "3f9c2ab")).toBe(
      "/__version__ reports commit aaaaaaa, not 3f9c2ab",
    );
    expect(versionProblem(200, {}, "3f9c2ab")).toBe("/__version__ reports no commit");
  });

  it("backs off exponentially up to the cap", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, 3000, 30_000))).toEqual([
      3000, 6000, 12000, 24000, 30000, 30000,
    ]);
  });
});

describe("smoke check against the service", () => {
  it("retries while the old revision still answers, and passes once the new commit shows", async () => {
    let versionCalls = 0;
    const { fetch, calls } = fakeFetch((call) => {
      if (call.url.pathname === "/__heartbeat__") return { body: { success: true, message: "OK" } };
      if (call.url.pathname === "/__version__") return { body: { commit: ++versionCalls < 3 ? "0".repeat(40) : SHA } };
      return undefined;
    });
    const waits: number[] = [];
    const log: string[] = [];
    const commit = await smokeCheck({
      url: "https://monitor.example",
      commit: "3f9c2ab",
      attempts: 5,
      backoffMs: 1000,
      fetch,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      log: (l) => log.push(l),
    });
    expect(commit).toBe(SHA);
    expect(waits).toEqual([1000, 2000]);
    expect(log[0]).toBe(`attempt 1/5: /__version__ reports commit ${"0".repeat(40)}, not 3f9c2ab`);
    expect(calls.map((c) => c.url.href)).toContain("https://monitor.example/__heartbeat__");
  });

  it("gives up after the bounded attempts with the last problem and what to look at", async () => {
    const { fetch, calls } = fakeFetch(() => ({ status: 503, body: { success: false } }));
    const err = await smokeCheck({
      url: "https://monitor.example",
      attempts: 3,
      backoffMs: 0,
      fetch,
      sleep: noSleep,
      log: () => undefined,
    }).catch((e) => e);
    expect(err.message).toMatch(
      /^Smoke check of https:\/\/monitor.example failed after 3 attempts: \/__heartbeat__ answered 503\./,
    );
    expect(calls).toHaveLength(3); // the version is not asked while the heartbeat fails
  });

  it("refuses bad inputs before any request", async () => {
    const { fetch, calls } = fakeFetch(() => undefined);
    await expect(main({ URL: "monitor.example" }, { fetch })).rejects.toThrow("URL is not the service's base URL");
    await expect(main({ URL: "https://monitor.example", COMMIT_SHA: "xyz" }, { fetch })).rejects.toThrow(
      "COMMIT_SHA is not 7 to 40 lowercase hex",
    );
    await expect(main({ URL: "https://monitor.example", ATTEMPTS: "1000" }, { fetch })).rejects.toThrow(
      "ATTEMPTS must be a whole number from 1 to 60",
    );
    expect(calls).toHaveLength(0);
  });
});

describe("smoke check over HTTP on 127.0.0.1", () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.close();
    server = undefined;
  });

  it("passes against a server that answers like the app, and fails on a wrong commit", async () => {
    server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      if (req.url === "/__heartbeat__") res.end(JSON.stringify({ success: true, message: "OK" }));
      else if (req.url === "/__version__")
        res.end(JSON.stringify({ commit: SHA, version: "main", source: "x", build: "1" }));
      else res.writeHead(404).end("{}");
    });
    // The server never outlives the test: closed in afterEach, and unref'd so it cannot hold the process.
    server.unref();
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const ok = await captureConsole(() =>
      main({ URL: url, COMMIT_SHA: "3f9c2ab", ATTEMPTS: "2", BACKOFF_SECONDS: "0" }, { sleep: noSleep }),
    );
    expect(ok.result).toBe(0);
    expect(ok.out).toContain(`runs commit ${SHA}`);

    const wrong = captureConsole(() =>
      main({ URL: url, COMMIT_SHA: "abcdef1", ATTEMPTS: "2", BACKOFF_SECONDS: "0" }, { sleep: noSleep }),
    );
    await expect(wrong).rejects.toThrow(`/__version__ reports commit ${SHA}, not abcdef1`);
  });
});
