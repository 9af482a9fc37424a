import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness";

// The README is what a newcomer reads first: what this is, the two commands, the stacks and where to go next.
// Everything else lives in docs/, and a page nobody links to is a page nobody finds, so every page must be reachable
// from the README, and every relative link (and its #anchor) must land somewhere that exists.

const DOCS = join(ROOT, "docs");
const pages = readdirSync(DOCS)
  .filter((f) => f.endsWith(".md"))
  .map((f) => join(DOCS, f));
const markdown = [join(ROOT, "README.md"), ...pages];

/** `[text](target)` links that are not URLs or mail addresses, outside code spans and fences. */
function relativeLinks(file: string): string[] {
  const text = readFileSync(file, "utf8")
    .replace(/```[^]*?```/g, "")
    .replace(/`[^`\n]*`/g, "");
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]).filter((t) => !/^[a-z]+:/i.test(t));
}

/** GitHub's heading anchors: lower case, punctuation dropped except '-' and '_', spaces to '-'. */
function anchors(file: string): Set<string> {
  const headings = readFileSync(file, "utf8")
    .replace(/```[^]*?```/g, "")
    .split("\n")
    .filter((l) => /^#{1,6} /.test(l));
  return new Set(
    headings.map((h) =>
      h
        .replace(/^#+ /, "")
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    ),
  );
}

describe("the docs", () => {
  it("keep the README short: what this is, the two commands, the stacks, where to go next", () => {
    const readme = readFileSync(join(ROOT, "README.md"), "utf8");
    expect(readme.split("\n").length).toBeLessThan(80);
    expect(readme).toContain("npm ci && npm run plan -- pr-123");
    expect(readme).toContain("npm test");
  });

  it("are each linked from the README", () => {
    const linked = new Set(relativeLinks(join(ROOT, "README.md")).map((t) => join(ROOT, t.split("#")[0])));
    const orphans = pages.filter((p) => !linked.has(p)).map((p) => relative(ROOT, p));
    expect(orphans, "add a line for each to the README's 'Where to go next'").toEqual([]);
  });

  it.each(markdown.map((f) => [relative(ROOT, f), f]))("%s links only to files and headings that exist", (_, file) => {
    const broken: string[] = [];
    for (const target of relativeLinks(file)) {
      const [path, anchor] = target.split("#");
      const resolved = path === "" ? file : join(dirname(file), path);
      if (!existsSync(resolved)) broken.push(`${target} (no such file)`);
      else if (anchor && resolved.endsWith(".md") && !anchors(resolved).has(anchor))
        broken.push(`${target} (no such heading)`);
    }
    expect(broken).toEqual([]);
  });
});
