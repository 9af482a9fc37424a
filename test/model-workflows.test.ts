import { describe, expect, it } from "vitest";
import { type Job, matrixCombinations, workflowFile } from "./workflow-files";
import { asString, conditionHolds, evaluateExpression, render } from "./model/github-expressions";
import { scriptEnv, scriptListsState, scriptPulumiCalls, scriptRegistryCalls } from "./model/script-env";
import { callersOf, envCheck, jobModel, needsRefs, pulumiCalls } from "./model/workflows";

describe("GitHub expressions (github/docs expressions.md)", () => {
  const context = {
    github: { event_name: "pull_request", actor: "Dependabot[bot]", event: { action: "closed" } },
    inputs: { "target-ref": "", environment: "prod" },
  };

  it("compares strings ignoring case; a missing property is null", () => {
    expect(evaluateExpression("github.event_name == 'PULL_REQUEST'", context)).toBe(true);
    expect(evaluateExpression("endsWith(github.actor, '[BOT]')", context)).toBe(true);
    expect(evaluateExpression("github.event.pull_request.number", context)).toBeNull();
    expect(evaluateExpression("inputs.target-ref == ''", context)).toBe(true);
  });

  it("&& and || return an operand, not a boolean", () => {
    expect(evaluateExpression("inputs.environment == 'prod' && 'a' || 'b'", context)).toBe("a");
    expect(evaluateExpression("inputs.environment == 'stage' && 'a' || 'b'", context)).toBe("b");
  });

  it("an absent if is success(); a condition renders into a string as GitHub casts it", () => {
    expect(conditionHolds(undefined, context)).toBe(true);
    expect(conditionHolds("github.event.action != 'closed'", context)).toBe(false);
    expect(render("pr-${{ github.event.pull_request.number }}", context)).toBe("pr-");
    expect(asString(true)).toBe("true");
  });

  it("throws on what it does not model, rather than guessing", () => {
    expect(() => evaluateExpression("fromJSON('{}')", context)).toThrow(/does not evaluate fromJSON/);
    expect(() => evaluateExpression("a == ", context)).toThrow();
  });
});

describe("what the scripts read (scripts/lib/cli.ts)", () => {
  it("requireEnv is required, intEnv with a default optional, a read on one branch conditional", () => {
    const reads = Object.fromEntries(scriptEnv("scripts/destroy-preview.ts").map((r) => [r.name, r.need]));
    expect(reads).toMatchObject({ STACK: "required", DESTROY_ATTEMPTS: "optional" });
    const comment = Object.fromEntries(scriptEnv("scripts/preview-comment.ts").map((r) => [r.name, r.need]));
    expect(comment).toMatchObject({ STATE: "required", PR_NUMBER: "required", URL: "conditional" });
  });

  it("a step that leaves a required variable out, or passes it empty, is reported", () => {
    expect(envCheck("s", "scripts/destroy-preview.ts", { STACK: "pr-7" }, true).missing).toEqual([]);
    expect(envCheck("s", "scripts/destroy-preview.ts", {}, true).missing).toEqual(["STACK"]);
    // An unset `vars.X` renders as "": cli.ts treats it as unset.
    expect(envCheck("s", "scripts/destroy-preview.ts", { STACK: "" }, true).missing).toEqual(["STACK"]);
  });

  it("finds the Pulumi operations a script runs through the Automation API, in order", () => {
    // Stack.destroy() runs `stack history --show-secrets` after the destroy (stack.js info()).
    expect(scriptPulumiCalls("scripts/destroy-preview.ts")).toEqual([
      "select",
      "destroy",
      "stack history --show-secrets",
      "stack rm",
    ]);
    expect(scriptPulumiCalls("scripts/smoke-check.ts")).toEqual([]);
  });

  it("tells the sweeper's listing of object names from `pulumi stack ls` (issue 14, item 2)", () => {
    // Its SweepBackend has a listStacks() method too: not the Automation API's Workspace.listStacks.
    expect(scriptPulumiCalls("scripts/sweep-previews.ts")).not.toContain("stack ls");
    expect(scriptListsState("scripts/sweep-previews.ts")).toBe(true);
    expect(scriptListsState("scripts/destroy-preview.ts")).toBe(false);
  });

  it("finds the image pushes a script spawns", () => {
    expect(scriptRegistryCalls("scripts/build-image.ts")).toEqual(["push"]);
    expect(scriptRegistryCalls("scripts/stage-order.ts")).toEqual([]);
  });
});

describe("matrix combinations (workflow-syntax.md, strategy.matrix)", () => {
  const job = (matrix: Record<string, unknown>): Job => ({ strategy: { matrix } });

  it("multiplies lists, adds include objects to the combinations they fit, else makes one of each", () => {
    expect(matrixCombinations({})).toEqual([{}]);
    expect(matrixCombinations(job({ stack: ["stage", "prod"] }))).toEqual([{ stack: "stage" }, { stack: "prod" }]);
    expect(
      matrixCombinations(
        job({ stack: ["stage", "prod"], include: [{ stack: "prod", environment: "drift" }, { stack: "previews" }] }),
      ),
    ).toEqual([{ stack: "stage" }, { stack: "prod", environment: "drift" }, { stack: "previews" }]);
    // include alone: no original combination, one per object.
    expect(
      matrixCombinations(
        job({
          include: [
            { stack: "stage", environment: "review" },
            { stack: "prod", environment: "drift" },
          ],
        }),
      ),
    ).toEqual([
      { stack: "stage", environment: "review" },
      { stack: "prod", environment: "drift" },
    ]);
    expect(() => matrixCombinations(job({ stack: ["a"], exclude: [{ stack: "a" }] }))).toThrow(/exclude/);
  });
});

describe("the workflow files as jobs", () => {
  it("a reusable workflow starts on its callers' events, with the caller's permissions", () => {
    const callers = callersOf(workflowFile("infra", "preview-up.yml"));
    expect(callers.map((c) => `${c.file.path}#${c.id}`)).toEqual(["workflows/app/.github/workflows/preview.yml#up"]);
    const deploy = jobModel(".github/workflows/preview-up.yml", "deploy");
    expect(deploy.starts.map((s) => s.event)).toEqual(["pull_request"]);
    expect(deploy.idToken).toBe(true);
  });

  it("reads a CLI run: line's operation, its stack from the step's env, and its --exclude globs", () => {
    const run =
      'pulumi refresh --stack "$STACK" --preview-only --exclude "**gcp:secretmanager/secretVersion:SecretVersion::*"';
    expect(pulumiCalls({ run }, { STACK: "stage" })).toEqual([
      {
        operations: ["refresh --preview-only"],
        stack: "stage",
        with: {},
        excludes: ["**gcp:secretmanager/secretVersion:SecretVersion::*"],
      },
    ]);
  });

  it("a needs.*.outputs.* reference exists only when the job is needed and declares the output", () => {
    const file = workflowFile("infra", "deploy.yml");
    const job = file.workflow.jobs.deploy;
    expect(needsRefs(file, job).every((r) => r.exists)).toBe(true);
    const broken = { ...job, needs: ["check"] };
    expect(
      needsRefs(file, broken)
        .filter((r) => !r.exists)
        .map((r) => r.job),
    ).toContain("own-commit");
  });
});
