/**
 * Runs the drift check of one stack and says what it found, telling drift apart from failure by Pulumi's own exit:
 * `pulumi refresh --preview-only --expect-no-changes` returns NoChangesExpectedError when the refresh proposes
 * changes (pulumi/pulumi pkg/cmd/pulumi/operations/refresh.go: `case expectNop && changes != nil &&
 * engine.HasChanges(changes): return backenderr.NoChangesExpectedError{Operation: "refresh"}`), which the CLI prints
 * as "no changes were expected for refresh but changes were proposed" (pkg/backend/backenderr/backenderr.go) and
 * exits 7 with (pkg/cmd/pulumi/cmd/exit_codes.go `ExitNoChanges = 7`, a code the file calls "part of the contract
 * for automation ... stable once released", since 3.227.0, pulumi/pulumi#22205). Any error of the refresh itself
 * (expired credentials, a 403, a provider failure) is returned first (`case err != nil: return err`) and exits with
 * another code. `--preview-only` takes no lock and writes no state (pkg/backend/diy/backend.go Refresh).
 *
 * So: exit 0 → no drift; exit 7 with that message → drift (details written for the issue); anything else → the
 * check failed: this exits 1 with Pulumi's error, and the next step (the drift issue) does not run, so no issue is
 * opened or closed on a failure.
 *
 * What the refresh reads: `gcp:secretmanager/secretVersion:SecretVersion` is excluded. Its read calls
 * `secretmanager.versions.access` for the payload ("Error reading SecretVersion: googleapi: Error 403: Permission
 * 'secretmanager.versions.access' denied", GoogleCloudPlatform/terraform-gcp-datadog-integration#2), which the
 * read-only drift identity must never hold. `--exclude` takes globs in 3.265 (refresh.go: "Wildcards (*, **) are
 * also supported"; deployment.go getMatcher: `**` matches anything, `*` anything but `:`), and an exclude glob that
 * matches nothing is no error (engine/deployment.go checkTargets checks literals only). Every other resource is read
 * through metadata only.
 *
 * env: STACK (stage | previews | prod), DETAILS_FILE (where the refresh output goes), PULUMI_BACKEND_URL (the CLI reads it),
 *      Google credentials (the auth step's). Outputs `drifted` (true | false) to $GITHUB_OUTPUT.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { RefusedError, requireEnv, run, type Env } from "./lib/cli";
import { writeOutputs } from "./lib/github-files";
import { DRIFT_STACKS, requireDriftStack } from "./drift-issue";

/** The URN glob of every Secret Manager version: refreshing one reads its payload. */
export const SECRET_VERSION_GLOB = "**gcp:secretmanager/secretVersion:SecretVersion::*";

/** The CLI's arguments for the drift check of `stack`. */
export function refreshArgs(stack: string): string[] {
  return [
    "refresh",
    "--stack",
    stack,
    "--preview-only",
    "--expect-no-changes",
    "--diff",
    "--non-interactive",
    "--suppress-outputs",
    "--exclude",
    SECRET_VERSION_GLOB,
  ];
}

/** What `pulumi refresh` printed (stdout and stderr, interleaved) and how it exited. */
export interface RefreshRun {
  readonly exitCode: number;
  readonly output: string;
}

export const EXIT_NO_CHANGES_EXPECTED = 7;
const NO_CHANGES_EXPECTED = "no changes were expected for refresh but changes were proposed";

export type DriftResult =
  | { readonly kind: "clean" }
  | { readonly kind: "drift"; readonly details: string }
  | { readonly kind: "error"; readonly message: string };

/** Drift only when Pulumi says so, by code and message; anything else that is not success is a failed check. */
export function classifyRefresh(result: RefreshRun): DriftResult {
  if (result.exitCode === 0) return { kind: "clean" };
  if (result.exitCode === EXIT_NO_CHANGES_EXPECTED && result.output.includes(NO_CHANGES_EXPECTED)) {
    return { kind: "drift", details: result.output };
  }
  const errors = result.output
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => /^error:/i.test(l));
  const headline = errors.length > 0 ? errors.join("\n") : (result.output.trim().split("\n").at(-1) ?? "");
  return { kind: "error", message: `pulumi refresh exited ${result.exitCode}: ${headline || "no output"}` };
}

/** Runs the CLI (installed by pulumi/actions), echoing its output to the log as it comes. */
export function runPulumi(args: readonly string[]): Promise<RefreshRun> {
  return new Promise((resolve, reject) => {
    const child = spawn("pulumi", args, { stdio: ["ignore", "pipe", "pipe"] });
    const chunks: string[] = [];
    const take = (stream: NodeJS.WriteStream) => (data: Buffer) => {
      chunks.push(data.toString());
      stream.write(data);
    };
    child.stdout.on("data", take(process.stdout));
    child.stderr.on("data", take(process.stderr));
    child.on("error", reject);
    child.on("close", (code) => resolve({ exitCode: code ?? 1, output: chunks.join("") }));
  });
}

export async function main(
  env: Env = process.env,
  refresh: (args: readonly string[]) => Promise<RefreshRun> = runPulumi,
): Promise<number> {
  const stack = requireDriftStack(
    requireEnv(env, "STACK", { hint: `Pass the stack to check (${DRIFT_STACKS.join(", ")}).` }),
  );
  const detailsFile = requireEnv(env, "DETAILS_FILE", { hint: "Pass a file path for the refresh output." });
  const result = classifyRefresh(await refresh(refreshArgs(stack)));
  if (result.kind === "error") {
    throw new RefusedError(
      `The drift check of ${stack} failed, so whether it drifted is unknown; no drift issue was changed.\n${result.message}`,
    );
  }
  writeFileSync(detailsFile, result.kind === "drift" ? result.details : "");
  writeOutputs(env, { drifted: String(result.kind === "drift") });
  console.log(result.kind === "drift" ? `${stack} has drifted.` : `${stack} has no drift.`);
  return 0;
}

if (require.main === module) run(() => main());
