/**
 * The `own-commit` job decides which commit of this repository every later job checks out and runs with cloud
 * credentials. It must decide without running code that floats (this repository's default branch, npm packages):
 * one inline step, the same in every reusable workflow, run here exactly as the YAML has it.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { REUSABLE_WORKFLOWS } from "../infra/pipeline-contract";
import {
  OWN_COMMIT_STEPS,
  errorOf,
  jwt,
  ownCommitScript,
  runStep,
  tokenService,
  type TokenRequest,
} from "./own-commit-step";
import { workflowFile } from "./workflow-files";

const SHA = "8e5e406f4007fca908480587cb9893c07090f58d";
// As GitHub documents a called workflow's token: repository*, ref and event describe the caller; job_workflow_*
// name the called file (docs: "OpenID Connect reference", "Using OpenID Connect with reusable workflows").
const CLAIMS = {
  repository: "mozilla/blurts-server",
  ref: "refs/heads/main",
  event_name: "push",
  workflow_ref: "mozilla/blurts-server/.github/workflows/stage.yml@refs/heads/main",
  job_workflow_ref: `mozilla/monitor-delivery/.github/workflows/deploy-stage.yml@${SHA}`,
  job_workflow_sha: SHA,
};
const REQUEST_TOKEN = "request-token-from-the-runner";

let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** Runs the step against a token service that answers `answer`; returns the run and what the service saw. */
async function run(answer: (request: TokenRequest) => { status?: number; body: unknown }) {
  const service = await tokenService(answer);
  close = service.close;
  const result = await runStep(ownCommitScript(), {
    ACTIONS_ID_TOKEN_REQUEST_URL: service.url,
    ACTIONS_ID_TOKEN_REQUEST_TOKEN: REQUEST_TOKEN,
  });
  return { ...result, requests: service.requests };
}

const answering = (claims: unknown) => () => ({ body: { value: jwt(claims), count: 1 } });

describe("the own-commit job of every reusable workflow", () => {
  it("is one inline step, the same in every file", () => {
    expect(OWN_COMMIT_STEPS.map((s) => s.file)).toEqual(Object.values(REUSABLE_WORKFLOWS));
    for (const { file, steps } of OWN_COMMIT_STEPS) {
      expect(steps, file).toHaveLength(1);
      expect(steps[0], file).toMatchObject({ id: "own", shell: "bash" });
      expect(steps[0].run, file).toBe(ownCommitScript());
    }
  });

  it("runs nothing but its own lines: no action, no checkout, no npm, no script of this repository", () => {
    for (const { file, steps } of OWN_COMMIT_STEPS) {
      expect(
        steps.filter((s) => s.uses),
        file,
      ).toEqual([]);
      expect(ownCommitScript()).not.toMatch(/\b(npm|npx|node|ts-node|git|scripts\/)\b/);
      const job = workflowFile("infra", file).workflow.jobs["own-commit"];
      // Reads no repository contents: only its OIDC token.
      expect(job.permissions, file).toEqual({ "id-token": "write" });
      expect(job.outputs, file).toEqual({
        sha: "${{ steps.own.outputs.sha }}",
        repository: "${{ steps.own.outputs.repository }}",
      });
    }
  });
});

describe("the own-commit step, run as the runner runs it", () => {
  it("asks the runner's token service with its bearer token and an audience, and outputs the called workflow's commit", async () => {
    const result = await run(answering(CLAIMS));
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.output).toBe(`sha=${SHA}\nrepository=mozilla/monitor-delivery\n`);
    expect(result.requests).toHaveLength(1);
    const [request] = result.requests;
    expect(request.headers.authorization).toBe(`Bearer ${REQUEST_TOKEN}`);
    // The URL's own query is kept and the audience added to it, as actions/toolkit's getIDToken does.
    expect(request.url.searchParams.get("api-version")).toBe("2.0");
    expect(request.url.searchParams.get("audience")).toBe("monitor-delivery-own-commit");
    // The caller's repository and commit are not what it outputs.
    expect(result.output).not.toContain("blurts-server");
    expect(result.stdout).toContain(`This job's workflow is ${CLAIMS.job_workflow_ref} at ${SHA}.`);
  });

  it("never prints the request token or the JWT", async () => {
    const result = await run(answering(CLAIMS));
    expect(result.stdout + result.stderr).not.toContain(REQUEST_TOKEN);
    expect(result.stdout + result.stderr).not.toContain(jwt(CLAIMS).split(".")[1]);
  });

  it("decodes base64url payloads of every length: - and _ in place of + and /, padding left off", async () => {
    // Claim text that encodes to '+' and '/' in plain base64 ('>>>' is Pj4+, '???' is Pz8/), at each alignment.
    const seen = new Set<string>();
    for (let pad = 0; pad < 3; pad++) {
      const claims = { ...CLAIMS, note: `${"x".repeat(pad)}>>>???` };
      const payload = jwt(claims).split(".")[1];
      seen.add(`${payload.length % 4}${payload.includes("-") ? "-" : ""}${payload.includes("_") ? "_" : ""}`);
      const result = await run(answering(claims));
      expect(result.code, `${payload}: ${result.stdout}`).toBe(0);
      expect(result.output).toBe(`sha=${SHA}\nrepository=mozilla/monitor-delivery\n`);
      await close?.();
      close = undefined;
    }
    // The cases above really cover every padding and both substitutions.
    expect([...seen].map((s) => s[0]).sort()).toEqual(["0", "2", "3"]);
    expect([...seen].some((s) => s.includes("-")) && [...seen].some((s) => s.includes("_"))).toBe(true);
  });

  it("takes the repository of a ref that is a branch or a tag, and a .yaml file", async () => {
    const result = await run(
      answering({
        ...CLAIMS,
        job_workflow_ref: "mozilla/monitor-delivery/.github/workflows/drift.yaml@refs/heads/main",
      }),
    );
    expect(result.output).toBe(`sha=${SHA}\nrepository=mozilla/monitor-delivery\n`);
  });

  it("refuses without the runner's variables (no id-token: write), before any request, writing nothing", async () => {
    const result = await runStep(ownCommitScript(), {});
    // 2: the job is set up wrongly, as a script's usage error (scripts/lib/cli.ts).
    expect(result.code).toBe(2);
    expect(errorOf(result)).toContain("ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set");
    expect(errorOf(result)).toContain("Fix: give the job `permissions: id-token: write`");
    expect(result.output).toBe("");
  });

  it("refuses when the token service says no", async () => {
    const result = await run(() => ({ status: 403, body: { message: "forbidden" } }));
    expect(result.code).toBe(1);
    expect(errorOf(result)).toContain("refused the OIDC token request");
    expect(result.output).toBe("");
  });

  it("refuses an answer that holds no JWT", async () => {
    for (const body of [{}, { value: 42 }, { value: "not-a-jwt" }, "plain text"]) {
      const result = await run(() => ({ body }));
      expect(result.code, JSON.stringify(body)).toBe(1);
      expect(errorOf(result)).toContain("answered without a JWT");
      await close?.();
      close = undefined;
    }
  });

  it("refuses a token without the claims, or with a malformed sha or workflow ref", async () => {
    const cases: [unknown, string][] = [
      [{ repository: "x/y" }, "job_workflow_sha claim is not a 40-hex commit"],
      [["not", "an", "object"], "job_workflow_sha claim is not a 40-hex commit"],
      [{ ...CLAIMS, job_workflow_sha: "abc" }, "job_workflow_sha claim is not a 40-hex commit"],
      [{ ...CLAIMS, job_workflow_sha: SHA.toUpperCase() }, "job_workflow_sha claim is not a 40-hex commit"],
      [{ ...CLAIMS, job_workflow_ref: "mozilla/monitor-delivery@refs/heads/main" }, "job_workflow_ref claim is not"],
      [{ ...CLAIMS, job_workflow_ref: undefined }, "job_workflow_ref claim is not"],
      [
        { ...CLAIMS, job_workflow_ref: "mozilla/monitor-delivery/.github/workflows/deploy.yml@main\n::error::x" },
        "job_workflow_ref claim is not",
      ],
    ];
    for (const [claims, message] of cases) {
      const result = await run(answering(claims));
      expect(result.code, JSON.stringify(claims)).toBe(1);
      expect(errorOf(result), JSON.stringify(claims)).toContain(message);
      expect(result.output).toBe("");
      await close?.();
      close = undefined;
    }
  });

  it("treats claim values as data: shell text in a claim is never run", async () => {
    const dir = process.cwd();
    const marker = join(dir, "own-commit-pwned");
    const result = await run(
      answering({
        ...CLAIMS,
        job_workflow_ref: `mozilla/monitor-delivery/.github/workflows/deploy.yml@$(touch${"${IFS}"}${marker})`,
      }),
    );
    expect(result.code).toBe(0);
    expect(existsSync(marker)).toBe(false);
    expect(result.output).toBe(`sha=${SHA}\nrepository=mozilla/monitor-delivery\n`);
  });
});
