import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { parseArgs, plan as planStack } from "../infra/plan-cli";
import { ROOT } from "./harness";

const run = promisify(execFile);

/** The command `npm run plan` runs, read from package.json so the suite cannot drift from it. */
const PLAN_SCRIPT = (JSON.parse(readFileSync(resolve(ROOT, "package.json"), "utf8")) as { scripts: { plan: string } })
  .scripts.plan;

async function outcome(running: Promise<{ stdout: string; stderr: string }>) {
  try {
    const { stdout, stderr } = await running;
    return { code: 0, stdout, stderr };
  } catch (err: any) {
    return { code: err.code as number, stdout: err.stdout as string, stderr: err.stderr as string };
  }
}

/** Runs `npm run plan -- <args>` as a newcomer would, and returns its exit code and output. */
function npmPlan(...args: string[]) {
  return outcome(run("npm", ["run", "--silent", "plan", "--", ...args], { cwd: ROOT }));
}

/** The same command without npm around it (npm's start-up costs more CPU than the suite can spare per case). */
function plan(...args: string[]) {
  const [command, ...scriptArgs] = PLAN_SCRIPT.split(" ");
  expect(command).toBe("node");
  return outcome(run(process.execPath, [...scriptArgs, ...args], { cwd: ROOT }));
}

/**
 * What the CLI prints for these arguments, from the function its main() calls, in this process: for the cases that
 * are about the plan's content. What main() adds (exit codes, stderr, draining stdout) the spawned cases cover.
 */
async function printed(...argv: string[]) {
  const args = parseArgs(argv);
  if ("help" in args) throw new Error(`${argv.join(" ")} asks for help, not a plan`);
  const { text, refused } = await planStack(args, ROOT);
  return { code: refused ? 1 : 0, stdout: `${text}\n` };
}

describe("npm run plan", () => {
  it("prints the resource tree, the env table with secrets by reference, and the outputs", async () => {
    const { code, stdout } = await npmPlan("pr-123");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Plan for stack pr-123: 32 resources to create, 1 read/);
    expect(stdout).toMatch(/\n\+ monitor:components:MonitorApp {2}app\n/);
    expect(stdout).toMatch(
      /\n {2}\+ monitor:components:WebService {2}web\n {4}\+ gcp:cloudrunv2\/service:Service {2}web\n/,
    );
    expect(stdout).toMatch(/~ read pulumi:pulumi:StackReference {2}preview-platform/);
    expect(stdout).toMatch(/Environment of monitor-pr-123-migrate, monitor-pr-123:\n/);
    expect(stdout).toMatch(/\nPolicies: all passed\.\n/);
    expect(stdout).toMatch(/ {2}DATABASE_URL +secret projects\/\d+\/secrets\/monitor-pr-123-database-url@1\n/);
    expect(stdout).toMatch(/password=\[secret\]/);
    // A script passed to psql shows as its first line and its length, not as sixty lines of SQL.
    expect(stdout).toMatch(
      /\n {8}command=psql --no-psqlrc --set=ON_ERROR_STOP=1 --command BEGIN; \.\.\. \(\d+ lines\)\n/,
    );
    expect(stdout).toMatch(/Outputs:\n {2}url: "https:\/\/monitor-pr-123-\d{12}\.us-central1\.run\.app"/);
  });

  it("plans prod from its committed stack file, keeping the deployed image, with the parity report", async () => {
    const { code, stdout } = await printed("prod");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Plan for stack prod: \d+ resources to create, 1 read/);
    expect(stdout).toMatch(/\+ gcp:sql\/databaseInstance:DatabaseInstance {2}database-instance \[protected\]/);
    // One table for the app: every app container of prod runs with the same environment; the sidecar has its own.
    expect(stdout.match(/^Environment of .*$/gm)).toEqual([
      expect.stringMatching(/^Environment of monitor-prod-migrate, monitor-prod, .*monitor-prod-breach-alerts:$/),
      "Environment of monitor-prod/cirrus:",
    ]);
    expect(stdout).toMatch(/ {2}imageTag: "2024\.09\.01"\n/);
    // The config requires prod's channel; the committed file carries a placeholder until SRE names the real one, and
    // every plan says so (advisory).
    expect(stdout).toMatch(
      /\nPolicies: 0 mandatory, 1 advisory violation\(s\)\.\n {2}\[advisory\] prod-alerts-notify: .*heartbeat-alert\n {6}heartbeat-alert notifies nobody \(its only channel is the placeholder\): SRE must set monitor:alerts\.notificationChannels in Pulumi\.prod\.yaml to a real channel/,
    );
    expect(stdout).toMatch(
      /\n\nParity: stage and prod set the same variables to the same values, except \d+ that differ on purpose \(monitor:parity\.differ\)\.\n$/,
    );
  });

  it("plans the pipeline from its stack file and the commit, showing identities, grants, environments, rulesets, files and registry", async () => {
    const { code, stdout } = await printed(
      "pipeline",
      "--config",
      "monitor:infraCommit=3f9c2ab0123456789abcdef0123456789abcdef0",
    );
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Plan for stack pipeline: \d+ resources to create, 0 read/);
    expect(stdout).toMatch(/\nPolicies: all passed\.\n/);
    expect(stdout).toMatch(
      /\nIdentities \(who may mint a token\):\n {2}moz-fx-monitor-previews github-actions\/github\n(?: {4}.*\n)+ {2}moz-fx-monitor-nonprod github-actions\/github\n {4}condition: assertion\.repository_owner_id in \['\d+'\] && .*job_workflow_ref in \[.*deploy\.yml@3f9c2ab0123456789abcdef0123456789abcdef0/,
    );
    expect(stdout).toMatch(
      /monitor-deploy-prod@moz-fx-monitor-prod\.iam\.gserviceaccount\.com <- principalSet:\/\/.*\/attribute\.repository_environment_ref\/\d+\|prod\|refs\/heads\/main\n/,
    );
    expect(stdout).toMatch(
      /\nGrants:\n(?:.*\n)*? {2}monitor-deploy-stage@.*roles\/run\.admin {2}on project moz-fx-monitor-nonprod\n/,
    );
    expect(stdout).toMatch(
      /roles\/storage\.objectUser {2}on bucket moz-fx-monitor-pulumi-state\n {6}if resource\.name == /,
    );
    expect(stdout).toMatch(
      /\nEnvironments:\n.*\n(.*\n)*? {2}blurts-server\/prod: reviewers: teams \d+; deploys from branches \[main\] tags \[20\*\]\n/,
    );
    expect(stdout).toMatch(
      / {4}GCP_SERVICE_ACCOUNT = monitor-deploy-prod@moz-fx-monitor-prod\.iam\.gserviceaccount\.com\n/,
    );
    expect(stdout).toMatch(/\nRulesets:\n(?:.*\n)*? {2}blurts-server "release tags" \(tag refs\/tags\/20\*\)\n/);
    expect(stdout).toMatch(/\nFiles:\n/);
    expect(stdout).toMatch(
      /\nRegistry:\n {2}us-docker\.pkg\.dev\/moz-fx-monitor-nonprod\/monitor-nonprod\n {4}DELETE delete-pr-images: TAGGED, tags pr-\*, older than 14d\n/,
    );
    expect(stdout).toMatch(/ {2}deployers: \{"preview":"monitor-deploy-preview@/);
  });

  it("prints the same as JSON with --json", async () => {
    const { code, stdout } = await printed("pr-123", "--json");
    expect(code).toBe(0);
    const parsed = JSON.parse(stdout);
    expect(parsed.stack).toBe("pr-123");
    expect(parsed.resources).toHaveLength(33);
    expect(parsed.outputs.migrationJobName).toBe("monitor-pr-123-migrate");
    expect(parsed.env["monitor-pr-123"].find((e: any) => e.name === "NEXTAUTH_SECRET")).toMatchObject({ secret: true });
  });

  it("takes --config overrides like the Pulumi CLI", async () => {
    const { code, stdout } = await printed("pr-9", "--config", "monitor:imageTag=abc1234", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).outputs.imageTag).toBe("abc1234");
  });

  it("exits 1 with the message and no stack trace on a bad stack name", async () => {
    const { code, stdout, stderr } = await plan("pr-01");
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^Stack "pr-01" is not a stack of the monitor project/);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 1 with the message and no stack trace on bad config", async () => {
    const { code, stderr } = await plan("pr-5", "--config", 'monitor:env={"PORT":"1"}');
    expect(code).toBe(1);
    expect(stderr).toMatch(/^Stack "pr-5" has invalid configuration:\n {2}- monitor:env\.PORT /);
    expect(stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 2 on bad usage", async () => {
    expect((await plan()).code).toBe(2);
    expect((await plan("pr-1", "--frobnicate")).stderr).toMatch(
      /unknown option --frobnicate \(npm run plan -- --help lists them\)\nusage: npm run plan/,
    );
  });

  it("prints its help on --help and exits 0", async () => {
    const { code, stdout, stderr } = await plan("--help");
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout).toMatch(/^usage: npm run plan -- <stack> \[--json\] \[--fresh\] \[--diff \[<git ref>\]\]/);
    for (const option of ["--json", "--fresh", "--diff [<git ref>]", "-c, --config <key>=<value>", "-h, --help"]) {
      expect(stdout).toContain(`\n  ${option}`);
    }
    expect(stdout).toMatch(/\nExit codes: 0 planned, 1 refused .*, 2 bad usage\.\n/);
  });

  it("exits 2 when --diff names a ref the checkout does not have, saying how to get it", async () => {
    const { code, stdout, stderr } = await plan("pr-1", "--diff", "no-such-ref-of-the-plan-suite");
    expect(code).toBe(2);
    expect(stdout).toBe("");
    expect(stderr).toMatch(/^--diff: "no-such-ref-of-the-plan-suite" names no commit in this checkout\. Fix: fetch it/);
  });

  it("takes --config=<key>=<value> as the Pulumi CLI's flags take it", async () => {
    const { code, stdout } = await printed("pr-9", "--config=monitor:imageTag=abc1234", "--json");
    expect(code).toBe(0);
    expect(JSON.parse(stdout).outputs.imageTag).toBe("abc1234");
  });

  it("parses its arguments", () => {
    expect(parseArgs(["prod", "--json", "-c", "monitor:imageTag=2024.09.01"])).toEqual({
      stack: "prod",
      json: true,
      fresh: false,
      overrides: { "monitor:imageTag": "2024.09.01" },
    });
    expect(() => parseArgs(["a", "b"])).toThrow(/one stack at a time/);
    expect(() => parseArgs(["a", "--config", "novalue"])).toThrow(/--config takes <key>=<value>/);
    expect(() => parseArgs(["a", "--config=novalue"])).toThrow(/--config takes <key>=<value>, got "novalue"/);
    // The value is everything after the first "=": a value may hold "=" itself.
    expect(parseArgs(["prod", "--config=monitor:x=a=b", "-c=monitor:y=1"])).toMatchObject({
      overrides: { "monitor:x": "a=b", "monitor:y": "1" },
    });
    expect(() => parseArgs(["prod", "--json=true"])).toThrow(/--json takes no value/);
    expect(parseArgs(["prod", "-h"])).toEqual({ help: true });
    expect(parseArgs(["--help", "--frobnicate"])).toEqual({ help: true });
  });

  it("parses --diff: main by default, the ref that follows it, or one joined with =", () => {
    expect(parseArgs(["prod", "--diff"])).toMatchObject({ stack: "prod", diff: "main" });
    expect(parseArgs(["prod", "--diff", "--json"])).toMatchObject({ diff: "main", json: true });
    expect(parseArgs(["prod", "--diff", "origin/main"])).toMatchObject({ diff: "origin/main" });
    expect(parseArgs(["--diff=v2024.09.01", "prod"])).toMatchObject({ stack: "prod", diff: "v2024.09.01" });
    expect(parseArgs(["prod"])).not.toHaveProperty("diff");
    expect(() => parseArgs(["--diff", "prod"])).toThrow(
      /^which stack\? --diff took "prod" as its git ref\. Fix: name the stack first \(prod --diff\), or write --diff=<ref>$/,
    );
    expect(() => parseArgs(["prod", "--diff="])).toThrow(/--diff= names no git ref/);
  });
});
