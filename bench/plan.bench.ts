/**
 * `npm run bench`: how long the offline engine takes to evaluate each stack and run the policy pack, and how much
 * memory it holds. Prints figures; asserts nothing (timings belong here, not in tests).
 */
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { loadStackConfig } from "../infra/engine/config-files";
import { evaluate } from "../infra/engine/evaluate";
import { runPolicies } from "../policies/offline";

const ROOT = resolve(__dirname, "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const STACKS: Array<[string, Record<string, string>]> = [
  ["pr-123", {}],
  ["stage", { "monitor:imageTag": "abc1234" }],
  ["prod", { "monitor:imageTag": "2024.09.01" }],
];

const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
/** Heap in use after a full collection when node runs with --expose-gc (npm run bench does), else as it stands. */
function liveHeap(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed;
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const started = performance.now();
  console.log(`offline engine, ${ROUNDS} rounds per stack (first round includes loading the provider SDKs)`);
  console.log("stack     resources  first ms  median ms  max ms  policies ms  live heap MiB");
  for (const [stack, overrides] of STACKS) {
    const { config, secretKeys } = loadStackConfig(ROOT, stack, overrides);
    const times: number[] = [];
    const policyTimes: number[] = [];
    let resources = 0;
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      const evaluation = await evaluate(stack, { config, secretKeys });
      const t1 = performance.now();
      runPolicies(evaluation);
      policyTimes.push(performance.now() - t1);
      times.push(t1 - t0);
      resources = evaluation.registrations.length;
    }
    console.log(
      [
        stack.padEnd(8),
        String(resources).padStart(9),
        times[0].toFixed(0).padStart(8),
        median(times).toFixed(1).padStart(9),
        Math.max(...times).toFixed(0).padStart(6),
        median(policyTimes).toFixed(1).padStart(11),
        mib(liveHeap()).padStart(13),
      ].join("  "),
    );
  }
  const heap = liveHeap();
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s, rss ${mib(process.memoryUsage().rss)} MiB, live heap ${mib(heap)} MiB`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
