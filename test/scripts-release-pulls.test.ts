import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RefusedError, UsageError } from "../scripts/lib/cli";
import { main } from "../scripts/release-pulls";
import { BASE, REPO, TAG, TWO_PAGE_COMMIT, fixture, releaseApi } from "./release-api-fakes";
import { captureConsole, fakeFetch, tempFile } from "./scripts-fakes";

const GITHUB = { GITHUB_TOKEN: "gh-token", GITHUB_REPOSITORY: "mozilla/blurts-server" };

async function listPulls(env: Record<string, string> = {}, api = releaseApi()) {
  const out = tempFile("pulls.json");
  const { result, out: log } = await captureConsole(() =>
    main({ ...GITHUB, TAG, PULLS_FILE: out.path, ...env }, api.fetch),
  );
  // The file is the API's JSON, read back as such.
  return { result, log, pulls: JSON.parse(out.read()) as any[], calls: api.calls };
}

describe("the release's pull requests (compare, then each commit's pull requests)", () => {
  it("compares from the release marked latest to the tag and keeps each merged pull request once, by number", async () => {
    const { result, log, pulls, calls } = await listPulls();
    expect(result).toBe(0);
    expect(pulls.map((p) => p.number)).toEqual([6740, 6746, 6753, 6771, 6804]);
    expect(log).toBe(`${TAG}: 5 merged pull request(s) in 11 commit(s) since ${BASE}.`);
    expect(calls[0].url.pathname).toBe(`${REPO}/releases/latest`);
    expect(calls[1].url.pathname).toBe(`${REPO}/compare/${BASE}...${TAG}`);
    expect(calls[1].url.searchParams.get("per_page")).toBe("100");
    expect(calls.every((c) => c.method === "GET" && c.headers.authorization === "Bearer gh-token")).toBe(true);
  });

  it("follows both endpoints' pagination: the comparison's second page and a commit's second page of pull requests", async () => {
    const { calls, pulls } = await listPulls();
    const compared = calls.filter((c) => c.url.pathname.includes("/compare/"));
    expect(compared.map((c) => c.url.searchParams.get("page"))).toEqual([null, "2"]);
    // Every commit of both pages was asked for (11), the two-page one twice.
    const perCommit = calls.filter((c) => c.url.pathname.endsWith("/pulls"));
    expect(new Set(perCommit.map((c) => /commits\/([0-9a-f]{40})\//.exec(c.url.pathname)![1])).size).toBe(11);
    expect(perCommit.filter((c) => c.url.pathname.includes(TWO_PAGE_COMMIT))).toHaveLength(2);
    // The first page of that commit had #6771, the second the open #6810, which is left out as unmerged.
    expect(pulls.find((p) => p.number === 6771)).toBeDefined();
    expect(pulls.find((p) => p.number === 6810)).toBeUndefined();
  });

  it("writes GitHub's own fields for what the ledger reads, nothing more", async () => {
    const { pulls } = await listPulls();
    const recorded = fixture("commit-pulls.json")[TWO_PAGE_COMMIT][0];
    expect(pulls.find((p) => p.number === 6771)).toEqual({
      number: 6771,
      title: recorded.title,
      html_url: "https://github.com/mozilla/blurts-server/pull/6771",
      user: { login: "flozia" },
      head: { ref: "mntor-5317" },
      body: recorded.body,
      labels: [],
      merged_at: "2026-08-01T16:22:05Z",
    });
    expect(pulls.find((p) => p.number === 6746).labels).toEqual([{ name: "qa-not-needed" }]);
  });

  it("compares from BASE_TAG when given, and lists nothing when the tag is the base itself", async () => {
    const api = releaseApi();
    await listPulls({ BASE_TAG: BASE }, api);
    expect(api.calls[0].url.pathname).toBe(`${REPO}/compare/${BASE}...${TAG}`);
    const same = await listPulls({ BASE_TAG: TAG });
    expect(same.pulls).toEqual([]);
    expect(same.calls).toEqual([]);
  });

  it("refuses a listing GitHub cut short (fewer commits than total_commits): a missing pull request would skip QA", async () => {
    const short = fakeFetch((call) => {
      if (call.url.pathname.endsWith("/releases/latest")) return { body: fixture("latest-release.json") };
      if (call.url.pathname.includes("/compare/")) return { body: fixture("compare-page-1.json") }; // no Link: next
      return { body: [] };
    });
    const out = tempFile("pulls.json");
    const err = await main({ ...GITHUB, TAG, PULLS_FILE: out.path }, short.fetch).catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toContain(`TAG ${TAG} is 11 commits ahead of ${BASE}; only 6 could be listed`);
    expect(existsSync(out.path), "nothing written").toBe(false);
  });

  it("refuses without a release marked latest (no base), naming the fix", async () => {
    const api = releaseApi({ latest: { status: 404, body: { message: "Not Found" } } });
    const out = tempFile("pulls.json");
    const err = await main({ ...GITHUB, TAG, PULLS_FILE: out.path }, api.fetch).catch((e) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(err.message).toContain("gh release edit <tag> --latest");
  });

  it("is called wrongly with a tag that is not a calendar tag, before any request", async () => {
    const api = releaseApi();
    const err = await main({ ...GITHUB, TAG: "main; rm -rf /", PULLS_FILE: "/tmp/x" }, api.fetch).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/^TAG is not a calendar tag YYYY\.MM\.DD\[\.N\]\. Fix: /);
    expect(api.calls).toEqual([]);
  });

  it("names the permission when GitHub refuses the token", async () => {
    const denied = fakeFetch((call) =>
      call.url.pathname.endsWith("/releases/latest")
        ? { body: fixture("latest-release.json") }
        : { status: 403, body: { message: "Resource not accessible by integration" } },
    );
    const out = tempFile("pulls.json");
    const err = await main({ ...GITHUB, TAG, PULLS_FILE: out.path }, denied.fetch).catch((e) => e);
    expect(err.message).toContain(`GitHub answered 403 to GET ${REPO}/compare/${BASE}...${TAG}`);
    expect(err.message).toContain("permissions:");
    expect(existsSync(out.path), "nothing written").toBe(false);
  });
});
