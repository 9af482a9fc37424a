import { execFile } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { policies } from "../policies/rules";
import { ROOT } from "./harness";

const run = promisify(execFile);
const PACK = join(ROOT, "policies");

/** The node_modules directory the pack's dependencies resolve from, as Node resolves them from policies/. */
function packDependencies(): string {
  const policy = require.resolve("@pulumi/policy/package.json", { paths: [PACK] });
  return dirname(dirname(dirname(policy)));
}

/** What `pulumi policy publish` uploads: `npm pack` of policies/, nothing else of the repository. */
let packed: string[] = [];
beforeAll(async () => {
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: PACK });
  packed = JSON.parse(stdout)[0]
    .files.map((f: { path: string }) => f.path)
    .sort();
});

describe("the policy pack is self-contained (pulumi policy publish uploads policies/ alone)", () => {
  it("packs the entry, the rules, the shared rules it needs and the files the CLI reads", () => {
    expect(packed).toEqual(
      expect.arrayContaining([
        "PulumiPolicy.yaml",
        "index.ts",
        "package.json",
        "rules/cloud-run.ts",
        "rules/cloud-sql.ts",
        "rules/connection-budget.ts",
        "rules/iam.ts",
        "rules/index.ts",
        "rules/labels.ts",
        "rules/monitoring.ts",
        "rules/protection.ts",
        "rules/stack.ts",
        "shared-rules/app-env.ts",
        "shared-rules/connection-budget.ts",
        "shared-rules/stack-name.ts",
        "tsconfig.json",
      ]),
    );
    // The offline runner serves npm run plan and the tests, and reads the engine's types: not part of the pack.
    expect(packed).not.toContain("offline.ts");
  });

  it("imports nothing from outside the pack but its npm dependencies", () => {
    const outside = packed
      .filter((path) => path.endsWith(".ts"))
      .flatMap((path) =>
        [...readFileSync(join(PACK, path), "utf8").matchAll(/from\s+"(\.[^"]+)"/g)]
          .map((m) => m[1])
          .filter((spec) => join(dirname(path), spec).startsWith(".."))
          .map((spec) => `${path} imports ${spec}`),
      );
    expect(outside).toEqual([]);
  });

  it("loads and judges a resource from a copy of the packed files alone, next to its installed dependencies", async () => {
    const copy = mkdtempSync(join(tmpdir(), "monitor-pack-"));
    for (const path of packed) {
      mkdirSync(dirname(join(copy, path)), { recursive: true });
      cpSync(join(PACK, path), join(copy, path));
    }
    const script = [
      'const { policies } = require("./rules");',
      'const keys = policies.find((p) => p.name === "no-service-account-keys");',
      "const found = [];",
      'const args = { type: "gcp:serviceaccount/key:Key", urn: "urn:pulumi:pipeline::monitor::gcp:serviceaccount/key:Key::k", name: "k", props: {},',
      "  isType: () => true, asType: () => ({}), notApplicable: () => { throw new Error('n/a'); }, getConfig: () => ({}) };",
      "keys.validateResource(args, (m) => found.push(m));",
      "console.log(JSON.stringify({ count: policies.length, found }));",
    ].join("\n");
    const { stdout } = await run(process.execPath, ["-r", "ts-node/register/transpile-only", "-e", script], {
      cwd: copy,
      // The copy has no node_modules: its npm dependencies come from where the pack's own resolve (the workspace's
      // install hoists them to the root), and nothing of the repository but the packed files is reachable.
      env: { ...process.env, NODE_PATH: packDependencies(), TS_NODE_PROJECT: join(copy, "tsconfig.json") },
    });
    const result = JSON.parse(stdout.trim().split("\n").pop()!);
    // Every rule of the repository's pack, none lost in packing.
    expect(result.count).toBe(policies.length);
    expect(result.found).toEqual(["k creates a service account key: use workload identity federation instead"]);
  });

  it("lists every dependency it needs at the version the workspace installs (an install of the published pack reads them)", () => {
    const manifest = JSON.parse(readFileSync(join(PACK, "package.json"), "utf8"));
    const installed = Object.keys(manifest.dependencies).map((name) => {
      const path = require.resolve(`${name}/package.json`, { paths: [PACK] });
      // @pulumi/policy's own package.json says "v1.21.0".
      return [name, String(JSON.parse(readFileSync(path, "utf8")).version).replace(/^v/, "")];
    });
    expect(Object.fromEntries(installed)).toEqual(manifest.dependencies);
  });

  it("declares itself to the Pulumi CLI as a Node.js pack", () => {
    expect(readFileSync(join(PACK, "PulumiPolicy.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
  });
});
