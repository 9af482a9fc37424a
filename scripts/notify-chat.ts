/**
 * Tells the team's chat that a deploy started, succeeded or failed. Optional: without a webhook configured (the
 * CHAT_WEBHOOK_URL secret) it does nothing and says so. The webhook URL is a credential: it is never printed, and
 * errors say only the status or the network error's code.
 *
 * env: CHAT_WEBHOOK_URL, STATUS (started | succeeded | failed), ENVIRONMENT, TAG, RUN_URL,
 *      NOTES_FILE (optional: release notes to include; a missing file only drops them, since by then the deploy
 *      is done and a failed notice here would be reported as a failed deploy; the release's QA ledger is left out,
 *      the generated notes list the same pull requests), JIRA_TICKETS (optional: the tickets that shipped, space
 *      separated, as scripts/jira-shipped.ts outputs them), QA_OVERRIDE (optional: the reason a release manager
 *      gave to deploy past unchecked QA boxes), JIRA_PROJECT_KEYS, JIRA_BROWSE_URL.
 * The body is `{"text": ...}`, which Slack incoming webhooks and compatible chat services accept.
 */
import { CHAT_WEBHOOK_SECRET } from "../infra/pipeline-contract";
import { existsSync, readFileSync } from "node:fs";
import { RefusedError, UsageError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import type { Fetch } from "./lib/github";
import { isJiraKey, jiraSettingsFromEnv, type JiraSettings } from "./lib/jira";
import { withoutLedger } from "./qa-ledger";

export const STATUSES = ["started", "succeeded", "failed"] as const;
export type DeployStatus = (typeof STATUSES)[number];

const ICON: Record<DeployStatus, string> = { started: ":rocket:", succeeded: ":white_check_mark:", failed: ":x:" };

/** Slack's mrkdwn treats only &, < and > as control characters; anything else is text. */
export function escapeChat(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** Release notes longer than this are cut; the release page has them all. */
const MAX_NOTES = 3000;

export function chatMessage(input: {
  status: DeployStatus;
  environment: string;
  tag: string;
  runUrl?: string;
  notes?: string;
  /** Ticket keys that shipped, and where a ticket's page is. */
  tickets?: { keys: readonly string[]; jira: JiraSettings };
  qaOverride?: string;
}): { text: string } {
  const what = `Monitor ${escapeChat(input.tag)} to ${escapeChat(input.environment)}`;
  const verb = { started: "deploy started", succeeded: "deployed", failed: "deploy FAILED" }[input.status];
  const link = input.runUrl ? ` (<${escapeChat(input.runUrl)}|run>)` : "";
  const override = input.qaOverride ? `\nQA override: ${escapeChat(input.qaOverride)}` : "";
  const keys = input.tickets?.keys ?? [];
  // Slack's link syntax <url|text>; the keys were checked against the project keys, the URL against https.
  const jira = keys.length
    ? `\nJira tickets shipped: ${keys.map((k) => `<${escapeChat(input.tickets!.jira.browseUrl + k)}|${k}>`).join(", ")}`
    : "";
  const notes = input.notes?.trim();
  const body = notes ? `\n${escapeChat(notes.length > MAX_NOTES ? `${notes.slice(0, MAX_NOTES)}\n…` : notes)}` : "";
  return { text: `${ICON[input.status]} ${what}: ${verb}${link}${override}${jira}${body}` };
}

function readNotes(path: string | undefined): string | undefined {
  if (!path) return undefined;
  if (!existsSync(path)) {
    console.error(`warning: NOTES_FILE ${path} does not exist; posting without release notes.`);
    return undefined;
  }
  const notes = readFileSync(path, "utf8");
  try {
    return withoutLedger(notes);
  } catch {
    // An ambiguous ledger (two start markers) is the deploy check's problem; the message still goes out, whole.
    return notes;
  }
}

/** JIRA_TICKETS: keys of the configured projects, separated by spaces or commas. */
function ticketsFromEnv(env: Env): { keys: string[]; jira: JiraSettings } | undefined {
  const raw = optionalEnv(env, "JIRA_TICKETS");
  if (!raw) return undefined;
  const jira = jiraSettingsFromEnv(env);
  const keys = raw.split(/[\s,]+/).filter(Boolean);
  if (!keys.every((k) => isJiraKey(k, jira.projectKeys)))
    throw new UsageError(
      `JIRA_TICKETS is not a list of ${jira.projectKeys.join("/")} ticket keys. Fix: pass the jira-shipped step's tickets output.`,
    );
  return { keys, jira };
}

export async function main(env: Env = process.env, fetchImpl: Fetch = fetch): Promise<number> {
  const webhook = optionalEnv(env, "CHAT_WEBHOOK_URL");
  if (!webhook) {
    console.log(`No chat webhook configured (secret ${CHAT_WEBHOOK_SECRET} is empty): no message sent.`);
    return 0;
  }
  if (!/^https:\/\/\S+$/.test(webhook)) {
    throw new UsageError(
      `CHAT_WEBHOOK_URL is not an https URL. Fix: set the ${CHAT_WEBHOOK_SECRET} secret to the webhook's https URL.`,
    );
  }
  const status = requireEnv(env, "STATUS", { hint: `Pass one of: ${STATUSES.join(", ")}.` });
  if (!(STATUSES as readonly string[]).includes(status))
    throw new UsageError(`STATUS is not one of ${STATUSES.join(", ")}. Fix: pass one of them.`);
  const message = chatMessage({
    status: status as DeployStatus,
    environment: requireEnv(env, "ENVIRONMENT", { pattern: /^[a-z]+$/, expected: "an environment name such as prod" }),
    tag: requireEnv(env, "TAG", { pattern: /^[A-Za-z0-9._-]{1,128}$/, expected: "a release tag or short SHA" }),
    runUrl: optionalEnv(env, "RUN_URL", { pattern: /^https:\/\/[^\s<>|]+$/, expected: "an https URL" }),
    notes: readNotes(optionalEnv(env, "NOTES_FILE")),
    tickets: ticketsFromEnv(env),
    qaOverride: optionalEnv(env, "QA_OVERRIDE"),
  });
  let response: Response;
  try {
    response = await fetchImpl(webhook, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      redirect: "error",
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    throw new RefusedError(
      `Posting to the chat webhook failed (${e.name === "TimeoutError" ? "timed out" : (e.cause?.code ?? e.name)}).`,
    );
  }
  if (!response.ok) {
    throw new RefusedError(
      `The chat webhook answered ${response.status}; check the ${CHAT_WEBHOOK_SECRET} secret is a current webhook URL.`,
    );
  }
  console.log(`Posted "${status}" to the team chat.`);
  return 0;
}

if (require.main === module) run(() => main());
