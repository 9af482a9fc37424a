// The pack is published alone (`pulumi policy publish` packs this directory with npm), so the rules it shares
// with the program (../shared-rules: they import only each other) travel inside it as a copy made here. Runs on every
// install of either package and before `npm pack`; in an installed pack, where ../shared-rules does not exist,
// the copy it was packed with stays as it is.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const source = path.resolve(__dirname, "..", "shared-rules");
const target = path.resolve(__dirname, "shared-rules");

if (!fs.existsSync(source)) {
  if (fs.existsSync(target)) process.exit(0);
  console.error(`policies: neither ${source} nor a packed copy at ${target} exists; install from the repository root`);
  process.exit(1);
}
fs.rmSync(target, { recursive: true, force: true });
fs.mkdirSync(target);
for (const file of fs.readdirSync(source).filter((f) => f.endsWith(".ts"))) {
  const text = fs.readFileSync(path.join(source, file), "utf8");
  // Another shared rule travels with it (`./<name>`); anything else would not be in the pack.
  const outside = [
    ...text.matchAll(
      /^\s*(?:import|export)\b[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|require\(\s*["']([^"']+)["']/gm,
    ),
  ]
    .map((m) => m[1] ?? m[2] ?? m[3])
    .filter((spec) => !/^\.\/[\w.-]+$/.test(spec));
  if (outside.length > 0) {
    console.error(`policies: shared-rules/${file} imports ${outside.join(", ")}; shared rules import only each other`);
    process.exit(1);
  }
  fs.writeFileSync(
    path.join(target, file),
    `// Copied from shared-rules/${file} by policies/sync-shared-rules.js: edit the original.\n${text}`,
  );
}
