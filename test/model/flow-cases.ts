/**
 * The nine delivery flows, each for every event that starts it, with what it must get done; and the flows the model
 * shows broken today, each naming the issue item that fixes it. A flow leaves KNOWN_BROKEN when its fix merges: the
 * suite fails while a listed flow works, or an unlisted one does not, so the README's table is always what the model
 * finds.
 */
import { loadStackConfig } from "../../infra/engine/config-files";
import { APP_FILES_DIR } from "../../infra/pipeline-contract";
import { ROOT } from "../harness";
import type { FlowCase, FlowResult, Goal } from "./flows";
import type { Repository, RunContext, Trigger } from "./github-claims";
import { LONG_STACKS, PREVIEW_STACK, repositories } from "./world";

const PR = Number(PREVIEW_STACK.slice(3));
const MAIN = "refs/heads/main";

function run(repository: Repository, caller: string, trigger: Trigger, actor = "a-maintainer"): RunContext {
  return { repository, workflowPath: caller.replace(`${APP_FILES_DIR}/`, ""), trigger, actor };
}

const pullRequest = (action: "opened" | "synchronize" | "closed", extra: { fromFork?: boolean } = {}): Trigger => ({
  event: "pull_request",
  number: PR,
  action,
  headRef: "feature/login",
  ...extra,
});

const up = (stack: string): Goal => ({ op: "up", stack });

export function flowCases(): FlowCase[] {
  const w = repositories();
  const long = LONG_STACKS;
  const withPreview = [...long, PREVIEW_STACK];
  const app = (file: string) => `${APP_FILES_DIR}/.github/workflows/${file}`;
  const infra = (file: string) => `.github/workflows/${file}`;
  const c = (
    flow: string,
    event: string,
    caller: string,
    repository: Repository,
    trigger: Trigger,
    goals: Goal[],
    options: {
      actor?: string;
      existing?: readonly string[];
      inputs?: Record<string, string>;
      stepOutputs?: Record<string, string>;
      failedSteps?: string[];
    } = {},
  ): FlowCase => ({
    flow,
    event,
    caller,
    run: run(repository, caller, trigger, options.actor),
    inputs: options.inputs,
    existing: options.existing ?? long,
    goals,
    stepOutputs: options.stepOutputs,
    failedSteps: options.failedSteps,
  });
  const dispatch: Trigger = { event: "workflow_dispatch", ref: MAIN };
  const oneClick = (environment: string, what: string, tag: string) =>
    c(
      "prod deploy",
      `by hand: ${environment}, ${what}`,
      app("deploy.yml"),
      w.app,
      dispatch,
      [{ op: "preview", stack: environment }, up(environment)],
      { inputs: { environment, tag } },
    );
  const previewUp = app("preview.yml");
  // Admission reads the previews project's connection counts before anything is deployed.
  const admission: Goal = { timeSeries: loadStackConfig(ROOT, "previews").config["gcp:project"] };
  const destroyGoals: Goal[] = [
    { op: "destroy", stack: PREVIEW_STACK },
    { op: "stack rm", stack: PREVIEW_STACK },
  ];
  return [
    c("preview up", "PR opened (app branch)", previewUp, w.app, pullRequest("opened"), [
      admission,
      { op: "init", stack: PREVIEW_STACK },
      up(PREVIEW_STACK),
    ]),
    c(
      "preview up",
      "PR synchronize (later push)",
      previewUp,
      w.app,
      pullRequest("synchronize"),
      [admission, up(PREVIEW_STACK)],
      { existing: withPreview },
    ),
    c("preview up", "PR from a fork", previewUp, w.app, pullRequest("opened", { fromFork: true }), []),
    c("preview up", "PR by Dependabot", previewUp, w.app, pullRequest("opened"), [], { actor: "dependabot[bot]" }),
    c("preview destroy", "PR closed by a person", previewUp, w.app, pullRequest("closed"), destroyGoals, {
      existing: withPreview,
    }),
    c("preview destroy", "PR merged by the merge queue", previewUp, w.app, pullRequest("closed"), destroyGoals, {
      existing: withPreview,
      actor: "github-merge-queue[bot]",
    }),
    c("preview destroy", "PR closed by Dependabot", previewUp, w.app, pullRequest("closed"), [], {
      existing: withPreview,
      actor: "dependabot[bot]",
    }),
    // scripts/stage-order.ts: stage runs an older merge than this one (the deploy of a merge that a newer one
    // overtook is skipped: every image is still built, docs/release.md).
    c(
      "stage",
      "push to main",
      app("stage.yml"),
      w.app,
      { event: "push", ref: MAIN },
      [{ registry: "push" }, up("stage")],
      { stepOutputs: { "order.deploy": "true" } },
    ),
    c("pre-release", "schedule", app("pre-release.yml"), w.app, { event: "schedule" }, [
      { op: "stack output", stack: "stage" },
      { registry: "tag" },
    ]),
    c("pre-release", "by hand, a release branch", app("pre-release.yml"), w.app, dispatch, [{ registry: "tag" }], {
      inputs: { target_ref: "release/2026.01" },
    }),
    // A stage fix on a release branch: stage never built its commit, so the registry has no image of it
    // (`docker manifest inspect` fails) and the pre-release builds it as stage would.
    c(
      "pre-release",
      "by hand, a stage fix never built",
      app("pre-release.yml"),
      w.app,
      dispatch,
      [{ registry: "push" }, { registry: "tag" }],
      { inputs: { target_ref: "release/2026.01" }, failedSteps: ["existing"] },
    ),
    oneClick("prod", "a calendar tag", "2026.01.05"),
    oneClick("stage", "a short SHA", "abc1234"),
    c("sweeper", "schedule", app("sweep-previews.yml"), w.app, { event: "schedule" }, destroyGoals, {
      existing: withPreview,
    }),
    c("sweeper", "by hand", app("sweep-previews.yml"), w.app, dispatch, destroyGoals, {
      existing: withPreview,
    }),
    c("config preview", "PR (branch of this repository)", infra("config-preview.yml"), w.infra, pullRequest("opened"), [
      { op: "preview", stack: "stage" },
      { op: "preview", stack: "previews" },
      { op: "preview", stack: "prod" },
    ]),
    c(
      "config preview",
      "PR from a fork",
      infra("config-preview.yml"),
      w.infra,
      pullRequest("opened", { fromFork: true }),
      [],
    ),
    c("config apply", "push to main", infra("config-apply.yml"), w.infra, { event: "push", ref: MAIN }, [
      up("previews"),
      up("stage"),
      up("prod"),
    ]),
    c("drift", "schedule", infra("drift.yml"), w.infra, { event: "schedule" }, [
      { op: "refresh --preview-only", stack: "stage" },
      { op: "refresh --preview-only", stack: "previews" },
      { op: "refresh --preview-only", stack: "prod" },
    ]),
    c("drift", "by hand", infra("drift.yml"), w.infra, dispatch, [
      { op: "refresh --preview-only", stack: "stage" },
      { op: "refresh --preview-only", stack: "previews" },
      { op: "refresh --preview-only", stack: "prod" },
    ]),
  ];
}

/**
 * The issue items (issue 14, "Every delivery flow works end to end, and only for whom it should") whose breakage the
 * model shows, each with the problem text that shows it: what KNOWN_BROKEN names, and how the suite's negative cases
 * (model-flows.test.ts, "the walk fails a flow") recognise one come back.
 */
export const ISSUE_ITEMS = {
  "1": { title: "secrets manager", shows: /the config's secrets manager is the passphrase manager/ },
  "2": { title: "listing stacks", shows: / stack ls: storage\.objects\.get on .*denied/ },
  "6": { title: "drift", shows: /secretmanager\.versions\.access on .* denied/ },
  "7": { title: "bots", shows: /never gets to .*\(skipped: .*preview\.yml#destroy\b/ },
  "8": { title: "deployment links", shows: /every pull request deploys to environment/ },
  "9": { title: "stage queue", shows: /builds under concurrency group .* shared with the next push/ },
  "only for whom": { title: "a PR reaches prod's state", shows: /a pull request's job .* reaches .*, which / },
  // The pipeline stack's environments (each PR's `preview-<N>` with the repository's PREVIEW_* variables;
  // `review-prod` and `drift` for prod, `review` for stage and the previews stack): a workflow naming another gets
  // no credentials, or an identity that may not read prod.
  environments: {
    title: "a workflow not on the pipeline's environments",
    shows:
      /may not deploy to preview \(policy: main\)|service_account is empty in environment preview|with no Google credentials|\(prod\)[^:]*: .*denied: .*(condition read-stacks|no role of monitor-review@)/,
  },
} as const;
export type IssueItem = keyof typeof ISSUE_ITEMS;

/**
 * Flows that do not work yet, by `<flow> › <event>`, with the items whose fixes they wait for. Remove an entry when
 * its fixes merge: the suite fails while a listed flow works. An item shows only where the flow gets that far (a
 * job with no credentials checks no state), so a fix can reveal the next item: list it then. None today.
 */
export const KNOWN_BROKEN: Readonly<Record<string, readonly IssueItem[]>> = {};

export const caseName = (c: FlowCase) => `${c.flow} › ${c.event}`;

/** The problems no listed item explains (a goal missed because of an explained problem is explained by it). */
export function unexplained(problems: readonly string[], items: readonly IssueItem[]): string[] {
  const explained = (p: string) => items.some((i) => ISSUE_ITEMS[i].shows.test(p));
  const causes = problems.filter((p) => !p.startsWith("never gets to "));
  return problems.filter((p) => !explained(p) && !(p.startsWith("never gets to ") && causes.some(explained)));
}

const account = (email: string) => email.split("@")[0];

/** The table `flow × event → identity, works?` (markdown), as the README shows it. */
export function flowTable(results: readonly FlowResult[]): string {
  const rows = results.map((r) => {
    const name = caseName(r.case);
    const broken = KNOWN_BROKEN[name];
    const identity =
      r.identities.length === 0
        ? r.case.goals.length === 0
          ? "none (GitHub gives no token)"
          : "none (no job gets credentials)"
        : r.jobs
            .filter((j) => j.identity)
            .map((j) => `${account(j.identity!)}${j.reviewers > 0 ? " after review" : ""}`)
            .filter((v, i, all) => all.indexOf(v) === i)
            .join(", ");
    const works = broken
      ? `no: ${broken.map((i) => `${/^\d/.test(i) ? `item ${i}` : i} (${ISSUE_ITEMS[i].title})`).join(", ")}`
      : "works";
    return `| ${r.case.flow} | ${r.case.event} | ${identity} | ${works} | \`model-flows › ${name}\` |`;
  });
  return ["| Flow | Event | Identity | Works? | Shown by |", "|---|---|---|---|---|", ...rows].join("\n");
}
