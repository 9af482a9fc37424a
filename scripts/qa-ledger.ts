/**
 * The release's QA ledger: one GitHub task-list line per pull request of a pre-release, in the release body itself,
 * so that QA records what it verified on stage where the release manager deploys from, and the 1-click deploy to
 * prod can refuse while a box is unchecked. It replaces the app's manual step (docs/release_process.md, "Go through
 * the PRs, cross-reference the tickets in the PRs with the Jira board to see if QA has approved the tickets").
 *
 *   render  env PULLS_FILE (JSON array of pull requests as GitHub's REST API returns them: number, title, user.login,
 *           head.ref, body, labels[].name; scripts/release-pulls.ts writes it), BODY_FILE (written),
 *           PREVIOUS_BODY_FILE (optional: the release body as it is now; its check marks are kept, its other text
 *           too, and the ledger goes above it when it has none), QA_NOT_NEEDED_LABELS (default qa-not-needed),
 *           JIRA_PROJECT_KEYS (default MNTOR), JIRA_BROWSE_URL (default Mozilla's Jira).
 *   check   env BODY_FILE (the release body), OVERRIDE_REASON (optional), OVERRIDE_BY (optional login),
 *           RUN_URL (optional), OVERRIDE_RECORD_FILE (optional: written with the override recorded below the ledger).
 *           Exit 0 when every box is checked, or with an override reason (output `override`); 1 naming each
 *           unchecked pull request; 2 when the body has no ledger.
 *
 * Titles, branch names, bodies and labels are written by anyone who opens a pull request. The ledger's structure
 * (the markers, one line per item, the check box at the start of the line) is written here only: a title is flattened
 * to one line, stripped of control and bidirectional characters, and escaped, so it cannot end a line, close the
 * ledger, check a box or carry HTML; branch names and bodies only ever yield ticket keys of the configured projects.
 */
import { writeFileSync } from "node:fs";
import { RefusedError, UsageError, consoleLog, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { readInputFile, writeOutputs } from "./lib/github-files";
import { isJiraKey, jiraKeysIn, jiraSettingsFromEnv, type JiraSettings } from "./lib/jira";

export const LEDGER_START = "<!-- qa-ledger:start -->";
export const LEDGER_END = "<!-- qa-ledger:end -->";
export const DEFAULT_QA_NOT_NEEDED_LABELS: readonly string[] = ["qa-not-needed"];
const LEDGER_HEADING = "### QA ledger";
const LEDGER_INTRO =
  "QA: check a pull request once it is verified on stage. The 1-click deploy to prod waits until every box is checked.";
/** A pull request naming more tickets than this is listed with the first ones; the rest are in its body. */
const MAX_TICKETS = 10;
const MAX_TITLE = 200;
const MAX_OVERRIDE = 500;

/** The fields of a pull request (REST "pull-request-simple") the ledger reads. */
export interface LedgerPull {
  readonly number: number;
  readonly title: string;
  readonly user: { readonly login: string } | null;
  readonly head: { readonly ref: string };
  readonly body: string | null;
  readonly labels: readonly { readonly name: string }[];
}

export interface LedgerItem {
  readonly checked: boolean;
  /** The line after the check box, as written. */
  readonly text: string;
  /** The pull request a line of ours is for; undefined for an item someone added by hand. */
  readonly number?: number;
}

export interface ParsedBody {
  /** The body before the start marker and after the end marker, without the ledger's own lines. */
  readonly before: string;
  readonly after: string;
  readonly items: readonly LedgerItem[];
}

// ---------------------------------------------------------------------------------------------------------------
// Untrusted text into one safe line.

/** C0/C1 controls and the Unicode line and paragraph separators: anything that could end or split a line. */
const LINE_BREAKING = /[\p{Cc}\u2028\u2029]/gu;
/** Zero-width and bidirectional formatting characters, which make a line read otherwise than it is written. */
const INVISIBLE = /[\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** Untrusted text as one line of plain text: no line breaks, no invisible characters, at most `max` characters. */
export function flatten(raw: string, max: number): string {
  const flat = raw.replace(LINE_BREAKING, " ").replace(INVISIBLE, "").replace(/\s+/g, " ").trim();
  const chars = [...flat];
  return chars.length > max ? `${chars.slice(0, max - 1).join("")}…` : flat;
}

/**
 * Untrusted text as inline Markdown that renders as the text itself: HTML's three characters become entities (GitHub
 * renders `&lt;` as `<`, so no tag or comment marker survives), and Markdown's punctuation is backslash-escaped
 * (CommonMark 0.31 §2.4: any ASCII punctuation may be escaped), so no link, image, emphasis or code span forms.
 */
export function inlineText(raw: string, max = MAX_TITLE): string {
  return flatten(raw, max)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/[\\`*_[\]()#!|~]/g, "\\$&");
}

/** GitHub logins: letters, digits and single hyphens, 39 at most; apps' bot accounts end in `[bot]`. */
const LOGIN = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}(?:\[bot\])?$/;

// ---------------------------------------------------------------------------------------------------------------
// Reading a body.

const normalize = (text: string) => text.replace(/\r\n?/g, "\n");
/** A GitHub task-list item (`- [ ] text`, also `*`/`+` and nested), and what follows its box. */
const TASK = /^\s*[-*+] \[([ xX])\](?:[ \t]+(.*))?$/;
const PR_NUMBER = /^#([1-9][0-9]{0,9})(?![0-9])/;

/**
 * The ledger of a release body, or undefined when it has none. Marker lines count only as whole lines, so a marker
 * quoted inside other text (GitHub's generated notes repeat pull request titles verbatim) is not one. A body with
 * more than one marker of a kind, or an end before the start, was edited into an ambiguous state: refused.
 */
export function parseBody(body: string, file: string): ParsedBody | undefined {
  const lines = normalize(body).split("\n");
  const starts = lines.flatMap((l, i) => (l.trim() === LEDGER_START ? [i] : []));
  const ends = lines.flatMap((l, i) => (l.trim() === LEDGER_END ? [i] : []));
  if (starts.length === 0 && ends.length === 0) return undefined;
  if (starts.length !== 1 || ends.length !== 1 || ends[0] < starts[0]) {
    throw new UsageError(
      `${file} has a broken QA ledger (${starts.length} "${LEDGER_START}" and ${ends.length} "${LEDGER_END}" lines, ` +
        "which must be one each, start first). Fix: edit the release so that exactly one of each is left around the " +
        "ledger's lines, then run the pre-release again for its tag to re-render it.",
    );
  }
  const items: LedgerItem[] = [];
  for (const line of lines.slice(starts[0] + 1, ends[0])) {
    const task = TASK.exec(line);
    if (!task) continue;
    const text = (task[2] ?? "").trim();
    const number = PR_NUMBER.exec(text);
    items.push({ checked: task[1] !== " ", text, number: number ? Number(number[1]) : undefined });
  }
  return {
    before: lines.slice(0, starts[0]).join("\n"),
    after: lines.slice(ends[0] + 1).join("\n"),
    items,
  };
}

/** The body without its ledger (for a chat message: the generated notes already list the pull requests). */
export function withoutLedger(body: string): string {
  const parsed = parseBody(body, "the release body");
  if (!parsed) return body;
  return [parsed.before.trim(), parsed.after.trim()].filter(Boolean).join("\n\n");
}

/**
 * The tickets the ledger links, in order, once each. Only a link as render writes it counts (`[KEY-N](…/KEY-N)`, its
 * brackets unescaped): a title's brackets are escaped, so a title cannot add a ticket here.
 */
export function ledgerTickets(body: string, jira: JiraSettings): string[] {
  const parsed = parseBody(body, "the release body");
  const keys: string[] = [];
  for (const item of parsed?.items ?? []) {
    for (const m of item.text.matchAll(/(?<!\\)\[([A-Z][A-Z0-9_]*-[1-9][0-9]*)\]\(https:\/\/[^\s)]+\/\1\)/g)) {
      if (isJiraKey(m[1], jira.projectKeys) && !keys.includes(m[1])) keys.push(m[1]);
    }
  }
  return keys;
}

// ---------------------------------------------------------------------------------------------------------------
// Render.

/** Tickets of a pull request: its title, then its branch (any case), then its body. */
export function ticketsOf(pull: LedgerPull, jira: JiraSettings): string[] {
  const keys = [
    ...jiraKeysIn(pull.title, jira.projectKeys),
    ...jiraKeysIn(pull.head.ref, jira.projectKeys, { anyCase: true }),
    ...jiraKeysIn(pull.body ?? "", jira.projectKeys),
  ];
  return [...new Set(keys)].slice(0, MAX_TICKETS);
}

export function ledgerLine(
  pull: LedgerPull,
  state: { checked: boolean; qaNotNeeded?: string },
  jira: JiraSettings,
): string {
  const login = pull.user?.login ?? "";
  const author = LOGIN.test(login) ? `@${login}` : "an unknown author";
  const tickets = ticketsOf(pull, jira);
  const links = tickets.length ? tickets.map((key) => `[${key}](${jira.browseUrl}${key})`).join(", ") : "no ticket";
  const reason = state.qaNotNeeded ? ` · QA not needed (label ${inlineText(state.qaNotNeeded, 50)})` : "";
  return `- [${state.checked ? "x" : " "}] #${pull.number} ${inlineText(pull.title)} by ${author} · ${links}${reason}`;
}

export interface RenderResult {
  readonly body: string;
  readonly pulls: number;
  readonly checked: number;
  readonly kept: number;
  readonly dropped: readonly number[];
}

/**
 * The ledger of `pulls`, and the whole body: in place of the previous body's ledger, or above the previous body when
 * it had none. A check mark already given stays (QA's work), a pull request no longer in the release goes, and an item
 * someone added by hand inside the ledger (a line without a `#number`) stays as it is.
 */
export function renderBody(
  pulls: readonly LedgerPull[],
  previous: ParsedBody | undefined,
  previousText: string | undefined,
  options: { qaNotNeededLabels: readonly string[]; jira: JiraSettings },
): RenderResult {
  const checkedBefore = new Set((previous?.items ?? []).filter((i) => i.checked && i.number).map((i) => i.number));
  const unique = [...new Map(pulls.map((p) => [p.number, p])).values()].sort((a, b) => a.number - b.number);
  let checked = 0;
  let kept = 0;
  const lines = unique.map((pull) => {
    const qaNotNeeded = options.qaNotNeededLabels.find((label) => pull.labels.some((l) => l.name === label));
    const wasChecked = checkedBefore.has(pull.number);
    if (wasChecked) kept++;
    if (wasChecked || qaNotNeeded) checked++;
    return ledgerLine(pull, { checked: wasChecked || qaNotNeeded !== undefined, qaNotNeeded }, options.jira);
  });
  const byHand = (previous?.items ?? [])
    .filter((i) => i.number === undefined)
    .map((i) => `- [${i.checked ? "x" : " "}] ${i.text}`);
  const listed = new Set(unique.map((p) => p.number));
  const dropped = [...checkedBefore].filter((n): n is number => n !== undefined && !listed.has(n));

  const entries = [...lines, ...byHand];
  const ledger = [
    LEDGER_START,
    LEDGER_HEADING,
    "",
    LEDGER_INTRO,
    "",
    ...(entries.length ? entries : ["_No pull requests since the release marked latest._"]),
    "",
    LEDGER_END,
  ].join("\n");

  let body: string;
  if (previous) body = joinParts(previous.before, ledger, previous.after);
  else if (previousText?.trim()) body = joinParts("", ledger, normalize(previousText));
  else body = `${ledger}\n`;
  return { body, pulls: unique.length, checked, kept, dropped };
}

/** Before, ledger and after, each separated by one blank line, ending in a newline. */
function joinParts(before: string, ledger: string, after: string): string {
  return `${[before.trim(), ledger, after.trim()].filter(Boolean).join("\n\n")}\n`;
}

/** PULLS_FILE's JSON, checked for the fields the ledger reads. */
export function parsePulls(text: string): LedgerPull[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new UsageError("PULLS_FILE is not JSON. Fix: write it with scripts/release-pulls.ts in an earlier step.");
  }
  if (!Array.isArray(data))
    throw new UsageError(
      "PULLS_FILE is not a JSON array of pull requests. Fix: write it with scripts/release-pulls.ts in an earlier step.",
    );
  return data.map((raw: unknown, i) => {
    const p = (raw ?? {}) as Record<string, unknown>;
    const user = p.user as { login?: unknown } | null | undefined;
    const head = p.head as { ref?: unknown } | undefined;
    if (!Number.isSafeInteger(p.number) || (p.number as number) < 1 || typeof p.title !== "string") {
      throw new UsageError(
        `PULLS_FILE item ${i} has no pull request number and title. Fix: write it with scripts/release-pulls.ts, which keeps GitHub's fields.`,
      );
    }
    return {
      number: p.number as number,
      title: p.title,
      user: typeof user?.login === "string" ? { login: user.login } : null,
      head: { ref: typeof head?.ref === "string" ? head.ref : "" },
      body: typeof p.body === "string" ? p.body : null,
      labels: Array.isArray(p.labels)
        ? (p.labels as { name?: unknown }[]).flatMap((l) => (typeof l?.name === "string" ? [{ name: l.name }] : []))
        : [],
    };
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Check.

export type CheckVerdict =
  | { readonly ok: true; readonly items: number }
  | { readonly ok: false; readonly unchecked: readonly LedgerItem[]; readonly items: number };

export function judgeLedger(ledger: ParsedBody): CheckVerdict {
  const unchecked = ledger.items.filter((i) => !i.checked);
  return unchecked.length === 0
    ? { ok: true, items: ledger.items.length }
    : { ok: false, unchecked, items: ledger.items.length };
}

/** An item as a log line: its text without Markdown escapes, cut short. */
const describe = (item: LedgerItem) => flatten(item.text.replace(/\\(.)/g, "$1"), 160);

/** The body with a record of the override just below the ledger, where a re-render leaves it. */
export function recordOverride(
  body: string,
  unchecked: readonly LedgerItem[],
  override: { reason: string; by?: string; runUrl?: string },
): string {
  const which = unchecked.map((i) => (i.number ? `#${i.number}` : "a hand-added item")).join(", ");
  const by = override.by ? ` by @${override.by}` : "";
  const where = override.runUrl ? ` in [the deploy run](${override.runUrl})` : "";
  const record = `> **QA override**${by}${where}, with ${which} unchecked: ${inlineText(override.reason, MAX_OVERRIDE)}`;
  const lines = normalize(body).split("\n");
  const end = lines.findIndex((l) => l.trim() === LEDGER_END);
  return `${[...lines.slice(0, end + 1), "", record, ...lines.slice(end + 1)].join("\n").trimEnd()}\n`;
}

// ---------------------------------------------------------------------------------------------------------------

export interface QaLedgerIo {
  readonly env: Env;
  readonly log: (line: string) => void;
  readonly warn: (line: string) => void;
}

// eslint-disable-next-line @typescript-eslint/require-await -- every script's main is async, so that a refusal reaches run() and the tests as a rejection, never a synchronous throw
export async function main(args: readonly string[], io: QaLedgerIo): Promise<number> {
  const [command] = args;
  const { env } = io;
  if (command === "render") {
    const pullsFile = requireEnv(env, "PULLS_FILE", { hint: "Write it with scripts/release-pulls.ts first." });
    const bodyFile = requireEnv(env, "BODY_FILE", { hint: "Name the file to write the release body to." });
    const previousFile = optionalEnv(env, "PREVIOUS_BODY_FILE");
    const labels = optionalEnv(env, "QA_NOT_NEEDED_LABELS")
      ?.split(",")
      .map((l) => l.trim())
      .filter(Boolean);
    const jira = jiraSettingsFromEnv(env);
    const pulls = parsePulls(readInputFile("PULLS_FILE", pullsFile));
    const previousText = previousFile === undefined ? undefined : readInputFile("PREVIOUS_BODY_FILE", previousFile);
    const previous = previousText === undefined ? undefined : parseBody(previousText, "PREVIOUS_BODY_FILE");
    const result = renderBody(pulls, previous, previousText, {
      qaNotNeededLabels: labels?.length ? labels : DEFAULT_QA_NOT_NEEDED_LABELS,
      jira,
    });
    writeFileSync(bodyFile, result.body);
    io.log(
      `QA ledger: ${result.pulls} pull request(s), ${result.checked} checked (${result.kept} kept from the release body).`,
    );
    if (result.dropped.length)
      io.log(`Dropped, no longer in the release: ${result.dropped.map((n) => `#${n}`).join(", ")}.`);
    return 0;
  }
  if (command === "check") {
    const bodyFile = requireEnv(env, "BODY_FILE", {
      hint: "Write the release body to a file first: gh release view <tag> --json body --jq .body.",
    });
    const reason = optionalEnv(env, "OVERRIDE_REASON");
    const by = optionalEnv(env, "OVERRIDE_BY", { pattern: LOGIN, expected: "a GitHub login" });
    const runUrl = optionalEnv(env, "RUN_URL", { pattern: /^https:\/\/[^\s()<>]+$/, expected: "an https URL" });
    const recordFile = optionalEnv(env, "OVERRIDE_RECORD_FILE");
    const body = readInputFile("BODY_FILE", bodyFile);
    const ledger = parseBody(body, "BODY_FILE");
    if (!ledger) {
      throw new UsageError(
        `BODY_FILE has no QA ledger (no "${LEDGER_START}" line): the pre-release was published without one, or it ` +
          "was deleted. Fix: run the app's Pre-release workflow by hand with ledger_tag set to this tag, let QA check " +
          "the boxes, then deploy again.",
      );
    }
    const verdict = judgeLedger(ledger);
    if (verdict.ok) {
      io.log(`QA ledger: all ${verdict.items} item(s) checked.`);
      if (reason) io.log("Every box is checked, so the override reason was not needed and is not recorded.");
      return 0;
    }
    const list = verdict.unchecked.map((i) => `  - ${describe(i)}`).join("\n");
    if (!reason) {
      throw new RefusedError(
        `The QA ledger in BODY_FILE has ${verdict.unchecked.length} of ${verdict.items} item(s) unchecked:\n${list}\n` +
          "Fix: ask QA to verify them on stage and check their boxes in the pre-release (or label a pull request " +
          "qa-not-needed and re-render the ledger), then deploy again; or deploy with an override reason.",
      );
    }
    const flat = flatten(reason, MAX_OVERRIDE);
    writeOutputs(env, { override: flat });
    if (recordFile) writeFileSync(recordFile, recordOverride(body, verdict.unchecked, { reason, by, runUrl }));
    io.warn(`QA ledger overridden${by ? ` by @${by}` : ""}: ${flat}\nUnchecked:\n${list}`);
    return 0;
  }
  throw new UsageError(
    `qa-ledger.ts was given ${command === undefined ? "no command" : JSON.stringify(command)}. Fix: call it as qa-ledger.ts render|check.`,
  );
}

if (require.main === module) {
  const log = consoleLog();
  run(() => main(process.argv.slice(2), { env: process.env, log: (l) => log.info(l), warn: (l) => log.warn(l) }), log);
}
