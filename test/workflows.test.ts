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
  INFRA_REQUIRED_CHECKS,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
} from "../infra/pipeline-contract";
import { ROOT } from "./harness";
import { concurrencyOf, environmentName, pulumiOps, stepsOf, workflowFile, type Job } from "./workflow-files";

const ops = (home: "infra" | "app", file: string) =>
  pulumiOps(workflowFile(home, file)).map(({ jobId, command, stack, config, flags }) => ({
    jobId,
    command,
    stack,
    config,
    flags,
  }));
const job = (home: "infra" | "app", file: string, id: string): Job => workflowFile(home, file).workflow.jobs[id];
const step = (j: Job, name: string) => {
  const found = j.steps?.find((s) => s.name === name || s.id === name);
  if (!found) throw new Error(`no step ${name}`);
  return found;
};
const OWN_COMMIT_PERMISSIONS = { contents: "read", "id-token": "write" };
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

  it("previews stage and prod with --diff and the policy pack, in the read-only review environment, posted on the PR", () => {
    expect(environmentName(j)).toBe("review");
    expect(j.strategy?.matrix).toEqual({ stack: ["stage", "prod"] });
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

  it("ups stage keeping its image, then prod behind the prod environment, each in its stack's group", () => {
    expect(ops("infra", "config-apply.yml")).toEqual([
      { jobId: "stage", command: "up", stack: "stage", config: [], flags: ["policyPacks"] },
      { jobId: "prod", command: "up", stack: "prod", config: [], flags: ["policyPacks"] },
    ]);
    const stage = job("infra", "config-apply.yml", "stage");
    const prod = job("infra", "config-apply.yml", "prod");
    expect([environmentName(stage), environmentName(prod)]).toEqual(["stage", "prod"]);
    expect(prod.needs).toBe("stage");
    expect(concurrencyOf(stage.concurrency)).toEqual({ group: "pulumi-stage", cancel: false });
    expect(concurrencyOf(prod.concurrency)).toEqual({ group: "pulumi-prod", cancel: false });
    for (const j of [stage, prod]) expect(j.permissions).toEqual({ contents: "read", "id-token": "write" });
  });
});

describe("drift (drift.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.drift);
  const j = job("infra", REUSABLE_WORKFLOWS.drift, "drift");

  it("runs daily from this repository, by hand, or called", () => {
    expect(Object.keys(wf.workflow.on).sort()).toEqual(["schedule", "workflow_call", "workflow_dispatch"]);
    expect(wf.workflow.on.schedule).toEqual([{ cron: "30 6 * * *" }]);
  });

  it("refreshes stage and prod as a preview that must show no changes, with the review identity", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.drift)).toEqual([
      {
        jobId: "drift",
        command: "refresh",
        stack: "${{ matrix.stack }}",
        config: [],
        flags: ["preview-only", "expect-no-changes", "diff", "non-interactive"],
      },
    ]);
    expect(j.strategy?.matrix).toEqual({ stack: ["stage", "prod"] });
    expect(environmentName(j)).toBe("review");
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", issues: "write" });
    expect(
      j.concurrency,
      "a refresh preview takes no lock, and must not push a waiting deploy out of its group",
    ).toBeUndefined();
  });

  it("opens, updates or closes the issue from the refresh's outcome, with its output as details", () => {
    const refresh = step(j, "refresh");
    expect(refresh["continue-on-error"]).toBe(true);
    expect(refresh.shell, "bash -eo pipefail: tee must not hide pulumi's exit code").toBe("bash");
    const issue = step(j, "Open, update or close the drift issue");
    expect(issue.env).toMatchObject({
      DRIFTED: "${{ steps.refresh.outcome == 'failure' }}",
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
    expect(up.with!["secrets-provider"]).toBe(`\${{ vars.${ENVIRONMENT_VARIABLES.secretsProvider} }}`);
    expect(up.with!.policyPacks, "the pack of this repository's checkout, as config apply runs it").toBe("policies");
    const app = j.steps!.find((s) => s.with?.path === "app")!;
    expect(app.with).toMatchObject({ ref: "${{ github.event.pull_request.head.sha }}" });
    expect(app.with!.repository, "the caller's (app) repository").toBeUndefined();
  });

  it("runs in the preview environment, deployed at the stack's URL, one group per PR", () => {
    expect(j.environment).toEqual({ name: "preview", url: "${{ steps.up.outputs.url }}" });
    expect(concurrencyOf(j.concurrency)).toEqual({ group: `pulumi-pr-${PR}`, cancel: false });
    expect(j.permissions).toEqual({ contents: "read", "id-token": "write", "pull-requests": "write" });
    expect(job("infra", REUSABLE_WORKFLOWS.previewUp, "own-commit").permissions).toEqual(OWN_COMMIT_PERMISSIONS);
  });

  it("admits the preview before anything is built or deployed, with the caps and the deployer's token", () => {
    const names = j.steps!.map((s) => s.name ?? s.id ?? s.uses ?? "");
    const admit = step(j, "admit");
    expect(names.indexOf(admit.name!)).toBeLessThan(names.indexOf("Registry host"));
    expect(names.indexOf(admit.name!)).toBeGreaterThan(names.indexOf("Install the Pulumi CLI"));
    expect(names.indexOf("Install the Pulumi CLI")).toBeGreaterThan(names.findIndex((n) => n === "auth"));
    expect(admit.run).toBe("npx ts-node --transpile-only scripts/preview-admission.ts");
    expect(admit.env).toEqual({
      PR_NUMBER: PR,
      PREVIEW_CAP: `\${{ vars.${REPOSITORY_VARIABLES.previewCap} }}`,
      PREVIEW_ACTIVE_CAP: `\${{ vars.${REPOSITORY_VARIABLES.previewActiveCap} }}`,
      GCP_PROJECT: `\${{ vars.${ENVIRONMENT_VARIABLES.project} }}`,
      GOOGLE_OAUTH_ACCESS_TOKEN: "${{ steps.auth.outputs.access_token }}",
      PULUMI_BACKEND_URL: `\${{ vars.${ENVIRONMENT_VARIABLES.backendUrl} }}`,
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

describe("preview destroy (preview-destroy.yml)", () => {
  const j = job("infra", REUSABLE_WORKFLOWS.previewDestroy, "destroy");

  it("destroys and removes pr-<N> with retries, in the PR's group, then says so in the same sticky comment", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.previewDestroy)).toEqual([
      { jobId: "destroy", command: "destroy", stack: `pr-${PR}`, config: [], flags: ["remove", "retry"] },
    ]);
    expect(environmentName(j)).toBe("preview");
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

  it("builds and pushes the commit's image tagged with its short SHA", () => {
    expect(build.outputs).toEqual({ tag: "${{ steps.sha.outputs.short }}" });
    expect(step(build, "sha").run).toBe('echo "short=${GITHUB_SHA::7}" >> "$GITHUB_OUTPUT"');
    expect(step(build, "Build and push").env).toEqual({
      IMAGE: "${{ vars.IMAGE_REPOSITORY }}:${{ steps.sha.outputs.short }}",
    });
    expect(environmentName(build)).toBe("stage");
  });

  it("ups stage with monitor:imageTag=<short sha> and this run's deploy id in the stage group, then smoke-checks the commit", () => {
    expect(ops("infra", REUSABLE_WORKFLOWS.stage)).toEqual([
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
});

describe("pre-release (pre-release.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.preRelease);
  const j = job("infra", REUSABLE_WORKFLOWS.preRelease, "release");

  it("takes an optional target ref, and otherwise releases the commit stage runs (stage's imageTag output)", () => {
    expect(wf.workflow.on.workflow_call.inputs).toEqual({
      "target-ref": { description: expect.any(String), type: "string", required: false, default: "" },
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
      ref: "${{ inputs.target-ref }}",
    });
    expect(step(j, "Tag the same digest with the release tag").run).toBe(
      'gcloud artifacts docker tags add "$SOURCE" "$RELEASE_IMAGE"',
    );
    const publish = step(j, "Publish the pre-release");
    expect(publish.run).toContain("--prerelease --generate-notes");
    expect(publish.run).toContain('--notes-start-tag "$NOTES_BASE"');
    expect(step(j, "Next calendar tag").env).toMatchObject({ LATEST_RELEASE: "${{ steps.latest.outputs.tag }}" });
  });

  it("runs one at a time in the stage environment, allowed to write tags and releases", () => {
    expect(environmentName(j)).toBe("stage");
    expect(concurrencyOf(j.concurrency)).toEqual({ group: "pre-release", cancel: false });
    expect(j.permissions).toEqual({ contents: "write", "id-token": "write" });
  });
});

describe("1-click deploy (deploy.yml)", () => {
  const wf = workflowFile("infra", REUSABLE_WORKFLOWS.deploy);
  const check = job("infra", REUSABLE_WORKFLOWS.deploy, "check");
  const deploy = job("infra", REUSABLE_WORKFLOWS.deploy, "deploy");

  it("takes the environment and tag, and the chat webhook as an optional secret", () => {
    expect(Object.keys(wf.workflow.on.workflow_call.inputs)).toEqual(["environment", "tag"]);
    expect(wf.workflow.on.workflow_call.secrets).toEqual({ CHAT_WEBHOOK_URL: { required: false } });
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
      PULUMI_BACKEND_URL: "${{ vars.PULUMI_BACKEND_URL }}",
    });
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
    expect(job("app", "preview.yml", "destroy").if).toBe(`github.event.action == 'closed' && ${sameRepoHuman}`);
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

  it("stage: on push to main, runs in push order", () => {
    const wf = workflowFile("app", "stage.yml");
    expect(wf.workflow.on).toEqual({ push: { branches: ["main"] } });
    expect(concurrencyOf(wf.workflow.concurrency)).toEqual({ group: "stage-main", cancel: false });
    expect(call("stage.yml", "stage")).toBe(REUSABLE_WORKFLOWS.stage);
  });

  it("pre-release: Monday to Friday at 00:00 UTC, or by hand with a target ref", () => {
    const wf = workflowFile("app", "pre-release.yml");
    expect(wf.workflow.on.schedule).toEqual([{ cron: "0 0 * * 1-5" }]);
    expect(Object.keys(wf.workflow.on.workflow_dispatch.inputs)).toEqual(["target_ref"]);
    expect(job("app", "pre-release.yml", "pre-release").with).toEqual({ "target-ref": "${{ inputs.target_ref }}" });
    expect(call("pre-release.yml", "pre-release")).toBe(REUSABLE_WORKFLOWS.preRelease);
  });

  it("deploy: by hand, an environment choice of stage or prod and a tag, with the chat webhook", () => {
    const wf = workflowFile("app", "deploy.yml");
    expect(Object.keys(wf.workflow.on)).toEqual(["workflow_dispatch"]);
    expect(wf.workflow.on.workflow_dispatch.inputs.environment).toMatchObject({
      type: "choice",
      options: ["stage", "prod"],
    });
    expect(wf.workflow.on.workflow_dispatch.inputs.tag).toMatchObject({ type: "string", required: true });
    expect(job("app", "deploy.yml", "deploy").secrets).toEqual({ CHAT_WEBHOOK_URL: "${{ secrets.CHAT_WEBHOOK_URL }}" });
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
    expect(stepsOf(workflowFile("app", "preview.yml")).every(({ jobId }) => jobId === "skipped")).toBe(true);
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
