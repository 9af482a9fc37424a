import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GitRefError, removeCheckouts } from "../infra/engine/base-plan";
import { type PlanDiff, type PlanDocument, diffPlans, diffSecrets, renderDiff } from "../infra/engine/diff";
import type { PlanResource } from "../infra/engine/render";
import { plan } from "../infra/plan-cli";
import { ROOT } from "./harness";

const BASE = { ref: "main", commit: "0123456789abcdef0123456789abcdef01234567" };
const SERVICE = "gcp:cloudrunv2/service:Service";

function resource(name: string, type: string, inputs: Record<string, unknown>, extra: Partial<PlanResource> = {}) {
  const urn = `urn:pulumi:prod::monitor::${type}::${name}`;
  return { urn, type, name, parent: "", protect: false, read: false, dependsOn: [], inputs, ...extra };
}

function service(envs: { name: string; value?: string; secret?: string }[], extra: Record<string, unknown> = {}) {
  const containers = [
    {
      image: "app@sha256:1",
      envs: envs.map(({ name, value, secret }) =>
        secret ? { name, valueSource: { secretKeyRef: { secret, version: "latest" } } } : { name, value },
      ),
    },
  ];
  return resource("web", SERVICE, { name: "monitor-prod", template: { containers, ...extra } }, { protect: true });
}

function doc(resources: PlanResource[], more: Partial<PlanDocument> = {}): PlanDocument {
  return { stack: "prod", resources, env: {}, outputs: {}, policyViolations: [], policiesNotRun: [], ...more };
}

describe("the plan diff", () => {
  const instance = (tier: string, protect = true) =>
    resource("database-instance", "gcp:sql/databaseInstance:DatabaseInstance", { settings: { tier } }, { protect });

  it("lists only what changes: a property path with both values, env values once for the containers sharing them", () => {
    const before = doc([instance("db-custom-2-7680"), service([{ name: "HIBP_THROTTLE_DELAY", value: "5000" }])]);
    const after = doc([
      instance("db-custom-4-15360"),
      service([
        { name: "HIBP_THROTTLE_DELAY", value: "6000" },
        { name: "SMTP_URL", secret: "projects/1/secrets/monitor-prod-smtp-url" },
      ]),
    ]);
    const diff = diffPlans(before, after, BASE);
    expect(diff.unchanged).toBe(0);
    expect(diff.resources.map((r) => [r.op, r.label, r.changes, r.envChanged])).toEqual([
      [
        "update",
        "database-instance",
        [{ path: "settings.tier", before: "db-custom-2-7680", after: "db-custom-4-15360" }],
        false,
      ],
      ["update", "web", [], true],
    ]);
    expect(diff.env).toEqual([
      {
        containers: ["monitor-prod"],
        changes: [
          { path: "HIBP_THROTTLE_DELAY", before: "5000", after: "6000" },
          { path: "SMTP_URL", after: "secret projects/1/secrets/monitor-prod-smtp-url@latest" },
        ],
      },
    ]);
    expect(renderDiff(diff)).toBe(
      [
        "Changes to stack prod against main (0123456):",
        "",
        "~ gcp:sql/databaseInstance:DatabaseInstance  database-instance [protected]",
        "    ~ settings.tier: db-custom-2-7680 => db-custom-4-15360",
        "~ gcp:cloudrunv2/service:Service  web [protected]",
        "    ~ environment: see below",
        "",
        "Environment of monitor-prod:",
        "    ~ HIBP_THROTTLE_DELAY: 5000 => 6000",
        "    + SMTP_URL: secret projects/1/secrets/monitor-prod-smtp-url@latest",
        "",
        "Resources: 0 to create, 2 to update, 0 to delete, 0 unchanged.",
      ].join("\n"),
    );
  });

  it("says a plan that changes nothing does, even when the entries of a list come in another order", () => {
    const envs = [
      { name: "A", value: "1" },
      { name: "B", value: "2" },
    ];
    const diff = diffPlans(doc([service(envs)]), doc([service([...envs].reverse())]), BASE);
    expect(diff.unchanged).toBe(1);
    expect(renderDiff(diff)).toBe("No changes to stack prod against main (0123456): the working tree plans the same.");
  });

  it("shows a created resource's settings, a protected delete, a URN change as delete and create, and protect", () => {
    const grant = resource("grant", "gcp:projects/iAMMember:IAMMember", { role: "roles/run.invoker", member: "m" });
    const before = doc([instance("db-f1-micro"), resource("old-name", "gcp:pubsub/topic:Topic", { name: "t" })]);
    const after = doc([
      instance("db-f1-micro", false),
      resource("new-name", "gcp:pubsub/topic:Topic", { name: "t" }),
      grant,
    ]);
    const text = renderDiff(diffPlans(before, after, BASE));
    expect(text).toContain(
      "~ gcp:sql/databaseInstance:DatabaseInstance  database-instance\n    ~ (protect): true => false\n",
    );
    expect(text).toContain("+ gcp:pubsub/topic:Topic  new-name\n      name=t\n");
    expect(text).toContain("+ gcp:projects/iAMMember:IAMMember  grant\n      role=roles/run.invoker\n      member=m\n");
    expect(text).toContain("- gcp:pubsub/topic:Topic  old-name\n");
    expect(text).toMatch(/\nResources: 2 to create, 1 to update, 1 to delete, 0 unchanged\.$/);
    const dropped = renderDiff(diffPlans(doc([instance("db-f1-micro")]), doc([]), BASE));
    expect(dropped).toContain(
      "- gcp:sql/databaseInstance:DatabaseInstance  database-instance [protected]\n" +
        "      pulumi refuses to delete it while it is protected\n",
    );
  });

  it("prints a value whole, however long: a cut could hide the change", () => {
    const url = (collection: string) =>
      `https://firefox.settings.services.mozilla.com/v1/buckets/main/collections/${collection}`;
    const before = doc([service([{ name: "URL", value: url("nimbus-web-experiments") }])]);
    const after = doc([service([{ name: "URL", value: url("nimbus-web-preview") }])]);
    expect(renderDiff(diffPlans(before, after, BASE))).toContain(
      `    ~ URL: ${url("nimbus-web-experiments")} => ${url("nimbus-web-preview")}\n`,
    );
  });

  it("names a stack file's secret that is set, changed or removed, and never its ciphertext", () => {
    const before = { "monitor:secretValues.A": { file: "Pulumi.prod.yaml", ciphertext: "v1:AAAA" } };
    const after = {
      "monitor:secretValues.A": { file: "Pulumi.prod.yaml", ciphertext: "v1:BBBB" },
      "monitor:secretValues.B": { file: "Pulumi.prod.yaml", ciphertext: "v1:CCCC" },
    };
    const secrets = [...diffSecrets(before, after), ...diffSecrets(after, {})];
    const diff = diffPlans(doc([]), doc([]), BASE, secrets);
    const text = renderDiff(diff);
    expect(text).toContain(
      "Secrets the stack file sets (by name; values are never shown):\n" +
        "    ~ monitor:secretValues.A  (Pulumi.prod.yaml: changed)\n" +
        "    + monitor:secretValues.B  (Pulumi.prod.yaml: set)\n" +
        "    - monitor:secretValues.A  (Pulumi.prod.yaml: removed)\n",
    );
    expect(`${text}${JSON.stringify(diff)}`).not.toMatch(/AAAA|BBBB|CCCC/);
  });

  it("tells how to create a new managed secret and add its value before the change is merged", () => {
    const secret = resource("secrets-otel", "gcp:secretmanager/secret:Secret", {
      secretId: "monitor-prod-otel",
      project: "moz-fx-monitor-prod",
    });
    // A config secret is created with its version, in the same update: nothing to do by hand.
    const configured = resource("secrets-smtp", "gcp:secretmanager/secret:Secret", {
      secretId: "monitor-prod-smtp",
      project: "moz-fx-monitor-prod",
    });
    const version = resource("secrets-smtp", "gcp:secretmanager/secretVersion:SecretVersion", {
      secret: "projects/1/secrets/monitor-prod-smtp",
      secretData: "[secret]",
    });
    const diff = diffPlans(doc([]), doc([secret, configured, version]), BASE);
    expect(diff.newSecrets.map((s) => s.secretId)).toEqual(["monitor-prod-otel"]);
    expect(renderDiff(diff)).toContain(
      "New secrets: the deploy of this change refuses until each exists with a version. Before merging:\n" +
        "    monitor-prod-otel:\n" +
        `      pulumi up --stack prod --target '${secret.urn}'\n` +
        "      gcloud secrets versions add monitor-prod-otel --project moz-fx-monitor-prod --data-file=-\n",
    );
  });

  it("lists outputs and policy verdicts that change", () => {
    const violation = { policy: "prod-alerts-notify", enforcementLevel: "advisory" as const, urn: "u", message: "m" };
    const before = doc([], { outputs: { imageTag: "2024.09.01" }, policyViolations: [violation] });
    const notRun = { policy: "p", enforcementLevel: "mandatory" as const, message: "n" };
    const after = doc([], { outputs: { imageTag: "2024.10.01", url: "https://x" }, policiesNotRun: [notRun] });
    const text = renderDiff(diffPlans(before, after, BASE));
    expect(text).toContain("Outputs:\n    ~ imageTag: 2024.09.01 => 2024.10.01\n    + url: https://x\n");
    expect(text).toContain(
      "Policies:\n    + [mandatory] p (could not run): (stack)\n          n\n" +
        "    - [advisory] prod-alerts-notify: u\n          m\n",
    );
  });
});

/**
 * A clone of this checkout as a repository of its own, `main` committed; the cases edit its working tree. Its
 * packages are this checkout's (linked), and the working tree's plan runs in process, as `npm run plan` runs it.
 */
describe("npm run plan -- <stack> --diff <ref>", () => {
  let repo: string;
  let commit: string;
  const git = (...args: string[]) =>
    execFileSync("git", ["-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com", ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    }).trim();
  const prodFile = () => join(repo, "Pulumi.prod.yaml");

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), "monitor-plan-diff-"));
    const files = execFileSync("git", ["-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
      encoding: "utf8",
    })
      .split("\0")
      .filter(Boolean);
    for (const file of files) {
      mkdirSync(dirname(join(repo, file)), { recursive: true });
      cpSync(join(ROOT, file), join(repo, file));
    }
    git("init", "-q", "-b", "main");
    git("add", "-A");
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "main");
    commit = git("rev-parse", "HEAD");
    // After the commit: `node_modules/` in .gitignore matches a directory, and a link is not one.
    symlinkSync(join(ROOT, "node_modules"), join(repo, "node_modules"));
  });

  afterAll(() => {
    removeCheckouts();
    rmSync(join(repo, "node_modules"));
    rmSync(repo, { recursive: true, force: true });
  });

  const diffOf = async (stack: string, ref = "main") =>
    JSON.parse((await plan({ stack, json: true, fresh: false, diff: ref, overrides: {} }, repo)).text) as PlanDiff;

  it("says nothing changes when the working tree is the ref", async () => {
    const { text, refused } = await plan(
      { stack: "prod", json: false, fresh: false, diff: "main", overrides: {} },
      repo,
    );
    expect(refused).toBe(false);
    expect(text).toBe(
      `No changes to stack prod against main (${commit.slice(0, 7)}): the working tree plans the same.`,
    );
  });

  it("shows what a stack file change would change: settings, env values, a new secret and a secret set, by name", async () => {
    const ciphertext = "v1:q0Ca9sT1dSm3K8w=:v1:Zm9vYmFyYmF6cXV4";
    const edited = readFileSync(prodFile(), "utf8")
      .replace("tier: db-custom-2-7680", "tier: db-custom-4-15360")
      .replace("minInstances: 2", "minInstances: 3")
      .replace("HIBP_THROTTLE_DELAY: 5000", "HIBP_THROTTLE_DELAY: 6000")
      .replace("    REDIS_URL: managed\n", "    REDIS_URL: managed\n    OTEL_RESOURCE_ATTRIBUTES: managed\n")
      .replace("    SMTP_URL: managed\n", "    SMTP_URL: config\n")
      .replace(
        "  monitor:worker:\n",
        `  monitor:secretValues:\n    SMTP_URL:\n      secure: ${ciphertext}\n  monitor:worker:\n`,
      );
    writeFileSync(prodFile(), edited);
    const diff = await diffOf("prod");
    const text = (await plan({ stack: "prod", json: false, fresh: false, diff: "main", overrides: {} }, repo)).text;

    expect(diff.base).toEqual({ ref: "main", commit });
    const instance = diff.resources.find((r) => r.type === "gcp:sql/databaseInstance:DatabaseInstance")!;
    expect(instance.changes).toContainEqual({
      path: "settings.tier",
      before: "db-custom-2-7680",
      after: "db-custom-4-15360",
    });
    const web = diff.resources.find((r) => r.type === SERVICE)!;
    expect(web).toMatchObject({ op: "update", envChanged: true });
    expect(web.changes).toEqual([{ path: "template.scaling.minInstanceCount", before: 2, after: 3 }]);
    expect(diff.resources.filter((r) => r.op === "delete")).toEqual([]);
    expect(text).toMatch(/\n {4}~ HIBP_THROTTLE_DELAY: 5000 => 6000\n/);
    expect(text).toMatch(
      /\n {4}\+ OTEL_RESOURCE_ATTRIBUTES: secret projects\/\d+\/secrets\/monitor-prod-otel-resource-attributes@latest\n/,
    );
    expect(text).toMatch(/\n {4}\+ monitor:secretValues\.SMTP_URL {2}\(Pulumi\.prod\.yaml: set\)\n/);
    expect(diff.newSecrets.map((s) => s.secretId)).toEqual(["monitor-prod-otel-resource-attributes"]);
    expect(`${text}${JSON.stringify(diff)}`).not.toContain(ciphertext.slice(3, 20));
  });

  it("refuses, as bad usage, a ref this checkout does not have, saying how to get it", async () => {
    const error = await diffOf("prod", "no-such-branch").catch((err: Error) => err);
    expect(error).toBeInstanceOf(GitRefError);
    expect((error as Error).message).toBe(
      '--diff: "no-such-branch" names no commit in this checkout. Fix: fetch it (git fetch origin no-such-branch), ' +
        "or compare with a ref you have: --diff origin/main, a tag or a sha",
    );
  });

  it("says the stack does not plan at the ref, with the ref's own message, when there is nothing to compare with", async () => {
    git("checkout", "-q", "-b", "broken", "main");
    writeFileSync(join(repo, "Pulumi.pr-7.yaml"), "config:\n  monitor:imageTag: latest\n");
    git("add", "Pulumi.pr-7.yaml");
    git("-c", "commit.gpgsign=false", "commit", "-q", "-m", "broken");
    git("checkout", "-q", "main");
    const error = await diffOf("pr-7", "broken").catch((err: Error) => err);
    expect((error as Error).message).toMatch(
      /^Stack "pr-7" does not plan at broken \([0-9a-f]{7}\), so there is nothing to compare with:\nStack "pr-7" .*latest.*\nFix: compare with another ref \(--diff <ref>\), or plan without --diff$/s,
    );
  });
});
