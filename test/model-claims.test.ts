import { describe, expect, it } from "vitest";
import { type JobContext, type Repository, oidcToken } from "./model/github-claims";

const app: Repository = { fullName: "octo-org/octo-repo", id: "74", ownerId: "65" };
const infra: Repository = { fullName: "octo-org/octo-automation", id: "75", ownerId: "65" };
const called = (path: string, ref: string) => ({ repository: infra, path, ref, sha: "a".repeat(40) });

function claims(job: JobContext) {
  const token = oidcToken(job);
  if (!token.issued) throw new Error(`no token: ${token.why}`);
  return token.claims;
}

describe("GitHub's OIDC claims (github/docs oidc.md, oidc-with-reusable-workflows.md)", () => {
  it("reproduces the documented called-workflow token: caller's ref and event, called file in job_workflow_ref", () => {
    // The example token of oidc-with-reusable-workflows.md: a workflow_dispatch on main, environment prod.
    const c = claims({
      run: {
        repository: app,
        workflowPath: ".github/workflows/deploy.yml",
        trigger: { event: "workflow_dispatch", ref: "refs/heads/main" },
        actor: "octocat",
      },
      environment: "prod",
      called: called(".github/workflows/oidc.yml", "refs/heads/main"),
    });
    expect(c).toMatchObject({
      sub: "repo:octo-org/octo-repo:environment:prod",
      aud: "https://github.com/octo-org",
      ref: "refs/heads/main",
      repository: "octo-org/octo-repo",
      repository_owner: "octo-org",
      repository_id: "74",
      repository_owner_id: "65",
      event_name: "workflow_dispatch",
      ref_type: "branch",
      head_ref: "",
      base_ref: "",
      job_workflow_ref: "octo-org/octo-automation/.github/workflows/oidc.yml@refs/heads/main",
      workflow_ref: "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
      environment: "prod",
      iss: "https://token.actions.githubusercontent.com",
    });
    expect(c.job_workflow_sha).toBe("a".repeat(40));
  });

  it("pull_request: the merge ref, head and base refs, sub pull_request without an environment", () => {
    const c = claims({
      run: {
        repository: app,
        workflowPath: ".github/workflows/preview.yml",
        trigger: { event: "pull_request", number: 12, action: "opened", headRef: "feature" },
        actor: "octocat",
      },
      called: called(".github/workflows/preview-up.yml", "b".repeat(40)),
    });
    expect(c).toMatchObject({
      ref: "refs/pull/12/merge",
      event_name: "pull_request",
      head_ref: "feature",
      base_ref: "main",
      sub: "repo:octo-org/octo-repo:pull_request",
      job_workflow_ref: `octo-org/octo-automation/.github/workflows/preview-up.yml@${"b".repeat(40)}`,
    });
    expect(c).not.toHaveProperty("environment");
  });

  it("an environment wins the sub even on a pull request, and a colon is escaped", () => {
    const c = claims({
      run: {
        repository: infra,
        workflowPath: ".github/workflows/config-preview.yml",
        trigger: { event: "pull_request", number: 3, action: "synchronize", headRef: "x" },
        actor: "octocat",
      },
      environment: "review:1",
    });
    expect(c.sub).toBe("repo:octo-org/octo-automation:environment:review%3A1");
    // A job of the starting workflow: job_workflow_ref names that workflow at the run's ref.
    expect(c.job_workflow_ref).toBe("octo-org/octo-automation/.github/workflows/config-preview.yml@refs/pull/3/merge");
  });

  it("push, schedule, workflow_dispatch and merge_group refs", () => {
    const run = (trigger: JobContext["run"]["trigger"]) =>
      claims({ run: { repository: app, workflowPath: ".github/workflows/x.yml", trigger, actor: "octocat" } });
    expect(run({ event: "push", ref: "refs/heads/main" })).toMatchObject({
      ref: "refs/heads/main",
      sub: "repo:octo-org/octo-repo:ref:refs/heads/main",
      event_name: "push",
    });
    expect(run({ event: "push", ref: "refs/heads/feature" }).ref).toBe("refs/heads/feature");
    expect(run({ event: "schedule" })).toMatchObject({ ref: "refs/heads/main", event_name: "schedule" });
    expect(run({ event: "workflow_dispatch", ref: "refs/heads/release/2026.09" }).ref).toBe(
      "refs/heads/release/2026.09",
    );
    expect(run({ event: "workflow_dispatch", ref: "refs/tags/2026.09.01" })).toMatchObject({
      ref_type: "tag",
      sub: "repo:octo-org/octo-repo:ref:refs/tags/2026.09.01",
    });
    expect(run({ event: "merge_group", prNumber: 9, headSha: "c".repeat(40) }).ref).toBe(
      `refs/heads/gh-readonly-queue/main/pr-9-${"c".repeat(40)}`,
    );
  });

  it("the immutable sub of a repository created after 2026-07-15", () => {
    const c = claims({
      run: {
        repository: { ...app, immutableSubject: true },
        workflowPath: ".github/workflows/x.yml",
        trigger: { event: "push", ref: "refs/heads/main" },
        actor: "octocat",
      },
    });
    expect(c.sub).toBe("repo:octo-org@65/octo-repo@74:ref:refs/heads/main");
  });

  it("no token for a fork's pull request, a Dependabot run, or a job without id-token: write", () => {
    const pr = { event: "pull_request", number: 5, action: "opened", headRef: "x" } as const;
    const base = { repository: app, workflowPath: ".github/workflows/preview.yml", actor: "octocat" };
    expect(oidcToken({ run: { ...base, trigger: { ...pr, fromFork: true } } })).toMatchObject({ issued: false });
    expect(oidcToken({ run: { ...base, trigger: pr, actor: "dependabot[bot]" } })).toMatchObject({ issued: false });
    expect(oidcToken({ run: { ...base, trigger: pr }, idTokenWrite: false })).toMatchObject({ issued: false });
    // Another bot (the merge queue closing a PR) is an ordinary run: it gets a token.
    expect(
      oidcToken({ run: { ...base, trigger: { ...pr, action: "closed" }, actor: "github-merge-queue[bot]" } }),
    ).toMatchObject({
      issued: true,
    });
  });
});
