/**
 * The rules every workflow file keeps (issue 8, "Rules for every workflow"), checked on the parsed YAML of every
 * file here and under workflows/app, so a new file or step cannot slip past review.
 */
import { describe, expect, it } from "vitest";
import {
  APP_BUILD_SECRETS,
  CHAT_WEBHOOK_SECRET,
  DEPLOY_ENVIRONMENTS,
  ENVIRONMENT_VARIABLES,
  INFRA_COMMIT_PLACEHOLDER,
  INFRA_ENVIRONMENTS,
  INFRA_REPOSITORY_PLACEHOLDER,
  JIRA_SECRETS,
  PREVIEW_ENVIRONMENT_PREFIX,
  PULUMI_CLI_VERSION,
  RELEASE_APP,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
} from "../infra/pipeline-contract";
import {
  PULUMI_ACTION,
  WORKFLOW_FILES,
  actionName,
  concurrencyOf,
  environmentName,
  jobsOf,
  matrixCombinations,
  pulumiOps,
  scriptsIn,
  stepsOf,
  usesNodes,
  workflowFile,
  type Job,
  type WorkflowFile,
} from "./workflow-files";

/** The remote actions allowed, at the commits github-actions-notes.md lists (all lightweight tags = commits). */
const PINNED: Record<string, { sha: string; version: string }> = {
  "actions/checkout": { sha: "3d3c42e5aac5ba805825da76410c181273ba90b1", version: "v7.0.1" },
  "actions/setup-node": { sha: "820762786026740c76f36085b0efc47a31fe5020", version: "v7.0.0" },
  "google-github-actions/auth": { sha: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", version: "v3.0.0" },
  "pulumi/actions": { sha: "8e5e406f4007fca908480587cb9893c07090f58d", version: "v7.0.0" },
  "marocchino/sticky-pull-request-comment": { sha: "5770ad5eb8f42dd2c4f34da00c94c5381e49af88", version: "v3.0.5" },
  "docker/login-action": { sha: "4907a6ddec9925e35a0a9e82d7399ccc52663121", version: "v4.1.0" },
  // `git rev-list -n1 v3.1.1` in actions/create-github-app-token.
  "actions/create-github-app-token": { sha: "1b10c78c7865c340bc4f6099eb2f838309f1e8c3", version: "v3.1.1" },
};

/** Every script a workflow runs; the lead checks each exists under scripts/ after the merge. */
export const SCRIPTS_RUN = [
  "scripts/build-image.ts",
  "scripts/destroy-preview.ts",
  "scripts/drift-issue.ts",
  "scripts/drift-refresh.ts",
  "scripts/jira-shipped.ts",
  "scripts/notify-chat.ts",
  "scripts/preview-admission.ts",
  "scripts/preview-comment.ts",
  "scripts/qa-ledger.ts",
  "scripts/release-pulls.ts",
  "scripts/release-tag.ts",
  "scripts/require-alert-channel.ts",
  "scripts/require-current-infra.ts",
  "scripts/require-e2e.ts",
  "scripts/smoke-check.ts",
  "scripts/stage-order.ts",
  "scripts/sweep-previews.ts",
];

const REUSABLE_FILES: string[] = Object.values(REUSABLE_WORKFLOWS);
const PREVIEW_FILES: string[] = [
  REUSABLE_WORKFLOWS.previewUp,
  REUSABLE_WORKFLOWS.previewDestroy,
  REUSABLE_WORKFLOWS.sweeper,
];
/** A preview's own environment (pipeline-contract.ts PREVIEW_ENVIRONMENT_PREFIX). */
const PER_PR_ENVIRONMENT = `${PREVIEW_ENVIRONMENT_PREFIX}\${{ github.event.pull_request.number }}`;
const OWN_CI_FILES = ["ci.yml", "config-apply.yml", "config-preview.yml"];
const APP_CALLERS = ["deploy.yml", "pre-release.yml", "preview.yml", "stage.yml", "sweep-previews.yml"];
const CONTRACT_VARS: string[] = [
  ...Object.values(ENVIRONMENT_VARIABLES),
  ...Object.values(REPOSITORY_VARIABLES),
  RELEASE_APP.idVariable,
];
const CONTRACT_SECRETS: string[] = [CHAT_WEBHOOK_SECRET, RELEASE_APP.privateKeySecret];
const CALLER_USES = new RegExp(
  `^${INFRA_REPOSITORY_PLACEHOLDER.replace("/", "\\/")}\\/\\.github\\/workflows\\/([a-z-]+\\.yml)@${INFRA_COMMIT_PLACEHOLDER}$`,
);

const jobLabel = (wf: WorkflowFile, jobId: string) => `${wf.path} jobs.${jobId}`;
const hasAuth = (job: Job) =>
  (job.steps ?? []).some((s) => s.uses && actionName(s.uses) === "google-github-actions/auth");
const reusableOf = (job: Job) => (job.uses ? workflowFile("infra", CALLER_USES.exec(job.uses)![1]) : undefined);

describe("the set of workflow files", () => {
  it("is exactly the reusable workflows and this repository's CI here, and the five callers under workflows/app", () => {
    expect(WORKFLOW_FILES.filter((w) => w.home === "infra").map((w) => w.file)).toEqual(
      [...REUSABLE_FILES, ...OWN_CI_FILES].sort(),
    );
    expect(WORKFLOW_FILES.filter((w) => w.home === "app").map((w) => w.file)).toEqual(APP_CALLERS);
    expect(WORKFLOW_FILES).toHaveLength(15);
  });

  it("uses .yml, one spelling", () => {
    for (const wf of WORKFLOW_FILES) expect(wf.file, wf.path).toMatch(/\.yml$/);
  });
});

describe.each(WORKFLOW_FILES.map((wf) => [wf.path, wf] as const))("%s", (_path, wf) => {
  it("grants nothing at the top (permissions: {}) and an explicit, minimal set per job", () => {
    expect(wf.workflow.permissions).toEqual({});
    for (const [jobId, job] of jobsOf(wf)) {
      expect(typeof job.permissions, `${jobLabel(wf, jobId)} needs a permissions map`).toBe("object");
      for (const [scope, level] of Object.entries(job.permissions as Record<string, string>)) {
        expect(["read", "write"], `${jobLabel(wf, jobId)} ${scope}`).toContain(level);
      }
    }
  });

  it("asks for id-token: write only where GCP is reached (or, once, to read its own commit), and always there", () => {
    for (const [jobId, job] of jobsOf(wf)) {
      const perms = job.permissions as Record<string, string>;
      const reusable = reusableOf(job);
      const needsToken = reusable
        ? jobsOf(reusable).some(([, j]) => (j.permissions as Record<string, string>)["id-token"] === "write")
        : hasAuth(job) || (wf.home === "infra" && jobId === "own-commit");
      expect(perms["id-token"] === "write", `${jobLabel(wf, jobId)} id-token`).toBe(needsToken);
    }
  });

  it("is never triggered by pull_request_target or workflow_run", () => {
    expect(Object.keys(wf.workflow.on)).not.toContain("pull_request_target");
    expect(Object.keys(wf.workflow.on)).not.toContain("workflow_run");
  });

  it("pins every remote action to a 40-hex commit with its version in a comment", () => {
    const nodes = usesNodes(wf);
    for (const { jobId, value, comment } of nodes) {
      const match = /^([\w.-]+\/[\w.-]+)@([0-9a-f]{40})$/.exec(value);
      expect(match, `${jobLabel(wf, jobId)} uses ${value}`).not.toBeNull();
      const pinned = PINNED[match![1]];
      expect(pinned, `${value} is not an action the pipeline has vetted`).toBeDefined();
      expect(match![2], `${value}: the SHA of ${pinned.version}`).toBe(pinned.sha);
      expect(comment?.trim(), `${jobLabel(wf, jobId)} ${value}: comment`).toBe(pinned.version);
    }
    expect(nodes.length).toBe(stepsOf(wf).filter(({ step }) => step.uses).length);
  });

  it("calls reusable workflows only as the app's callers do: placeholders, contract file names", () => {
    for (const [jobId, job] of jobsOf(wf)) {
      if (!job.uses) continue;
      expect(wf.home, jobLabel(wf, jobId)).toBe("app");
      const match = CALLER_USES.exec(job.uses);
      expect(match, `${jobLabel(wf, jobId)} uses ${job.uses}`).not.toBeNull();
      expect(REUSABLE_FILES).toContain(match![1]);
      expect(job.secrets, "secrets are passed by name, never inherited").not.toBe("inherit");
    }
  });

  it("checks out without persisting credentials", () => {
    for (const { jobId, step } of stepsOf(wf)) {
      if (step.uses && actionName(step.uses) === "actions/checkout") {
        expect(step.with?.["persist-credentials"], jobLabel(wf, jobId)).toBe(false);
      }
    }
  });

  it("has no expression inside run: (event data, head_ref, inputs and the rest go through env:)", () => {
    for (const { jobId, step } of stepsOf(wf)) {
      if (step.run) expect(step.run, `${jobLabel(wf, jobId)} step ${step.name ?? step.run}`).not.toContain("${{");
    }
  });

  it("pins the Pulumi CLI and installs the program's dependencies before every pulumi/actions step", () => {
    for (const { jobId, job, step, index } of stepsOf(wf)) {
      if (!step.uses || actionName(step.uses) !== PULUMI_ACTION) continue;
      expect(step.with?.["pulumi-version"], jobLabel(wf, jobId)).toBe(PULUMI_CLI_VERSION);
      const before = job.steps!.slice(0, index);
      expect(
        before.some((s) => s.run?.split("\n")[0].startsWith("npm ci")),
        `${jobLabel(wf, jobId)}: npm ci first`,
      ).toBe(true);
    }
  });

  it("authenticates to Google after checkout, with the environment's provider and service account", () => {
    for (const { jobId, job, step, index } of stepsOf(wf)) {
      if (!step.uses || actionName(step.uses) !== "google-github-actions/auth") continue;
      expect(
        job.steps!.slice(0, index).some((s) => s.uses && actionName(s.uses) === "actions/checkout"),
        jobLabel(wf, jobId),
      ).toBe(true);
      // The previews' jobs run in `preview-<N>` (created on first use, no variables) or the sweeper's `preview`:
      // their identity is the repository's PREVIEW_* variables.
      const previews = PREVIEW_FILES.includes(wf.file);
      expect(step.with).toMatchObject({
        workload_identity_provider: `\${{ vars.${previews ? REPOSITORY_VARIABLES.previewWorkloadIdentityProvider : ENVIRONMENT_VARIABLES.workloadIdentityProvider} }}`,
        service_account: `\${{ vars.${previews ? REPOSITORY_VARIABLES.previewServiceAccount : ENVIRONMENT_VARIABLES.serviceAccount} }}`,
        project_id: `\${{ vars.${previews ? REPOSITORY_VARIABLES.previewProject : ENVIRONMENT_VARIABLES.project} }}`,
      });
      expect(step.with?.credentials_json, "no keys").toBeUndefined();
      expect(environmentName(job), `${jobLabel(wf, jobId)}: the variables live in an environment`).toBeDefined();
    }
  });

  it("lets every job that runs Pulumi open an existing stack with the secrets manager its state records (issue 14, item 1)", () => {
    // A preview's stack file is never committed: without this the CLI opens the stack with the passphrase manager
    // (pulumi/pulumi pkg/cmd/pulumi/stack/secrets.go:258 and :287), and every push after a PR's first fails.
    for (const [jobId, job] of jobsOf(wf)) {
      if (!job.steps?.some((s) => s.uses && actionName(s.uses) === PULUMI_ACTION)) continue;
      expect(job.env, jobLabel(wf, jobId)).toMatchObject({ PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true" });
    }
  });

  it("serialises every up and destroy per stack and never cancels one in progress", () => {
    for (const op of pulumiOps(wf).filter((o) => o.command === "up" || o.command === "destroy")) {
      const job = wf.workflow.jobs[op.jobId];
      const c = concurrencyOf(job.concurrency);
      expect(c, jobLabel(wf, op.jobId)).toBeDefined();
      expect(c!.cancel, jobLabel(wf, op.jobId)).toBe(false);
      expect(c!.group).toBe(op.stack === "pr-*" ? "pulumi-sweeper" : `pulumi-${op.stack}`);
    }
    const top = concurrencyOf(wf.workflow.concurrency);
    // A caller's group must differ from its callee's job groups, or the run waits for itself.
    if (top) expect(top.group).not.toMatch(/^pulumi-/);
  });

  it("names only contract variables, environments and secrets", () => {
    // Comments may cite a file such as secrets.go; only expressions name variables and secrets.
    const code = wf.text.replace(/(^|\s)#.*$/gm, "");
    for (const m of code.matchAll(/\bvars\.([A-Za-z0-9_]+)/g)) expect(CONTRACT_VARS, wf.path).toContain(m[1]);
    for (const m of code.matchAll(/\bsecrets\.([A-Za-z0-9_]+)/g))
      expect([...CONTRACT_SECRETS, ...Object.values(JIRA_SECRETS), ...APP_BUILD_SECRETS], wf.path).toContain(m[1]);
    const allowed: readonly string[] =
      OWN_CI_FILES.includes(wf.file) || wf.file === REUSABLE_WORKFLOWS.drift ? INFRA_ENVIRONMENTS : DEPLOY_ENVIRONMENTS;
    for (const [jobId, job] of jobsOf(wf)) {
      const env = environmentName(job);
      // `${{ matrix.<key> }}`: each combination's value is an environment name.
      const fromMatrix = env && /^\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}$/.exec(env)?.[1];
      const names: (string | undefined)[] = !env
        ? []
        : fromMatrix
          ? matrixCombinations(job).map((c) => c[fromMatrix])
          : [env];
      for (const name of names) {
        expect(name, `${jobLabel(wf, jobId)}: every combination names its environment`).toBeDefined();
        if (name === PER_PR_ENVIRONMENT) expect(PREVIEW_FILES, jobLabel(wf, jobId)).toContain(wf.file);
        else if (!name!.startsWith("${{")) expect(allowed, jobLabel(wf, jobId)).toContain(name);
      }
    }
  });

  it("runs only the listed scripts, with ts-node from this repository's install", () => {
    for (const { jobId, step } of stepsOf(wf)) {
      for (const script of scriptsIn(step.run ?? "")) {
        expect(SCRIPTS_RUN, jobLabel(wf, jobId)).toContain(script);
        expect(step.run).toMatch(
          /(npx ts-node|\.\.\/node_modules\/\.bin\/ts-node) --transpile-only (\.\.\/)?scripts\//,
        );
      }
    }
  });
});

describe("every script the workflows run", () => {
  it("is in the list the lead checks against scripts/", () => {
    const named = new Set(WORKFLOW_FILES.flatMap((wf) => stepsOf(wf).flatMap(({ step }) => scriptsIn(step.run ?? ""))));
    expect([...named].sort()).toEqual(SCRIPTS_RUN);
  });
});

describe("reusable workflows check themselves out at the commit their OIDC token names", () => {
  describe.each(REUSABLE_FILES)("%s", (file) => {
    const wf = workflowFile("infra", file);

    it("is workflow_call (drift is also scheduled here)", () => {
      expect(Object.keys(wf.workflow.on)).toContain("workflow_call");
    });

    it("resolves its commit in an own-commit job that reads only its OIDC token (test/own-commit-step.test.ts)", () => {
      const own = wf.workflow.jobs["own-commit"];
      expect(own.permissions).toEqual({ "id-token": "write" });
      expect(own.steps!.map((s) => s.uses ?? s.id)).toEqual(["own"]);
    });

    it("runs scripts and pulumi only in jobs that first check out needs.own-commit's repository and sha", () => {
      for (const [jobId, job] of jobsOf(wf)) {
        if (jobId === "own-commit") continue;
        const usesInfra = (job.steps ?? []).some(
          (s) => (s.run && scriptsIn(s.run).length > 0) || (s.uses && actionName(s.uses) === PULUMI_ACTION),
        );
        if (!usesInfra) continue;
        expect(job.steps![0].with, jobLabel(wf, jobId)).toEqual({
          repository: "${{ needs.own-commit.outputs.repository }}",
          ref: "${{ needs.own-commit.outputs.sha }}",
          "persist-credentials": false,
        });
        expect([job.needs].flat(), jobLabel(wf, jobId)).toContain("own-commit");
      }
    });

    it("takes no input that chooses what code of this repository runs", () => {
      const inputs = Object.keys(wf.workflow.on.workflow_call?.inputs ?? {});
      expect(inputs.filter((i) => /sha|commit|repo|infra/i.test(i))).toEqual([]);
    });
  });
});

describe("the app's callers", () => {
  const callers = WORKFLOW_FILES.filter((w) => w.home === "app");

  it("grant each reusable workflow at least the permissions its jobs ask for", () => {
    for (const wf of callers) {
      for (const [jobId, job] of jobsOf(wf)) {
        const reusable = reusableOf(job);
        if (!reusable) continue;
        const granted = job.permissions as Record<string, string>;
        for (const [, callee] of jobsOf(reusable)) {
          for (const [scope, level] of Object.entries(callee.permissions as Record<string, string>)) {
            expect(
              granted[scope] === "write" || granted[scope] === level,
              `${jobLabel(wf, jobId)} ${scope} for ${reusable.file}`,
            ).toBe(true);
          }
        }
      }
    }
  });

  it("pass exactly the inputs and secrets the reusable workflow declares, and every required one", () => {
    for (const wf of callers) {
      for (const [jobId, job] of jobsOf(wf)) {
        const reusable = reusableOf(job);
        if (!reusable) continue;
        const declared = reusable.workflow.on.workflow_call ?? {};
        const inputs: Record<string, { required?: boolean }> = declared.inputs ?? {};
        const passed = Object.keys(job.with ?? {});
        for (const name of passed) expect(Object.keys(inputs), jobLabel(wf, jobId)).toContain(name);
        for (const [name, spec] of Object.entries(inputs))
          if (spec.required) expect(passed, jobLabel(wf, jobId)).toContain(name);
        for (const name of Object.keys((job.secrets as Record<string, unknown>) ?? {})) {
          expect(Object.keys(declared.secrets ?? {}), jobLabel(wf, jobId)).toContain(name);
        }
      }
    }
  });

  it("name the infra repository only through the placeholders the pipeline stack substitutes", () => {
    for (const wf of callers) {
      const mentions = [...wf.text.matchAll(/monitor-delivery[^\s]*/g)].map((m) => m[0]);
      for (const mention of mentions) expect(mention.startsWith(INFRA_REPOSITORY_PLACEHOLDER.split("/")[1])).toBe(true);
      for (const m of wf.text.matchAll(/\b[0-9a-f]{40}\b/g)) {
        expect([INFRA_COMMIT_PLACEHOLDER, ...Object.values(PINNED).map((p) => p.sha)], wf.path).toContain(m[0]);
      }
    }
  });
});
