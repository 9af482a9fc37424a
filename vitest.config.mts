import { readdirSync, readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { defineConfig } from "vitest/config";

// Test files share their worker's module cache (isolate: false): each worker loads @pulumi/pulumi and the
// providers' SDKs once instead of once per file, which was most of the suite's time. The Pulumi runtime's mock
// settings are process-global, so the engine sets them afresh on every evaluation (infra/engine/evaluate.ts).
// A file that replaces a module with vi.mock needs its own module cache (a shared one has the real module loaded
// already), so those files still run isolated: found by reading the files, so a new one cannot be forgotten.
const TESTS = "test/**/*.test.ts";
const mocking = readdirSync(new URL("test", import.meta.url))
  .filter((file) => file.endsWith(".test.ts"))
  .filter((file) => /\bvi\.(mock|doMock)\(/.test(readFileSync(new URL(`test/${file}`, import.meta.url), "utf8")))
  .map((file) => `test/${file}`);

export default defineConfig({
  test: {
    pool: "forks",
    // Vitest's default leaves a core to its own process (1 worker on 2 cores), which only waits for the forks.
    maxWorkers: availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 60_000,
    projects: [
      { extends: true, test: { name: "shared", include: [TESTS], exclude: mocking, isolate: false } },
      { extends: true, test: { name: "isolated", include: mocking, isolate: true } },
    ],
  },
});
