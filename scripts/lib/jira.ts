import { UsageError, optionalEnv, type Env } from "./cli";

/**
 * Jira tickets as Monitor names them: `MNTOR-1234` in a pull request's title or body, `mntor-1234-what` as its branch
 * (mozilla/blurts-server at 3b6c890: branches such as `mntor-5317` and `MNTOR-4448-2`, and
 * `.github/pull_request_template.md` opens with "Jira: MNTOR-", which names no ticket until a number follows).
 */

export const DEFAULT_JIRA_PROJECT_KEYS: readonly string[] = ["MNTOR"];
/** Mozilla's Jira site (the app's docs/adr/*.md link their stories as https://mozilla-hub.atlassian.net/browse/MNTOR-<n>). */
export const DEFAULT_JIRA_BROWSE_URL = "https://mozilla-hub.atlassian.net/browse/";

/**
 * A project key: a letter, then upper-case letters, digits or underscores (Atlassian, "Changing the project key
 * format": https://confluence.atlassian.com/adminjiraserver/changing-the-project-key-format-938847081.html).
 */
const PROJECT_KEY = /^[A-Z][A-Z0-9_]{1,19}$/;
/** An issue number: no leading zero, and short enough that a run of digits is not mistaken for one. */
const ISSUE_NUMBER = "[1-9][0-9]{0,6}";

export interface JiraSettings {
  readonly projectKeys: readonly string[];
  /** Ends with `/`: a ticket's page is `browseUrl + key`. */
  readonly browseUrl: string;
}

/** JIRA_PROJECT_KEYS (comma or space separated) and JIRA_BROWSE_URL, with Monitor's defaults. */
export function jiraSettingsFromEnv(env: Env): JiraSettings {
  const keys = optionalEnv(env, "JIRA_PROJECT_KEYS")
    ?.split(/[\s,]+/)
    .filter(Boolean);
  for (const key of keys ?? []) {
    if (!PROJECT_KEY.test(key))
      throw new UsageError(
        `JIRA_PROJECT_KEYS has "${key}", which is not a Jira project key. Fix: pass upper-case project keys such as MNTOR, separated by commas.`,
      );
  }
  const browseUrl = optionalEnv(env, "JIRA_BROWSE_URL", {
    pattern: /^https:\/\/[A-Za-z0-9.-]+(?::[0-9]+)?\/[A-Za-z0-9._~/-]*$/,
    expected: "an https URL such as https://mozilla-hub.atlassian.net/browse/",
  });
  return {
    projectKeys: keys?.length ? keys : DEFAULT_JIRA_PROJECT_KEYS,
    browseUrl: browseUrl === undefined ? DEFAULT_JIRA_BROWSE_URL : browseUrl.replace(/\/*$/, "/"),
  };
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * The ticket keys `text` names, in order of first mention, upper-cased. `anyCase` accepts `mntor-12` (branch names);
 * otherwise only the upper-case key counts, as Jira itself links them. A key glued to letters or digits on its left
 * (`XMNTOR-1`) or a number running on (`MNTOR-12345678`) is not a ticket.
 */
export function jiraKeysIn(
  text: string,
  projectKeys: readonly string[],
  options: { anyCase?: boolean } = {},
): string[] {
  if (projectKeys.length === 0) return [];
  const pattern = new RegExp(
    `(?<![A-Za-z0-9])(${projectKeys.map(escapeRegExp).join("|")})-(${ISSUE_NUMBER})(?![0-9])`,
    options.anyCase ? "gi" : "g",
  );
  const keys: string[] = [];
  for (const m of text.matchAll(pattern)) {
    const key = `${m[1].toUpperCase()}-${m[2]}`;
    if (!keys.includes(key)) keys.push(key);
  }
  return keys;
}

/** A whole ticket key of one of the projects, as JIRA_TICKETS and the ledger's links carry them. */
export function isJiraKey(text: string, projectKeys: readonly string[]): boolean {
  const m = new RegExp(`^([A-Z][A-Z0-9_]*)-${ISSUE_NUMBER}$`).exec(text);
  return m !== null && projectKeys.includes(m[1]);
}
