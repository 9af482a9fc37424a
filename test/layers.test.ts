import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness";

/**
 * The layers of the program, lowest first, and what each may import (its own layer always included). An arrow runs
 * only downwards, so a rule lives below everything that applies it and a low layer never needs a high one to load:
 *
 * | layer        | files                                                               | may import                        |
 * | ------------ | ------------------------------------------------------------------- | --------------------------------- |
 * | shared-rules | shared-rules/                                                       | nothing else (the pack copies it) |
 * | vocabulary   | every other infra/*.ts: gcp, naming, platform, pipeline-contract    | shared-rules                      |
 * | config       | infra/spec.ts, config-keys.ts, pipeline-spec.ts, infra/config/      | shared-rules, vocabulary          |
 * | components   | components/                                                         | shared-rules, vocabulary          |
 * | stacks       | stacks/                                                             | the four above                    |
 * | pack         | policies/ but offline.ts (`pulumi policy publish` uploads it alone) | nothing else (its own copy)       |
 * | offline pack | policies/offline.ts (runs the pack inside the plan and the tests)   | pack, infra/engine/               |
 * | composition  | infra/engine/, infra/plan-cli.ts, infra/program.ts, infra/index.ts  | anything                          |
 *
 * test/, scripts/ and bench/ sit outside the table: they use the layers, and no layer may import them. Every import
 * counts, `import type` too: a type from a higher layer is the same arrow upwards. npm packages are not layers.
 */
type Layer =
  "shared-rules" | "vocabulary" | "config" | "components" | "stacks" | "pack" | "offline pack" | "composition";

const MAY_IMPORT: Readonly<Record<Layer, readonly Layer[] | "anything">> = {
  "shared-rules": ["shared-rules"],
  vocabulary: ["shared-rules", "vocabulary"],
  config: ["shared-rules", "vocabulary", "config"],
  components: ["shared-rules", "vocabulary", "components"],
  stacks: ["shared-rules", "vocabulary", "config", "components", "stacks"],
  pack: ["pack"],
  "offline pack": ["pack", "offline pack", "composition"],
  composition: "anything",
};

const CONFIG = ["infra/spec.ts", "infra/config-keys.ts", "infra/pipeline-spec.ts"];
const COMPOSITION = ["infra/plan-cli.ts", "infra/program.ts", "infra/index.ts"];

/** The layer of a repository path (file or import target), or undefined outside the table. */
function layerOf(path: string): Layer | undefined {
  const file = path.replace(/\\/g, "/").replace(/\.ts$/, "") + ".ts";
  if (file.startsWith("shared-rules/")) return "shared-rules";
  if (file.startsWith("components/")) return "components";
  if (file.startsWith("stacks/")) return "stacks";
  if (file === "policies/offline.ts") return "offline pack";
  if (file.startsWith("policies/")) return "pack";
  if (file.startsWith("infra/engine/") || COMPOSITION.includes(file)) return "composition";
  if (CONFIG.includes(file) || file.startsWith("infra/config/")) return "config";
  if (file.startsWith("infra/")) return "vocabulary";
  return undefined;
}

interface Import {
  /** Repository path of the importing file. */
  file: string;
  line: number;
  /** The specifier as written. */
  spec: string;
}

/** Every relative import of a file: import/export … from, `import x = require`, require() and import(). */
function importsOf(file: string, text: string): Import[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.filter((f) => f.fileName.startsWith("."))
    .map((f) => ({ file, line: text.slice(0, f.pos).split("\n").length, spec: f.fileName }));
}

/** Why an import runs against the table, or undefined when it may. */
function violation({ file, line, spec }: Import): string | undefined {
  const from = layerOf(file);
  if (!from) return undefined;
  const target = relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\\/g, "/");
  const to = layerOf(target);
  const allowed = MAY_IMPORT[from];
  if (allowed === "anything" || (to !== undefined && allowed.includes(to))) return undefined;
  return `${file}:${line} imports "${spec}" (${to ?? target}): ${from} may import only ${allowed.join(", ")}`;
}

const LAYERED = ["shared-rules", "infra", "components", "stacks", "policies"];

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = `${dir}/${entry.name}`;
    // The pack's copy of shared-rules is generated from the originals, which are checked themselves.
    if (entry.name === "node_modules" || path === "policies/shared-rules") return [];
    if (entry.isDirectory()) return tsFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const files = LAYERED.flatMap(tsFiles);

describe("no import runs from a low layer back up", () => {
  it("finds every layer's files", () => {
    const layers = new Set(files.map(layerOf));
    expect([...layers].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it("every import of shared-rules, infra, components, stacks and policies follows the layer table", () => {
    const violations = files
      .flatMap((file) => importsOf(file, readFileSync(join(ROOT, file), "utf8")))
      .map(violation)
      .filter((v): v is string => v !== undefined);
    expect(violations).toEqual([]);
  });

  it("names the file, the line and the import of an arrow upwards, in every form an import takes", () => {
    const text = [
      'import { CIRRUS_PORT } from "../components/cirrus";',
      'import type { Policies } from "@pulumi/policy";',
      "export {",
      '  policies } from "../policies/rules";',
      'const stacks = require("../stacks/preview");',
      'const program = import("./program");',
    ].join("\n");
    expect(importsOf("infra/spec.ts", text).map(violation)).toEqual([
      'infra/spec.ts:1 imports "../components/cirrus" (components): config may import only shared-rules, vocabulary, config',
      'infra/spec.ts:4 imports "../policies/rules" (pack): config may import only shared-rules, vocabulary, config',
      'infra/spec.ts:5 imports "../stacks/preview" (stacks): config may import only shared-rules, vocabulary, config',
      'infra/spec.ts:6 imports "./program" (composition): config may import only shared-rules, vocabulary, config',
    ]);
    expect(violation({ file: "shared-rules/cron.ts", line: 1, spec: "../infra/naming" })).toMatch(
      /shared-rules\/cron\.ts:1 imports "\.\.\/infra\/naming" \(vocabulary\): shared-rules may import only shared-rules/,
    );
    expect(violation({ file: "components/cirrus.ts", line: 2, spec: "../infra/spec" })).toMatch(
      /\(config\): components may/,
    );
    expect(violation({ file: "stacks/preview.ts", line: 3, spec: "../policies/rules" })).toMatch(
      /\(pack\): stacks may/,
    );
    expect(violation({ file: "policies/rules/iam.ts", line: 4, spec: "../../shared-rules/stack-name" })).toMatch(
      /\(shared-rules\): pack may import only pack/,
    );
    expect(violation({ file: "components/cirrus.ts", line: 1, spec: "../shared-rules/cirrus" })).toBeUndefined();
  });
});

/**
 * Files that import each other, directly or round a loop: each circle as its files in import order, the first
 * repeated at the end. Within one layer the table allows any arrow, so a circle can hide there; it means neither
 * file can be read (or loaded: CommonJS hands the second an unfinished module) without the other.
 */
function circles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const found: string[][] = [];
  const done = new Set<string>();
  const path: string[] = [];
  const visit = (file: string) => {
    const at = path.indexOf(file);
    if (at >= 0) {
      found.push([...path.slice(at), file]);
      return;
    }
    if (done.has(file)) return;
    path.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    path.pop();
    done.add(file);
  };
  for (const file of [...graph.keys()].sort()) visit(file);
  return found;
}

/** Repository file → the repository files it imports (relative imports that resolve to a .ts file). */
function importGraph(paths: readonly string[], read: (file: string) => string): Map<string, string[]> {
  const known = new Set(paths);
  return new Map(
    paths.map((file) => [
      file,
      importsOf(file, read(file))
        .map(({ spec }) => relative(ROOT, resolve(ROOT, dirname(file), spec)).replace(/\\/g, "/"))
        .flatMap((target) => [`${target}.ts`, `${target}/index.ts`].filter((t) => known.has(t)).slice(0, 1)),
    ]),
  );
}

describe("no two files import each other", () => {
  const everything = [...files, ...["scripts", "bench"].flatMap(tsFiles)];

  it("holds for every file of the program, the pack, the scripts and the benchmarks", () => {
    expect(circles(importGraph(everything, (file) => readFileSync(join(ROOT, file), "utf8")))).toEqual([]);
  });

  it("names a circle by its files, directly or round a loop, `import type` included", () => {
    const sources: Record<string, string> = {
      "infra/a.ts": 'import { b } from "./b";',
      "infra/b.ts": 'import type { A } from "./a";',
      "infra/c.ts": 'import { d } from "./d";\nimport { a } from "./a";',
      "infra/d.ts": 'export { e } from "./engine";',
      "infra/engine/index.ts": 'const c = require("../c");',
    };
    expect(circles(importGraph(Object.keys(sources), (file) => sources[file]))).toEqual([
      ["infra/a.ts", "infra/b.ts", "infra/a.ts"],
      ["infra/c.ts", "infra/d.ts", "infra/engine/index.ts", "infra/c.ts"],
    ]);
  });
});
