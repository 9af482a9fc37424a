import { describe, expect, it } from "vitest";
import { RefusedError } from "../scripts/lib/cli";
import { createGitHub } from "../scripts/lib/github";
import {
  destroyAndRemove,
  isStackNotFound,
  main as destroyMain,
  requirePreviewStack,
  type DestroyableStack,
} from "../scripts/destroy-preview";
import { gcsLister, listStacks, parseBackendUrl } from "../scripts/lib/state-bucket";
import { stackObjects } from "./model/pulumi-backend";
import {
  decideSweep,
  main,
  renderSummary,
  stateBackend,
  sweep,
  type StackInfo,
  type SweepBackend,
  type SweepDecision,
} from "../scripts/sweep-previews";
import { captureConsole, fakeBucket, fakeFetch } from "./scripts-fakes";

const NOW = new Date("2024-09-10T12:00:00Z");
const daysAgo = (d: number) => new Date(NOW.getTime() - d * 86_400_000).toISOString();
const stack = (name: string, ageDays?: number, extra: Partial<StackInfo> = {}): StackInfo => ({
  name,
  lastUpdate: ageDays === undefined ? undefined : daysAgo(ageDays),
  ...extra,
});
const decide = (
  stacks: StackInfo[],
  opts: { prs?: [number, "open" | "closed"][]; ttlDays?: number; cap?: number; failedBefore?: string[] } = {},
) =>
  decideSweep({
    stacks,
    prs: new Map(opts.prs ?? stacks.map((s) => [Number(s.name.split("-")[1]), "open"] as [number, "open"])),
    now: NOW,
    ttlDays: opts.ttlDays ?? 14,
    cap: opts.cap ?? 10,
    failedBefore: new Set(opts.failedBefore ?? []),
  });
const summary = (ds: SweepDecision[]) =>
  Object.fromEntries(
    ds.map((d) => [d.stack.name, d.action === "destroy" ? `${d.reason}${d.retry ? "+retry" : ""}` : "keep"]),
  );

describe("sweeper decisions", () => {
  it("destroys the preview of a closed PR and keeps an open one", () => {
    const ds = decide([stack("pr-1", 1), stack("pr-2", 1)], {
      prs: [
        [1, "closed"],
        [2, "open"],
      ],
    });
    expect(summary(ds)).toEqual({ "pr-1": "closed", "pr-2": "keep" });
    expect(ds[0].why).toBe("PR #1 is closed");
  });

  it("destroys a preview not updated for longer than the TTL, even with its PR open", () => {
    const ds = decide([stack("pr-1", 15), stack("pr-2", 13.9)], { ttlDays: 14 });
    expect(summary(ds)).toEqual({ "pr-1": "ttl", "pr-2": "keep" });
    expect(ds[0].why).toBe("not updated for 15 days (TTL 14)");
  });

  it("enforces the cap by destroying the least recently updated first", () => {
    const stacks = [stack("pr-5", 1), stack("pr-3", 9), stack("pr-4", 2), stack("pr-6", 0.5), stack("pr-7", 5)];
    expect(summary(decide(stacks, { cap: 3 }))).toEqual({
      "pr-3": "over-cap",
      "pr-7": "over-cap",
      "pr-4": "keep",
      "pr-5": "keep",
      "pr-6": "keep",
    });
  });

  it("counts the cap after closed and TTL destroys, and counts a stack that never finished an update as the oldest", () => {
    const stacks = [stack("pr-1", 1, { lastUpdate: undefined }), stack("pr-2", 1), stack("pr-3", 2), stack("pr-4", 30)];
    expect(summary(decide(stacks, { cap: 2 }))).toEqual({
      "pr-1": "over-cap",
      "pr-2": "keep",
      "pr-3": "keep",
      "pr-4": "ttl",
    });
  });

  it("retries a stack whose destroy failed before: the failed destroy refreshed its last update, so TTL alone would miss it", () => {
    const ds = decide([stack("pr-8", 0.01), stack("pr-9", 0.01)], {
      failedBefore: ["pr-9"],
      prs: [
        [8, "open"],
        [9, "open"],
      ],
    });
    expect(summary(ds)).toEqual({ "pr-8": "keep", "pr-9": "failed-before+retry" });
    // A retry that another rule also selects keeps that reason and is still reported as a retry.
    const closed = decide([stack("pr-9", 0.01)], { failedBefore: ["pr-9"], prs: [[9, "closed"]] });
    expect(summary(closed)).toEqual({ "pr-9": "closed+retry" });
    expect(closed[0].why).toBe("PR #9 is closed; retrying a destroy that failed before");
  });

  it("never selects stage, prod, pipeline or a name outside the project, whatever the TTL and cap", () => {
    const stacks = [
      stack("stage", 400),
      stack("prod", 400),
      stack("pipeline", 400),
      stack("dev", 400),
      stack("pr-01", 400),
      stack("organization/monitor/prod", 400),
    ];
    const ds = decide(stacks, { ttlDays: 1, cap: 0, prs: [], failedBefore: stacks.map((s) => s.name) });
    expect(ds.every((d) => d.action === "keep")).toBe(true);
    expect(ds.map((d) => d.why)).toEqual([
      "the stage stack is never swept",
      "the prod stack is never swept",
      "the pipeline stack is never swept",
      "not a stack of the monitor project",
      "not a stack of the monitor project",
      "the prod stack is never swept",
    ]);
  });

  it("leaves a stack with an update in progress alone, but counts it toward the cap", () => {
    const ds = decide([stack("pr-1", 20, { updateInProgress: true }), stack("pr-2", 1), stack("pr-3", 2)], {
      prs: [
        [1, "closed"],
        [2, "open"],
        [3, "open"],
      ],
      cap: 2,
    });
    expect(summary(ds)).toEqual({ "pr-1": "keep", "pr-2": "keep", "pr-3": "over-cap" });
  });

  it("keeps a preview whose PR was not found until its TTL", () => {
    const ds = decide([stack("pr-77", 1)], { prs: [] });
    expect(ds[0]).toMatchObject({ action: "keep", why: "PR #77 not found; kept until its TTL" });
  });

  it("reports every stack in a markdown table, failures included and escaped", () => {
    const ds = decide([stack("pr-1", 1), stack("stage", 1)], { prs: [[1, "closed"]] });
    const md = renderSummary([{ decision: ds[0], result: "failed: boom | <b>x</b>\nmore" }, { decision: ds[1] }], {
      ttlDays: 14,
      cap: 10,
      dryRun: false,
    });
    expect(md).toContain("| Stack | Last update | Decision | Why | Result |");
    expect(md).toContain(
      "| `pr-1` | 2024-09-09T12:00:00.000Z | destroy (closed) | PR #1 is closed | failed: boom \\| &lt;b>x&lt;/b> more |",
    );
    expect(md).toContain("| `stage` |");
  });
});

/** A stack whose destroy fails `failures` times with `error`, recording what was called. */
function fakeStack(name: string, failures = 0, error = "error deleting database: there are still 2 connections") {
  const calls: string[] = [];
  let left = failures;
  const s: DestroyableStack = {
    name,
    destroy: () => {
      calls.push("destroy");
      return left-- > 0 ? Promise.reject(new Error(error)) : Promise.resolve();
    },
    workspace: {
      removeStack: (n) => {
        calls.push(`rm ${n}`);
        return Promise.resolve();
      },
    },
  };
  return { stack: s, calls };
}

describe("destroying a preview", () => {
  it("destroys then removes the stack", async () => {
    const { stack: s, calls } = fakeStack("pr-5");
    expect(await destroyAndRemove(s, { sleep: () => Promise.resolve(), log: () => undefined })).toBe(1);
    expect(calls).toEqual(["destroy", "rm pr-5"]);
  });

  it("retries with exponential backoff while the database still has connections", async () => {
    const { stack: s, calls } = fakeStack("pr-5", 2);
    const waits: number[] = [];
    const took = await destroyAndRemove(s, {
      attempts: 5,
      baseDelayMs: 10_000,
      sleep: (ms) => {
        waits.push(ms);
        return Promise.resolve();
      },
      log: () => undefined,
    });
    expect(took).toBe(3);
    expect(waits).toEqual([10_000, 20_000]);
    expect(calls).toEqual(["destroy", "destroy", "destroy", "rm pr-5"]);
  });

  it("retries only the removal when the destroy already succeeded", async () => {
    const calls: string[] = [];
    let rmFails = 1;
    const s: DestroyableStack = {
      name: "pr-5",
      destroy: () => {
        calls.push("destroy");
        return Promise.resolve();
      },
      workspace: {
        removeStack: () => {
          calls.push("rm");
          return rmFails-- > 0
            ? Promise.reject(new Error("'pr-5' still has resources; removal rejected"))
            : Promise.resolve();
        },
      },
    };
    await destroyAndRemove(s, { sleep: () => Promise.resolve(), log: () => undefined });
    expect(calls).toEqual(["destroy", "rm", "rm"]);
  });

  it("gives up after the attempts with the last error, and says how to clear a stale lock", async () => {
    const { stack: s } = fakeStack("pr-5", 9, "error: the stack is currently locked by 1 lock(s).");
    const err = await destroyAndRemove(s, { attempts: 3, sleep: () => Promise.resolve(), log: () => undefined }).catch(
      (e) => e,
    );
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toContain("Destroying pr-5 failed 3 times; last error:\nerror: the stack is currently locked");
    expect(err.message).toContain("`pulumi cancel --stack pr-5 --yes`");
  });

  it("refuses anything but a preview stack by name", () => {
    expect(requirePreviewStack("pr-12")).toBe("pr-12");
    expect(() => requirePreviewStack("prod")).toThrow(
      'STACK "prod" is the prod stack; this only destroys previews (pr-<N>)',
    );
    expect(() => requirePreviewStack("stage")).toThrow("is the stage stack");
    expect(() => requirePreviewStack("pipeline")).toThrow("is the pipeline stack");
    expect(() => requirePreviewStack("pr-0")).toThrow("is not a stack of the monitor project");
  });
});

describe("a sweep run", () => {
  const github = (prs: Record<number, string>) =>
    createGitHub({
      token: "t",
      repository: "mozilla/blurts-server",
      fetch: fakeFetch((call) => {
        const n = Number(/\/pulls\/(\d+)$/.exec(call.url.pathname)?.[1]);
        return prs[n] ? { body: { number: n, state: prs[n] } } : undefined;
      }).fetch,
    });

  function backend(stacks: StackInfo[], failedBefore: string[], failing: string[]) {
    const selected: string[] = [];
    const removed: string[] = [];
    const b: SweepBackend = {
      listStacks: () => Promise.resolve(stacks),
      lastDestroyFailed: (name) => Promise.resolve(failedBefore.includes(name)),
      select: (name) => {
        selected.push(name);
        return Promise.resolve({
          name,
          destroy: () =>
            failing.includes(name)
              ? Promise.reject(new Error("googleapi: Error 400: database has connections"))
              : Promise.resolve(),
          workspace: {
            removeStack: (n: string) => {
              removed.push(n);
              return Promise.resolve();
            },
          },
        });
      },
    };
    return { b, selected, removed };
  }

  it("destroys what the decisions select, reports a failure as an outcome, and never selects a long-lived stack", async () => {
    const { b, selected, removed } = backend(
      [stack("stage", 100), stack("pr-1", 1), stack("pr-2", 1), stack("pr-3", 1)],
      ["pr-3"],
      ["pr-2"],
    );
    const outcomes = await sweep(
      {
        backend: b,
        github: github({ 1: "closed", 2: "closed", 3: "open" }),
        now: NOW,
        sleep: () => Promise.resolve(),
        log: () => undefined,
      },
      { ttlDays: 14, cap: 10, dryRun: false },
    );
    expect(selected).toEqual(["pr-1", "pr-2", "pr-3"]);
    expect(removed).toEqual(["pr-1", "pr-3"]);
    expect(outcomes.map((o) => o.result ?? "kept")).toEqual([
      "kept",
      "destroyed",
      "failed (5 attempts, last: googleapi: Error 400: database has connections); retried on the next run",
      "destroyed",
    ]);
  });

  it("destroys nothing in a dry run", async () => {
    const { b, selected } = backend([stack("pr-1", 1)], [], []);
    const outcomes = await sweep(
      { backend: b, github: github({ 1: "closed" }), now: NOW, log: () => undefined },
      { ttlDays: 14, cap: 10, dryRun: true },
    );
    expect(selected).toEqual([]);
    expect(outcomes[0].result).toBe("dry run: not destroyed");
  });
});

describe("finding previews without reading other stacks' state (issue 14, item 2)", () => {
  const at = (iso: string) => iso;
  const objects = [
    { name: ".pulumi/meta.yaml", updated: at("2024-01-01T00:00:00Z") },
    { name: ".pulumi/stacks/monitor/stage.json", updated: at("2024-09-10T00:00:00Z") },
    { name: ".pulumi/stacks/monitor/prod.json", updated: at("2024-09-10T00:00:00Z") },
    { name: ".pulumi/stacks/monitor/pr-1.json", updated: at("2024-09-09T12:00:00Z") },
    { name: ".pulumi/stacks/monitor/pr-1.json.bak", updated: at("2024-09-01T12:00:00Z") },
    { name: ".pulumi/stacks/monitor/pr-2.json.gz", updated: at("2024-08-01T12:00:00Z") },
    { name: ".pulumi/stacks/monitor/pr-3.json", updated: at("2024-09-10T11:00:00Z") },
    { name: ".pulumi/locks/organization/monitor/pr-3/0b1c.json", updated: at("2024-09-10T11:00:00Z") },
    { name: ".pulumi/history/monitor/pr-1/pr-1-1725883200.history.json", updated: at("2024-09-09T12:00:00Z") },
    { name: ".pulumi/stacks/other/pr-9.json", updated: at("2024-01-01T00:00:00Z") },
  ];

  it("lists only pr-* checkpoints of the project, takes the last update from the object's metadata and a lock as in progress", async () => {
    const { lister, listed } = fakeBucket(objects);
    expect(await listStacks(lister, { prefix: "", project: "monitor" }, "pr-")).toEqual([
      { name: "pr-1", lastUpdate: "2024-09-09T12:00:00Z", updateInProgress: false },
      { name: "pr-2", lastUpdate: "2024-08-01T12:00:00Z", updateInProgress: false },
      { name: "pr-3", lastUpdate: "2024-09-10T11:00:00Z", updateInProgress: true },
    ]);
    expect(listed.sort()).toEqual([".pulumi/locks/organization/monitor/pr-", ".pulumi/stacks/monitor/pr-"]);
  });

  it("sees an update in progress by the lock object Pulumi really writes (organization/<project>/<stack>/)", async () => {
    // The lock's name as the DIY backend writes it (test/model/pulumi-backend.ts, from pulumi/pulumi lock.go).
    const lock = { name: stackObjects("pr-1").lock, updated: at("2024-09-10T11:00:00Z") };
    const { lister } = fakeBucket([...objects, lock]);
    const listed = await listStacks(lister, { prefix: "", project: "monitor" }, "pr-");
    expect(listed.find((s) => s.name === "pr-1")?.updateInProgress).toBe(true);
    // A lock under another prefix (the project-only path this once listed) is no lock of this project's stacks.
    const stray = { name: ".pulumi/locks/monitor/pr-2/0b1c.json", updated: at("2024-09-10T11:00:00Z") };
    const strayListed = await listStacks(
      fakeBucket([...objects, stray]).lister,
      { prefix: "", project: "monitor" },
      "pr-",
    );
    expect(strayListed.find((s) => s.name === "pr-2")?.updateInProgress).toBe(false);
  });

  it("a sweep selects only previews: stage's and prod's state are never read (the deployer would get 403)", async () => {
    const { lister } = fakeBucket(objects);
    const selected: string[] = [];
    const backend = stateBackend(lister, { prefix: "", project: "monitor" }, () =>
      Promise.reject(new Error("no workspace in this test")),
    );
    const outcomes = await sweep(
      {
        backend: {
          ...backend,
          lastDestroyFailed: () => Promise.resolve(false),
          select: (name) => {
            selected.push(name);
            if (!name.startsWith("pr-")) return Promise.reject(new Error(`403 reading ${name}.json`));
            return Promise.resolve({
              name,
              destroy: () => Promise.resolve(),
              workspace: { removeStack: () => Promise.resolve() },
            });
          },
        },
        github: createGitHub({
          token: "t",
          repository: "mozilla/blurts-server",
          fetch: fakeFetch((call) => ({ body: { state: call.url.pathname.endsWith("/1") ? "closed" : "open" } })).fetch,
        }),
        now: NOW,
        sleep: () => Promise.resolve(),
        log: () => undefined,
      },
      { ttlDays: 14, cap: 10, dryRun: false },
    );
    expect(outcomes.map((o) => [o.decision.stack.name, o.decision.action, o.result ?? ""])).toEqual([
      ["pr-1", "destroy", "destroyed"],
      ["pr-2", "destroy", "destroyed"],
      ["pr-3", "keep", ""],
    ]);
    expect(selected).toEqual(["pr-1", "pr-2"]);
  });

  it("main refuses a backend URL that is not gs:// before listing anything", async () => {
    const { lister, listed } = fakeBucket(objects);
    const env = { PREVIEW_TTL_DAYS: "14", PREVIEW_CAP: "10", GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "o/r" };
    await expect(main({ ...env, PULUMI_BACKEND_URL: "s3://bucket" }, undefined, lister)).rejects.toThrow(
      'PULUMI_BACKEND_URL "s3://bucket" is not a gs:// URL',
    );
    await expect(main(env, undefined, lister)).rejects.toThrow("PULUMI_BACKEND_URL is not set");
    expect(listed).toEqual([]);
    expect(parseBackendUrl("gs://state-bucket/team/")).toEqual({ bucket: "state-bucket", prefix: "team/" });
  });

  it("lists through the GCS JSON API: names and `updated` only, every page, with the ADC token", async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.url.searchParams.get("pageToken")
        ? { body: { items: [{ name: ".pulumi/stacks/monitor/pr-2.json", updated: "2024-09-02T00:00:00Z" }] } }
        : {
            body: {
              items: [{ name: ".pulumi/stacks/monitor/pr-1.json", updated: "2024-09-01T00:00:00Z" }],
              nextPageToken: "p2",
            },
          },
    );
    const lister = gcsLister("state-bucket", () => Promise.resolve("ya29.token"), fetch);
    expect((await lister.list(".pulumi/stacks/monitor/pr-")).map((o) => o.name)).toEqual([
      ".pulumi/stacks/monitor/pr-1.json",
      ".pulumi/stacks/monitor/pr-2.json",
    ]);
    expect(calls.map((c) => c.url.pathname)).toEqual(["/storage/v1/b/state-bucket/o", "/storage/v1/b/state-bucket/o"]);
    expect(Object.fromEntries(calls[0].url.searchParams)).toEqual({
      prefix: ".pulumi/stacks/monitor/pr-",
      fields: "nextPageToken,items(name,updated)",
    });
    expect(calls[1].url.searchParams.get("pageToken")).toBe("p2");
    expect(calls[0].headers.authorization).toBe("Bearer ya29.token");
    const denied = gcsLister("b", () => Promise.resolve("t"), fakeFetch(() => ({ status: 403, body: {} })).fetch);
    await expect(denied.list("x")).rejects.toThrow("needs storage.objects.list on the bucket");
  });
});

describe("destroying one preview selects it by name (issue 14, item 2)", () => {
  const notFound = () =>
    Promise.reject(
      Object.assign(new Error("code: 255\n stderr: error: no stack named 'pr-5' found"), {
        name: "StackNotFoundError",
      }),
    );

  it("a stack that does not exist is nothing to do: exit 0 with a message, nothing else selected or listed", async () => {
    const asked: string[] = [];
    const { result, out } = await captureConsole(() =>
      destroyMain(
        { STACK: "pr-5" },
        {
          select: (name) => {
            asked.push(name);
            return notFound();
          },
        },
      ),
    );
    expect(result).toBe(0);
    expect(out).toContain("There is no stack pr-5");
    expect(asked).toEqual(["pr-5"]);
  });

  it("destroys and removes the stack it selected", async () => {
    const calls: string[] = [];
    const code = await captureConsole(() =>
      destroyMain(
        { STACK: "pr-6" },
        {
          select: (name) =>
            Promise.resolve({
              name,
              destroy: () => (calls.push("destroy"), Promise.resolve()),
              workspace: { removeStack: (n: string) => (calls.push(`rm ${n}`), Promise.resolve()) },
            }),
        },
      ),
    );
    expect(code.result).toBe(0);
    expect(calls).toEqual(["destroy", "rm pr-6"]);
  });

  it("any other failure to select is an error, not 'nothing to do'", async () => {
    await expect(
      destroyMain({ STACK: "pr-7" }, { select: () => Promise.reject(new Error("403 Forbidden: pr-7.json")) }),
    ).rejects.toThrow("403 Forbidden");
    expect(isStackNotFound(new Error("error: no stack named 'pr-7' found"))).toBe(true);
    expect(isStackNotFound(new Error("error: the stack is currently locked"))).toBe(false);
  });
});
