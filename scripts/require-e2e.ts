/**
 * Refuses a prod deploy of a commit that has no green end-to-end run against stage.
 *
 * The app's E2E suite is `.github/workflows/functional_tests_cron.yml` in the app repository: scheduled daily as a
 * matrix over stage and production, or dispatched by hand with the `test_env` input; either way the environment
 * reaches the tests as E2E_TEST_ENV and shows in the job's name, `Functional tests (stage) [<event>]`. A run's own
 * conclusion is not enough: a dispatched run against production only is green without testing stage, and a
 * scheduled run is red when only the production half failed. So the check is per job: some completed run of that
 * workflow at this commit has a successful job against stage.
 *
 * env: COMMIT_SHA (full SHA of the commit to deploy), GITHUB_TOKEN (`actions: read` on the app repository),
 *      GITHUB_REPOSITORY (the app repository), E2E_WORKFLOW (optional workflow file name).
 */
import { FULL_SHA, RefusedError, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { gitHubFromEnv, type Fetch, type GitHub } from "./lib/github";

export const DEFAULT_E2E_WORKFLOW = "functional_tests_cron.yml";
/** How the app's workflow names a job by the environment it tested (the matrix value or the `test_env` input). */
export const STAGE_JOB = /\(stage\)/;

export interface WorkflowRun {
  readonly id: number;
  readonly html_url: string;
  readonly status: string;
  readonly conclusion: string | null;
  readonly event: string;
}
export interface WorkflowJob {
  readonly name: string;
  readonly conclusion: string | null;
  readonly html_url: string;
}

export type E2eVerdict = { ok: true; job: WorkflowJob; run: WorkflowRun } | { ok: false; reason: string };

/** Pure: among the runs at the commit and their jobs, a successful job against stage. */
export function judgeE2e(
  runs: readonly { run: WorkflowRun; jobs: readonly WorkflowJob[] }[],
  workflow: string,
  sha: string,
): E2eVerdict {
  for (const { run, jobs } of runs) {
    const job = jobs.find((j) => STAGE_JOB.test(j.name) && j.conclusion === "success");
    if (job) return { ok: true, job, run };
  }
  const fix =
    `Run "${workflow}" by hand (workflow_dispatch, test_env: stage) on the branch whose head is ${sha} while stage runs that commit, ` +
    `wait for it to pass, then start the deploy again.`;
  if (runs.length === 0)
    return { ok: false, reason: `No completed run of ${workflow} exists for commit ${sha}. ${fix}` };
  const seen = runs.flatMap(({ run, jobs }) =>
    jobs.map((j) => `${j.name}: ${j.conclusion ?? run.status} (${j.html_url})`),
  );
  return {
    ok: false,
    reason: `No run of ${workflow} for commit ${sha} passed against stage. Jobs seen:\n  ${seen.join("\n  ") || "(none)"}\n${fix}`,
  };
}

export async function checkE2e(github: GitHub, workflow: string, sha: string): Promise<E2eVerdict> {
  const runs = await github.paginate<WorkflowRun, { workflow_runs?: WorkflowRun[] }>(
    `/repos/{owner}/{repo}/actions/workflows/${encodeURIComponent(workflow)}/runs`,
    { head_sha: sha, status: "completed" },
    (page) => page.workflow_runs ?? [],
    3,
  );
  const withJobs = [];
  for (const run of runs) {
    const jobs = await github.paginate<WorkflowJob, { jobs?: WorkflowJob[] }>(
      `/repos/{owner}/{repo}/actions/runs/${run.id}/jobs`,
      { filter: "latest" },
      (page) => page.jobs ?? [],
      3,
    );
    withJobs.push({ run, jobs });
  }
  return judgeE2e(withJobs, workflow, sha);
}

export async function main(env: Env = process.env, fetchImpl?: Fetch): Promise<number> {
  const sha = requireEnv(env, "COMMIT_SHA", {
    pattern: FULL_SHA,
    expected: "a full 40-hex commit SHA",
    hint: 'Resolve the release tag first, e.g. `git rev-parse "$TAG^{commit}"`.',
  });
  const workflow =
    optionalEnv(env, "E2E_WORKFLOW", {
      pattern: /^[A-Za-z0-9._-]+\.ya?ml$/,
      expected: "a workflow file name such as functional_tests_cron.yml",
    }) ?? DEFAULT_E2E_WORKFLOW;
  const verdict = await checkE2e(gitHubFromEnv(env, fetchImpl), workflow, sha);
  if (!verdict.ok) throw new RefusedError(verdict.reason);
  console.log(`E2E against stage passed for ${sha}: ${verdict.job.name} (${verdict.job.html_url}).`);
  return 0;
}

if (require.main === module) run(() => main());
