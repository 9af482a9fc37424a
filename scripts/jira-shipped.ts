/**
 * After a prod deploy: the Jira tickets that shipped, which the release manager moves to "Promoted to Prod" (the
 * app's docs/release_process.md, "Update Jira"). They are the tickets the release's QA ledger links. Lists them in the
 * run summary and as the step output `tickets` (for the chat message), and with a Jira token comments on each with
 * the release, so the ticket's own history says when it reached users. Without a token it says so and succeeds.
 *
 * env: BODY_FILE (the release body), TAG, RELEASE_URL (optional: the release page, linked from the comment),
 *      JIRA_USER_EMAIL and JIRA_API_TOKEN (optional, both or neither: an Atlassian account and its API token),
 *      JIRA_API_URL (optional: the site's REST root; default the browse URL's origin), JIRA_PROJECT_KEYS,
 *      JIRA_BROWSE_URL.
 * Exit 1 when a comment could not be posted (the workflow step continues: the deploy itself is done).
 */
import { JIRA_SECRETS } from "../infra/pipeline-contract";
import { RefusedError, UsageError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import type { Fetch } from "./lib/github";
import { appendSummary, readInputFile, writeOutputs } from "./lib/github-files";
import { jiraSettingsFromEnv, type JiraSettings } from "./lib/jira";
import { ledgerTickets } from "./qa-ledger";

export interface JiraCredentials {
  readonly apiUrl: string;
  readonly user: string;
  readonly token: string;
}

/** The comment a shipped ticket gets (plain text: the v2 API takes the body as a string, not Atlassian Document Format). */
export function shippedComment(tag: string, releaseUrl: string | undefined): string {
  return `Released to production in Monitor ${tag}${releaseUrl ? `: ${releaseUrl}` : "."}`;
}

/**
 * POST /rest/api/2/issue/{issueIdOrKey}/comment with `{"body": "<text>"}`, 201 on success
 * (https://developer.atlassian.com/cloud/jira/platform/rest/v2/api-group-issue-comments/#api-rest-api-2-issue-issueidorkey-comment-post),
 * authenticated as an Atlassian account by basic auth with its email and an API token
 * (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/). Returns undefined when posted,
 * or why not; never the token.
 */
export async function commentOnTicket(
  jira: JiraCredentials,
  key: string,
  text: string,
  fetchImpl: Fetch,
): Promise<string | undefined> {
  let response: Response;
  try {
    response = await fetchImpl(`${jira.apiUrl}/rest/api/2/issue/${encodeURIComponent(key)}/comment`, {
      method: "POST",
      headers: {
        authorization: `Basic ${Buffer.from(`${jira.user}:${jira.token}`).toString("base64")}`,
        accept: "application/json",
        "content-type": "application/json",
      },
      body: JSON.stringify({ body: text }),
      redirect: "error",
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return `could not reach Jira (${e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.name)})`;
  }
  if (response.status === 201) return undefined;
  let detail = "";
  try {
    // Jira's error body: {"errorMessages": [...], "errors": {...}}.
    const error = (await response.json()) as { errorMessages?: unknown };
    if (Array.isArray(error.errorMessages)) detail = error.errorMessages.map(String).join(" ");
  } catch {
    // A body that is not JSON adds nothing the status does not say.
  }
  const hint =
    response.status === 401
      ? ` (check the ${JIRA_SECRETS.user} and ${JIRA_SECRETS.token} secrets)`
      : response.status === 403 || response.status === 404
        ? " (the account may not see or comment on it)"
        : "";
  return `Jira answered ${response.status}${detail ? `: ${detail}` : ""}${hint}`;
}

/** Markdown for the run summary: each ticket linked, with what happened to its comment. */
export function summaryOf(tag: string, tickets: readonly string[], jira: JiraSettings, notes: Map<string, string>) {
  if (tickets.length === 0) return `### Jira tickets shipped in ${tag}\n\nThe release's QA ledger links no ticket.\n`;
  const lines = tickets.map(
    (key) => `- [${key}](${jira.browseUrl}${key})${notes.has(key) ? `: ${notes.get(key)}` : ""}`,
  );
  return `### Jira tickets shipped in ${tag}\n\nMove them to "Promoted to Prod".\n\n${lines.join("\n")}\n`;
}

function credentialsFromEnv(env: Env, jira: JiraSettings): JiraCredentials | undefined {
  const user = optionalEnv(env, "JIRA_USER_EMAIL");
  const token = optionalEnv(env, "JIRA_API_TOKEN");
  if (!user && !token) return undefined;
  if (!user || !token) {
    const [missing, set] = user ? [JIRA_SECRETS.token, JIRA_SECRETS.user] : [JIRA_SECRETS.user, JIRA_SECRETS.token];
    throw new UsageError(
      `${missing} is empty while ${set} is set. ` +
        `Fix: set both secrets (the Atlassian account's email and its API token), or neither.`,
    );
  }
  if (!/^[^\s@:]+@[^\s@:]+$/.test(user))
    throw new UsageError(
      `JIRA_USER_EMAIL is not an email address. Fix: set the ${JIRA_SECRETS.user} secret to the Atlassian account's email.`,
    );
  const apiUrl = (
    optionalEnv(env, "JIRA_API_URL", {
      pattern: /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]+)?(?:\/[A-Za-z0-9._~/-]*)?$/,
      expected: "an https URL such as https://mozilla-hub.atlassian.net",
    }) ?? new URL(jira.browseUrl).origin
  ).replace(/\/+$/, "");
  return { apiUrl, user, token };
}

export async function main(env: Env = process.env, fetchImpl: Fetch = fetch): Promise<number> {
  const jira = jiraSettingsFromEnv(env);
  const bodyFile = requireEnv(env, "BODY_FILE", {
    hint: "Write the release body to a file first: gh release view <tag> --json body --jq .body.",
  });
  const tag = requireEnv(env, "TAG", { pattern: /^[A-Za-z0-9._-]{1,128}$/, expected: "a release tag" });
  const releaseUrl = optionalEnv(env, "RELEASE_URL", { pattern: /^https:\/\/\S+$/, expected: "an https URL" });
  const credentials = credentialsFromEnv(env, jira);
  const tickets = ledgerTickets(readInputFile("BODY_FILE", bodyFile), jira);

  writeOutputs(env, { tickets: tickets.join(" ") });
  console.log(`Jira tickets shipped in ${tag}: ${tickets.join(", ") || "none"}.`);
  const notes = new Map<string, string>();
  if (!credentials) {
    console.log(
      `No Jira token configured (secrets ${JIRA_SECRETS.user} and ${JIRA_SECRETS.token} are empty): no ticket was ` +
        `commented on. Move the tickets above to "Promoted to Prod" by hand.`,
    );
    appendSummary(env, summaryOf(tag, tickets, jira, notes));
    return 0;
  }
  const text = shippedComment(tag, releaseUrl);
  for (const key of tickets) {
    const failure = await commentOnTicket(credentials, key, text, fetchImpl);
    notes.set(key, failure ? `not commented on: ${failure}` : "commented on");
  }
  appendSummary(env, summaryOf(tag, tickets, jira, notes));
  const failed = tickets.filter((key) => notes.get(key)?.startsWith("not"));
  if (failed.length) {
    throw new RefusedError(
      `Could not comment on ${failed.map((key) => `${key} (${notes.get(key)})`).join(", ")}. The deploy itself is ` +
        "done; move those tickets and note the release on them by hand.",
    );
  }
  console.log(`Commented on ${tickets.length} ticket(s) with the release.`);
  return 0;
}

if (require.main === module) run(() => main());
