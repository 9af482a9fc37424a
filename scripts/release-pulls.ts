/**
 * The pull requests a pre-release carries: those merged into the commits between the release marked latest (what prod
 * runs) and the pre-release's tag. Writes them to PULLS_FILE for `qa-ledger.ts render`.
 *
 * env: TAG (the pre-release's calendar tag), BASE_TAG (optional: the tag to compare from; default the release marked
 *      latest), PULLS_FILE (written), GITHUB_TOKEN (`contents: read`, `pull-requests: read`), GITHUB_REPOSITORY.
 *
 * GitHub has no "pull requests between two tags": the compare API gives the commits (paginated), and "list pull
 * requests associated with a commit" gives each commit's pull request. A listing that could be incomplete is refused,
 * not written: a pull request missing from the ledger would reach prod without QA ever seeing a box for it.
 */
import { writeFileSync } from "node:fs";
import { parseCalendarTag } from "../shared-rules/image-tags";
import { RefusedError, UsageError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { GitHubError, gitHubFromEnv, type Fetch, type GitHub } from "./lib/github";
import type { LedgerPull } from "./qa-ledger";

/** 100 commits a page (the compare API's largest `per_page`), 20 pages: a release of up to 2000 commits. */
const MAX_COMPARE_PAGES = 20;

/** A pull request as "list pull requests associated with a commit" returns it (schema "pull-request-simple"). */
export interface ReleasePull extends LedgerPull {
  readonly html_url: string;
  /** null for a pull request that was closed unmerged or is still open. */
  readonly merged_at: string | null;
}

interface Comparison {
  /** `ahead`, `behind`, `diverged` or `identical`. */
  readonly status: string;
  readonly total_commits: number;
  readonly commits: readonly { readonly sha: string }[];
}

/** The tag of the release marked latest, or undefined when the repository has none yet. */
export async function latestReleaseTag(github: GitHub): Promise<string | undefined> {
  // GET /repos/{owner}/{repo}/releases/latest: the release marked latest (`make_latest`), never a pre-release or a
  // draft; 404 when there is none (https://docs.github.com/en/rest/releases/releases#get-the-latest-release).
  try {
    return (await github.request<{ tag_name: string }>("GET", "/repos/{owner}/{repo}/releases/latest")).tag_name;
  } catch (err) {
    if (err instanceof GitHubError && err.status === 404) return undefined;
    throw err;
  }
}

/**
 * The commits in `head` and not in `base`, oldest first. GET /repos/{owner}/{repo}/compare/{base}...{head} is
 * `git log base..head` from their merge base, and pages through `commits` with `per_page`/`page` and a Link header
 * (https://docs.github.com/en/rest/commits/commits#compare-two-commits; pagination since
 * https://github.blog/changelog/2021-03-22-compare-rest-api-now-supports-pagination). `total_commits` counts them
 * all, so a listing cut short is detected rather than trusted.
 */
export async function commitsBetween(github: GitHub, base: string, head: string): Promise<string[]> {
  let comparison: Comparison | undefined;
  const commits = await github.paginate<{ sha: string }, Comparison>(
    `/repos/{owner}/{repo}/compare/${encodeURIComponent(base)}...${encodeURIComponent(head)}`,
    {},
    (page) => {
      comparison ??= page;
      return [...page.commits];
    },
    MAX_COMPARE_PAGES,
  );
  const total = comparison?.total_commits ?? 0;
  if (commits.length < total) {
    throw new RefusedError(
      `TAG ${head} is ${total} commits ahead of ${base}; only ${commits.length} could be listed, so the QA ledger would ` +
        `miss pull requests. Fix: release from a base closer to the tag (BASE_TAG), or raise MAX_COMPARE_PAGES in scripts/release-pulls.ts.`,
    );
  }
  return [...new Set(commits.map((c) => c.sha))];
}

/**
 * The merged pull requests that brought `shas` in, once each, by number. GET
 * /repos/{owner}/{repo}/commits/{commit_sha}/pulls "lists the merged pull request that introduced the commit to the
 * repository. If the commit is not present in the default branch, it will return merged and open pull requests
 * associated with the commit" (https://docs.github.com/en/rest/commits/commits#list-pull-requests-associated-with-a-commit),
 * so only those with `merged_at` count: a release branch's commits also list pull requests still open against it.
 */
export async function pullsOfCommits(github: GitHub, shas: readonly string[]): Promise<ReleasePull[]> {
  const pulls = new Map<number, ReleasePull>();
  for (const sha of shas) {
    const associated = await github.paginate<ReleasePull>(
      `/repos/{owner}/{repo}/commits/${encodeURIComponent(sha)}/pulls`,
      {},
      (page) => page,
    );
    for (const pull of associated) if (pull.merged_at && !pulls.has(pull.number)) pulls.set(pull.number, pull);
  }
  return [...pulls.values()].sort((a, b) => a.number - b.number);
}

/** The fields the ledger reads and a person checks, in GitHub's own shape. */
const keep = (p: ReleasePull): ReleasePull => ({
  number: p.number,
  title: p.title,
  html_url: p.html_url,
  user: p.user ? { login: p.user.login } : null,
  head: { ref: p.head.ref },
  body: p.body,
  labels: p.labels.map((l) => ({ name: l.name })),
  merged_at: p.merged_at,
});

export async function main(env: Env = process.env, fetchImpl?: Fetch): Promise<number> {
  const hint = "Pass the pre-release's tag (the release job's tag output, or the ledger_tag input).";
  const tag = requireEnv(env, "TAG", { hint });
  if (parseCalendarTag(tag) === undefined)
    throw new UsageError(`TAG is not a calendar tag YYYY.MM.DD[.N]. Fix: ${hint}`);
  const baseInput = optionalEnv(env, "BASE_TAG", { pattern: /^[A-Za-z0-9._/-]+$/, expected: "a tag name" });
  const pullsFile = requireEnv(env, "PULLS_FILE", { hint: "Name the file to write the pull requests to." });
  const github = gitHubFromEnv(env, fetchImpl);

  const base = baseInput ?? (await latestReleaseTag(github));
  if (base === undefined) {
    throw new RefusedError(
      "No release of the repository is marked latest, so there is no base for TAG's pull requests. Fix: mark the " +
        "release prod runs as latest (gh release edit <tag> --latest), or pass BASE_TAG.",
    );
  }
  const commits = base === tag ? [] : await commitsBetween(github, base, tag);
  const pulls = (await pullsOfCommits(github, commits)).map(keep);
  writeFileSync(pullsFile, `${JSON.stringify(pulls, null, 2)}\n`);
  console.log(`${tag}: ${pulls.length} merged pull request(s) in ${commits.length} commit(s) since ${base}.`);
  return 0;
}

if (require.main === module) run(() => main());
