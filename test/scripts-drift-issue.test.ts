import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { decideDrift, detailsDigest, driftTitle, main, renderBody, type DriftIssue } from "../scripts/drift-issue";
import { captureConsole, fakeFetch, tempFile, type Call } from "./scripts-fakes";

const DETAILS =
  "~ gcp:cloudrunv2/service:Service web update [diff: ~template]\nResources:\n    ~ 1 to update\nDuration: 12s\n";
const issue = (number: number, body = "", stack = "prod"): DriftIssue => ({ number, title: driftTitle(stack), body });

describe("drift decisions", () => {
  it("opens one labelled issue with a fixed title when a stack drifts and none is open", () => {
    const [action] = decideDrift({
      drifted: true,
      stack: "prod",
      details: DETAILS,
      openIssues: [issue(3, "", "stage")],
    });
    expect(action).toMatchObject({ kind: "create", title: "Drift detected in prod", labels: ["drift"] });
    expect(action.kind === "create" && action.body).toContain("~ gcp:cloudrunv2/service:Service web update");
  });

  it("updates the open issue (body and a comment) when the drift changed", () => {
    const actions = decideDrift({
      drifted: true,
      stack: "prod",
      details: DETAILS,
      openIssues: [issue(5, renderBody("prod", "older drift", undefined))],
      runUrl: "https://github.com/x/runs/9",
    });
    expect(actions).toEqual([
      expect.objectContaining({
        kind: "update",
        issue: 5,
        comment: "The drift in prod changed (https://github.com/x/runs/9); the description now shows the latest check.",
      }),
    ]);
  });

  it("does nothing when the open issue already shows this drift, even if the timing line differs", () => {
    const body = renderBody("prod", DETAILS, undefined);
    const later = DETAILS.replace("Duration: 12s", "Duration: 15s");
    expect(detailsDigest(later)).toBe(detailsDigest(DETAILS));
    expect(decideDrift({ drifted: true, stack: "prod", details: later, openIssues: [issue(5, body)] })).toEqual([
      { kind: "none", why: "#5 already describes this drift" },
    ]);
  });

  it("closes the open issue with a comment when the stack no longer drifts, and does nothing when there is none", () => {
    expect(decideDrift({ drifted: false, stack: "prod", details: "", openIssues: [issue(5)] })).toEqual([
      { kind: "close", issue: 5, comment: "The latest drift check found no changes in prod. Closing." },
    ]);
    expect(decideDrift({ drifted: false, stack: "prod", details: "", openIssues: [issue(3, "", "stage")] })).toEqual([
      { kind: "none", why: "prod has no drift and no open drift issue" },
    ]);
  });

  it("folds duplicate open issues into the oldest", () => {
    const actions = decideDrift({
      drifted: true,
      stack: "stage",
      details: DETAILS,
      openIssues: [issue(9, "", "stage"), issue(4, "", "stage")],
    });
    expect(actions.map((a) => [a.kind, "issue" in a ? a.issue : undefined])).toEqual([
      ["close", 9],
      ["update", 4],
    ]);
  });

  it("keeps the output inside its code fence even when it contains backticks", () => {
    const body = renderBody("prod", "value: ```\n# Heading", undefined);
    expect(body).toContain("````text\nvalue: ```\n# Heading\n````");
  });
});

describe("drift-issue main", () => {
  function api(open: object[]) {
    return fakeFetch((call: Call) => {
      if (call.method === "GET" && call.url.pathname === "/repos/mozilla/monitor-delivery/issues")
        return { body: open };
      if (call.method === "POST" && call.url.pathname === "/repos/mozilla/monitor-delivery/issues")
        return { status: 201, body: { number: 11, html_url: "https://github.com/i/11", labels: [{ name: "drift" }] } };
      return { body: {} };
    });
  }
  const env = (extra: Record<string, string>) => ({
    GITHUB_TOKEN: "t",
    GITHUB_REPOSITORY: "mozilla/monitor-delivery",
    STACK: "prod",
    ...extra,
  });

  it("lists open drift issues (ignoring pull requests) and opens one from the details file", async () => {
    const details = tempFile("drift.txt");
    writeFileSync(details.path, DETAILS);
    const { fetch, calls } = api([{ number: 2, title: "Drift detected in prod", body: "", pull_request: {} }]);
    const { out } = await captureConsole(() => main(env({ DRIFTED: "true", DETAILS_FILE: details.path }), fetch));
    expect(calls[0].url.searchParams.get("labels")).toBe("drift");
    expect(calls[0].url.searchParams.get("state")).toBe("open");
    expect(calls[1]).toMatchObject({ method: "POST", body: { title: "Drift detected in prod", labels: ["drift"] } });
    expect(out).toContain("Opened #11");
  });

  it("closes with a comment first, then the state change", async () => {
    const { fetch, calls } = api([{ number: 7, title: "Drift detected in prod", body: "" }]);
    await captureConsole(() => main(env({ DRIFTED: "false" }), fetch));
    expect(calls.slice(1).map((c) => `${c.method} ${c.url.pathname}`)).toEqual([
      "POST /repos/mozilla/monitor-delivery/issues/7/comments",
      "PATCH /repos/mozilla/monitor-delivery/issues/7",
    ]);
    expect(calls[2].body).toEqual({ state: "closed", state_reason: "completed" });
  });

  it("refuses a stack that is not checked for drift, a missing DRIFTED, and drift without details", async () => {
    const { fetch } = api([]);
    await expect(main(env({ DRIFTED: "true", STACK: "pr-4" }), fetch)).rejects.toThrow(
      'STACK "pr-4" is not checked for drift',
    );
    await expect(main(env({}), fetch)).rejects.toThrow("DRIFTED is not set");
    await expect(main(env({ DRIFTED: "yes" }), fetch)).rejects.toThrow('DRIFTED must be "true" or "false"');
    await expect(main(env({ DRIFTED: "true" }), fetch)).rejects.toThrow("DETAILS_FILE is not set");
    await expect(main(env({ DRIFTED: "true", DETAILS_FILE: "/nonexistent/drift.txt" }), fetch)).rejects.toThrow(
      "cannot be read (ENOENT)",
    );
  });
});
