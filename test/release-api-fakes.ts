/**
 * The app repository's release API as recorded in test/fixtures/release-api/, answered by a fake fetch: the release
 * marked latest (2026.07.27), the comparison 2026.07.27...2026.08.04 in two pages, and each commit's associated pull
 * requests (the schemas of GitHub's REST API; numbers, titles, branches and merge commits from mozilla/blurts-server's
 * history: #6740 from MNTOR-4448-2, #6753 "Mntor 5299" from mntor-5299, #6771 from mntor-5317, dependabot's #6804, the
 * l10n import #6746 labelled qa-not-needed, and #6810 still open against a release branch).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./harness";
import { main as listPulls } from "../scripts/release-pulls";
import { captureConsole, fakeFetch, tempFile, type Call } from "./scripts-fakes";

const DIR = join(ROOT, "test/fixtures/release-api");
// Recorded API bodies: read as the API's untyped JSON.
export const fixture = (name: string): any => JSON.parse(readFileSync(join(DIR, name), "utf8"));

export const REPO = "/repos/mozilla/blurts-server";
export const BASE = "2026.07.27";
export const TAG = "2026.08.04";
/** A commit whose associated pull requests come in two pages (one per page), to drive that pagination too. */
export const TWO_PAGE_COMMIT = "67356f28920c75473f43737987a2bf8f484d8033";

export function releaseApi(overrides: { latest?: { status: number; body: unknown } } = {}) {
  const pullsByCommit: Record<string, unknown[]> = fixture("commit-pulls.json");
  return fakeFetch((call: Call) => {
    // Link headers name the repository by id (GitHub's own form), the first request by owner/name.
    const path = call.url.pathname.replace(/^\/repositories\/101\//, `${REPO}/`);
    const page = call.url.searchParams.get("page") ?? "1";
    if (path === `${REPO}/releases/latest`) return overrides.latest ?? { body: fixture("latest-release.json") };
    if (path === `${REPO}/compare/${BASE}...${TAG}`) {
      if (page === "2") return { body: fixture("compare-page-2.json") };
      const next = `https://api.github.com/repositories/101/compare/${BASE}...${TAG}?per_page=100&page=2`;
      return {
        body: fixture("compare-page-1.json"),
        headers: { link: `<${next}>; rel="next", <${next}>; rel="last"` },
      };
    }
    const m = new RegExp(`^${REPO}/commits/([0-9a-f]{40})/pulls$`).exec(path);
    if (m && m[1] in pullsByCommit) {
      const pulls = pullsByCommit[m[1]];
      if (m[1] !== TWO_PAGE_COMMIT) return { body: pulls };
      if (page === "2") return { body: pulls.slice(1) };
      const next = `https://api.github.com/repositories/101/commits/${m[1]}/pulls?per_page=100&page=2`;
      return { body: pulls.slice(0, 1), headers: { link: `<${next}>; rel="next"` } };
    }
    return undefined;
  });
}

/** The release's pull requests as scripts/release-pulls.ts writes them from the recorded API answers: a PULLS_FILE. */
export async function recordedPullsFile(): Promise<string> {
  const out = tempFile("pulls.json");
  await captureConsole(() =>
    listPulls(
      { GITHUB_TOKEN: "t", GITHUB_REPOSITORY: "mozilla/blurts-server", TAG, PULLS_FILE: out.path },
      releaseApi().fetch,
    ),
  );
  return out.path;
}
