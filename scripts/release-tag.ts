/**
 * Calendar release tags (docs/release_process.md: `YYYY.MM.DD`, `YYYY.MM.DD.N` for a further release that day).
 *
 *   next      the tag for a release cut now: today's UTC date, or the next suffix when today already has one.
 *             env: TARGET_REF (optional: the branch or commit released; a release branch still gets today's date),
 *                  LATEST_RELEASE (optional: the tag of the release marked latest, where the notes start; it
 *                  must be among the checkout's tags, which proves they were fetched).
 *             Tags come from `git tag --list` in the checkout (fetch tags: actions/checkout `fetch-tags: true` or
 *             `fetch-depth: 0`). Outputs: tag, notes_base (empty when there is no earlier release).
 *   validate  env ENVIRONMENT, TAG: the tag form that environment deploys (shared-rules/image-tags.ts TAG_RULES).
 *             Outputs: tag.
 *   target    env TARGET_REF (optional): refuses any target but main or a protected release branch, before anything
 *             is checked out or built. Outputs: ref (`refs/heads/<branch>`, or empty: the commit stage runs).
 */
import { execFileSync } from "node:child_process";
import { RELEASE_BRANCH_PATTERN } from "../infra/pipeline-contract";
import { TAG_RULES, parseCalendarTag } from "../shared-rules/image-tags";
import { RefusedError, UsageError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { writeOutputs } from "./lib/github-files";

/** `YYYY.MM.DD` of an instant, in UTC: a run at 00:10 UTC Monday is Monday's release wherever its people are. */
export function utcDate(now: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${now.getUTCFullYear()}.${pad(now.getUTCMonth() + 1)}.${pad(now.getUTCDate())}`;
}

/**
 * The tag for a release cut at `now`. Only tags of the same date count; the suffix is one past the highest taken
 * (not the lowest gap), so tags of one day sort in the order they were cut even when one was deleted.
 */
export function nextCalendarTag(tags: readonly string[], now: Date): string {
  const date = utcDate(now);
  let highest = -1; // -1: the date is free; 0: the bare date is taken; N: `.N` is the highest taken
  for (const tag of tags) {
    const parsed = parseCalendarTag(tag.trim());
    if (parsed?.date !== date) continue;
    highest = Math.max(highest, parsed.suffix);
  }
  return highest < 0 ? date : `${date}.${highest + 1}`;
}

/** Orders calendar tags by date, then suffix (the bare date before `.1`). */
export function compareCalendarTags(a: string, b: string): number {
  const key = (t: string) => {
    const c = parseCalendarTag(t);
    return c ? [c.year, c.month, c.day, c.suffix] : [0, 0, 0, 0];
  };
  const [ka, kb] = [key(a), key(b)];
  for (let i = 0; i < 4; i++) if (ka[i] !== kb[i]) return ka[i] - kb[i];
  return 0;
}

/**
 * Where a new release's notes start: the release marked latest (what prod runs), not the previous day's
 * pre-release, so Monday's notes cover everything since the last production release, across the weekend and any
 * pre-releases that never shipped. Without a usable latest release, the newest calendar tag; undefined when there
 * is no earlier release at all (the notes then start at the beginning).
 */
export function notesBase(tags: readonly string[], latestRelease: string | undefined): string | undefined {
  const existing = new Set(tags.map((t) => t.trim()));
  if (latestRelease && existing.has(latestRelease)) return latestRelease;
  const calendar = [...existing].filter((t) => parseCalendarTag(t) !== undefined).sort(compareCalendarTags);
  return calendar.at(-1);
}

/** The deploy environments TAG_RULES knows. */
export type TagEnvironment = keyof typeof TAG_RULES;

/** Refuses a tag that is not the form the environment deploys, or an environment with no tag rule. */
export function validateTag(environment: string, tag: string): void {
  if (!Object.hasOwn(TAG_RULES, environment)) {
    throw new RefusedError(
      `ENVIRONMENT "${environment}" is not one this workflow deploys. Fix: choose one of: ${Object.keys(TAG_RULES).join(", ")}.`,
    );
  }
  const rule = TAG_RULES[environment as TagEnvironment];
  if (!rule.valid(tag)) {
    throw new RefusedError(
      `TAG "${tag}" cannot be deployed to ${environment}: expected ${rule.expected}. Fix: run the deploy again with such a tag ` +
        "(a pre-release's tag for prod, a commit stage built for stage).",
    );
  }
}

/**
 * A branch, tag or commit as a workflow passes one: git's ref-name characters, never an option (`-x`) or a range
 * (`a..b`), which `git check-ref-format` refuses too (https://git-scm.com/docs/git-check-ref-format).
 */
const REF_NAME = /^(?!-)(?!.*\.\.)[A-Za-z0-9._/-]+$/;

/**
 * The branch names a ruleset pattern protects. GitHub matches ruleset patterns with Ruby's File.fnmatch and
 * FNM_PATHNAME, so `*` matches no `/` ("qa/* will match branches beginning with qa/ and containing a single slash",
 * docs.github.com: Creating rulesets for a repository, Using fnmatch syntax), and without FNM_DOTMATCH no leading
 * `.`: `release/a/b` is not protected by `release/*`, so it is no release branch here either.
 */
export function branchPatternRegExp(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((literal) => literal.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
    .join("[^/.][^/]*");
  return new RegExp(`^${body}$`);
}

/** The default branch of the app repository, which its own ruleset protects. */
export const MAIN_BRANCH = "main";

/**
 * The fully qualified branch a release is cut from, or a refusal: only main and the release branches the app
 * repository's ruleset protects (RELEASE_BRANCH_PATTERN) hold nothing but reviewed commits. A commit SHA or a tag
 * says nothing about the review of what it points at (any commit of a pull request, a fork's included, can be
 * fetched by SHA), so neither is accepted. Qualified as `refs/heads/...` so that a tag of the same name can never
 * be checked out in the branch's place.
 */
export function releaseTargetRef(targetRef: string): string {
  const branch = targetRef.replace(/^refs\/heads\//, "");
  if (branch === MAIN_BRANCH || branchPatternRegExp(RELEASE_BRANCH_PATTERN).test(branch)) return `refs/heads/${branch}`;
  throw new RefusedError(
    `TARGET_REF "${targetRef}" is not a branch a release may be cut from: only ${MAIN_BRANCH} and the release ` +
      `branches (${RELEASE_BRANCH_PATTERN}, one level, protected by the app repository's ruleset) hold only reviewed ` +
      "commits; a commit SHA or a tag is refused too. Fix: cut a release/<name> branch from the released commit, " +
      "merge the fix into it through a pull request, and run the pre-release with target_ref release/<name>.",
  );
}

/** Tag names from `git tag --list`, one a line. */
export function gitTags(cwd = process.cwd()): string[] {
  return execFileSync("git", ["tag", "--list"], { cwd, encoding: "utf8" })
    .split("\n")
    .map((t) => t.trim())
    .filter(Boolean);
}

export interface ReleaseTagIo {
  readonly env: Env;
  readonly now: Date;
  readonly tags: () => string[];
  readonly log: (line: string) => void;
}

const TARGET_REF_RULE = {
  pattern: REF_NAME,
  expected: "a branch, tag or commit (letters, digits, . _ / -; not starting with - or holding ..)",
};

// eslint-disable-next-line @typescript-eslint/require-await -- every script's main is async, so that a refusal reaches run() and the tests as a rejection, never a synchronous throw
export async function main(args: readonly string[], io: ReleaseTagIo): Promise<number> {
  const [command, ...extra] = args;
  if (extra.length > 0) {
    throw new UsageError(
      `release-tag.ts ${command} takes no arguments, got ${JSON.stringify(extra)}. Fix: pass its inputs through env: (see the script's header).`,
    );
  }
  if (command === "next") {
    const targetRef = optionalEnv(io.env, "TARGET_REF", TARGET_REF_RULE);
    const latest = optionalEnv(io.env, "LATEST_RELEASE", {
      pattern: REF_NAME,
      expected: "a release's tag (letters, digits, . _ / -)",
      hint: "pass the tag name of the release marked latest (gh release view --json tagName --jq .tagName), or nothing.",
    });
    const tags = io.tags();
    if (latest !== undefined && !tags.includes(latest)) {
      // A release always has its tag (GitHub turns a release whose tag is deleted into a draft, which is never
      // "latest"), so a latest release the checkout lacks means the tags were not fetched: today's tags would be
      // missing too, and the next tag could be one that exists.
      throw new UsageError(
        `LATEST_RELEASE "${latest}" is not among the checkout's ${tags.length} tags, so its tags were not fetched and ` +
          "the next tag could repeat one. Fix: check the app out with fetch-depth: 0 (or fetch-tags: true).",
      );
    }
    const tag = nextCalendarTag(tags, io.now);
    const base = notesBase(tags, latest);
    writeOutputs(io.env, { tag, notes_base: base ?? "" });
    io.log(
      `Next release tag: ${tag}${targetRef ? ` (from ${targetRef})` : ""}; notes since ${base ?? "the first commit"}.`,
    );
    return 0;
  }
  if (command === "target") {
    const targetRef = optionalEnv(io.env, "TARGET_REF", TARGET_REF_RULE);
    const ref = targetRef === undefined ? "" : releaseTargetRef(targetRef);
    writeOutputs(io.env, { ref });
    io.log(ref ? `Releasing the head of ${ref}.` : "No target ref: releasing the commit stage runs.");
    return 0;
  }
  if (command === "validate") {
    const environment = requireEnv(io.env, "ENVIRONMENT", {
      hint: "Pass the workflow's environment input through env:.",
    });
    const tag = requireEnv(io.env, "TAG", { hint: "Pass the workflow's tag input through env:." });
    validateTag(environment, tag);
    writeOutputs(io.env, { tag });
    io.log(`${tag} is a valid ${environment} tag.`);
    return 0;
  }
  throw new UsageError(
    `release-tag.ts was given ${command === undefined ? "no command" : JSON.stringify(command)}. Fix: call it as release-tag.ts next|validate|target.`,
  );
}

if (require.main === module) {
  run(() =>
    main(process.argv.slice(2), { env: process.env, now: new Date(), tags: () => gitTags(), log: console.log }),
  );
}
