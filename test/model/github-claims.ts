/**
 * The OIDC token GitHub Actions gives a job, claim by claim, for each kind of run the flows meet. Sources (github/docs):
 * - `content/actions/reference/security/oidc.md` ("OIDC token claims", "Example subject claims", "Immutable subject
 *   claims"): every claim's meaning, the `sub` formats and their order, ids as strings;
 * - `content/actions/how-tos/secure-your-work/security-harden-deployments/oidc-with-reusable-workflows.md` ("How the
 *   token works with reusable workflows"): in a called workflow "The `workflow`, `ref`, and other attributes describe
 *   the caller workflow, while `job_workflow_ref` refers to the called workflow";
 * - `content/actions/reference/workflows-and-actions/events-that-trigger-workflows.md`: `GITHUB_REF` per event
 *   (pull_request: `refs/pull/<N>/merge`; push: the pushed ref; schedule: the default branch; workflow_dispatch: "Branch
 *   or tag that received dispatch"; merge_group: the merge group's ref);
 * - `content/actions/reference/workflows-and-actions/workflow-syntax.md` (`permissions`): a pull request from a fork gets
 *   its write permissions downgraded to read, and "Workflow runs triggered by Dependabot pull requests run as if they
 *   are from a forked repository" with no secrets. `id-token` is write or nothing (github/docs#33483), so neither run
 *   can mint a token; google-github-actions/auth says so in its error ("... or this job is being run from a fork").
 */

export interface Repository {
  /** `owner/name`. */
  readonly fullName: string;
  /** Numeric ids, as the token carries them: strings. */
  readonly id: string;
  readonly ownerId: string;
  readonly visibility?: "public" | "private" | "internal";
  /** @default "main" */
  readonly defaultBranch?: string;
  /**
   * Repositories created after 2026-07-15 (or renamed, transferred, or opted in) use the immutable `sub`
   * `repo:OWNER@OWNER_ID/REPO@REPO_ID:...` (oidc.md, "Immutable subject claims"). @default false
   */
  readonly immutableSubject?: boolean;
}

/** What started the run. */
export type Trigger =
  | {
      readonly event: "pull_request";
      readonly number: number;
      /** The activity type; GitHub runs a `pull_request` workflow for opened, synchronize, reopened by default. */
      readonly action: "opened" | "synchronize" | "reopened" | "closed";
      /** The pull request's head branch and base branch (`head_ref`, `base_ref`). */
      readonly headRef: string;
      readonly baseRef?: string;
      /** The head branch lives in a fork. */
      readonly fromFork?: boolean;
    }
  | { readonly event: "push"; readonly ref: string }
  | { readonly event: "workflow_dispatch"; readonly ref: string }
  | { readonly event: "schedule" }
  | { readonly event: "merge_group"; readonly baseRef?: string; readonly prNumber: number; readonly headSha: string };

export type EventName = Trigger["event"];

export interface RunContext {
  /** The repository the run belongs to: for a called workflow, the caller's. */
  readonly repository: Repository;
  /** The workflow file that started the run, e.g. `.github/workflows/preview.yml`. */
  readonly workflowPath: string;
  readonly workflowName?: string;
  readonly trigger: Trigger;
  /** Who triggered the run (`github.actor`): `dependabot[bot]` makes it a Dependabot run. */
  readonly actor: string;
  /** The run's commit; defaults to a fixed fake. */
  readonly sha?: string;
}

export interface JobContext {
  readonly run: RunContext;
  /** The environment the job names (after expressions are evaluated); none means no `environment` claim. */
  readonly environment?: string;
  /** Set when the job is in a called (reusable) workflow: which file, at the ref the caller wrote, and its commit. */
  readonly called?: {
    readonly repository: Repository;
    readonly path: string;
    readonly ref: string;
    readonly sha: string;
  };
  /**
   * Whether the job has `id-token: write` (for a called workflow, the caller's job must grant it too: "the calling
   * job must have id-token: write", google-github-actions/auth README). @default true
   */
  readonly idTokenWrite?: boolean;
  /** The audience the token is requested for; google-github-actions/auth asks for `https://iam.googleapis.com/<provider>`. */
  readonly audience?: string;
}

export type Claims = Readonly<Record<string, string>>;

export type Token =
  { readonly issued: true; readonly claims: Claims } | { readonly issued: false; readonly why: string };

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";
const FAKE_SHA = "1111111111111111111111111111111111111111";

/** `refs/...` of the run (GITHUB_REF, events-that-trigger-workflows.md). */
export function runRef(run: RunContext): string {
  const t = run.trigger;
  switch (t.event) {
    case "pull_request":
      return `refs/pull/${t.number}/merge`;
    case "push":
    case "workflow_dispatch":
      return t.ref;
    case "schedule":
      return `refs/heads/${run.repository.defaultBranch ?? "main"}`;
    case "merge_group":
      // "Ref of the merge group": the queue's temporary branch for the pull request.
      return `refs/heads/gh-readonly-queue/${t.baseRef ?? run.repository.defaultBranch ?? "main"}/pr-${t.prNumber}-${t.headSha}`;
  }
}

/** Why GitHub gives the job no token, or undefined when it does. */
export function noTokenReason(job: JobContext): string | undefined {
  if (job.idTokenWrite === false) return "the job (or its caller) has no `id-token: write` permission";
  const t = job.run.trigger;
  if (t.event === "pull_request" && t.fromFork) {
    return "a pull request from a fork: write permissions, id-token included, become read (workflow-syntax.md, permissions)";
  }
  if (job.run.actor === "dependabot[bot]") {
    return "a run Dependabot triggered runs as if from a fork: read-only token, no secrets, no OIDC (workflow-syntax.md)";
  }
  return undefined;
}

/** The default `sub` (oidc.md, "Example subject claims"): environment first, then pull_request, then the ref. */
function subject(job: JobContext, ref: string): string {
  const repo = job.run.repository;
  const [owner, name] = repo.fullName.split("/");
  const who = repo.immutableSubject ? `${owner}@${repo.ownerId}/${name}@${repo.id}` : repo.fullName;
  // "Any `:` within the metadata values will be replaced with `%3A`".
  const esc = (s: string) => s.replace(/:/g, "%3A");
  if (job.environment !== undefined) return `repo:${who}:environment:${esc(job.environment)}`;
  if (job.run.trigger.event === "pull_request") return `repo:${who}:pull_request`;
  return `repo:${who}:ref:${esc(ref)}`;
}

/** The token GitHub issues to `job`, or why it issues none. */
export function oidcToken(job: JobContext): Token {
  const why = noTokenReason(job);
  if (why) return { issued: false, why };
  const run = job.run;
  const repo = run.repository;
  const ref = runRef(run);
  const sha = run.sha ?? FAKE_SHA;
  const t = run.trigger;
  // workflow_ref: "<repo>/<path>@<ref>" of the workflow that started the run (the caller, for a called workflow).
  const workflowRef = `${repo.fullName}/${run.workflowPath}@${ref}`;
  const claims: Record<string, string> = {
    iss: GITHUB_ISSUER,
    aud: job.audience ?? `https://github.com/${repo.fullName.split("/")[0]}`,
    sub: subject(job, ref),
    ref,
    // "The type of ref, for example: branch"; a pull request's merge ref and a merge group's are branches too.
    ref_type: ref.startsWith("refs/tags/") ? "tag" : "branch",
    sha,
    repository: repo.fullName,
    repository_id: repo.id,
    repository_owner: repo.fullName.split("/")[0],
    repository_owner_id: repo.ownerId,
    repository_visibility: repo.visibility ?? "public",
    actor: run.actor,
    actor_id: "1000",
    event_name: t.event,
    // The example token carries both as "" outside pull requests.
    head_ref: t.event === "pull_request" ? t.headRef : "",
    base_ref: t.event === "pull_request" ? (t.baseRef ?? repo.defaultBranch ?? "main") : "",
    workflow: run.workflowName ?? run.workflowPath,
    workflow_ref: workflowRef,
    workflow_sha: sha,
    // Documented "for jobs using a reusable workflow"; for a job of the starting workflow itself GitHub sets it to
    // that workflow (observed, and what this repository's own-workflow condition relies on).
    job_workflow_ref: job.called
      ? `${job.called.repository.fullName}/${job.called.path}@${job.called.ref}`
      : workflowRef,
    job_workflow_sha: job.called ? job.called.sha : sha,
    run_id: "4242",
    run_number: "7",
    run_attempt: "1",
    runner_environment: "github-hosted",
  };
  // "The name of the environment used by the job": absent when the job names none.
  if (job.environment !== undefined) claims.environment = job.environment;
  return { issued: true, claims };
}
