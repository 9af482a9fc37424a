/**
 * What each workflow does: its triggers, concurrency, permissions and environments, and the pulumi commands and
 * stacks it runs. The rules every file shares are in workflow-rules.test.ts.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  APP_FILES_DIR,
  ENVIRONMENT_VARIABLES,
  APP_REQUIRED_CHECKS,
  INFRA_REQUIRED_CHECKS,
  JIRA_SECRETS,
  PREVIEW_CHECK,
  PREVIEW_ENVIRONMENT_PREFIX,
  RELEASE_APP,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
} from "../infra/pipeline-contract";
import { runningTag } from "../components/image-registry";
import { refreshArgs } from "../scripts/drift-refresh";
import { DRIFT_STACKS } from "../scripts/drift-issue";
import { ROOT } from "./harness";
import {
  actionName,
  concurrencyOf,
  environmentName,
  matrixCombinations,
  pulumiOps,
  scriptsIn,
  stepsOf,
  workflowFile,
  type Job,
  type Step,
  evaluateIf,
} from "./workflow-files";

const ops = (home: "infra" | "app", file: string) =>
  pulumiOps(workflowFile(home, file)).map(({ jobId, command, stack, config, flags }) => ({
    jobId,
    command,
    stack,
    config,
    flags,
  }));
const job = (home: "infra" | "app", file: string, id: string): Job => workflowFile(home, file).workflow.jobs[id];
/** A step that builds the app's image (its code runs there): the build script, or docker build itself. */
const buildsApp = (s: Step) => /docker build|scripts\/build-image\.ts/.test(s.run ?? "");
const step = (j: Job, name: string) => {
  const found = j.steps?.find((s) => s.name === name || s.id === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};
const OWN_COMMIT_PERMISSIONS = { "id-token": "write" };
const PR = "${{ github.event.pull_request.number }}";

describe("this repository's CI (ci.yml)", () => {
  const wf = workflowFile("infra", "ci.yml");

  it("runs on every pull request and push, as the check the ruleset requires", () => {
    expect(wf.workflow.on).toEqual({ pull_request: {}, push: {} });
    expect(Object.values(wf.workflow.jobs).map((j) => j.name)).toEqual([...INFRA_REQUIRED_CHECKS]);
  });

  it("installs the workspace (the program and the policy pack) and runs npm test, with read-only contents and no cloud", () => {
    const j = job("infra", "ci.yml", "npm-test");
    expect(j.permissions).toEqual({ contents: "read" });
    expect(j.steps!.filter((s) => s.run).map((s) => s.run)).toEqual(["npm ci --no-audit --no-fund", "npm test"]);
    expect(ops("infra", "ci.yml")).toEqual([]);
  });
});

describe("config preview on pull requests (config-preview.yml)", () => {
  const wf = workflowFile("infra", "config-preview.yml");
  const j = job("infra", "config-preview.yml", "preview");

  it("runs only when stack files or program code change", () => {
    expect(Object.keys(wf.workflow.on)).toEqual(["pull_request"]);
    expect(wf.workflow.on.pull_request.paths).toEqual(
      expect.arrayContaining([
        "Pulumi*.yaml",
        "infra/**",
        "stacks/**",
        "components/**",
        "policies/**",
        "package-lock.json",
      ]),
    );
  });

  it("previews stage, the previews platform and prod with --diff and the policy pack, each in its read-only environment, posted on the PR", () => {
    // stage and the platform with `review` (monitor-review); prod with `review-prod` (monitor-review-prod, behind the
    // prod reviewers: the pipeline stack's INFRA_ENVIRONMENTS).
    expect(environmentName(j)).toBe("${{ matrix.environment }}");
    expect(matrixCombinations(j)).toEqual([
      { stack: "stage", environment: "review" },
      { stack: "previews", environment: "review" },
      { stack: "prod", environment: "review-prod" },
    ]);
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(ops("infra", "config-preview.yml")).toEqual([
      {
        jobId: "preview",
        command: "preview",
        stack: "${{ matrix.stack }}",
        config: [],
        flags: ["diff", "policyPacks", "comment-on-pr"],
      },
    ]);
    const preview = j.steps!.find((s) => s.with?.command === "preview")!;
    expect(preview.with).toMatchObject({ policyPacks: "policies", "comment-on-pr": true, diff: true });
    // The pack is a workspace of the root package: one `npm ci` installs its dependencies too.
    expect(j.steps!.filter((s) => s.run?.startsWith("npm ci")).map((s) => s.run)).toEqual([
      "npm ci --no-audit --no-fund",
    ]);
  });

  it("skips PRs from forks and bots (no OIDC token) and lets a newer push cancel a preview (no lock is held)", () => {
    expect(j.if).toBe(
      "github.event.pull_request.head.repo.full_name == github.repository && !endsWith(github.actor, '[bot]')",
    );
    expect(concurrencyOf(wf.workflow.concurrency)).toEqual({ group: `config-preview-${PR}`, cancel: true });
  });
});

describe("config apply on merge (config-apply.yml)", () => {
  const wf = workflowFile("infra", "config-apply.yml");

  it("runs on pushes to main that change what config preview previews", () => {
    expect(Object.keys(wf.workflow.on)).toEqual(["push"]);
    expect(wf.workflow.on.push.branches).toEqual(["main"]);
    expect(wf.workflow.on.push.paths).toEqual(
      workflowFile("infra", "config-preview.yml").workflow.on.pull_request.paths,
    );
  });

  it("ups the previews platform by its own deployer, stage keeping its image, then prod behind the prod environment, each in its stack's group", () => {
    expect(ops("infra", "config-apply.yml")).toEqual([
      { jobId: "previews", command: "up", stack: "previews", config: [], flags: ["policyPacks"] },
      { jobId: "stage", command: "up", stack: "stage", config: [], flags: ["policyPacks"] },
      { jobId: "prod", command: "up", stack: "prod", config: [], flags: ["policyPacks"] },
    ]);
    const [previews, stage, prod] = ["previews", "stage", "prod"].map((id) => job("infra", "config-apply.yml", id));
    expect([previews, stage, prod].map(environmentName)).toEqual(["previews", "stage", "prod"]);
    expect(previews.needs, "neither stage nor prod reads the platform").toBeUndefined();
    expect(prod.needs).toBe("stage");
    expect(concurrencyOf(previews.concurrency)).toEqual({ group: "pulumi-previews", cancel: false });
    expect(concurrencyOf(stage.concurrency)).toEqual({ group: "pulumi-stage", cancel: false });
    expect(concurrencyOf(prod.concurrency)).toEqual({ group: "pulumi-prod", cancel: false });
    for (const j of [previews, stage, prod]) expect(j.permissions).toEqual({ contents: "read", "id-token": "write" });
  });
});

describe("drift (drift.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.drift);
  const j = job("infra", REUSABLE_WORKFLOWS.drift, "drift");

  it("runs daily from this repository, by hand, or called", () => {
    expect(Object.keys(wf.workflow.on).sort()).toEqual(["schedule", "workflow_call", "workflow_dispatch"]);
    expect(wf.workflow.on.schedule).toEqual([{ cron: "30 6 * * *" }]);
  });

  it("refreshes stage, the previews platform and prod as a preview that must show no changes, each with its read-only identity, in a script", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.drift)).toEqual([]);
    expect(step(j, "refresh").run).toBe("npx ts-node --transpile-only scripts/drift-refresh.ts");
    expect(refreshArgs("stage")).toEqual(
      expect.arrayContaining(["refresh", "--stack", "stage", "--preview-only", "--expect-no-changes"]),
    );
    // Prod's state is decrypted only by monitor-review-prod, in `drift` (main only); the rest with `review`.
    expect(environmentName(j)).toBe("${{ matrix.environment }}");
    expect(matrixCombinations(j)).toEqual([
      { stack: "stage", environment: "review" },
      { stack: "previews", environment: "review" },
      { stack: "prod", environment: "drift" },
    ]);
    expect(matrixCombinations(j).map((c) => c.stack)).toEqual([...DRIFT_STACKS]);
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", issues: "write" });
    expect(
      j.concurrency,
      "a refresh preview takes no lock, and must not push a waiting deploy out of its group",
    ).toBeUndefined();
  });

  it("files the issue only from what the refresh found: a failed check fails the job before the issue step", () => {
    const refresh = step(j, "refresh");
    expect(refresh["continue-on-error"], "an error must fail the job, never read as drift").toBeUndefined();
    expect(refresh.env).toMatchObject({ STACK: "${{ matrix.stack }}" });
    const issue = step(j, "Open, update or close the drift issue");
    expect(issue.if, "runs only when the refresh step succeeded").toBeUndefined();
    expect(issue.env).toMatchObject({
      DRIFTED: "${{ steps.refresh.outputs.drifted }}",
      STACK: "${{ matrix.stack }}",
      DETAILS_FILE: refresh.env!.DETAILS_FILE,
    });
    expect(issue.run).toBe("npx ts-node --transpile-only scripts/drift-issue.ts");
  });
});

describe("preview up (preview-up.yml)", () => {
  const j = job("infra", REUSABLE_WORKFLOWS.previewUp, "deploy");

  it("ups pr-<N>, creating it, with the PR's checkout as appSource and the run as deployId", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.previewUp)).toEqual([
      {
        jobId: "deploy",
        command: "up",
        stack: `pr-${PR}`,
        config: ["monitor:appSource", "monitor:deployId"],
        flags: ["upsert", "policyPacks"],
      },
    ]);
    const up = step(j, "up");
    expect(parse(String(up.with!["config-map"]))).toEqual({
      "monitor:appSource": { value: "${{ github.workspace }}/app", secret: false },
      "monitor:deployId": { value: "${{ github.run_id }}-${{ github.run_attempt }}", secret: false },
    });
    // A new pr-<N> is created with the preview key (pulumi/actions' secrets-provider applies only at creation).
    expect(up.with!["secrets-provider"]).toBe(`\${{ vars.${REPOSITORY_VARIABLES.previewSecretsProvider} }}`);
    expect(up.with!["cloud-url"]).toBe(`\${{ vars.${REPOSITORY_VARIABLES.previewBackendUrl} }}`);
    expect(up.with!.policyPacks, "the pack of this repository's checkout, as config apply runs it").toBe("policies");
    const app = j.steps!.find((s) => s.with?.path === "app")!;
    expect(app.with).toMatchObject({ ref: "${{ github.event.pull_request.head.sha }}" });
    expect(app.with!.repository, "the caller's (app) repository").toBeUndefined();
  });

  it("runs in the PR's own environment preview-<N>, deployed at the stack's URL, one group per PR (issue 14, item 8)", () => {
    // A shared environment would keep only the newest PR's deployment active.
    expect(j.environment).toEqual({ name: `${PREVIEW_ENVIRONMENT_PREFIX}${PR}`, url: "${{ steps.up.outputs.url }}" });
    expect(concurrencyOf(j.concurrency)).toEqual({ group: `pulumi-pr-${PR}`, cancel: false });
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(job("infra", REUSABLE_WORKFLOWS.previewUp, "own-commit").permissions).toEqual(OWN_COMMIT_PERMISSIONS);
  });

  it("admits the preview before anything is built or deployed, with the caps and the deployer's token", () => {
    const names = j.steps!.map((s) => s.name ?? s.id ?? s.uses ?? "");
    const admit = step(j, "admit");
    expect(names.indexOf(admit.name!)).toBeLessThan(names.indexOf("Registry host"));
    // It lists the state bucket's object names and asks Cloud Monitoring with the auth step's token: no Pulumi CLI.
    expect(names.indexOf(admit.name!)).toBeGreaterThan(names.findIndex((n) => n === "auth"));
    expect(admit.run).toBe("npx ts-node --transpile-only scripts/preview-admission.ts");
    expect(admit.env).toEqual({
      PR_NUMBER: PR,
      PREVIEW_CAP: `\${{ vars.${REPOSITORY_VARIABLES.previewCap} }}`,
      PREVIEW_ACTIVE_CAP: `\${{ vars.${REPOSITORY_VARIABLES.previewActiveCap} }}`,
      // The same PREVIEW_* variables as the rest of the job: the preview-<N> environments carry none.
      GCP_PROJECT: `\${{ vars.${REPOSITORY_VARIABLES.previewProject} }}`,
      GOOGLE_OAUTH_ACCESS_TOKEN: "${{ steps.auth.outputs.access_token }}",
      PULUMI_BACKEND_URL: `\${{ vars.${REPOSITORY_VARIABLES.previewBackendUrl} }}`,
      RUN_URL: "${{ github.server_url }}/${{ github.repository }}/actions/runs/${{ github.run_id }}",
      BODY_FILE: step(j, "Render the preview comment").env!.BODY_FILE,
    });
    expect(step(j, "auth").with).toMatchObject({ token_format: "access_token" });
    expect(admit["continue-on-error"], "a refusal stops the job before pulumi up").toBeUndefined();
  });

  it("renders the comment as deployed or failed and keeps one sticky comment, even after a failed up", () => {
    const render = step(j, "Render the preview comment");
    // A refused admission's body file is its own comment; the render step would overwrite it.
    expect(render.if).toBe("${{ !cancelled() && steps.admit.outputs.refused != 'true' }}");
    expect(render.env).toMatchObject({
      STATE: "${{ steps.up.outcome == 'success' && 'deployed' || 'failed' }}",
      URL: "${{ steps.up.outputs.url }}",
      DIGEST: "${{ steps.up.outputs.imageDigest }}",
      PR_NUMBER: PR,
    });
    const sticky = step(j, "Update the sticky preview comment");
    expect(sticky.if).toBe("${{ !cancelled() }}");
    expect(sticky.with).toEqual({ header: "monitor-preview", path: render.env!.BODY_FILE });
  });
});

describe("the previews' jobs (issue 14, item 8)", () => {
  const previewJobs = [
    [REUSABLE_WORKFLOWS.previewUp, "deploy"],
    [REUSABLE_WORKFLOWS.previewDestroy, "destroy"],
    [REUSABLE_WORKFLOWS.sweeper, "sweep"],
  ] as const;

  it.each(previewJobs)(
    "%s authenticates as the preview deployer in the previews project, from the repository's PREVIEW_* variables",
    (file, id) => {
      const j = job("infra", file, id);
      const auth = j.steps!.find((s) => s.uses?.startsWith("google-github-actions/auth@"))!;
      expect(auth.with).toMatchObject({
        workload_identity_provider: `\${{ vars.${REPOSITORY_VARIABLES.previewWorkloadIdentityProvider} }}`,
        service_account: `\${{ vars.${REPOSITORY_VARIABLES.previewServiceAccount} }}`,
        project_id: `\${{ vars.${REPOSITORY_VARIABLES.previewProject} }}`,
      });
      // `preview-<N>` is created on first use and carries no variables: an environment variable would be empty.
      const text = JSON.stringify(j);
      for (const name of Object.values(ENVIRONMENT_VARIABLES)) expect(text).not.toContain(`vars.${name} `);
    },
  );

  it("pushes the preview's image to the previews' registry, logging in to its host", () => {
    expect(step(job("infra", REUSABLE_WORKFLOWS.previewUp, "deploy"), "registry").env).toEqual({
      IMAGE_REPOSITORY: `\${{ vars.${REPOSITORY_VARIABLES.previewImageRepository} }}`,
    });
  });
});

describe("preview destroy (preview-destroy.yml)", () => {
  const j = job("infra", REUSABLE_WORKFLOWS.previewDestroy, "destroy");

  it("destroys and removes pr-<N> with retries, in the PR's group, then says so in the same sticky comment", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.previewDestroy)).toEqual([
      { jobId: "destroy", command: "destroy", stack: `pr-${PR}`, config: [], flags: ["remove", "retry"] },
    ]);
    expect(environmentName(j)).toBe(`${PREVIEW_ENVIRONMENT_PREFIX}${PR}`);
    expect(concurrencyOf(j.concurrency)).toEqual({ group: `pulumi-pr-${PR}`, cancel: false });
    expect(step(j, "Render the preview comment").env).toMatchObject({
      STATE: "${{ steps.destroy.outcome == 'success' && 'destroyed' || 'failed' }}",
    });
    expect(step(j, "Update the sticky preview comment").with).toMatchObject({ header: "monitor-preview" });
    expect(step(j, "Install the Pulumi CLI").with, "the script drives the CLI through the Automation API").toEqual({
      "pulumi-version": "3.265.0",
    });
  });
});

describe("stage (deploy-stage.yml)", () => {
  const build = job("infra", REUSABLE_WORKFLOWS.stage, "build");
  const deploy = job("infra", REUSABLE_WORKFLOWS.stage, "deploy");

  it("builds and pushes the commit's image tagged with its short SHA, with Sentry as the app's own build (issue 14, item 10)", () => {
    expect(build.outputs).toEqual({ tag: "${{ steps.build.outputs.tag }}" });
    expect(step(build, "Build and push")).toMatchObject({
      run: "npx ts-node --transpile-only scripts/build-image.ts",
      env: {
        APP_DIR: "app",
        COMMIT_SHA: "${{ github.sha }}",
        VERSION: "${{ github.ref_name }}",
        IMAGE_REPOSITORY: "${{ vars.IMAGE_REPOSITORY }}",
        SENTRY_DSN: "${{ secrets.SENTRY_DSN }}",
        SENTRY_AUTH_TOKEN: "${{ secrets.SENTRY_AUTH_TOKEN }}",
      },
    });
    expect(workflowFile("infra", REUSABLE_WORKFLOWS.stage).workflow.on.workflow_call.secrets).toEqual({
      SENTRY_DSN: { required: true },
      SENTRY_AUTH_TOKEN: { required: true },
    });
    expect(job("app", "stage.yml", "stage").secrets).toEqual({
      SENTRY_DSN: "${{ secrets.SENTRY_DSN }}",
      SENTRY_AUTH_TOKEN: "${{ secrets.SENTRY_AUTH_TOKEN }}",
    });
    expect(environmentName(build)).toBe("stage");
  });

  it("ups stage with monitor:imageTag=<short sha> and this run's deploy id in the stage group, then smoke-checks the commit", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.stage)).toEqual([
      { jobId: "deploy", command: "output", stack: "stage", config: [], flags: [] },
      { jobId: "deploy", command: "up", stack: "stage", config: ["monitor:imageTag", "monitor:deployId"], flags: [] },
    ]);
    expect(parse(String(step(deploy, "up").with!["config-map"]))).toEqual({
      "monitor:imageTag": { value: "${{ needs.build.outputs.tag }}", secret: false },
      // A migration execution belongs to one deploy: a re-run attempt is a new deploy, a retried step is not.
      "monitor:deployId": { value: "${{ github.run_id }}-${{ github.run_attempt }}", secret: false },
    });
    expect(deploy.environment).toEqual({ name: "stage", url: "${{ steps.up.outputs.url }}" });
    expect(concurrencyOf(deploy.concurrency)).toEqual({ group: "pulumi-stage", cancel: false });
    expect(step(deploy, "Smoke check").env).toEqual({
      URL: "${{ steps.up.outputs.url }}",
      COMMIT_SHA: "${{ github.sha }}",
    });
  });

  it("builds every merge: no concurrency group holds the build, in the caller or here (issue 14, item 9)", () => {
    // A group keeps one pending run and cancels the older pending ones (docs.github.com, "Control the concurrency
    // of workflows and jobs"): a group around the build would leave merges unbuilt.
    expect(workflowFile("app", "stage.yml").workflow.concurrency).toBeUndefined();
    expect(workflowFile("infra", REUSABLE_WORKFLOWS.stage).workflow.concurrency).toBeUndefined();
    expect(build.concurrency).toBeUndefined();
    expect(job("app", "stage.yml", "stage").concurrency).toBeUndefined();
  });

  it("deploys only when stage does not already run a newer merge, and then tags what stage runs (issue 14, items 9 and 14)", () => {
    const steps = deploy.steps!;
    const order = step(deploy, "order");
    expect(order).toMatchObject({
      run: "npx ts-node --transpile-only scripts/stage-order.ts",
      env: {
        COMMIT_SHA: "${{ github.sha }}",
        DEPLOYED: "${{ steps.deployed.outputs.imageTag }}",
        GITHUB_TOKEN: "${{ github.token }}",
      },
    });
    expect(steps.indexOf(step(deploy, "deployed"))).toBeLessThan(steps.indexOf(order));
    // Every step after the decision that changes stage or says it changed waits for it.
    for (const s of steps.slice(steps.indexOf(order) + 1)) expect(s.if).toBe("steps.order.outputs.deploy == 'true'");
    expect(step(deploy, "Tag the digest stage runs running-stage")).toMatchObject({
      env: {
        SOURCE: "${{ vars.IMAGE_REPOSITORY }}@${{ steps.up.outputs.imageDigest }}",
        RUNNING: `\${{ vars.IMAGE_REPOSITORY }}:${runningTag("stage")}`,
      },
      run: 'gcloud artifacts docker tags add "$SOURCE" "$RUNNING"',
    });
  });
});

describe("pre-release (pre-release.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.preRelease);
  const j = job("infra", REUSABLE_WORKFLOWS.preRelease, "release");

  it("takes an optional target ref, and otherwise releases the commit stage runs (stage's imageTag output)", () => {
    expect(wf.workflow.on.workflow_call.inputs).toEqual({
      "target-ref": { description: expect.any(String), type: "string", required: false, default: "" },
      "ledger-tag": { description: expect.any(String), type: "string", required: false, default: "" },
    });
    expect(ops("infra", REUSABLE_WORKFLOWS.preRelease)).toEqual([
      { jobId: "release", command: "output", stack: "stage", config: [], flags: [] },
    ]);
    expect(step(j, "stage").if).toBe("inputs.target-ref == ''");
    expect(step(j, "commit").env).toEqual({
      TARGET: "${{ inputs.target-ref != '' && 'HEAD' || steps.stage.outputs.imageTag }}",
    });
  });

  it("picks the next calendar tag from the app's tags, retags the same digest, then publishes the pre-release", () => {
    const names = j.steps!.map((s) => s.name ?? s.id ?? s.uses ?? s.run);
    const order = ["Next calendar tag", "Tag the same digest with the release tag", "Publish the pre-release"].map(
      (n) => names.indexOf(n),
    );
    expect(order.every((i, k) => i >= 0 && (k === 0 || i > order[k - 1]))).toBe(true);
    expect(step(j, "next")).toMatchObject({
      "working-directory": "app",
      run: "../node_modules/.bin/ts-node --transpile-only ../scripts/release-tag.ts next",
    });
    expect(j.steps!.find((s) => s.with?.path === "app")!.with).toMatchObject({
      "fetch-depth": 0,
      ref: "${{ steps.target.outputs.ref }}",
    });
    expect(step(j, "Tag the same digest with the release tag").run).toBe(
      'gcloud artifacts docker tags add "$SOURCE" "$RELEASE_IMAGE"',
    );
    const publish = step(j, "Publish the pre-release");
    expect(publish.run).toContain("--prerelease --generate-notes");
    expect(publish.run).toContain('--notes-start-tag "$NOTES_BASE"');
    expect(step(j, "Next calendar tag").env).toMatchObject({ LATEST_RELEASE: "${{ steps.latest.outputs.tag }}" });
  });

  it("releases only main or a protected release branch, refused before any credential, checkout or build", () => {
    const target = step(j, "target");
    expect(target).toMatchObject({
      env: { TARGET_REF: "${{ inputs.target-ref }}" },
      run: "npx ts-node --transpile-only scripts/release-tag.ts target",
    });
    const index = (s: Step | undefined) => j.steps!.indexOf(s!);
    const first = Math.min(
      index(step(j, "auth")),
      index(j.steps!.find((s) => s.with?.path === "app")),
      ...j.steps!.filter(buildsApp).map(index),
    );
    expect(index(target)).toBeLessThan(first);
    // The input reaches no step but the check; what is checked out is the check's qualified output.
    const uses = j.steps!.filter((s) => JSON.stringify(s).includes("inputs.target-ref"));
    expect(uses.map((s) => s.id ?? s.name)).toEqual(["target", "stage", "commit", "next"]);
  });

  it("builds a commit stage never built as stage builds: Sentry and the migration record (issue 14, items 10 and 12)", () => {
    expect(step(j, "Build and push the commit's image")).toMatchObject({
      if: "steps.existing.outcome == 'failure'",
      run: "npx ts-node --transpile-only scripts/build-image.ts",
      env: {
        APP_DIR: "app",
        COMMIT_SHA: "${{ steps.commit.outputs.commit }}",
        VERSION: "${{ steps.next.outputs.tag }}",
        SENTRY_DSN: "${{ secrets.SENTRY_DSN }}",
        SENTRY_AUTH_TOKEN: "${{ secrets.SENTRY_AUTH_TOKEN }}",
      },
    });
    expect(Object.keys(wf.workflow.on.workflow_call.secrets)).toEqual([
      "SENTRY_DSN",
      "SENTRY_AUTH_TOKEN",
      RELEASE_APP.privateKeySecret,
    ]);
    expect(job("app", "pre-release.yml", "pre-release").secrets).toMatchObject({
      SENTRY_DSN: "${{ secrets.SENTRY_DSN }}",
      SENTRY_AUTH_TOKEN: "${{ secrets.SENTRY_AUTH_TOKEN }}",
    });
  });

  it("runs one at a time in the stage environment; its GITHUB_TOKEN only reads", () => {
    expect(environmentName(j)).toBe("stage");
    expect(concurrencyOf(j.concurrency)).toEqual({ group: "pre-release", cancel: false });
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write" });
  });

  it("creates the tag and the release as the release App, whose token reaches the publishing step only", () => {
    const app = step(j, "release-app");
    expect(app.uses).toBe("actions/create-github-app-token@1b10c78c7865c340bc4f6099eb2f838309f1e8c3");
    // Scoped to the app repository (no owner/repositories: GITHUB_REPOSITORY, the caller's) and contents:write only;
    // revoked when the job ends (skip-token-revoke left false).
    expect(app.with).toEqual({
      "client-id": `\${{ vars.${RELEASE_APP.idVariable} }}`,
      "private-key": `\${{ secrets.${RELEASE_APP.privateKeySecret} }}`,
      "permission-contents": "write",
    });
    const publish = step(j, "Publish the pre-release");
    expect(publish.env?.GH_TOKEN).toBe("${{ steps.release-app.outputs.token }}");
    const holders = j.steps!.filter((s) => JSON.stringify(s).includes("steps.release-app.outputs"));
    expect(holders).toEqual([publish]);
    // Made right before it, after everything that runs the app's code (its image build).
    const index = (s: Step) => j.steps!.indexOf(s);
    expect(index(publish)).toBe(index(app) + 1);
    for (const s of j.steps!.filter(buildsApp)) expect(index(s)).toBeLessThan(index(app));
    // The private key is read by that step alone, and only in the job whose environment holds it.
    const keyReaders = stepsOf(wf).filter(({ step }) => JSON.stringify(step).includes(RELEASE_APP.privateKeySecret));
    expect(keyReaders.map(({ jobId, step }) => `${jobId}/${step.id}`)).toEqual(["release/release-app"]);
    // No step writes with GITHUB_TOKEN: it is read-only here, and a tag it made would be refused by the ruleset.
    expect(JSON.stringify(j.steps).match(/github\.token/g)).toHaveLength(1);
    expect(step(j, "latest").run).toMatch(/^echo "tag=\$\(gh release view /);
  });

  it("declares the App's key as a required secret, which the app's caller passes by name", () => {
    expect(wf.workflow.on.workflow_call.secrets).toMatchObject({
      [RELEASE_APP.privateKeySecret]: { description: expect.any(String), required: true },
    });
    expect(job("app", "pre-release.yml", "pre-release").secrets).toMatchObject({
      [RELEASE_APP.privateKeySecret]: `\${{ secrets.${RELEASE_APP.privateKeySecret} }}`,
    });
  });
  describe("the QA ledger job", () => {
    const ledger = job("infra", REUSABLE_WORKFLOWS.preRelease, "ledger");
    const byScript = (script: string) => ledger.steps!.find((s) => s.run && scriptsIn(s.run).includes(script))!;

    it("runs after the release is published, or alone for an existing tag (ledger-tag), which tags nothing", () => {
      expect(j.if).toBe("inputs.ledger-tag == ''");
      expect(ledger.needs).toEqual(["own-commit", "release"]);
      expect(ledger.if).toBe(
        "${{ !cancelled() && needs.own-commit.result == 'success' && (needs.release.result == 'success' || inputs.ledger-tag != '') }}",
      );
      expect(ledger.env).toEqual({ TAG: "${{ inputs.ledger-tag || needs.release.outputs.tag }}" });
      expect(concurrencyOf(ledger.concurrency)).toEqual({
        group: `qa-ledger-${ledger.env!.TAG as string}`,
        cancel: false,
      });
    });

    it("lists the pull requests, reads the body as it is, renders over it and writes it back, in that order", () => {
      const list = byScript("scripts/release-pulls.ts");
      const view = step(ledger, "The release body as it is now");
      const render = byScript("scripts/qa-ledger.ts");
      const edit = step(ledger, "Write it into the release");
      const order = [list, view, render, edit].map((s) => ledger.steps!.indexOf(s));
      expect(order).toEqual([...order].sort((a, b) => a - b));
      expect(view.run).toBe('gh release view "$TAG" --json body --jq .body > "$PREVIOUS_BODY_FILE"');
      expect(render.run).toBe("npx ts-node --transpile-only scripts/qa-ledger.ts render");
      expect(render.env).toEqual({
        PULLS_FILE: list.env!.PULLS_FILE,
        PREVIOUS_BODY_FILE: view.env!.PREVIOUS_BODY_FILE,
        BODY_FILE: edit.env!.BODY_FILE,
      });
      expect(edit.run).toBe('gh release edit "$TAG" --notes-file "$BODY_FILE"');
    });

    it("reads commits and their pull requests and writes the release, with no cloud credentials", () => {
      expect(ledger.permissions).toEqual({ contents: "write", "pull-requests": "read" });
      expect(environmentName(ledger)).toBeUndefined();
      expect(byScript("scripts/release-pulls.ts").env).toMatchObject({ GITHUB_TOKEN: "${{ github.token }}" });
    });
  });
});

describe("an app deploy never undoes config apply (stage and prod)", () => {
  const REFUSE = "Refuse a pinned infra commit whose program differs from main's";
  it.each([
    [REUSABLE_WORKFLOWS.stage, "deploy"],
    // Before the prod environment's reviewers are asked: they only approve a deploy that can go out.
    [REUSABLE_WORKFLOWS.deploy, "check"],
  ])(
    "%s refuses, in %s, a pin whose program differs from main's before it authenticates or runs pulumi",
    (file, id) => {
      const j = job("infra", file, id);
      const refuse = step(j, REFUSE);
      expect(refuse).toMatchObject({
        env: { PINNED_COMMIT: "${{ needs.own-commit.outputs.sha }}" },
        run: "npx ts-node --transpile-only scripts/require-current-infra.ts",
      });
      const at = j.steps!.indexOf(refuse);
      expect(j.steps![0].with?.ref, "in the checkout of the pinned commit").toBe("${{ needs.own-commit.outputs.sha }}");
      expect(j.steps!.slice(0, at).some((s) => s.run?.startsWith("npm ci"))).toBe(true);
      const later = (s: Step) => j.steps!.indexOf(s) > at;
      for (const s of j.steps!.filter((s) => s.uses && /google-github-actions\/auth|pulumi\/actions/.test(s.uses)))
        expect(later(s), s.name ?? s.uses).toBe(true);
      const deploy = job("infra", file, "deploy");
      expect([deploy.needs].flat()).toContain(id === "deploy" ? "own-commit" : id);
    },
  );
});

describe("1-click deploy (deploy.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.deploy);
  const check = job("infra", REUSABLE_WORKFLOWS.deploy, "check");
  const deploy = job("infra", REUSABLE_WORKFLOWS.deploy, "deploy");

  it("takes the environment, the tag and an optional override reason, and the chat webhook and Jira secrets as optional", () => {
    expect(Object.keys(wf.workflow.on.workflow_call.inputs)).toEqual(["environment", "tag", "override-reason"]);
    expect(wf.workflow.on.workflow_call.inputs["override-reason"]).toMatchObject({ required: false, default: "" });
    expect(wf.workflow.on.workflow_call.secrets).toEqual({
      CHAT_WEBHOOK_URL: { required: false },
      [JIRA_SECRETS.user]: { required: false },
      [JIRA_SECRETS.token]: { required: false },
    });
  });

  it("validates the tag and, for prod, requires a green E2E run of the tag's commit before reviewers are asked", () => {
    expect(check.environment).toBeUndefined();
    expect(check.permissions).toEqual({ contents: "read", actions: "read" });
    expect(step(check, "Validate the tag for the environment").env).toEqual({
      ENVIRONMENT: "${{ inputs.environment }}",
      TAG: "${{ inputs.tag }}",
    });
    const e2e = step(check, "Require a green E2E run against stage");
    expect(e2e.if).toBe("inputs.environment == 'prod'");
    expect(e2e.env).toMatchObject({ COMMIT_SHA: "${{ steps.app.outputs.commit }}" });
    expect(step(check, "app").with).toMatchObject({ ref: "refs/tags/${{ inputs.tag }}" });
    expect([deploy.needs].flat()).toContain("check");
  });

  it("previews then ups the chosen stack with monitor:imageTag=<tag> and the deploy id, in that environment and its stack's group", () => {
    const config = ["monitor:imageTag", "monitor:deployId"];
    expect(ops("infra", REUSABLE_WORKFLOWS.deploy)).toEqual([
      { jobId: "deploy", command: "preview", stack: "${{ inputs.environment }}", config, flags: ["diff"] },
      { jobId: "deploy", command: "up", stack: "${{ inputs.environment }}", config, flags: [] },
    ]);
    expect(deploy.environment).toEqual({ name: "${{ inputs.environment }}", url: "${{ steps.up.outputs.url }}" });
    expect(concurrencyOf(deploy.concurrency)).toEqual({ group: "pulumi-${{ inputs.environment }}", cancel: false });
    expect(deploy.permissions).toEqual({ contents: "write", "id-token": "write" });
  });

  it("smoke-checks, marks a prod release latest with its notes, and tells the chat started, succeeded or failed", () => {
    const names = deploy.steps!.map((s) => s.name ?? "");
    expect(names.indexOf("Smoke check")).toBeGreaterThan(names.findIndex((n) => n.startsWith("pulumi up")));
    const latest = step(deploy, "Mark the release latest and show its notes");
    expect(latest.if).toBe("inputs.environment == 'prod'");
    expect(latest.run).toContain('gh release edit "$TAG" --prerelease=false --latest');
    const notify = deploy.steps!.filter((s) => s.run?.includes("scripts/notify-chat.ts"));
    expect(notify.map((s) => [s.env?.STATUS, s.if])).toEqual([
      ["started", undefined],
      ["succeeded", undefined],
      ["failed", "failure()"],
    ]);
    for (const s of notify) expect(s.env?.CHAT_WEBHOOK_URL).toBe("${{ secrets.CHAT_WEBHOOK_URL }}");
    expect(JSON.stringify(deploy.env ?? {}), "the webhook reaches the notify steps only").not.toContain("secrets.");
  });

  describe("the QA ledger gates prod, and only prod", () => {
    const PROD_ONLY = "inputs.environment == 'prod'";
    const runs = (s: Step, command: string) => s.run === `npx ts-node --transpile-only scripts/qa-ledger.ts ${command}`;
    const ledgerChecks = (j: Job) => j.steps!.filter((s) => runs(s, "check"));
    /** Steps that change or reach prod: cloud credentials, the registry, pulumi. */
    const cloudSteps = (j: Job) =>
      j.steps!.filter(
        (s) =>
          s.uses &&
          ["google-github-actions/auth", "docker/login-action", "pulumi/actions"].includes(actionName(s.uses)),
      );

    it("checks the release body before the reviewers are asked, and refuses there (no step may continue past it)", () => {
      const [gate] = ledgerChecks(check);
      const read = step(check, "The release body (its QA ledger)");
      expect(check.steps!.indexOf(read)).toBeLessThan(check.steps!.indexOf(gate));
      expect(read.run).toBe('gh release view "$TAG" --json body --jq .body > "$BODY_FILE"');
      expect(read.env).toMatchObject({ TAG: "${{ inputs.tag }}", BODY_FILE: gate.env!.BODY_FILE });
      expect(gate.env).toEqual({ BODY_FILE: read.env!.BODY_FILE, OVERRIDE_REASON: "${{ inputs.override-reason }}" });
      expect(gate["continue-on-error"]).toBeUndefined();
      expect(check.environment, "before the prod environment's reviewers").toBeUndefined();
      expect([deploy.needs].flat()).toContain("check");
    });

    it("checks it again in the deploy job before anything changes in prod, and records an override there", () => {
      const [gate] = ledgerChecks(deploy);
      const at = deploy.steps!.indexOf(gate);
      const record = step(deploy, "Record the QA override in the release");
      expect(at).toBeGreaterThan(0);
      expect(deploy.steps!.indexOf(step(deploy, "The release body (its QA ledger), as it is now"))).toBeLessThan(at);
      expect(deploy.steps!.indexOf(record)).toBeGreaterThan(at);
      const firstCloud = Math.min(...cloudSteps(deploy).map((s) => deploy.steps!.indexOf(s)));
      expect(cloudSteps(deploy).length).toBeGreaterThanOrEqual(4);
      expect(at).toBeLessThan(firstCloud);
      expect(deploy.steps!.indexOf(record)).toBeLessThan(firstCloud);
      expect(gate.id).toBe("ledger");
      expect(gate.env).toMatchObject({
        OVERRIDE_REASON: "${{ inputs.override-reason }}",
        OVERRIDE_BY: "${{ github.triggering_actor }}",
        OVERRIDE_RECORD_FILE: record.env!.OVERRIDE_RECORD_FILE,
      });
      expect(record.if).toBe("steps.ledger.outputs.override != ''");
      expect(record.run).toBe('gh release edit "$TAG" --notes-file "$OVERRIDE_RECORD_FILE"');
      // A refused check fails the job there: nothing after it runs unless it asks to run after a failure.
      expect(gate["continue-on-error"]).toBeUndefined();
      for (const s of deploy.steps!.slice(at + 1).filter((s) => cloudSteps(deploy).includes(s)))
        expect(s.if ?? "", s.name ?? s.uses).not.toMatch(/always\(\)|failure\(\)|cancelled\(\)/);
    });

    it("does not gate stage: every ledger step is prod-only, and the stage workflow has none", () => {
      for (const j of [check, deploy]) {
        const ledgerSteps = j.steps!.filter((s) => runs(s, "check") || s.run?.startsWith("gh release view"));
        expect(ledgerSteps.length).toBeGreaterThanOrEqual(2);
        for (const s of ledgerSteps) expect(s.if, s.name).toBe(PROD_ONLY);
      }
      const stage = stepsOf(workflowFile("infra", REUSABLE_WORKFLOWS.stage));
      expect(stage.filter(({ step: s }) => scriptsIn(s.run ?? "").includes("scripts/qa-ledger.ts"))).toEqual([]);
    });

    it("after a prod deploy lists the shipped Jira tickets (continuing on a Jira outage) and hands them to the chat", () => {
      const jira = step(deploy, "jira");
      const latest = step(deploy, "Mark the release latest and show its notes");
      expect(deploy.steps!.indexOf(jira)).toBeGreaterThan(deploy.steps!.indexOf(latest));
      expect(jira).toMatchObject({ if: PROD_ONLY, "continue-on-error": true });
      expect(jira.run).toBe("npx ts-node --transpile-only scripts/jira-shipped.ts");
      expect(jira.env).toMatchObject({
        BODY_FILE: latest.env!.NOTES_FILE,
        [JIRA_SECRETS.user]: `\${{ secrets.${JIRA_SECRETS.user} }}`,
        [JIRA_SECRETS.token]: `\${{ secrets.${JIRA_SECRETS.token} }}`,
      });
      const succeeded = deploy.steps!.find((s) => s.env?.STATUS === "succeeded")!;
      expect(deploy.steps!.indexOf(succeeded)).toBeGreaterThan(deploy.steps!.indexOf(jira));
      expect(succeeded.env).toMatchObject({
        JIRA_TICKETS: "${{ steps.jira.outputs.tickets }}",
        QA_OVERRIDE: "${{ steps.ledger.outputs.override }}",
      });
    });
  });

  it("tags the digest a stage deploy runs running-stage, so the registry's cleanup keeps it (issue 14, item 14)", () => {
    expect(step(deploy, "Tag the digest stage runs running-stage")).toEqual({
      name: "Tag the digest stage runs running-stage",
      if: "inputs.environment == 'stage'",
      env: {
        SOURCE: "${{ vars.IMAGE_REPOSITORY }}@${{ steps.up.outputs.imageDigest }}",
        RUNNING: `\${{ vars.IMAGE_REPOSITORY }}:${runningTag("stage")}`,
      },
      run: 'gcloud artifacts docker tags add "$SOURCE" "$RUNNING"',
    });
  });
});

describe("sweeper (sweep-previews.yml)", () => {
  it("destroys previews through the Automation API from the contract's variables, one sweep at a time", () => {
    const j = job("infra", REUSABLE_WORKFLOWS.sweeper, "sweep");
    expect(ops("infra", REUSABLE_WORKFLOWS.sweeper)).toEqual([
      { jobId: "sweep", command: "destroy", stack: "pr-*", config: [], flags: ["remove", "sweep"] },
    ]);
    expect(step(j, "Destroy closed, expired and surplus previews").env).toEqual({
      PREVIEW_TTL_DAYS: "${{ vars.PREVIEW_TTL_DAYS }}",
      PREVIEW_CAP: "${{ vars.PREVIEW_CAP }}",
      GITHUB_TOKEN: "${{ github.token }}",
      PULUMI_BACKEND_URL: `\${{ vars.${REPOSITORY_VARIABLES.previewBackendUrl} }}`,
    });
    // Its own environment (main only): it has no PR; the previews' variables are the repository's.
    expect(environmentName(j)).toBe("preview");
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "read" });
  });
});

describe("the app's callers (workflows/app)", () => {
  const call = (file: string, id: string) => job("app", file, id).uses!.replace(/^.*\/\.github\/workflows\/|@.*$/g, "");

  it("preview: on opened, synchronize, reopened and closed; one group per PR that never cancels", () => {
    const wf = workflowFile("app", "preview.yml");
    expect(wf.workflow.on).toEqual({ pull_request: { types: ["opened", "synchronize", "reopened", "closed"] } });
    expect(concurrencyOf(wf.workflow.concurrency)).toEqual({ group: `preview-pr-${PR}`, cancel: false });
    expect([call("preview.yml", "up"), call("preview.yml", "destroy")]).toEqual([
      REUSABLE_WORKFLOWS.previewUp,
      REUSABLE_WORKFLOWS.previewDestroy,
    ]);
  });

  it("preview: forks and bot-triggered runs get no credentials, only the skipped comment", () => {
    const sameRepoHuman =
      "github.event.pull_request.head.repo.full_name == github.repository && !endsWith(github.actor, '[bot]')";
    expect(job("app", "preview.yml", "up").if).toBe(`github.event.action != 'closed' && ${sameRepoHuman}`);
    const skipped = job("app", "preview.yml", "skipped");
    expect(skipped.if).toBe(
      "github.event.action != 'closed' && (github.event.pull_request.head.repo.full_name != github.repository || endsWith(github.actor, '[bot]'))",
    );
    expect(skipped.permissions).toEqual({ contents: "read", "pull-requests": "write" });
    expect(step(skipped, "Render the skipped comment").env).toMatchObject({ STATE: "skipped", PR_NUMBER: PR });
    const sticky = step(skipped, "Update the sticky preview comment");
    expect(sticky["continue-on-error"], "a fork's token is read-only").toBe(true);
    expect(sticky.with).toMatchObject({ header: "monitor-preview" });
  });

  it("stage: on push to main", () => {
    const wf = workflowFile("app", "stage.yml");
    expect(wf.workflow.on).toEqual({ push: { branches: ["main"] } });
    expect(call("stage.yml", "stage")).toBe(REUSABLE_WORKFLOWS.stage);
  });

  it("pre-release: Monday to Friday at 00:00 UTC, or by hand with a target ref or a tag whose ledger to re-render", () => {
    const wf = workflowFile("app", "pre-release.yml");
    expect(wf.workflow.on.schedule).toEqual([{ cron: "0 0 * * 1-5" }]);
    expect(Object.keys(wf.workflow.on.workflow_dispatch.inputs)).toEqual(["target_ref", "ledger_tag"]);
    expect(job("app", "pre-release.yml", "pre-release").with).toEqual({
      "target-ref": "${{ inputs.target_ref }}",
      "ledger-tag": "${{ inputs.ledger_tag }}",
    });
    expect(call("pre-release.yml", "pre-release")).toBe(REUSABLE_WORKFLOWS.preRelease);
  });

  it("deploy: by hand, an environment choice of stage or prod, a tag and an optional override reason, with the chat webhook and Jira secrets", () => {
    const wf = workflowFile("app", "deploy.yml");
    expect(Object.keys(wf.workflow.on)).toEqual(["workflow_dispatch"]);
    expect(wf.workflow.on.workflow_dispatch.inputs.environment).toMatchObject({
      type: "choice",
      options: ["stage", "prod"],
    });
    expect(wf.workflow.on.workflow_dispatch.inputs.tag).toMatchObject({ type: "string", required: true });
    expect(wf.workflow.on.workflow_dispatch.inputs.override_reason).toMatchObject({ type: "string", required: false });
    expect(job("app", "deploy.yml", "deploy").with).toMatchObject({
      "override-reason": "${{ inputs.override_reason }}",
    });
    expect(job("app", "deploy.yml", "deploy").secrets).toEqual({
      CHAT_WEBHOOK_URL: "${{ secrets.CHAT_WEBHOOK_URL }}",
      [JIRA_SECRETS.user]: `\${{ secrets.${JIRA_SECRETS.user} }}`,
      [JIRA_SECRETS.token]: `\${{ secrets.${JIRA_SECRETS.token} }}`,
    });
    expect(call("deploy.yml", "deploy")).toBe(REUSABLE_WORKFLOWS.deploy);
  });

  it("sweeper: on a schedule (and by hand)", () => {
    const wf = workflowFile("app", "sweep-previews.yml");
    expect(Object.keys(wf.workflow.on).sort()).toEqual(["schedule", "workflow_dispatch"]);
    expect(call("sweep-previews.yml", "sweep")).toBe(REUSABLE_WORKFLOWS.sweeper);
  });

  it("run no pulumi themselves: only the reusable workflows do", () => {
    for (const file of ["preview.yml", "stage.yml", "pre-release.yml", "deploy.yml", "sweep-previews.yml"])
      expect(ops("app", file)).toEqual([]);
    expect(
      stepsOf(workflowFile("app", "preview.yml")).every(({ jobId }) => ["skipped", "deploy-previews"].includes(jobId)),
    ).toBe(true);
  });

  it("preview: destroys on close whoever closes (merge queue, a maintainer, a bot), skipping only runs with no token (issue 14, item 7)", () => {
    const destroy = job("app", "preview.yml", "destroy");
    expect(destroy.if).toBe(
      "github.event.action == 'closed' && github.event.pull_request.head.repo.full_name == github.repository && " +
        "github.actor != 'dependabot[bot]'",
    );
    const closedBy = (actor: string, headRepo = "mozilla/blurts-server") =>
      evaluateIf(destroy.if!, {
        github: {
          actor,
          repository: "mozilla/blurts-server",
          event: { action: "closed", pull_request: { head: { repo: { full_name: headRepo } } } },
        },
      });
    expect(closedBy("github-merge-queue[bot]")).toBe(true);
    expect(closedBy("renovate[bot]")).toBe(true);
    expect(closedBy("a-maintainer")).toBe(true);
    expect(closedBy("dependabot[bot]"), "no OIDC token: the sweeper cleans up").toBe(false);
    expect(closedBy("a-maintainer", "someone/blurts-server"), "a fork: no OIDC token").toBe(false);
    expect(destroy.if, "no blanket skip of every [bot]").not.toContain("endsWith(github.actor, '[bot]')");
  });
});

/**
 * The checks mozilla/blurts-server's own workflows report on a pull request to main, read with `fetch` at
 * 3b6c89004050c9e5af9220c05d9ec74c700e643b: workflow file → the job's check name (its `name:`, else its id).
 */
const APP_OWN_CHECKS: Record<string, string[]> = {
  "lint.yaml": ["npm-lint"],
  "build.yaml": ["npm-build"],
  "unittests.yaml": ["unit-tests"],
  "functional_tests_pr.yml": ["functional-tests"],
  "docker_check.yml": ["Build Docker image"],
  "conflicts.yml": ["detect-unresolved-conflicts"],
  "test_integrations.yml": ["test-integrations"],
  "glean-probe-scraper.yml": ["glean-probe-scraper"],
  "reference_linter.yaml": ["l10n-lint"],
};

/**
 * The check names a caller file reports on a pull request: a plain job by its name or id; a job calling a reusable
 * workflow as "<caller> / <called>" for each called job, which exists only when the caller job runs.
 */
interface ReportedCheck {
  readonly name: string;
  readonly onlyWhenCallerRuns: boolean;
}
function reportedChecks(file: string): ReportedCheck[] {
  const wf = workflowFile("app", file);
  return Object.entries(wf.workflow.jobs).flatMap(([id, j]): ReportedCheck[] => {
    const name = j.name ?? id;
    if (!j.uses) return [{ name, onlyWhenCallerRuns: false }];
    const called = workflowFile("infra", j.uses.replace(/^.*\/\.github\/workflows\/|@.*$/g, ""));
    return Object.entries(called.workflow.jobs).map(([cid, cj]) => ({
      name: `${name} / ${cj.name ?? cid}`,
      onlyWhenCallerRuns: true,
    }));
  });
}

describe("required checks of the app's default branch (issue 14, item 3)", () => {
  const ours = reportedChecks("preview.yml");

  it("are check names some workflow really reports on every pull request, or no PR could merge", () => {
    const reported = new Set([...Object.values(APP_OWN_CHECKS).flat(), ...ours.map((c) => c.name)]);
    for (const check of APP_REQUIRED_CHECKS) expect(reported, check).toContain(check);
    expect(APP_REQUIRED_CHECKS).toEqual(
      expect.arrayContaining(["npm-lint", "npm-build", "unit-tests", "functional-tests"]),
    );
  });

  it("include the preview as a plain job that reports on every PR event, never a name that a skipped caller leaves pending", () => {
    const preview = ours.find((c) => c.name === PREVIEW_CHECK);
    expect(preview, "reported by preview.yml").toBeDefined();
    expect(preview!.onlyWhenCallerRuns).toBe(false);
    expect(ours.find((c) => c.name === "up / Deploy the preview")?.onlyWhenCallerRuns, "what it would have been").toBe(
      true,
    );
    const gate = job("app", "preview.yml", "deploy-previews");
    expect(gate.needs).toBe("up");
    // !cancelled(): it runs when `up` was skipped (fork, bot), and fails only on the preview's failure.
    expect(gate.if).toBe("${{ !cancelled() && github.event.action != 'closed' }}");
    expect(gate.steps!.map((st) => st.if)).toEqual(["needs.up.result == 'failure' || needs.up.result == 'cancelled'"]);
    expect(gate.permissions).toEqual({});
  });
});

describe("release notes (workflows/app/.github/release.yml)", () => {
  const config = parse(readFileSync(join(ROOT, APP_FILES_DIR, ".github/release.yml"), "utf8"));

  it("leave out the bots' pull requests from every category", () => {
    expect(config.changelog.exclude.authors).toEqual(
      expect.arrayContaining(["dependabot[bot]", "github-actions[bot]", "mozilla-blender[bot]"]),
    );
    for (const category of config.changelog.categories) expect(category.exclude?.authors ?? []).toEqual([]);
  });

  it("end with a catch-all category so no human change is dropped", () => {
    expect(config.changelog.categories.at(-1).labels).toEqual(["*"]);
  });
});

describe("prod's alert pages someone before prod changes (issue 14, item 13)", () => {
  const RUN = "npx ts-node --transpile-only scripts/require-alert-channel.ts";
  const firstCloudStep = (j: Job) =>
    j.steps!.findIndex((s) => s.uses?.startsWith("google-github-actions/auth") || s.uses?.startsWith("pulumi/actions"));

  it("the 1-click deploy checks Pulumi.prod.yaml for prod, before the prod reviewers are asked", () => {
    const check = job("infra", REUSABLE_WORKFLOWS.deploy, "check");
    const gate = step(check, "Require prod's alert to page someone");
    expect(gate).toMatchObject({
      if: "inputs.environment == 'prod'",
      env: { STACK_FILE: "Pulumi.prod.yaml" },
      run: RUN,
    });
    expect(check.environment, "a job without the prod environment runs before its reviewers").toBeUndefined();
  });

  it("config apply checks it in the prod job before any credential or pulumi step", () => {
    const prod = job("infra", "config-apply.yml", "prod");
    const gate = step(prod, "Require prod's alert to page someone");
    expect(gate).toMatchObject({ env: { STACK_FILE: "Pulumi.prod.yaml" }, run: RUN });
    expect(prod.steps!.indexOf(gate)).toBeLessThan(firstCloudStep(prod));
    expect(firstCloudStep(prod)).toBeGreaterThan(0);
  });
});
