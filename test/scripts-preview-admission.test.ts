import { readFileSync, writeFileSync } from "node:fs";
import { type Server, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { exitCodeFor } from "../scripts/lib/cli";
import { PREVIEW_COMMENT_MARKER } from "../scripts/preview-comment";
import {
  LOOKBACK_MS,
  NUM_BACKENDS,
  activePreviews,
  decideAdmission,
  main,
  previewOfDatabase,
} from "../scripts/preview-admission";
import { ROOT } from "./harness";
import { captureConsole, fakeBucket, tempFile } from "./scripts-fakes";

const PROJECT = "moz-fx-monitor-previews";
const NOW = new Date("2026-11-28T10:05:00Z");
const TOKEN = "ya29.test-token";
const fixture = (name: string) => readFileSync(join(ROOT, "test/fixtures/monitoring", name), "utf8");
/**
 * The state bucket's objects: four previews (one compressed, one with its backup beside it, one being updated), the
 * long-lived stacks, a stack it does not know, and a preview of another project.
 */
const at = "2026-11-28T09:00:00.000Z";
const OBJECTS = [
  ".pulumi/stacks/monitor/pr-12.json",
  ".pulumi/stacks/monitor/pr-7.json.gz",
  ".pulumi/stacks/monitor/pr-20.json",
  ".pulumi/stacks/monitor/pr-20.json.bak",
  ".pulumi/stacks/monitor/pr-3.json",
  ".pulumi/locks/organization/monitor/pr-3/0b1c.json",
  ".pulumi/stacks/monitor/stage.json",
  ".pulumi/stacks/monitor/prod.json",
  ".pulumi/stacks/monitor/previews.json",
  ".pulumi/stacks/monitor/pipeline.json",
  ".pulumi/stacks/monitor/pr-scratch.json",
  ".pulumi/stacks/other/pr-9.json",
].map((name) => ({ name, updated: at }));

/** Cloud Monitoring's timeSeries.list as recorded: two pages, 401 without the token. Records every request. */
let server: Server | undefined;
let requests: URL[];
let answer: (url: URL) => { status: number; body: string };
const recorded = (url: URL) => {
  if (url.pathname !== `/v3/projects/${PROJECT}/timeSeries`) return { status: 404, body: "{}" };
  const page = url.searchParams.get("pageToken");
  return {
    status: 200,
    body: fixture(page === "CiQ2MzY5ZTg5Zi1wYWdlLTI" ? "num-backends-page-2.json" : "num-backends-page-1.json"),
  };
};

beforeEach(async () => {
  requests = [];
  answer = recorded;
  server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    requests.push(url);
    const { status, body } =
      req.headers.authorization === `Bearer ${TOKEN}`
        ? answer(url)
        : { status: 401, body: JSON.stringify({ error: { code: 401, status: "UNAUTHENTICATED" } }) };
    res.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  server.unref();
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
});
afterEach(() => {
  server?.close();
  server = undefined;
});
const serverUrl = () => `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;

/** Runs main with the recorded API, the listed stacks, and fresh output files; resolves with what it left. */
async function admit(env: Record<string, string>, objects = OBJECTS) {
  const body = tempFile("comment.md");
  const output = tempFile("output");
  writeFileSync(output.path, "");
  const { lister, listed } = fakeBucket(objects);
  const full = {
    PR_NUMBER: "30",
    PREVIEW_CAP: "10",
    PREVIEW_ACTIVE_CAP: "5",
    GCP_PROJECT: PROJECT,
    GOOGLE_OAUTH_ACCESS_TOKEN: TOKEN,
    PULUMI_BACKEND_URL: "gs://monitor-pulumi-state",
    BODY_FILE: body.path,
    RUN_URL: "https://github.com/mozilla/blurts-server/actions/runs/42",
    GITHUB_OUTPUT: output.path,
    ...env,
  };
  const run = await captureConsole(() => main(full, { lister, monitoringUrl: serverUrl(), now: NOW })).then(
    (r) => ({ code: r.result, out: r.out, error: undefined as Error | undefined }),
    (error: Error) => ({ code: exitCodeFor(error), out: "", error }),
  );
  let comment: string | undefined;
  try {
    comment = body.read();
  } catch {
    comment = undefined;
  }
  return { ...run, comment, outputs: output.read(), listed };
}

describe("counting active previews from Cloud Monitoring (recorded timeSeries.list pages)", () => {
  it("reads every page and counts the preview databases whose newest sample holds connections", async () => {
    const active = await activePreviews({ url: serverUrl(), token: TOKEN }, PROJECT, NOW);
    // pr-15's newest sample is 0 though an older one came first; postgres, cloudsqladmin and a name the program
    // never gives (monitor_pr_012) are not previews; pr-7's series is aligned to a double.
    expect(Object.fromEntries(active)).toEqual({ 7: 2, 12: 4, 20: 1 });
    expect(requests.map((r) => r.searchParams.get("pageToken"))).toEqual([null, "CiQ2MzY5ZTg5Zi1wYWdlLTI"]);
  });

  it("asks for num_backends of the shared instance's databases over the last five minutes, with the token", async () => {
    await activePreviews({ url: serverUrl(), token: TOKEN }, PROJECT, NOW);
    const [first] = requests;
    expect(first.searchParams.get("filter")).toBe(
      `metric.type = "${NUM_BACKENDS}" AND resource.type = "cloudsql_database" AND ` +
        `resource.labels.database_id = "${PROJECT}:monitor-previews"`,
    );
    expect(first.searchParams.get("interval.endTime")).toBe(NOW.toISOString());
    expect(Date.parse(first.searchParams.get("interval.startTime")!)).toBe(NOW.getTime() - LOOKBACK_MS);
    await expect(activePreviews({ url: serverUrl(), token: "wrong" }, PROJECT, NOW)).rejects.toThrow(
      /Cloud Monitoring answered 401 .*monitoring\.timeSeries\.list/,
    );
  });

  it("counts none when the instance reports no series (an empty answer has no timeSeries field)", async () => {
    answer = () => ({ status: 200, body: "{}" });
    expect((await activePreviews({ url: serverUrl(), token: TOKEN }, PROJECT, NOW)).size).toBe(0);
  });

  it("maps a database to its preview only as the program names it", () => {
    expect([previewOfDatabase("monitor_pr_42"), previewOfDatabase("monitor_pr_0")]).toEqual([42, undefined]);
    expect([previewOfDatabase("monitor_stage"), previewOfDatabase("monitor_pr_42_app")]).toEqual([
      undefined,
      undefined,
    ]);
  });
});

describe("admission", () => {
  const fleet = {
    open: [12, 7, 20, 3],
    active: new Map([
      [12, 4],
      [7, 2],
      [20, 1],
    ]),
  };

  it("admits within both caps, and always a preview already counted by a cap", () => {
    expect(decideAdmission(30, fleet, { open: 10, active: 5 }).admitted).toBe(true);
    // Full on both: pr-12 is open and active already.
    expect(decideAdmission(12, fleet, { open: 4, active: 3 })).toEqual({
      admitted: true,
      why: "#12: its preview is open, and already holds connections",
    });
    // An open preview is within the open cap; an idle one still needs an active place, since its deploy migrates.
    expect(decideAdmission(3, fleet, { open: 4, active: 4 }).admitted).toBe(true);
    expect(decideAdmission(3, fleet, { open: 4, active: 3 })).toEqual({
      admitted: false,
      reasons: [
        "3 previews hold database connections on the shared instance, and at most 3 may (monitor:preview.maxActive, what the instance is sized for)",
      ],
    });
    expect(decideAdmission(30, fleet, { open: 4, active: 3 })).toMatchObject({
      admitted: false,
      reasons: [expect.stringMatching(/^4 previews are open, and at most 4 may be/), expect.any(String)],
    });
  });

  it("main admits: exit 0, no comment written, no output set", async () => {
    const result = await admit({});
    expect([result.code, result.comment, result.outputs]).toEqual([0, undefined, ""]);
    expect(result.out).toBe("Admitted #30: 4 of 10 open, 3 of 5 holding connections.");
    // Object names under the previews' prefixes only, as the preview deployer may list them: no checkpoint is read.
    expect(result.listed.sort()).toEqual([".pulumi/locks/organization/monitor/pr-", ".pulumi/stacks/monitor/pr-"]);
  });

  it("main refuses when the active previews are full: exit 1, the sticky comment says why, who, and when it is retried", async () => {
    const result = await admit({ PREVIEW_ACTIVE_CAP: "3" });
    expect(result.code).toBe(1);
    expect(result.error?.message).toMatch(
      /^No preview for #30 yet: 3 previews hold database connections .* Fix: push again/,
    );
    expect(result.outputs).toBe("refused=true\n");
    expect(result.comment).toBe(
      [
        PREVIEW_COMMENT_MARKER,
        "### No preview for #30 yet: the previews are full",
        "",
        "This push was not deployed, because 3 previews hold database connections on the shared instance, and at most 3 may (monitor:preview.maxActive, what the instance is sized for).",
        "",
        "| | now | at most |",
        "|---|---|---|",
        "| Open previews | 4 | 10 |",
        "| Previews holding connections | 3 | 3 |",
        "",
        "Holding connections now (pull request, connections): #7 (2), #12 (4), #20 (1).",
        "",
        "It is retried on the next push to this pull request. A place frees up when a preview goes idle (it scales to zero and drops its connections), its pull request is closed, or the hourly sweeper removes a preview past its TTL; re-running the failed job then deploys it without a push ([workflow run](https://github.com/mozilla/blurts-server/actions/runs/42)).",
        "",
      ].join("\n"),
    );
  });

  it("main refuses a new preview when the open previews are full, and admits one whose stack exists", async () => {
    const full = await admit({ PREVIEW_CAP: "4" });
    expect(full.code).toBe(1);
    expect(full.comment).toContain("because 4 previews are open, and at most 4 may be (monitor:preview.maxOpen).");
    expect((await admit({ PREVIEW_CAP: "4", PR_NUMBER: "3" })).code).toBe(0);
  });

  it("main fails without a comment of its own when Cloud Monitoring refuses: the render step reports the failed step", async () => {
    answer = () => ({ status: 403, body: fixture("permission-denied.json") });
    const result = await admit({});
    expect(result.code).toBe(1);
    expect(result.error?.message).toMatch(
      /Cloud Monitoring answered 403 to timeSeries\.list in moz-fx-monitor-previews: .*Permission monitoring\.timeSeries\.list denied.* Fix: the preview deployer needs monitoring\.timeSeries\.list/,
    );
    expect([result.comment, result.outputs]).toEqual([undefined, ""]);
  });

  it("is called wrongly (exit 2) without a gs:// state backend, naming the variable", async () => {
    const result = await admit({ PULUMI_BACKEND_URL: "file:///tmp/state" });
    expect(result.code).toBe(2);
    expect(result.error?.message).toMatch(/^PULUMI_BACKEND_URL "file:\/\/\/tmp\/state" is not a gs:\/\/ URL/);
    expect([result.listed, requests.length]).toEqual([[], 0]);
  });

  it("is called wrongly (exit 2) without the active cap, before it lists a stack or asks Cloud Monitoring", async () => {
    const result = await admit({ PREVIEW_ACTIVE_CAP: "" });
    expect(result.code).toBe(2);
    expect(result.error?.message).toBe(
      "PREVIEW_ACTIVE_CAP is not set. Fix: Set it from the repository variable PREVIEW_ACTIVE_CAP (the pipeline stack writes it from monitor:preview).",
    );
    expect([result.listed, requests.length]).toEqual([[], 0]);
  });
});
