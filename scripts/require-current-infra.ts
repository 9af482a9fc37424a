/**
 * Refuses an app deploy (stage or prod) whose pinned commit of this repository runs other program or stack files
 * than this repository's main. Config apply (`.github/workflows/config-apply.yml`) runs `pulumi up` from main; an
 * app deploy runs the program at the commit the pipeline stack pinned (`monitor:infraCommit`), so with an older
 * `Pulumi.<stack>.yaml` or program it would put back what config apply changed. The deploy waits instead until
 * an administrator applies the pipeline stack at main, which moves the pin.
 *
 * env: PINNED_COMMIT (the own-commit job's sha: the commit checked out in the working directory).
 * cwd: this repository's checkout at PINNED_COMMIT by actions/checkout (remote `origin`, fetched without a token:
 *      the repository is public).
 */
import { execFileSync } from "node:child_process";
import { PROGRAM_PATHS } from "../infra/pipeline-contract";
import { FULL_SHA, RefusedError, UsageError, requireEnv, run, type Env } from "./lib/cli";

/** Runs git with these arguments in the checkout; returns stdout, throws with git's stderr on a non-zero exit. */
export type Git = (args: readonly string[]) => string;

export function gitIn(cwd: string): Git {
  return (args) => execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}

/** The branch config apply applies from. */
export const MAIN = "main";
const MAIN_REMOTE_REF = `refs/remotes/origin/${MAIN}`;

/** PROGRAM_PATHS as git pathspecs: `:(glob)` reads `*` and `**` as a workflow's `paths` filter does. */
export const PROGRAM_PATHSPECS = PROGRAM_PATHS.map((path) => `:(glob)${path}`);

const gitError = (err: unknown) =>
  (err as { stderr?: string }).stderr?.trim() || (err instanceof Error ? err.message : String(err));

export interface PinVerdict {
  readonly main: string;
  /** Program and stack files whose content differs between the pinned commit and main. */
  readonly differing: readonly string[];
}

/** Fetches main (one commit deep: only its tree is compared) and lists the program files that differ from it. */
export function compareWithMain(git: Git, pinned: string): PinVerdict {
  const head = git(["rev-parse", "HEAD"]).trim();
  if (head !== pinned) {
    throw new UsageError(
      `PINNED_COMMIT ${pinned} is not the commit checked out here (${head}). Fix: run this in the checkout of ` +
        "needs.own-commit.outputs.sha and pass that sha as PINNED_COMMIT.",
    );
  }
  try {
    git(["fetch", "--quiet", "--no-tags", "--depth=1", "origin", `+refs/heads/${MAIN}:${MAIN_REMOTE_REF}`]);
  } catch (err) {
    throw new RefusedError(
      `PINNED_COMMIT ${pinned} could not be compared with ${MAIN}: fetching ${MAIN} failed: ${gitError(err)}. ` +
        "Fix: re-run the job (this repository must be public: the checkout carries no token).",
    );
  }
  const main = git(["rev-parse", "--verify", `${MAIN_REMOTE_REF}^{commit}`]).trim();
  if (main === pinned) return { main, differing: [] };
  const differing = git(["diff", "--name-only", "--no-renames", pinned, main, "--", ...PROGRAM_PATHSPECS])
    .split("\n")
    .filter(Boolean);
  return { main, differing };
}

/** The refusal for a pin whose program files differ from main's, naming them, the commit to pin and how. */
export function staleMessage(pinned: string, verdict: PinVerdict): string {
  const shown = verdict.differing.slice(0, 10).join(", ");
  const more = verdict.differing.length > 10 ? ` and ${verdict.differing.length - 10} more` : "";
  return (
    `PINNED_COMMIT ${pinned} (monitor:infraCommit, the commit the pipeline stack pinned the app's workflows to) ` +
    `runs other program and stack files than ${MAIN} (${verdict.main}): ${shown}${more}. Config apply applied ` +
    `${MAIN}; a deploy from the pinned commit would undo it. Fix: apply the pipeline stack at ${MAIN} (re-pin): ` +
    `npx pulumi up --stack pipeline --config monitor:infraCommit=${verdict.main}, then start a new deploy (a ` +
    "re-run keeps the old pin)."
  );
}

// eslint-disable-next-line @typescript-eslint/require-await -- every script's main is async, so that a refusal reaches run() and the tests as a rejection, never a synchronous throw
export async function main(env: Env, git: Git = gitIn(process.cwd())): Promise<number> {
  const pinned = requireEnv(env, "PINNED_COMMIT", {
    pattern: FULL_SHA,
    expected: "a full 40-hex commit SHA",
    hint: "pass needs.own-commit.outputs.sha through the step's env:.",
  });
  const verdict = compareWithMain(git, pinned);
  if (verdict.differing.length > 0) throw new RefusedError(staleMessage(pinned, verdict));
  console.log(
    verdict.main === pinned
      ? `The pinned commit ${pinned} is ${MAIN}.`
      : `The pinned commit ${pinned} runs the same program and stack files as ${MAIN} (${verdict.main}).`,
  );
  return 0;
}

if (require.main === module) run(() => main(process.env));
