/**
 * An app deploy must not undo config apply: refused while its pinned infra commit runs other program or stack files
 * than main. Checked against real git: a repository standing in for this one, and a checkout made as
 * actions/checkout makes it (init, remote origin, a one-commit-deep fetch of the pinned SHA, detached HEAD).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import { PROGRAM_PATHS } from "../infra/pipeline-contract";
import { RefusedError, UsageError, exitCodeFor, type Env } from "../scripts/lib/cli";
import { PROGRAM_PATHSPECS, gitIn, main } from "../scripts/require-current-infra";
import { workflowFile } from "./workflow-files";

const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, {
    cwd,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      PATH: process.env.PATH,
      HOME: cwd,
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_AUTHOR_NAME: "t",
      GIT_AUTHOR_EMAIL: "t@example.com",
      GIT_COMMITTER_NAME: "t",
      GIT_COMMITTER_EMAIL: "t@example.com",
    },
  }).trim();

let infra: string;

/** Writes (or, with null, deletes) files on infra's main and commits them; returns the commit. */
function commit(files: Record<string, string | null>): string {
  for (const [path, content] of Object.entries(files)) {
    const full = join(infra, path);
    if (content === null) rmSync(full);
    else {
      mkdirSync(dirname(full), { recursive: true });
      writeFileSync(full, content);
    }
  }
  git(infra, "add", "-A");
  git(infra, "commit", "-q", "-m", Object.keys(files).join(" "));
  return git(infra, "rev-parse", "HEAD");
}

/** A checkout of `sha` as actions/checkout makes one with the default fetch-depth 1. */
function checkout(sha: string): string {
  const dir = mkdtempSync(join(tmpdir(), "infra-checkout-"));
  git(dir, "init", "-q");
  git(dir, "remote", "add", "origin", `file://${infra}`);
  git(dir, "fetch", "-q", "--no-tags", "--depth=1", "origin", `+${sha}:refs/remotes/origin/pinned`);
  git(dir, "checkout", "-q", "--detach", sha);
  return dir;
}

/** Runs the script in a checkout of `pinned`; resolves to the error it refused with, or undefined. */
async function deploy(pinned: string, env: Env = { PINNED_COMMIT: pinned }) {
  const dir = checkout(pinned);
  return main(env, gitIn(dir)).then(
    () => undefined,
    (err: Error) => err,
  );
}

beforeEach(() => {
  infra = mkdtempSync(join(tmpdir(), "infra-origin-"));
  git(infra, "init", "-q", "-b", "main");
  commit({
    "Pulumi.yaml": "name: monitor\n",
    "Pulumi.stage.yaml": "config:\n  monitor:domain: monitor-stage.allizom.org\n",
    "infra/index.ts": "export {};\n",
    "components/web-service.ts": "export {};\n",
    "shared-rules/app-env.ts": "export {};\n",
    "package.json": "{}\n",
    "README.md": "# infra\n",
  });
});

describe("require-current-infra", () => {
  it("lets a deploy pinned to main through", async () => {
    const head = git(infra, "rev-parse", "HEAD");
    expect(await deploy(head)).toBeUndefined();
  });

  it("lets it through when main changed only what the program does not run (docs, tests, workflows, the README)", async () => {
    const pinned = git(infra, "rev-parse", "HEAD");
    commit({
      "README.md": "# infra, documented\n",
      "docs/release.md": "runbook\n",
      "test/a.test.ts": "",
      ".github/workflows/ci.yml": "on: push\n",
      "docs/Pulumi.example.yaml": "a Pulumi*.yaml below the root is not a stack file\n",
    });
    expect(await deploy(pinned)).toBeUndefined();
  });

  it.each([
    ["a stack file", { "Pulumi.stage.yaml": "config:\n  monitor:domain: monitor.example\n" }, "Pulumi.stage.yaml"],
    ["a new stack file", { "Pulumi.prod.yaml": "config: {}\n" }, "Pulumi.prod.yaml"],
    ["the program's spine", { "infra/index.ts": "export const x = 1;\n" }, "infra/index.ts"],
    ["a component, nested", { "components/web/service.ts": "export {};\n" }, "components/web/service.ts"],
    ["a shared rule", { "shared-rules/app-env.ts": "export const y = 2;\n" }, "shared-rules/app-env.ts"],
    ["the dependencies", { "package.json": '{"dependencies":{}}\n' }, "package.json"],
    ["a deleted component", { "components/web-service.ts": null }, "components/web-service.ts"],
  ])(
    "refuses a deploy pinned before main changed %s, naming the file, main's commit and the re-pin",
    async (_, files, path) => {
      const pinned = git(infra, "rev-parse", "HEAD");
      const main = commit({ ...files, "README.md": `# ${path}\n` });
      const error = await deploy(pinned);
      expect(error).toBeInstanceOf(RefusedError);
      expect(exitCodeFor(error)).toBe(1);
      expect(error!.message).toContain(`PINNED_COMMIT ${pinned}`);
      expect(error!.message).toContain(`than main (${main}): ${path}.`);
      expect(error!.message).not.toContain("README.md");
      expect(error!.message).toContain(
        `Fix: apply the pipeline stack at main (re-pin): npx pulumi up --stack pipeline --config monitor:infraCommit=${main}`,
      );
    },
  );

  it("names at most ten files, then how many more", async () => {
    const pinned = git(infra, "rev-parse", "HEAD");
    commit(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`infra/f${String(i).padStart(2, "0")}.ts`, ""])));
    const error = await deploy(pinned);
    expect(error!.message).toContain("infra/f09.ts and 2 more.");
  });

  it("is a usage error when PINNED_COMMIT is missing, short, or not the commit checked out", async () => {
    const head = git(infra, "rev-parse", "HEAD");
    const older = head;
    const newer = commit({ "README.md": "# newer\n" });
    for (const env of [{}, { PINNED_COMMIT: head.slice(0, 7) }]) {
      const error = await deploy(head, env);
      expect(error).toBeInstanceOf(UsageError);
      expect(error!.message).toMatch(/^PINNED_COMMIT is not/);
    }
    const error = await deploy(older, { PINNED_COMMIT: newer });
    expect(error).toBeInstanceOf(UsageError);
    expect(error!.message).toContain("is not the commit checked out here");
  });

  it("refuses, saying so, when main cannot be fetched", async () => {
    const head = git(infra, "rev-parse", "HEAD");
    const dir = checkout(head);
    git(dir, "remote", "set-url", "origin", `file://${join(infra, "gone")}`);
    const error = await main({ PINNED_COMMIT: head }, gitIn(dir)).catch((err: Error) => err);
    expect(error).toBeInstanceOf(RefusedError);
    expect((error as Error).message).toContain("could not be compared with main: fetching main failed");
  });
});

describe("the paths compared", () => {
  it("are exactly the paths config apply applies on, so no change it applies can be undone by a deploy", () => {
    expect(workflowFile("infra", "config-apply.yml").workflow.on.push.paths).toEqual([...PROGRAM_PATHS]);
    // And what a pull request gets a config preview for: a change to shared-rules/ changes the program too.
    expect(workflowFile("infra", "config-preview.yml").workflow.on.pull_request.paths).toEqual([...PROGRAM_PATHS]);
    expect(PROGRAM_PATHSPECS.every((p) => p.startsWith(":(glob)"))).toBe(true);
  });
});
