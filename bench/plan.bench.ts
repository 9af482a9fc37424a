/**
 * `npm run bench`: the figures of issue 10's Performance section, measured or computed in one run. Prints;
 * asserts nothing (timings belong here, not in tests). BENCH_ROUNDS sets the runs per timing (default 5);
 * BENCH_BEFORE=1 also times the plan as it ran before (ts-node --transpile-only), for comparison.
 *
 * 1. Plan speed against its floor: the floor is npm running a script that does nothing plus a node process that
 *    only loads @pulumi/pulumi, gcp, random, docker and github; runs alternate, so load affects both alike.
 * 2. The CLI path: loading and running the program through ts-node as `pulumi preview` does, with and without
 *    its type-check.
 * 3. Time to a preview URL: the critical path of `pulumi up` for a new pr-<N> (building its image), and for an
 *    instance per preview.
 * 4. Cost per day: a preview idle and active, and N concurrent previews, shared instance vs one per preview.
 * 5. Scale: how many previews the shared instance admits.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { previewsCapacity, renderCapacity } from "../infra/engine/capacity";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, evaluate } from "../infra/engine/evaluate";
import { type CriticalPath, type GraphNode, criticalPath, withInstancePerPreview } from "./critical-path";
import { CREATE_TIMES, UNKNOWN_TYPE_SECONDS } from "./create-times";
import { PRICES, PRICES_CHECKED, USAGE, fleetPerDay, footprintOf, instancePerDay, previewPerDay } from "./cost";

const ROOT = resolve(__dirname, "..");
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const FLOOR_PACKAGES = ["@pulumi/pulumi", "@pulumi/gcp", "@pulumi/random", "@pulumi/docker", "@pulumi/github"];
const PLAN_STACKS = ["pr-123", "prod"];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const spread = (xs: number[], digits = 2) => `${Math.min(...xs).toFixed(digits)}-${Math.max(...xs).toFixed(digits)}`;

/** Wall seconds of one process; throws when it fails, so a broken plan never passes for a fast one. */
function timed(command: string, args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = process.env): number {
  const started = performance.now();
  const result = spawnSync(command, args, { cwd, env, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  return (performance.now() - started) / 1000;
}

function planSpeed(): void {
  const noop = mkdtempSync(join(tmpdir(), "bench-noop-"));
  writeFileSync(join(noop, "package.json"), JSON.stringify({ name: "noop", private: true, scripts: { noop: ":" } }));
  const load = FLOOR_PACKAGES.map((p) => `require(${JSON.stringify(p)});`).join("");
  const variants: Array<[string, string, string[]]> = PLAN_STACKS.map((s) => [
    s,
    "npm",
    ["run", "--silent", "plan", "--", s],
  ]);
  if (process.env.BENCH_BEFORE) {
    for (const s of PLAN_STACKS)
      variants.push([`${s} (before: ts-node)`, "npx", ["ts-node", "--transpile-only", "infra/plan-cli.ts", s]]);
  }
  const npm: number[] = [];
  const node: number[] = [];
  const plans = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  const ratios = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (const s of PLAN_STACKS) timed("npm", ["run", "--silent", "plan", "--", s]); // warm the transpile and file caches
  for (let i = 0; i < ROUNDS; i++) {
    const floor =
      npm[npm.push(timed("npm", ["run", "--silent", "noop"], noop)) - 1] +
      node[node.push(timed("node", ["-e", load])) - 1];
    for (const [name, command, args] of variants) {
      const t = timed(command, args);
      plans.get(name)!.push(t);
      ratios.get(name)!.push(t / floor);
    }
  }
  console.log(`\n1. Plan speed against its floor (${ROUNDS} alternating runs; median, min-max)`);
  console.log(
    `   floor = npm running a no-op script ${median(npm).toFixed(2)} s (${spread(npm)}) + node loading ${FLOOR_PACKAGES.join(", ")} ${median(node).toFixed(2)} s (${spread(node)})`,
  );
  for (const [name] of variants) {
    const t = plans.get(name)!;
    const r = ratios.get(name)!;
    console.log(
      `   npm run plan -- ${name.padEnd(24)} ${median(t).toFixed(2)} s (${spread(t)})  ratio to floor ${median(r).toFixed(2)} (${spread(r)})`,
    );
  }
}

function cliPath(): void {
  const runner = (env: NodeJS.ProcessEnv) => {
    const started = spawnSync("node", ["-r", "./engine/register.js", "../bench/cli-runner.ts", "pr-123"], {
      cwd: join(ROOT, "infra"),
      env: { ...process.env, ...env },
      encoding: "utf8",
    });
    if (started.status !== 0) throw new Error(`cli-runner failed: ${started.stderr}`);
    return JSON.parse(started.stdout) as { seconds: number; transpileOnly: boolean };
  };
  const rounds = Math.max(3, Math.ceil(ROUNDS / 2));
  const configured: number[] = [];
  const checked: number[] = [];
  let mode = false;
  for (let i = 0; i < rounds; i++) {
    const c = runner({ PULUMI_NODEJS_TRANSPILE_ONLY: "" });
    mode = c.transpileOnly;
    configured.push(c.seconds);
    checked.push(runner({ PULUMI_NODEJS_TRANSPILE_ONLY: "false" }).seconds);
  }
  console.log(
    `\n2. The CLI path: ts-node registered as Pulumi's runner does, from infra/, loading and running pr-123 (${rounds} runs each)`,
  );
  console.log(
    `   as configured (tsconfig "ts-node": transpileOnly resolved to ${mode}): ${median(configured).toFixed(2)} s (${spread(configured)})`,
  );
  console.log(
    `   type-checked (PULUMI_NODEJS_TRANSPILE_ONLY=false, the default before): ${median(checked).toFixed(2)} s (${spread(checked)})`,
  );
  console.log(
    `   saved per preview/up: ${(median(checked) - median(configured)).toFixed(2)} s; npm test's tsc --noEmit does the type-check once`,
  );
}

function printPath(title: string, path: CriticalPath): void {
  console.log(`   ${title}: ${(path.total / 60).toFixed(1)} min`);
  for (const s of path.steps) {
    const row = CREATE_TIMES[s.type];
    const note = row
      ? row.estimate
        ? "estimate"
        : "measured elsewhere"
      : `not in the table: ${UNKNOWN_TYPE_SECONDS} s`;
    console.log(`     ${String(s.start).padStart(4)}-${String(s.finish).padEnd(4)} s  ${s.type}  ${s.name}  (${note})`);
  }
}

function timeToUrl(preview: Evaluation): void {
  const seconds = (n: GraphNode) => CREATE_TIMES[n.type]?.seconds ?? UNKNOWN_TYPE_SECONDS;
  const platform = preview.registrations.find((r) => r.read && r.type === "pulumi:pulumi:StackReference");
  if (!platform) throw new Error("the preview reads no platform");
  const shared = criticalPath(preview.registrations, seconds);
  const own = criticalPath(withInstancePerPreview(preview.registrations, platform.urn), seconds);
  console.log(
    `\n3. Time to a preview URL: critical path of \`pulumi up\` for a new ${preview.stack} with monitor:appSource (image built)`,
  );
  printPath("shared instance (this design)", shared);
  printPath("an instance per preview (the design it replaces)", own);
  console.log(`   ratio: ${(own.total / shared.total).toFixed(2)}x (instance per preview / shared)`);
  const unknown = [
    ...new Set(preview.registrations.filter((r) => r.custom && !CREATE_TIMES[r.type]).map((r) => r.type)),
  ];
  if (unknown.length)
    console.log(`   types without a create time (counted ${UNKNOWN_TYPE_SECONDS} s): ${unknown.join(", ")}`);
  console.log("   create times and their sources:");
  for (const [type, row] of Object.entries(CREATE_TIMES)) {
    console.log(`     ${type}: ${row.seconds} s${row.estimate ? " (estimate)" : ""}: ${row.source}`);
  }
}

function cost(preview: Evaluation, sharedTier: string): void {
  const f = footprintOf(preview);
  const usd = (x: number) => `$${x.toFixed(x < 1 ? 3 : 2)}`;
  console.log(`\n4. Cost per day (us-central1 list prices checked ${PRICES_CHECKED}, no free tier or discounts)`);
  console.log(
    `   a preview: ${f.vcpu} vCPU, ${f.memoryGib} GiB across its containers, request-billed, scales to zero; ` +
      `${f.secretVersions} secret versions, ${f.secretsReadAtStart} secrets read per instance start, a ${USAGE.imageGib} GiB image`,
  );
  console.log(
    `   idle (no requests): ${usd(previewPerDay(f, false))}; active (${USAGE.activeInstanceHours} instance-hours, ` +
      `${USAGE.activeRequests} requests, ${USAGE.activeInstanceStarts} starts; estimate): ${usd(previewPerDay(f, true))}`,
  );
  console.log(
    `   shared instance ${sharedTier}: ${usd(instancePerDay(sharedTier))}/day; an instance per preview: ` +
      `${sharedTier} ${usd(instancePerDay(sharedTier))}/day, or db-f1-micro ${usd(instancePerDay("db-f1-micro"))}/day`,
  );
  console.log(
    "        N  shared idle  shared active  per-preview idle  per-preview active  (per-preview at " +
      sharedTier +
      "; at db-f1-micro)",
  );
  for (const n of [1, 10, 50, 100]) {
    const c = fleetPerDay(n, f, sharedTier, sharedTier);
    const micro = fleetPerDay(n, f, sharedTier, "db-f1-micro");
    console.log(
      `   ${String(n).padStart(6)}  ${usd(c.sharedIdle).padStart(11)}  ${usd(c.sharedActive).padStart(13)}  ` +
        `${usd(c.perPreviewIdle).padStart(16)}  ${usd(c.perPreviewActive).padStart(18)}  (${usd(micro.perPreviewIdle)}; ${usd(micro.perPreviewActive)})`,
    );
  }
  console.log("   prices:");
  for (const [name, p] of Object.entries(PRICES)) console.log(`     ${name}: $${p.usd} (${p.source})`);
}

async function main(): Promise<void> {
  console.log(
    `npm run bench: ${new Date().toISOString()}, node ${process.version}, ${cpus().length} CPUs, load ${loadavg()
      .map((l) => l.toFixed(1))
      .join(" ")}`,
  );
  planSpeed();
  cliPath();
  const appSource = mkdtempSync(join(tmpdir(), "bench-app-"));
  writeFileSync(join(appSource, "Dockerfile"), "FROM scratch\n");
  const previewConfig = loadStackConfig(ROOT, "pr-123", { "monitor:appSource": appSource });
  const preview = await evaluate("pr-123", previewConfig);
  timeToUrl(preview);
  const previews = await evaluate("previews", loadStackConfig(ROOT, "previews", {}));
  const capacity = await previewsCapacity(previews, ROOT, {});
  const tier = JSON.parse(loadStackConfig(ROOT, "previews").config["monitor:preview"]) as { instanceTier: string };
  cost(preview, tier.instanceTier);
  console.log(
    `\n5. Scale (npm run plan -- previews prints the same)\n   ${renderCapacity(capacity).replace(/\n/g, "\n   ")}`,
  );
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
