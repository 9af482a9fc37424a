import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFIG_KEYS } from "../infra/config-keys";
import { DEFAULT_E2E_WORKFLOW } from "../scripts/require-e2e";
import { ROOT } from "./harness";

// docs/release.md names workflows, scripts, npm scripts and config keys for people to run under pressure: each
// must exist, and every workflow a release goes through must be in it.

const RUNBOOK = readFileSync(join(ROOT, "docs/release.md"), "utf8");
const OWN = ".github/workflows";
const APP = "workflows/app/.github/workflows";

/** The app's own npm scripts (mozilla/blurts-server's package.json) the runbook names; ours come from package.json. */
const APP_NPM_SCRIPTS = new Set(["db:migrate", "db:rollback"]);

const matches = (pattern: RegExp) => [...new Set([...RUNBOOK.matchAll(pattern)].map((m) => m[1] ?? m[0]))];
const yamlFiles = (dir: string) => readdirSync(join(ROOT, dir)).filter((f) => /\.ya?ml$/.test(f));

describe("docs/release.md names only what exists", () => {
  it("every workflow path", () => {
    const paths = matches(/(?:workflows\/app\/)?\.github\/workflows\/[\w.-]+\.ya?ml/g);
    expect(paths.length).toBeGreaterThan(10);
    for (const path of paths) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it("every workflow named by its file name alone: ours, the app callers, or the app's E2E workflow", () => {
    const known = new Set([...yamlFiles(OWN), ...yamlFiles(APP), DEFAULT_E2E_WORKFLOW]);
    for (const name of matches(/`([\w.-]+\.ya?ml)`/g)) {
      if (/^Pulumi(\.\w+)?\.yaml$/.test(name)) expect(existsSync(join(ROOT, name)), name).toBe(true);
      else expect(known, name).toContain(name);
    }
  });

  it("every script, test and repository file", () => {
    const paths = matches(/\b((?:scripts|test)\/[\w./-]+\.ts|\.github\/CODEOWNERS)\b/g);
    expect(paths).toContain("scripts/release-tag.ts");
    for (const path of paths) expect(existsSync(join(ROOT, path)), path).toBe(true);
  });

  it("every npm script", () => {
    const ours = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
    const named = matches(/npm run (?:--silent )?([\w:-]+)/g);
    expect(named).toContain("plan");
    for (const name of named) expect(name in ours || APP_NPM_SCRIPTS.has(name), `npm run ${name}`).toBe(true);
    if (/\bnpm test\b/.test(RUNBOOK)) expect(ours.test).toBeDefined();
    // The migration job runs the app's db:migrate: the allowance above is that script, not a guess.
    expect(readFileSync(join(ROOT, "components/migration-job.ts"), "utf8")).toContain('"db:migrate"');
  });

  it("every config key, and every field of one", () => {
    const sources = ["infra/config-keys.ts", "infra/pipeline-spec.ts"]
      .map((f) => readFileSync(join(ROOT, f), "utf8"))
      .join("\n");
    const named = matches(/\b((?:monitor|gcp):[A-Za-z]+(?:\.[A-Za-z]+)?)/g);
    expect(named).toContain("monitor:imageTag");
    for (const full of named) {
      const [key, field] = full.split(".");
      expect(CONFIG_KEYS, full).toContain(key);
      if (field) expect(sources, `${full}: ${field} is a field the schema knows`).toMatch(new RegExp(`\\b${field}:`));
    }
  });
});

describe("docs/release.md covers every workflow a release goes through", () => {
  const reusable = yamlFiles(OWN).filter((f) => /^\s*workflow_call:/m.test(readFileSync(join(ROOT, OWN, f), "utf8")));

  it.each(reusable)("the reusable workflow %s", (file) => {
    expect(RUNBOOK).toContain(`${OWN}/${file}`);
  });

  it.each(yamlFiles(APP))("the app caller %s", (file) => {
    expect(RUNBOOK).toContain(`${APP}/${file}`);
  });

  it.each(["ci.yml", "config-preview.yml", "config-apply.yml"])("this repository's own %s", (file) => {
    expect(RUNBOOK).toContain(`${OWN}/${file}`);
  });

  it("every step and every failure the release process has", () => {
    for (const heading of [
      "Preview",
      "Stage",
      "daily pre-release",
      "Review the diff",
      "1-click prod deploy",
      "Stage fixes",
      "Rollback",
      "Env-var and secret changes",
      "first deploy",
    ]) {
      expect(RUNBOOK).toMatch(new RegExp(`^## \\d+\\. .*${heading}`, "im"));
    }
    for (const failure of [
      "A stuck lock",
      "A failed migration",
      "A failed teardown",
      "A drift issue",
      "A preview over the cap",
    ]) {
      expect(RUNBOOK).toContain(`**${failure}**`);
    }
    expect(RUNBOOK).toContain("pulumi cancel");
    expect(RUNBOOK).toContain("gcloud secrets versions add");
  });
});
