/**
 * The `own-commit` job's one step, as every reusable workflow carries it, and a way to run it exactly as a runner
 * does, against a local token service that answers as GitHub's does. The step runs inline (no checkout, no npm), so
 * its test runs the YAML's own text, not a copy.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REUSABLE_WORKFLOWS } from "../infra/pipeline-contract";
import { RefusedError, UsageError, type Env } from "../scripts/lib/cli";
import { workflowFile, type Step } from "./workflow-files";

/** The step of `jobs.own-commit` in each reusable workflow, by file. */
export const OWN_COMMIT_STEPS: readonly { file: string; steps: readonly Step[] }[] = Object.values(
  REUSABLE_WORKFLOWS,
).map((file) => ({ file, steps: workflowFile("infra", file).workflow.jobs["own-commit"]?.steps ?? [] }));

/** The step's `run:` text (the first file's; the test checks every file carries the same). */
export function ownCommitScript(): string {
  const run = OWN_COMMIT_STEPS[0].steps[0]?.run;
  if (!run) throw new Error(`${OWN_COMMIT_STEPS[0].file} has no own-commit step with run:`);
  return run;
}

export interface StepRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** What the step appended to $GITHUB_OUTPUT. */
  readonly output: string;
}

/**
 * Runs `script` as `shell: bash` does: `bash --noprofile --norc -eo pipefail <file>` (GitHub's workflow syntax,
 * jobs.<job_id>.steps[*].shell), with only PATH and `env` in its environment (nothing of this process's, so no
 * real ACTIONS_ID_TOKEN_* can leak in), in an empty directory: there is no checkout of this repository to run.
 */
export function runStep(script: string, env: Env): Promise<StepRun> {
  const dir = mkdtempSync(join(tmpdir(), "own-commit-"));
  const file = join(dir, "step.sh");
  writeFileSync(file, script);
  const output = env.GITHUB_OUTPUT ?? join(dir, "github-output");
  if (env.GITHUB_OUTPUT === undefined) writeFileSync(output, "");
  return new Promise((resolve, reject) => {
    const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", file], {
      cwd: dir,
      env: { PATH: process.env.PATH, GITHUB_OUTPUT: output, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr, output: readFileSync(output, "utf8") }));
  });
}

/** The `::error::` annotation a step printed, or its stderr when it printed none. */
export function errorOf(run: StepRun): string {
  return /^::error::(.*)$/m.exec(run.stdout)?.[1] ?? run.stderr.trim();
}

/**
 * The own-commit step as the refusal catalogue runs a script: its annotation is the message, its exit code the kind
 * (2 the job is set up wrongly, 1 refused), as scripts/lib/cli.ts has them.
 */
export async function ownCommitStep(env: Env): Promise<void> {
  const run = await runStep(ownCommitScript(), env);
  if (run.code === 2) throw new UsageError(errorOf(run));
  if (run.code !== 0) throw new RefusedError(errorOf(run));
}

export interface TokenRequest {
  readonly url: URL;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A stand-in for the runner's token service (ACTIONS_ID_TOKEN_REQUEST_URL): records each request and answers with
 * `answer(request)`: a status and a JSON body.
 */
export async function tokenService(
  answer: (request: TokenRequest) => { status?: number; body: unknown },
): Promise<{ url: string; requests: TokenRequest[]; close: () => Promise<void> }> {
  const requests: TokenRequest[] = [];
  const server = createServer((req, res) => {
    const request = { url: new URL(req.url ?? "/", "http://127.0.0.1"), headers: req.headers };
    requests.push(request);
    const { status = 200, body } = answer(request);
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    // As the runner gives it: a query already on it (the toolkit appends `&audience=`).
    url: `http://127.0.0.1:${port}/_apis/distributedtask/idtoken?api-version=2.0`,
    requests,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** An unsigned JWT with these claims: the step decodes, never verifies. */
export function jwt(claims: unknown): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${part({ alg: "RS256", typ: "JWT", kid: "test" })}.${part(claims)}.c2lnbmF0dXJl`;
}
