/**
 * The one sticky comment a pull request's preview keeps up to date, rendered to a file the comment step posts.
 *
 * env: STATE (deployed | destroyed | skipped | failed), PR_NUMBER, RUN_URL, BODY_FILE (where to write), and per
 * state: deployed URL, DIGEST, MIGRATION (the migration job's result); failed FAILED_STEP (optional).
 *
 * URL, MIGRATION and FAILED_STEP come from a run a pull request's code influenced, so they are rendered as text:
 * markdown and HTML are escaped, mentions and line breaks neutralised, links only to https URLs.
 */
import { UsageError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { writeFileNamedBy } from "./lib/github-files";

/** First line of every preview comment: how the comment step finds the comment to update. */
export const PREVIEW_COMMENT_MARKER = "<!-- monitor-preview-comment -->";

export const PREVIEW_STATES = ["deployed", "destroyed", "skipped", "failed"] as const;
export type PreviewState = (typeof PREVIEW_STATES)[number];

export interface CommentInput {
  readonly state: PreviewState;
  readonly prNumber: number;
  readonly runUrl: string;
  readonly url?: string;
  readonly digest?: string;
  readonly migration?: string;
  readonly failedStep?: string;
}

/**
 * Untrusted text as inert markdown on one line: HTML and markdown punctuation escaped, `@` and `#` kept from
 * pinging people or linking issues, control characters and line breaks flattened, at most `max` characters.
 */
export function escapeMarkdown(text: string, max = 200): string {
  // eslint-disable-next-line no-control-regex
  const flat = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, " ").trim();
  const cut = flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
  return cut
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_{}[\]()#+\-.!|~:]/g, (c) => `\\${c}`)
    .replace(/@/g, "@\u200b");
}

/** A markdown link to an https URL, or the escaped text alone when the URL is anything else. */
export function link(label: string, url: string | undefined): string {
  const text = escapeMarkdown(label);
  if (!url) return text;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return text;
  }
  if (parsed.protocol !== "https:" || parsed.username || parsed.password) return text;
  // href is already percent-encoded except for parentheses, which would end the link early.
  return `[${text}](${parsed.href.replace(/\(/g, "%28").replace(/\)/g, "%29")})`;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * The stack's `migration` output as the comment shows it. pulumi/actions hands an object output to the next step as
 * JSON (`{"runs":true,"reason":"..."}`); anything else is shown as the text it is.
 */
export function describeMigration(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    const parsed = JSON.parse(raw) as { runs?: unknown; reason?: unknown };
    if (typeof parsed?.reason === "string" && typeof parsed.runs === "boolean") {
      return `${parsed.runs ? "ran and succeeded" : "did not run"}: ${parsed.reason}`;
    }
  } catch {
    // Not JSON: a plain description.
  }
  return raw;
}

export function renderComment(input: CommentInput): string {
  const run = link("workflow run", input.runUrl);
  const lines: string[] = [PREVIEW_COMMENT_MARKER];
  switch (input.state) {
    case "deployed":
      lines.push(
        `### Preview of #${input.prNumber} is up`,
        "",
        `| | |`,
        `|---|---|`,
        `| URL | ${link(input.url ?? "(no URL)", input.url)} |`,
        `| Image | ${input.digest && DIGEST.test(input.digest) ? `\`${input.digest}\`` : "(unknown digest)"} |`,
        `| Migration | ${escapeMarkdown(input.migration ?? "(not reported)")} |`,
        `| Run | ${run} |`,
        "",
        "The preview is updated on every push and destroyed when the pull request is closed. It uses stage's sandbox " +
          "credentials; signing in works only where the stage OAuth client accepts the preview's URL.",
      );
      break;
    case "destroyed":
      lines.push(
        `### Preview of #${input.prNumber} is gone`,
        "",
        `The pull request was closed, so its preview, database and secrets were destroyed (${run}). ` +
          "Reopening the pull request creates a new one.",
      );
      break;
    case "skipped":
      lines.push(
        `### No preview for #${input.prNumber}`,
        "",
        "Pull requests from forks and from bots get no cloud credentials, so this one gets no preview. " +
          "Re-running the workflow does not change that: GitHub keeps the same restrictions for a re-run.",
        "",
        "A maintainer can get a preview by pushing the branch to this repository and opening a pull request from it " +
          "(`git fetch <fork> <branch> && git push origin FETCH_HEAD:refs/heads/<branch>`), or, for a bot's pull " +
          `request, by pushing a commit to its branch. (${run})`,
      );
      break;
    case "failed":
      lines.push(
        `### Preview of #${input.prNumber} failed`,
        "",
        `${input.failedStep ? `The step **${escapeMarkdown(input.failedStep, 100)}** failed` : "A step failed"}; ` +
          `see the ${run} for its log. Pushing a fix, or re-running the failed jobs, tries again.`,
      );
      break;
  }
  return `${lines.join("\n")}\n`;
}

export function inputFromEnv(env: Env): CommentInput {
  const state = requireEnv(env, "STATE", { hint: `Pass one of: ${PREVIEW_STATES.join(", ")}.` });
  if (!(PREVIEW_STATES as readonly string[]).includes(state)) {
    throw new UsageError(
      `STATE must be one of ${PREVIEW_STATES.join(", ")}, got "${escapeMarkdown(state, 40)}". Fix: pass one of them.`,
    );
  }
  const prNumber = Number(
    requireEnv(env, "PR_NUMBER", { pattern: /^[1-9][0-9]{0,9}$/, expected: "a pull request number" }),
  );
  const runUrl = requireEnv(env, "RUN_URL", {
    pattern: /^https:\/\/\S+$/,
    expected: "an https URL",
    hint: "Build it from github.server_url, github.repository and github.run_id.",
  });
  const deployed = state === "deployed";
  return {
    state: state as PreviewState,
    prNumber,
    runUrl,
    url: deployed
      ? requireEnv(env, "URL", {
          pattern: /^https:\/\/\S+$/,
          expected: "the preview's https URL",
          hint: "Pass the stack's url output.",
        })
      : undefined,
    digest: deployed
      ? requireEnv(env, "DIGEST", {
          pattern: DIGEST,
          expected: "an image digest sha256:<64 hex>",
          hint: "Pass the stack's image digest output.",
        })
      : undefined,
    migration: deployed ? describeMigration(optionalEnv(env, "MIGRATION")) : undefined,
    failedStep: state === "failed" ? optionalEnv(env, "FAILED_STEP") : undefined,
  };
}

// eslint-disable-next-line @typescript-eslint/require-await -- every script's main is async, so that a refusal reaches run() and the tests as a rejection, never a synchronous throw
export async function main(env: Env = process.env): Promise<number> {
  const file = requireEnv(env, "BODY_FILE", {
    hint: "Give a path under $RUNNER_TEMP for the comment step's body file.",
  });
  const input = inputFromEnv(env);
  writeFileNamedBy("BODY_FILE", file, renderComment(input), {
    hint: "give a path in a directory that exists, under $RUNNER_TEMP",
  });
  console.log(`Wrote the ${input.state} comment for #${input.prNumber} to ${file}.`);
  return 0;
}

if (require.main === module) run(() => main());
