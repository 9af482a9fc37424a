// How `npm run plan` and `npm run bench` run TypeScript: `node -r ./infra/engine/register.js <file>.ts`.
//
// The plan is a developer's inner loop, so it starts as close as it can to the floor of loading the SDKs:
// - esbuild strips the types, file by file (no type-check here: `npm test` runs tsc), about ten times faster
//   than ts-node's transpile-only mode, and without source maps: the plan prints messages, never stack traces.
//   Dynamic `import()` becomes `require()`, as tsc emits it for CommonJS, so `import("../program")` resolves
//   the same way under both. The output is cached by content in node_modules/.cache (a warm plan transpiles
//   nothing; the first one after an install or an edit pays about 0.2 s).
// - The policy pack has its own node_modules (it is installed and published alone); loaded in-process from
//   there, its `@pulumi/*` imports would load a second copy of the Pulumi SDK (about a second). Where the root
//   has the same version of a package, policies/*.ts get the root's copy, which is what they would load anyway
//   if the versions were hoisted. A version mismatch keeps the pack's own copy.
// - Error.stackTraceLimit 0: the SDK captures a stack for every promise it creates (debuggablePromise) and
//   formatting those was half of evaluating a stack. Resource source positions are unaffected (the SDK raises
//   the limit itself while it takes them), and the plan prints only messages.
// - `npm run plan` runs node with --no-opt: a plan lives about a second and a half, too short for V8's optimizing
//   compiler to pay back its work (measured: 15 % less wall time for prod, no change for the floor).
// The Pulumi CLI does not use this file: it runs the program with ts-node (transpile-only, see tsconfig.json).
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const Module = require("node:module");
const crypto = require("node:crypto");

const ROOT = path.resolve(__dirname, "..", "..");

const OPTIONS = {
  loader: "ts",
  format: "cjs",
  target: `node${process.versions.node}`,
  supported: { "dynamic-import": false },
};
const CACHE = path.join(ROOT, "node_modules", ".cache", "monitor-register");
// esbuild itself loads only on a cache miss; its version comes from its package.json.
const SALT = JSON.stringify([require("esbuild/package.json").version, OPTIONS]);

function transpile(source, filename) {
  const key = crypto.createHash("sha256").update(SALT).update(filename).update(source).digest("hex");
  const cached = path.join(CACHE, `${key}.js`);
  try {
    return fs.readFileSync(cached, "utf8");
  } catch {
    const { code } = require("esbuild").transformSync(source, { ...OPTIONS, sourcefile: filename });
    try {
      fs.mkdirSync(CACHE, { recursive: true });
      const partial = `${cached}.${process.pid}`;
      fs.writeFileSync(partial, code);
      fs.renameSync(partial, cached);
    } catch {
      // A read-only install still plans, only without the cache.
    }
    return code;
  }
}

require.extensions[".ts"] = function compileTypeScript(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, "utf8"), filename), filename);
};

const POLICIES = path.join(ROOT, "policies") + path.sep;
const POLICIES_MODULES = path.join(POLICIES, "node_modules") + path.sep;
const rootParent = { id: ROOT, filename: path.join(ROOT, "index.js"), paths: Module._nodeModulePaths(ROOT) };
const sameVersion = new Map();

function versionIn(dir, pkg) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, "node_modules", pkg, "package.json"), "utf8")).version;
  } catch {
    return undefined;
  }
}

/** `@scope/name/deep/path` → `@scope/name`; only the Pulumi packages are shared. */
function sharedPackage(request) {
  const match = /^@pulumi\/[^/]+/.exec(request);
  if (!match) return undefined;
  const pkg = match[0];
  if (!sameVersion.has(pkg)) {
    const mine = versionIn(POLICIES, pkg);
    sameVersion.set(pkg, mine !== undefined && mine === versionIn(ROOT, pkg));
  }
  return sameVersion.get(pkg) ? pkg : undefined;
}

const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function resolvePolicyImports(request, parent, ...rest) {
  const from = parent?.filename;
  if (from && from.startsWith(POLICIES) && !from.startsWith(POLICIES_MODULES) && sharedPackage(request)) {
    return resolveFilename.call(this, request, rootParent, ...rest);
  }
  return resolveFilename.call(this, request, parent, ...rest);
};

Error.stackTraceLimit = 0;
