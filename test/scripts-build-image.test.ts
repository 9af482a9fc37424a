import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RefusedError } from "../scripts/lib/cli";
import { MIGRATIONS_DIR, main, newestMigration, planBuild, type Exec } from "../scripts/build-image";
import { migrationHeadOf, migrationTag } from "../shared-rules/image-tags";
import { tempFile } from "./scripts-fakes";

const REPO = "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server";
const SHA = "3f9c2ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";
const DSN = "https://public@o1.ingest.sentry.io/2";
const TOKEN = "sntrys_not-a-real-token";

/** An app checkout with a knex migrations directory, committed: the script reads git objects, as in CI. */
function appRepo(migrations: readonly string[]): { dir: string; commit: string } {
  const dir = mkdtempSync(join(tmpdir(), "app-"));
  const git = (...args: string[]) => execFileSync("git", ["-C", dir, ...args], { encoding: "utf8" }).trim();
  git("init", "-q");
  mkdirSync(join(dir, MIGRATIONS_DIR), { recursive: true });
  for (const m of migrations) writeFileSync(join(dir, MIGRATIONS_DIR, m), "export function up() {}\n");
  writeFileSync(join(dir, "Dockerfile"), "FROM scratch\n");
  git("add", ".");
  git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "app");
  return { dir, commit: git("rev-parse", "HEAD") };
}

/** Real git; docker recorded, never run. */
function recordingExec(): { exec: Exec; docker: { args: readonly string[]; env?: Record<string, string> }[] } {
  const docker: { args: readonly string[]; env?: Record<string, string> }[] = [];
  const exec: Exec = (command, args, options) => {
    if (command === "docker") {
      docker.push({ args, env: options?.env && { ...options.env } });
      return Promise.resolve("");
    }
    return new Promise((resolve) => resolve(execFileSync(command, args, { encoding: "utf8", stdio: "pipe" })));
  };
  return { exec, docker };
}

const quiet = { info: () => {}, warn: () => {}, error: () => {} };

describe("the image build (scripts/build-image.ts)", () => {
  it("builds as the app's own build does: Sentry's release and DSN as build args, the auth token as a BuildKit secret (issue 14, item 10)", () => {
    const plan = planBuild({
      appDir: "app",
      commit: SHA,
      repository: REPO,
      migrationPaths: [`${MIGRATIONS_DIR}/20260622140000_add_unique_fxa_uid_index.js`],
      sentryDsn: DSN,
      sentryAuthToken: TOKEN,
    });
    expect(plan.dockerArgs).toEqual([
      "build",
      "--pull",
      "--tag",
      `${REPO}:3f9c2ab`,
      "--tag",
      `${REPO}:3f9c2ab-db-20260622140000_add_unique_fxa_uid_index.js`,
      "--build-arg",
      "SENTRY_RELEASE",
      "--build-arg",
      "NEXT_PUBLIC_SENTRY_DSN",
      "--secret",
      "id=SENTRY_AUTH_TOKEN,env=SENTRY_AUTH_TOKEN",
      "app",
    ]);
    // The values reach docker through its environment only: nothing on the command line, nothing in a layer.
    expect(plan.dockerEnv).toEqual({ SENTRY_RELEASE: SHA, NEXT_PUBLIC_SENTRY_DSN: DSN, SENTRY_AUTH_TOKEN: TOKEN });
    expect(plan.dockerArgs.join(" ")).not.toContain(TOKEN);
    expect(plan.warnings).toEqual([]);
  });

  it("builds without Sentry when the secrets are empty, and says so", () => {
    const plan = planBuild({
      appDir: "app",
      commit: SHA,
      repository: REPO,
      migrationPaths: [`${MIGRATIONS_DIR}/20240101000000_a.js`],
    });
    expect(plan.dockerArgs).not.toContain("--secret");
    expect(plan.dockerArgs).not.toContain("NEXT_PUBLIC_SENTRY_DSN");
    expect(plan.warnings.join("\n")).toMatch(/SENTRY_DSN is not set.*\n.*SENTRY_AUTH_TOKEN is not set/);
  });

  it("records the newest migration by knex's order (file name), ignoring what knex would not load", () => {
    expect(
      newestMigration([
        `${MIGRATIONS_DIR}/20240101000000_a.js`,
        `${MIGRATIONS_DIR}/20251218133221_delete_onerep_data.js`,
        `${MIGRATIONS_DIR}/20230101000000_old.js`,
        `${MIGRATIONS_DIR}/README.md`,
        `${MIGRATIONS_DIR}/29990101000000_types.d.ts`,
      ]),
    ).toBe("20251218133221_delete_onerep_data.js");
    expect(newestMigration([])).toBeUndefined();
  });

  it("refuses a commit without migrations, or a migration name no Docker tag can hold, naming the fix", () => {
    const base = { appDir: "app", commit: SHA, repository: REPO };
    expect(() => planBuild({ ...base, migrationPaths: [] })).toThrow(RefusedError);
    expect(() => planBuild({ ...base, migrationPaths: [] })).toThrow(/update MIGRATIONS_DIR/);
    expect(() => planBuild({ ...base, migrationPaths: [`${MIGRATIONS_DIR}/2024 bad name.js`] })).toThrow(
      /cannot be part of a Docker tag.*Fix: rename/,
    );
    expect(() => planBuild({ ...base, migrationPaths: [`${MIGRATIONS_DIR}/2024_${"x".repeat(120)}.js`] })).toThrow(
      /cannot be part of a Docker tag/,
    );
  });

  it("reads the app's git objects, writes version.json, builds once and pushes both tags", async () => {
    const app = appRepo(["20240101000000_a.js", "20240301000000_b.js"]);
    const { exec, docker } = recordingExec();
    const out = tempFile("output");
    const env = {
      APP_DIR: app.dir,
      COMMIT_SHA: app.commit,
      IMAGE_REPOSITORY: REPO,
      VERSION: "main",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "mozilla/blurts-server",
      GITHUB_RUN_ID: "123",
      GITHUB_OUTPUT: out.path,
      SENTRY_DSN: DSN,
      SENTRY_AUTH_TOKEN: TOKEN,
    };
    expect(await main(env, exec, quiet)).toBe(0);
    const short = app.commit.slice(0, 7);
    const record = `${short}-db-20240301000000_b.js`;
    expect(docker.map((d) => d.args[0])).toEqual(["build", "push", "push"]);
    expect(docker[0].env).toMatchObject({ SENTRY_AUTH_TOKEN: TOKEN, NEXT_PUBLIC_SENTRY_DSN: DSN });
    expect(docker.slice(1).map((d) => d.args[1])).toEqual([`${REPO}:${short}`, `${REPO}:${record}`]);
    expect(JSON.parse(readFileSync(join(app.dir, "version.json"), "utf8"))).toEqual({
      commit: app.commit,
      version: "main",
      source: "https://github.com/mozilla/blurts-server",
      build: "123",
    });
    expect(out.read()).toBe(`tag=${short}\nmigration_head=20240301000000_b.js\nmigration_tag=${record}\n`);
    // What the deploy reads back from the registry's tag list (components/image.ts).
    expect(migrationHeadOf([short, record, "2024.09.01"])).toBe("20240301000000_b.js");
  });

  it("refuses a commit the checkout does not have", async () => {
    const app = appRepo(["20240101000000_a.js"]);
    const { exec } = recordingExec();
    const env = {
      APP_DIR: app.dir,
      COMMIT_SHA: "0".repeat(40),
      IMAGE_REPOSITORY: REPO,
      VERSION: "main",
      GITHUB_SERVER_URL: "https://github.com",
      GITHUB_REPOSITORY: "mozilla/blurts-server",
      GITHUB_RUN_ID: "123",
      GITHUB_OUTPUT: tempFile().path,
    };
    await expect(main(env, exec, quiet)).rejects.toThrow(/COMMIT_SHA 0{40} is not in the app's checkout/);
  });
});

describe("the migration tag (shared-rules/image-tags.ts)", () => {
  it("is read back only from tags of its own form", () => {
    expect(migrationTag("3f9c2ab", "20240101000000_a.js")).toBe("3f9c2ab-db-20240101000000_a.js");
    expect(migrationTag("2024.09.01", "20240101000000_a.js")).toBeUndefined();
    expect(migrationHeadOf(["3f9c2ab", "2024.09.01", "running-stage", "pr-12"])).toBeUndefined();
  });
});
