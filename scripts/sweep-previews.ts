/**
 * Scheduled clean-up of previews: destroys those whose pull request is closed, those not updated for the TTL, and
 * the oldest beyond the cap on concurrent previews; retries a destroy that failed on an earlier run. Reports each
 * stack's fate in the run summary.
 *
 * Only `pr-<N>` stacks are considered (shared-rules/stack-name.ts); stage, prod, pipeline and any unknown name are listed
 * as kept and never selected for destroy.
 *
 * Previews are found by listing the state bucket's object names under `.pulumi/stacks/<project>/pr-`
 * (scripts/lib/state-bucket.ts), never with `pulumi stack ls`, which reads every stack's checkpoint (stage's and
 * prod's too, which the preview deployer may not read); each is then selected by name.
 *
 * env: PREVIEW_TTL_DAYS, PREVIEW_CAP (repository variables, from the project's preview config), GITHUB_TOKEN
 *      (`pull-requests: read`), GITHUB_REPOSITORY (the app repository, whose PR numbers the stacks carry),
 *      DRY_RUN ("true": decide and report only), PULUMI_BACKEND_URL (gs://<bucket>: listed here, and the CLI's
 *      backend), Google Application Default Credentials (the auth step's).
 */
import type { Stack, Workspace } from "@pulumi/pulumi/automation";
import { REPOSITORY_VARIABLES } from "../infra/pipeline-contract";
import { parseStackName } from "../shared-rules/stack-name";
import { boolEnv, intEnv, requireEnv, run, type Env, type Sleep } from "./lib/cli";
import {
  adcToken,
  gcsLister,
  listStacks,
  parseBackendUrl,
  previewNumber,
  projectName,
  type ObjectLister,
} from "./lib/state-bucket";
import { GitHubError, gitHubFromEnv, type Fetch, type GitHub } from "./lib/github";
import { appendSummary } from "./lib/github-files";
import {
  DestroyFailedError,
  destroyAndRemove,
  errorHeadline,
  errorSummary,
  PROJECT_DIR,
  projectWorkspace,
  selectStack,
  shortStackName,
  type DestroyableStack,
} from "./destroy-preview";

export interface StackInfo {
  readonly name: string;
  /** ISO time the stack's checkpoint was last written; absent when unknown (counted as the oldest). */
  readonly lastUpdate?: string;
  /** A lock object exists: an update or destroy is running. */
  readonly updateInProgress?: boolean;
}

export type PrState = "open" | "closed";
export type DestroyReason = "closed" | "ttl" | "over-cap" | "failed-before";

export type SweepDecision =
  | { readonly stack: StackInfo; readonly action: "keep"; readonly why: string }
  | {
      readonly stack: StackInfo;
      readonly action: "destroy";
      readonly reason: DestroyReason;
      /** An earlier destroy of this stack failed: this is a retry, reported as such. */
      readonly retry: boolean;
      readonly why: string;
    };

export interface SweepInput {
  readonly stacks: readonly StackInfo[];
  /** PR number → state; a PR missing here (not found) is treated as open, so only TTL and cap can remove it. */
  readonly prs: ReadonlyMap<number, PrState>;
  readonly now: Date;
  readonly ttlDays: number;
  readonly cap: number;
  /** Stacks whose last operation was a destroy that failed. */
  readonly failedBefore: ReadonlySet<string>;
}

const DAY_MS = 86_400_000;

function updatedAt(stack: StackInfo): number | undefined {
  const t = stack.lastUpdate ? Date.parse(stack.lastUpdate) : NaN;
  return Number.isNaN(t) ? undefined : t;
}

/**
 * One decision per stack, in the input's order. Rules, first match wins for a preview:
 *  - an update in progress: keep (its lock would refuse the destroy; the next run sees it again);
 *  - PR closed: destroy (closed);
 *  - not updated for more than ttlDays: destroy (ttl);
 *  - the last operation was a failed destroy: destroy again (failed-before). A failed destroy counts as an update,
 *    so a half-destroyed stack would otherwise look fresh and sit out the TTL;
 *  - then, if more than `cap` previews remain, the least recently updated go (over-cap); a stack that never
 *    completed an update counts as the oldest. Previews with an update in progress count but are not chosen.
 */
export function decideSweep(input: SweepInput): SweepDecision[] {
  const decisions = new Map<StackInfo, SweepDecision>();
  const remaining: StackInfo[] = [];
  for (const stack of input.stacks) {
    let pr: number | undefined;
    try {
      const kind = parseStackName(shortStackName(stack.name));
      if (kind.kind === "preview") pr = Number(kind.pr);
      else decisions.set(stack, { stack, action: "keep", why: `the ${kind.kind} stack is never swept` });
    } catch {
      decisions.set(stack, { stack, action: "keep", why: "not a stack of the monitor project" });
    }
    if (pr === undefined) continue;

    const retry = input.failedBefore.has(stack.name);
    const destroy = (reason: DestroyReason, why: string) =>
      decisions.set(stack, {
        stack,
        action: "destroy",
        reason,
        retry,
        why: retry ? `${why}; retrying a destroy that failed before` : why,
      });
    const last = updatedAt(stack);
    if (stack.updateInProgress) {
      decisions.set(stack, { stack, action: "keep", why: "an update is in progress" });
      remaining.push(stack);
    } else if (input.prs.get(pr) === "closed") {
      destroy("closed", `PR #${pr} is closed`);
    } else if (last !== undefined && input.now.getTime() - last > input.ttlDays * DAY_MS) {
      destroy(
        "ttl",
        `not updated for ${Math.floor((input.now.getTime() - last) / DAY_MS)} days (TTL ${input.ttlDays})`,
      );
    } else if (retry) {
      destroy("failed-before", "its last destroy failed");
    } else {
      const state = input.prs.get(pr);
      decisions.set(stack, {
        stack,
        action: "keep",
        why: state ? `PR #${pr} is ${state}` : `PR #${pr} not found; kept until its TTL`,
      });
      remaining.push(stack);
    }
  }

  let excess = remaining.length - input.cap;
  const oldestFirst = remaining
    .filter((s) => !s.updateInProgress)
    .sort(
      (a, b) =>
        (updatedAt(a) ?? -Infinity) - (updatedAt(b) ?? -Infinity) ||
        a.name.localeCompare(b.name, "en", { numeric: true }),
    );
  for (const stack of oldestFirst) {
    if (excess <= 0) break;
    decisions.set(stack, {
      stack,
      action: "destroy",
      reason: "over-cap",
      retry: false,
      why: `${remaining.length} previews exceed the cap of ${input.cap}; this is among the least recently updated`,
    });
    excess--;
  }
  return input.stacks.map((s) => decisions.get(s)!);
}

export interface SweepOutcome {
  readonly decision: SweepDecision;
  /** For destroys: "dry run", "destroyed", or the failure. */
  readonly result?: string;
}

/** Markdown-safe table cell: no pipes or line breaks from an error message. */
function cell(text: string): string {
  return text
    .replace(/\|/g, "\\|")
    .replace(/[\r\n]+/g, " ")
    .replace(/</g, "&lt;")
    .slice(0, 300);
}

export function renderSummary(
  outcomes: readonly SweepOutcome[],
  settings: { ttlDays: number; cap: number; dryRun: boolean },
): string {
  const destroyed = outcomes.filter((o) => o.decision.action === "destroy");
  const lines = [
    `### Preview sweep${settings.dryRun ? " (dry run)" : ""}`,
    "",
    `TTL ${settings.ttlDays} days, cap ${settings.cap} previews. ${destroyed.length} of ${outcomes.length} stacks selected for destroy.`,
    "",
    "| Stack | Last update | Decision | Why | Result |",
    "|---|---|---|---|---|",
  ];
  for (const { decision, result } of outcomes) {
    const s = decision.stack;
    const what =
      decision.action === "destroy" ? `destroy (${decision.reason}${decision.retry ? ", retry" : ""})` : "keep";
    lines.push(
      `| \`${cell(s.name)}\` | ${cell(s.lastUpdate ?? "never")} | ${what} | ${cell(decision.why)} | ${cell(result ?? "")} |`,
    );
  }
  return `${lines.join("\n")}\n`;
}

/** What the sweep needs from the state; the real one lists the bucket and selects through the Automation API. */
export interface SweepBackend {
  /** The previews (`pr-*`) only: nothing else may be read. */
  listStacks(): Promise<StackInfo[]>;
  /** Whether the stack's most recent operation is a destroy that failed. */
  lastDestroyFailed(name: string): Promise<boolean>;
  select(name: string): Promise<DestroyableStack>;
}

/** PR states from the GitHub REST API; a PR that does not exist is left out. */
export async function fetchPrStates(github: GitHub, numbers: readonly number[]): Promise<Map<number, PrState>> {
  const states = new Map<number, PrState>();
  for (const n of numbers) {
    try {
      const pr = await github.request<{ state: string }>("GET", `/repos/{owner}/{repo}/pulls/${n}`);
      states.set(n, pr.state === "closed" ? "closed" : "open");
    } catch (err) {
      if (!(err instanceof GitHubError && err.status === 404)) throw err;
    }
  }
  return states;
}

export interface SweepIo {
  readonly backend: SweepBackend;
  readonly github: GitHub;
  readonly now: Date;
  readonly sleep?: Sleep;
  readonly log: (line: string) => void;
}

/** Lists, decides, destroys (unless a dry run); resolves with every stack's outcome. Failures are outcomes, not throws. */
export async function sweep(
  io: SweepIo,
  settings: { ttlDays: number; cap: number; dryRun: boolean },
): Promise<SweepOutcome[]> {
  const stacks = await io.backend.listStacks();
  const previews = stacks.filter((s) => previewNumber(s.name) !== undefined);
  const prs = await fetchPrStates(
    io.github,
    previews.map((s) => previewNumber(s.name)!),
  );
  const failedBefore = new Set<string>();
  for (const s of previews) if (await io.backend.lastDestroyFailed(s.name)) failedBefore.add(s.name);

  const outcomes: SweepOutcome[] = [];
  for (const decision of decideSweep({
    stacks,
    prs,
    now: io.now,
    ttlDays: settings.ttlDays,
    cap: settings.cap,
    failedBefore,
  })) {
    if (decision.action === "keep") {
      outcomes.push({ decision });
      continue;
    }
    io.log(`${decision.stack.name}: destroy (${decision.reason}${decision.retry ? ", retry" : ""}): ${decision.why}`);
    if (settings.dryRun) {
      outcomes.push({ decision, result: "dry run: not destroyed" });
      continue;
    }
    try {
      const stack = await io.backend.select(decision.stack.name);
      const took = await destroyAndRemove(stack, { sleep: io.sleep, log: io.log, onOutput: () => undefined });
      outcomes.push({ decision, result: took > 1 ? `destroyed after ${took} attempts` : "destroyed" });
    } catch (err) {
      io.log(`${decision.stack.name}: ${errorSummary(err)}`);
      const headline =
        err instanceof DestroyFailedError ? `${err.attempts} attempts, last: ${err.lastError}` : errorHeadline(err);
      outcomes.push({ decision, result: `failed (${headline}); retried on the next run` });
    }
  }
  return outcomes;
}

/**
 * The bucket listing and the Automation API behind SweepBackend: previews are listed by object name, then each is
 * selected by name (its checkpoint and history are objects the preview deployer may read).
 */
export function stateBackend(
  lister: ObjectLister,
  backend: { prefix: string; project: string },
  workspace: () => Promise<Workspace>,
): SweepBackend {
  const selected = new Map<string, Stack>();
  const select = async (name: string) => {
    if (!selected.has(name)) selected.set(name, await selectStack(await workspace(), name));
    return selected.get(name)!;
  };
  return {
    listStacks: () => listStacks(lister, backend, "pr-"),
    lastDestroyFailed: async (name) => {
      // showSecrets false: the Automation API defaults to decrypting config into the history it returns.
      const [last] = await (await select(name)).history(1, 1, false);
      return last?.kind === "destroy" && last.result === "failed";
    },
    select,
  };
}

export async function main(env: Env = process.env, fetchImpl?: Fetch, lister?: ObjectLister): Promise<number> {
  const hint = (name: string) =>
    `Set it from the repository variable ${name} (the pipeline stack writes it from the preview config).`;
  const ttlDays = intEnv(env, "PREVIEW_TTL_DAYS", { min: 1, max: 365 }, hint(REPOSITORY_VARIABLES.previewTtlDays));
  const cap = intEnv(env, "PREVIEW_CAP", { min: 0, max: 1000 }, hint(REPOSITORY_VARIABLES.previewCap));
  const dryRun = boolEnv(env, "DRY_RUN", false);
  const github = gitHubFromEnv(env, fetchImpl);
  const { bucket, prefix } = parseBackendUrl(
    requireEnv(env, "PULUMI_BACKEND_URL", {
      hint: "Pass the environment's variable PULUMI_BACKEND_URL (gs://<bucket>).",
    }),
  );
  let workspace: Promise<Workspace> | undefined;
  const backend = stateBackend(
    lister ?? gcsLister(bucket, adcToken(), fetchImpl),
    { prefix, project: projectName(PROJECT_DIR) },
    () => (workspace ??= projectWorkspace()),
  );
  const outcomes = await sweep({ backend, github, now: new Date(), log: console.log }, { ttlDays, cap, dryRun });
  const summary = renderSummary(outcomes, { ttlDays, cap, dryRun });
  if (!appendSummary(env, summary)) console.log(summary);
  const failed = outcomes.filter((o) => o.result?.startsWith("failed"));
  if (failed.length > 0) {
    console.error(
      `${failed.length} destroy(s) failed: ${failed.map((o) => o.decision.stack.name).join(", ")}. The next run retries them.`,
    );
    return 1;
  }
  return 0;
}

if (require.main === module) run(() => main());
