import { describe, expect, it } from "vitest";
import { RefusedError } from "../scripts/lib/cli";
import { DEFAULT_E2E_WORKFLOW, main } from "../scripts/require-e2e";
import { captureConsole, fakeFetch, type Call } from "./scripts-fakes";

const SHA = "3f9c2ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";
const ENV = { COMMIT_SHA: SHA, GITHUB_TOKEN: "gh-token", GITHUB_REPOSITORY: "mozilla/blurts-server" };

const run = (id: number, event: string) => ({
  id,
  event,
  status: "completed",
  conclusion: "success",
  html_url: `https://github.com/r/${id}`,
});
const job = (name: string, conclusion: string) => ({ name, conclusion, html_url: `https://github.com/j/${name}` });

/** The app repository's API: workflow runs at SHA, and each run's jobs. */
function appApi(runs: object[], jobs: Record<number, object[]>) {
  return fakeFetch((call: Call) => {
    if (call.url.pathname === `/repos/mozilla/blurts-server/actions/workflows/${DEFAULT_E2E_WORKFLOW}/runs`) {
      return { body: { total_count: runs.length, workflow_runs: runs } };
    }
    const m = /^\/repos\/mozilla\/blurts-server\/actions\/runs\/(\d+)\/jobs$/.exec(call.url.pathname);
    if (m) return { body: { jobs: jobs[Number(m[1])] ?? [] } };
    return undefined;
  });
}

describe("E2E gate before prod", () => {
  it("passes on a successful stage job of the cron workflow at the commit, asking only for completed runs at that SHA", async () => {
    const { fetch, calls } = appApi([run(7, "schedule")], {
      7: [
        job("Functional tests (stage) [schedule]", "success"),
        job("Functional tests (production) [schedule]", "failure"),
      ],
    });
    const { result, out } = await captureConsole(() => main(ENV, fetch));
    expect(result).toBe(0);
    expect(out).toContain("Functional tests (stage) [schedule]");
    expect(calls[0].url.searchParams.get("head_sha")).toBe(SHA);
    expect(calls[0].url.searchParams.get("status")).toBe("completed");
    expect(calls[0].headers.authorization).toBe("Bearer gh-token");
  });

  it("refuses a green run that tested production only (a dispatch with test_env: production)", async () => {
    const { fetch } = appApi([run(8, "workflow_dispatch")], {
      8: [job("Functional tests (production) [workflow_dispatch]", "success")],
    });
    const err = await main(ENV, fetch).catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toContain(`No run of functional_tests_cron.yml for commit ${SHA} passed against stage`);
    expect(err.message).toContain("Functional tests (production) [workflow_dispatch]: success");
    expect(err.message).toContain("test_env: stage");
  });

  it("refuses when the stage job failed or no run exists for the commit", async () => {
    const failed = appApi([run(9, "schedule")], { 9: [job("Functional tests (stage) [schedule]", "failure")] });
    await expect(main(ENV, failed.fetch)).rejects.toThrow("passed against stage");
    const none = appApi([], {});
    await expect(main(ENV, none.fetch)).rejects.toThrow(
      `No completed run of functional_tests_cron.yml exists for commit ${SHA}`,
    );
  });

  it("uses E2E_WORKFLOW when given, and refuses a short SHA or missing token as usage errors", async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: { workflow_runs: [] } }));
    await main({ ...ENV, E2E_WORKFLOW: "e2e.yml" }, fetch).catch(() => undefined);
    expect(calls[0].url.pathname).toBe("/repos/mozilla/blurts-server/actions/workflows/e2e.yml/runs");
    await expect(main({ ...ENV, COMMIT_SHA: "3f9c2ab" }, fetch)).rejects.toThrow(
      "COMMIT_SHA is not a full 40-hex commit SHA",
    );
    await expect(main({ ...ENV, GITHUB_TOKEN: "" }, fetch)).rejects.toThrow("GITHUB_TOKEN is not set");
  });

  it("names the missing permission when GitHub refuses the token", async () => {
    const { fetch } = fakeFetch(() => ({ status: 403, body: { message: "Resource not accessible by integration" } }));
    await expect(main(ENV, fetch)).rejects.toThrow(
      "GitHub answered 403 to GET /repos/mozilla/blurts-server/actions/workflows/functional_tests_cron.yml/runs: Resource not accessible by integration",
    );
  });
});
