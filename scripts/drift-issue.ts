/**
 * One open issue per drifted stack: `pulumi refresh --preview-only --expect-no-changes` found changes made outside
 * Pulumi. Opens the issue, updates it when the drift changes, and closes it with a comment once the stack matches
 * its state again. Several open issues with the title (two runs racing) are folded into the oldest.
 *
 * env: DRIFTED ("true" | "false"), STACK (stage | previews | prod), DETAILS_FILE (the refresh output; needed when drifted),
 *      RUN_URL (optional link), GITHUB_TOKEN (`issues: write`), GITHUB_REPOSITORY.
 */
import { createHash } from "node:crypto";
import { parseStackName } from "../shared-rules/stack-name";
import { RefusedError, UsageError, boolEnv, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { gitHubFromEnv, type Fetch, type GitHub } from "./lib/github";
import { readInputFile } from "./lib/github-files";

import { DRIFT_LABEL } from "../infra/pipeline-contract";

export { DRIFT_LABEL };
export const driftTitle = (stack: string) => `Drift detected in ${stack}`;

export interface DriftIssue {
  readonly number: number;
  readonly title: string;
  readonly body: string | null;
}

export type DriftAction =
  | { readonly kind: "create"; readonly title: string; readonly body: string; readonly labels: readonly string[] }
  | { readonly kind: "update"; readonly issue: number; readonly body: string; readonly comment: string }
  | { readonly kind: "close"; readonly issue: number; readonly comment: string }
  | { readonly kind: "none"; readonly why: string };

/** An issue body holds at most 65536 characters; the rest of the output stays in the run's log. */
const MAX_DETAILS = 60_000;

/** Drift output without what changes on every run (timings), so an unchanged drift is recognised. */
export function detailsDigest(details: string): string {
  const stable = details
    .split("\n")
    .filter((line) => !/^\s*Duration:/.test(line))
    .join("\n")
    .trim();
  return createHash("sha256").update(stable).digest("hex").slice(0, 16);
}

const digestMarker = (digest: string) => `<!-- drift-digest: ${digest} -->`;

export function renderBody(stack: string, details: string, runUrl: string | undefined): string {
  const shown =
    details.length > MAX_DETAILS
      ? `${details.slice(0, MAX_DETAILS)}\n… (truncated; the run's log has the rest)`
      : details;
  // A fence longer than any backtick run in the output, so the output cannot close it.
  const longest = Math.max(2, ...(shown.match(/`+/g) ?? []).map((r) => r.length));
  const fence = "`".repeat(longest + 1);
  return [
    digestMarker(detailsDigest(details)),
    `\`pulumi refresh --preview-only --expect-no-changes\` on **${stack}** found resources that differ from the stack's state:` +
      " something changed them outside Pulumi.",
    "",
    `${fence}text`,
    shown.trimEnd(),
    fence,
    "",
    `Either bring the change into the program (or the stack's config) so the next \`pulumi up\` keeps it, or run \`pulumi up --stack ${stack}\` ` +
      "to put the resources back. This issue closes itself when a drift check finds no changes.",
    runUrl ? `\nLatest check: ${runUrl}` : "",
  ].join("\n");
}

/** Pure: what to do given the drift result and the open issues carrying the label. */
export function decideDrift(input: {
  readonly drifted: boolean;
  readonly stack: string;
  readonly details: string;
  readonly openIssues: readonly DriftIssue[];
  readonly runUrl?: string;
}): DriftAction[] {
  const title = driftTitle(input.stack);
  const mine = input.openIssues.filter((i) => i.title === title).sort((a, b) => a.number - b.number);
  const [issue, ...duplicates] = mine;
  const runRef = input.runUrl ? ` (${input.runUrl})` : "";
  const folded: DriftAction[] = duplicates.map((d) => ({
    kind: "close",
    issue: d.number,
    comment: `Duplicate of #${issue.number}, which tracks drift in ${input.stack}.`,
  }));

  if (!input.drifted) {
    if (!issue) return [{ kind: "none", why: `${input.stack} has no drift and no open drift issue` }];
    return [
      ...mine.map((i) => ({
        kind: "close" as const,
        issue: i.number,
        comment: `The latest drift check found no changes in ${input.stack}${runRef}. Closing.`,
      })),
    ];
  }
  const body = renderBody(input.stack, input.details, input.runUrl);
  if (!issue) return [{ kind: "create", title, body, labels: [DRIFT_LABEL] }];
  if (issue.body?.includes(digestMarker(detailsDigest(input.details)))) {
    return [...folded, { kind: "none", why: `#${issue.number} already describes this drift` }];
  }
  return [
    ...folded,
    {
      kind: "update",
      issue: issue.number,
      body,
      comment: `The drift in ${input.stack} changed${runRef}; the description now shows the latest check.`,
    },
  ];
}

export async function openDriftIssues(github: GitHub): Promise<DriftIssue[]> {
  const items = await github.paginate<DriftIssue & { pull_request?: unknown }>(
    "/repos/{owner}/{repo}/issues",
    { state: "open", labels: DRIFT_LABEL },
    (page) => page,
  );
  return items.filter((i) => !i.pull_request);
}

export async function apply(
  github: GitHub,
  actions: readonly DriftAction[],
  log: (line: string) => void,
): Promise<void> {
  for (const action of actions) {
    switch (action.kind) {
      case "create": {
        const created = await github.request<{ number: number; html_url: string; labels?: { name: string }[] }>(
          "POST",
          "/repos/{owner}/{repo}/issues",
          {
            body: { title: action.title, body: action.body, labels: action.labels },
          },
        );
        log(`Opened #${created.number}: ${created.html_url}`);
        // GitHub drops labels silently when the token may not set them, and the next run finds the issue by label.
        if (!created.labels?.some((l) => l.name === DRIFT_LABEL)) {
          throw new RefusedError(
            `Opened #${created.number} but GitHub did not label it "${DRIFT_LABEL}", so the next check will not find it. ` +
              `Create the label in the repository (or give the token issues: write) and add it to #${created.number}.`,
          );
        }
        break;
      }
      case "update":
        await github.request("PATCH", `/repos/{owner}/{repo}/issues/${action.issue}`, { body: { body: action.body } });
        await github.request("POST", `/repos/{owner}/{repo}/issues/${action.issue}/comments`, {
          body: { body: action.comment },
        });
        log(`Updated #${action.issue}.`);
        break;
      case "close":
        await github.request("POST", `/repos/{owner}/{repo}/issues/${action.issue}/comments`, {
          body: { body: action.comment },
        });
        await github.request("PATCH", `/repos/{owner}/{repo}/issues/${action.issue}`, {
          body: { state: "closed", state_reason: "completed" },
        });
        log(`Closed #${action.issue}.`);
        break;
      case "none":
        log(`Nothing to do: ${action.why}.`);
        break;
    }
  }
}

/** The stacks checked for drift: the long-lived ones CI applies (drift.yml's matrix). */
export const DRIFT_STACKS = ["stage", "previews", "prod"] as const;

/** Only stage, the previews platform and prod are checked for drift. */
export function requireDriftStack(stack: string): string {
  let kind: string;
  try {
    kind = parseStackName(stack).kind;
  } catch {
    kind = "unknown";
  }
  if (!(DRIFT_STACKS as readonly string[]).includes(kind)) {
    throw new RefusedError(
      `STACK "${stack}" is not checked for drift; only ${DRIFT_STACKS.join(", ")} are (a preview pr-<N> is short-lived, pipeline is applied by hand). ` +
        `Fix: pass one of ${DRIFT_STACKS.join(", ")}.`,
    );
  }
  return stack;
}

export async function main(env: Env = process.env, fetchImpl?: Fetch): Promise<number> {
  if (optionalEnv(env, "DRIFTED") === undefined)
    throw new UsageError('DRIFTED is not set. Fix: pass "true" when the refresh found changes, "false" otherwise.');
  const drifted = boolEnv(env, "DRIFTED", false);
  const stack = requireDriftStack(
    requireEnv(env, "STACK", { hint: `Pass the stack the drift check ran on (${DRIFT_STACKS.join(", ")}).` }),
  );
  const detailsFile = drifted
    ? requireEnv(env, "DETAILS_FILE", { hint: "Write the refresh output to a file and pass its path." })
    : undefined;
  const details = detailsFile ? readInputFile("DETAILS_FILE", detailsFile) : "";
  const runUrl = optionalEnv(env, "RUN_URL", { pattern: /^https:\/\/\S+$/, expected: "an https URL" });
  const github = gitHubFromEnv(env, fetchImpl);
  const actions = decideDrift({ drifted, stack, details, openIssues: await openDriftIssues(github), runUrl });
  await apply(github, actions, console.log);
  return 0;
}

if (require.main === module) run(() => main());
