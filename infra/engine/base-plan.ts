import { execFile, execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import type { PlanDocument } from "./diff";

/**
 * The other side of `--diff`: the plan of a stack as the program at a git ref makes it. The ref's tree is taken
 * out of the local repository (no fetch, no credentials) into a temporary directory that shares this checkout's
 * node_modules, and the ref's own plan command runs there with `--json`: the ref's program judged by the ref's
 * engine and policy pack, as its `npm run plan` would have printed it.
 */

/** `--diff` was given a ref this checkout cannot compare with: bad usage, exit 2. */
export class GitRefError extends Error {}

export interface BaseCheckout {
  ref: string;
  commit: string;
  /** The ref's tree, with this checkout's node_modules. */
  root: string;
}

const execFileAsync = promisify(execFile);
const checkouts = new Map<string, BaseCheckout>();
const plans = new Map<string, Promise<PlanDocument>>();
/** This checkout's packages, linked into a ref's directory. */
const LINKED = ["node_modules", join("policies", "node_modules")];

function git(root: string, args: string[]): string {
  return execFileSync("git", ["-C", root, ...args], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
}

/** The commit `ref` names in the repository at `root`, or a GitRefError that says how to get it. */
export function resolveRef(root: string, ref: string): string {
  // A ref that starts with "-" would read as an option of git.
  if (ref.startsWith("-")) throw new GitRefError(`--diff: "${ref}" is not a git ref. Fix: --diff <branch, tag or sha>`);
  try {
    git(root, ["rev-parse", "--is-inside-work-tree"]);
  } catch {
    throw new GitRefError(
      `--diff compares with git history, and ${root} is not a git checkout. Fix: plan from a clone`,
    );
  }
  try {
    // --verify: exactly one object or fail; ^{commit} peels a tag to its commit and fails on a non-commit
    // (https://git-scm.com/docs/git-rev-parse#Documentation/git-rev-parse.txt---verify, gitrevisions' <rev>^{<type>}).
    return git(root, ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]);
  } catch {
    throw new GitRefError(
      `--diff: "${ref}" names no commit in this checkout. Fix: fetch it (git fetch origin ${ref}), or compare ` +
        "with a ref you have: --diff origin/main, a tag or a sha",
    );
  }
}

/** The tree of `ref` in a directory of its own, made once per commit; removeCheckouts() (or the exit) removes it. */
export function checkout(root: string, ref: string): BaseCheckout {
  const commit = resolveRef(root, ref);
  const known = checkouts.get(commit);
  if (known) return { ...known, ref };
  if (checkouts.size === 0) process.on("exit", removeCheckouts);
  const made = { ref, commit, root: mkdtempSync(join(tmpdir(), `monitor-plan-${commit.slice(0, 7)}-`)) };
  try {
    extract(root, made);
  } catch (err) {
    removeCheckout(made.root);
    throw err;
  }
  checkouts.set(commit, made);
  return made;
}

function extract(root: string, { ref, commit, root: dir }: BaseCheckout): void {
  // The committed files only, as `git archive <commit> | tar -x` extracts them
  // (https://git-scm.com/docs/git-archive#_examples).
  const tar = execFileSync("git", ["-C", root, "archive", "--format=tar", commit], { maxBuffer: 1 << 30 });
  const extracted = spawnSync("tar", ["-x", "-C", dir], { input: tar });
  if (extracted.status !== 0) throw new Error(`--diff: could not extract ${ref}: ${String(extracted.stderr)}`);
  // This checkout's packages (the policy pack's too, where it has its own), as a link: nothing is installed.
  for (const modules of LINKED) {
    if (existsSync(join(root, modules)) && existsSync(dirname(join(dir, modules)))) {
      symlinkSync(join(root, modules), join(dir, modules), "junction");
    }
  }
  // What `npm ci` does after installing (package.json postinstall): the pack's copy of the shared rules.
  const sync = join(dir, "policies", "sync-shared-rules.js");
  if (existsSync(sync)) execFileSync(process.execPath, [sync], { stdio: "ignore" });
}

/** The links into this checkout's node_modules go first, so that removing the directory cannot reach through. */
function removeCheckout(dir: string): void {
  for (const link of LINKED) rmSync(join(dir, link), { force: true });
  rmSync(dir, { recursive: true, force: true });
}

/** Removes every ref's directory. */
export function removeCheckouts(): void {
  for (const { root } of checkouts.values()) removeCheckout(root);
  checkouts.clear();
  plans.clear();
}

export interface BaseRequest {
  stack: string;
  fresh: boolean;
  overrides: Record<string, string>;
}

/**
 * The ref's `npm run plan -- <stack> --json`, with the same `--fresh` and `--config` as the working tree's plan.
 * A plan its policies refuse still prints its document (exit 1): that is a plan to compare with. A plan that
 * prints nothing failed, and there is nothing to compare with.
 */
export function basePlan(base: BaseCheckout, request: BaseRequest): Promise<PlanDocument> {
  const args = [
    request.stack,
    "--json",
    ...(request.fresh ? ["--fresh"] : []),
    ...Object.entries(request.overrides).flatMap(([k, v]) => ["--config", `${k}=${v}`]),
  ];
  const key = JSON.stringify([base.commit, args]);
  const known = plans.get(key);
  if (known) return known;
  const running = runPlan(base, args);
  plans.set(key, running);
  return running;
}

async function runPlan(base: BaseCheckout, args: string[]): Promise<PlanDocument> {
  const script = (JSON.parse(readFileSync(join(base.root, "package.json"), "utf8")) as { scripts?: { plan?: string } })
    .scripts?.plan;
  const [command, ...options] = (script ?? "").split(" ");
  if (command !== "node") {
    throw new Error(
      `--diff: ${base.ref} has no \`npm run plan\` of the form "node ...". Fix: compare with a newer ref`,
    );
  }
  const { stdout, stderr } = await execFileAsync(process.execPath, [...options, ...args], {
    cwd: base.root,
    maxBuffer: 1 << 28,
  }).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? "", stderr: err.stderr ?? "" }));
  try {
    return JSON.parse(stdout) as PlanDocument;
  } catch {
    throw new Error(
      `Stack "${args[0]}" does not plan at ${base.ref} (${base.commit.slice(0, 7)}), so there is nothing to compare ` +
        `with:\n${stderr.trim()}\nFix: compare with another ref (--diff <ref>), or plan without --diff`,
    );
  }
}
