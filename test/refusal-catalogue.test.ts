import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { evaluate } from "../infra/engine/evaluate";
import { plan } from "../infra/plan-cli";
import { ConfigError } from "../infra/spec";
import { exitCodeFor } from "../scripts/lib/cli";
import { ROOT, refusedStack } from "./harness";
import { type Fetch, SCRIPT_ROWS, STACK_ROWS, type StackRow, troubleshootingTable } from "./refusal-catalogue";

// The one place that lists every refusal: each row is proven against the real program or script, and docs/troubleshooting.md's
// troubleshooting table is this catalogue.

/** The message names `key`, and the problem that names it (from its line on) has a `Fix:` that says `fix`. */
function expectKeyAndFix(message: string, key: string, fix: string): void {
  const at = message.indexOf(key);
  expect(at, `the message names ${key}:\n${message}`).toBeGreaterThanOrEqual(0);
  const fixAt = message.indexOf("Fix:", message.lastIndexOf("\n", at) + 1);
  expect(fixAt, `a Fix: follows ${key}:\n${message}`).toBeGreaterThanOrEqual(0);
  expect(message.slice(fixAt)).toContain(fix);
}

/** The repository's config files (`Pulumi.yaml`, `Pulumi.<stack>.yaml`) with `row.files`' edits. */
function editedFiles(row: StackRow): Record<string, string> {
  const files: Record<string, string> = {};
  for (const file of readdirSync(ROOT).filter((f) => /^Pulumi(\.[a-z0-9-]+)?\.yaml$/.test(f))) {
    const text = readFileSync(join(ROOT, file), "utf8");
    files[file] = row.files?.[file]?.(text) ?? text;
  }
  return files;
}

/** A copy of the repository's config files with `row.files`' edits, or the repository when it has none. */
function rootFor(row: StackRow): string {
  if (!row.files) return ROOT;
  const dir = mkdtempSync(join(tmpdir(), "refusal-root-"));
  for (const [file, text] of Object.entries(editedFiles(row))) writeFileSync(join(dir, file), text);
  return dir;
}

describe("the catalogue", () => {
  it("has at least 40 rows, none twice", () => {
    expect(STACK_ROWS.length + SCRIPT_ROWS.length).toBeGreaterThanOrEqual(40);
    const ids = [
      ...STACK_ROWS.map(
        (r) =>
          `${r.stack} ${JSON.stringify(r.overrides)} ${r.remove?.join(",")} ${JSON.stringify(r.engine ?? {})} ` +
          JSON.stringify(editedFiles(r)),
      ),
      ...SCRIPT_ROWS.map((r) => `${r.script} ${JSON.stringify(r.env)}`),
    ];
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("covers every kind of stack and every script that takes workflow inputs", () => {
    const stacks = new Set(STACK_ROWS.map((r) => (r.stack.startsWith("pr-") ? "preview" : r.stack)));
    expect([...stacks].sort()).toEqual(expect.arrayContaining(["pipeline", "preview", "prod", "stage"]));
    const scripts = new Set(SCRIPT_ROWS.map((r) => r.script.split(" ")[0]));
    for (const name of [
      "release-tag",
      "destroy-preview",
      "sweep-previews",
      "smoke-check",
      "drift-issue",
      "notify-chat",
      "preview-comment",
      "preview-admission",
      "require-e2e",
      "require-current-infra",
      "require-alert-channel",
      "qa-ledger",
      "release-pulls",
      "jira-shipped",
    ]) {
      expect(scripts).toContain(`scripts/${name}.ts`);
    }
    expect(scripts).toContain("own-commit");
  });
});

describe.each(STACK_ROWS.filter((r) => r.at === undefined).map((r) => [`${r.stack}: ${r.refused}`, r] as const))(
  "%s",
  (_, row) => {
    it("is refused before anything is registered, naming the stack, the key and the fix, once", async () => {
      const { error, registrations } = await refusedStack(row.stack, row.overrides, row.remove, rootFor(row));
      expect(registrations).toEqual([]);
      expect(error.message.startsWith(`Stack "${row.stack}" `)).toBe(true);
      expect(error.message).toMatch(row.message);
      expectKeyAndFix(error.message, row.key, row.fix);
      // One mistake, one message: nothing that depends on the refused key reports it again.
      if (error instanceof ConfigError) expect(error.problems, error.message).toHaveLength(1);
    });
  },
);

/** How a row refused after the program started is run: its evaluation, or for capacity the whole plan. */
const refusedLate = (row: StackRow): Promise<unknown> => {
  if (row.at === "capacity") {
    return plan({ stack: row.stack, json: false, fresh: false, overrides: row.overrides ?? {} }, ROOT);
  }
  const { config, secretKeys } = loadStackConfig(ROOT, row.stack, row.overrides);
  return evaluate(row.stack, { config, secretKeys, ...row.engine });
};

describe.each(STACK_ROWS.filter((r) => r.at !== undefined).map((r) => [`${r.stack}: ${r.refused}`, r] as const))(
  "%s",
  (_, row) => {
    it(
      row.at === "plan"
        ? "fails the plan (so `pulumi up`, which previews first, creates nothing), naming the stack, the key and the fix"
        : "fails `npm run plan` once the capacity is counted, naming the stack, the key and the fix",
      async () => {
        const error: Error = await refusedLate(row).then(
          () => {
            throw new Error(`expected ${row.stack} to be refused, but it planned`);
          },
          (err: Error) => err,
        );
        expect(error.message).toMatch(new RegExp(`^Stack "${row.stack}"`));
        expect(error.message).toMatch(row.message);
        expectKeyAndFix(error.message, row.key, row.fix);
      },
    );
  },
);

describe.each(SCRIPT_ROWS.map((r) => [`${r.script}: ${r.refused}`, r] as const))("%s", (_, row) => {
  it(`exits ${row.exit} before it writes or sends anything, naming the input and the fix`, async () => {
    const dir = mkdtempSync(join(tmpdir(), "refusal-"));
    const files = { GITHUB_OUTPUT: join(dir, "output"), GITHUB_STEP_SUMMARY: join(dir, "summary") };
    for (const file of Object.values(files)) writeFileSync(file, "");
    const calls: string[] = [];
    const fetch = ((url: string) => {
      calls.push(String(url));
      return Promise.reject(new Error("no network in a refusal"));
    }) as unknown as Fetch;

    const error: Error = await row.run({ ...files, ...row.env }, fetch).then(
      () => {
        throw new Error(`expected ${row.script} to refuse ${JSON.stringify(row.env)}`);
      },
      (err: Error) => err,
    );
    expect(exitCodeFor(error)).toBe(row.exit);
    expect(error.message).toMatch(row.message);
    expectKeyAndFix(error.message, row.input, row.fix);
    expect(calls).toEqual([]);
    for (const file of Object.values(files)) expect(readFileSync(file, "utf8")).toBe("");
  });
});

describe("docs/troubleshooting.md", () => {
  it("is the catalogue's table (regenerate it with `npx ts-node --transpile-only test/refusal-catalogue.ts`)", () => {
    const page = readFileSync(join(ROOT, "docs", "troubleshooting.md"), "utf8");
    const section = /<!-- refusal-catalogue:start -->\n([^]*?)\n<!-- refusal-catalogue:end -->/.exec(page);
    expect(section, "docs/troubleshooting.md has the refusal-catalogue markers").not.toBeNull();
    expect(section![1]).toBe(troubleshootingTable());
  });
});
