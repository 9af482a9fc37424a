import type { Policies } from "@pulumi/policy";
import { beforeAll, describe, expect, it } from "vitest";
import { DERIVED_VARIABLES } from "../shared-rules/app-env";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, type Registration, UNKNOWN, evaluate } from "../infra/engine/evaluate";
import { envOf, renderText, toPlan } from "../infra/engine/render";
import { parseArgs, plan } from "../infra/plan-cli";
import { analyze, runPolicies } from "../policies/offline";
import { JOB, ROOT, SERVICE, evaluateStack, ofType } from "./harness";

// `--fresh`: the stack as its first `pulumi preview` sees it. Providers have computed nothing yet (emails,
// connection names, ids, generated values are unknown) and the stack has no outputs of its own; CrossGuard's
// proxy throws on reading an unknown, and a mandatory rule that lets that escape decides nothing.

const TAGS: Record<string, string> = { stage: "abc1234", prod: "2024.10.01" };
const JOB_INVOKER = "gcp:cloudrunv2/jobIamMember:JobIamMember";

/**
 * A stack's first full deploy as its preview sees it: for stage and prod, the one after the bootstrap, once SRE has
 * added the secret versions (`missingSecretVersions: []`); without that, the preview refuses (tested below).
 */
async function fresh(stack: string, overrides: Record<string, string> = {}): Promise<Evaluation> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, overrides);
  return evaluate(stack, { config, secretKeys, fresh: true, missingSecretVersions: [] });
}

const evaluations: Record<string, Evaluation> = {};
beforeAll(async () => {
  // One after another: each evaluation swaps Pulumi's process-wide mock state.
  for (const stack of ["stage", "prod"]) evaluations[stack] = await fresh(stack, { "monitor:imageTag": TAGS[stack] });
});

const webOf = (ev: Evaluation) => ofType(ev, SERVICE).find((r) => r.name === "web")!;

describe("a fresh plan of stage and prod", () => {
  for (const stack of ["stage", "prod"]) {
    it(`${stack}: what the providers compute is unknown, and shown as ${UNKNOWN}`, () => {
      const ev = evaluations[stack];
      expect(ev.fresh).toBe(true);
      const env = Object.fromEntries(envOf(webOf(ev)).map((e) => [e.name, e.value]));
      // PG_HOST comes from the instance's connectionName; the schedulers' invokers from an account's email.
      expect(env.PG_HOST).toBe(UNKNOWN);
      const invokers = ofType(ev, JOB_INVOKER);
      expect(invokers.length).toBeGreaterThan(0);
      for (const invoker of invokers) {
        expect(invoker.inputs.member).toBe(UNKNOWN);
        expect(invoker.unknownPaths).toContain("member");
      }
      const text = renderText(toPlan(ev));
      expect(text).toMatch(new RegExp(`\\n {2}PG_HOST +\\[unknown\\]\\n`));
      expect(text).toMatch(/^As the first preview of \w+ sees it: nothing deployed yet/m);
      expect(text).not.toMatch(/undefined/);
    });

    it(`${stack}: every mandatory policy decides, and none is violated`, () => {
      const { violations, couldNotRun } = analyze(evaluations[stack]);
      expect(couldNotRun).toEqual([]);
      expect(violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    });
  }

  it("of the pipeline stack leaves every mandatory policy a decision too", async () => {
    const ev = await fresh("pipeline", { "monitor:infraCommit": "1eae4033929b301c8b161f5fed6b817840e73b0b" });
    expect(ev.registrations.some((r) => (r.unknownPaths ?? []).length > 0)).toBe(true);
    const { violations, couldNotRun } = analyze(ev);
    expect(couldNotRun).toEqual([]);
    expect(violations.filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
  });

  it("deploys the tag it is given: with nothing deployed there is nothing to keep", async () => {
    await expect(fresh("prod")).rejects.toThrow(
      /^Stack "prod": no image is deployed yet, so there is nothing to keep\. Fix: pass the image to deploy with --config monitor:imageTag=<tag>$/,
    );
  });

  it("of a preview still reads the previews platform", async () => {
    const ev = await fresh("pr-8");
    const env = Object.fromEntries(envOf(ofType(ev, SERVICE)[0]).map((e) => [e.name, e.value]));
    // The previews stack exists by then: its platform's connection name is known, from its outputs.
    expect(env.PG_HOST).toBe("/cloudsql/moz-fx-monitor-previews:us-central1:monitor-previews");
    expect(analyze(ev).couldNotRun).toEqual([]);
  });
});

describe("a policy that reads what the preview does not know", () => {
  const readsMembers: Policies = [
    {
      name: "reads-members",
      description: "compares every job invoker's member with a literal, unknown or not",
      enforcementLevel: "mandatory",
      validateResource: (args, report) => {
        if (args.type === JOB_INVOKER && args.props.member === "allUsers") report("public job");
      },
    },
  ];

  it("is reported as could not run, per resource, with CrossGuard's message, and never as a pass", () => {
    const { violations, couldNotRun } = analyze(evaluations.stage, readsMembers);
    expect(violations).toEqual([]);
    const invokers = ofType(evaluations.stage, JOB_INVOKER);
    expect(couldNotRun).toEqual(
      invokers.map((r) => ({
        policy: "reads-members",
        enforcementLevel: "mandatory",
        urn: r.urn,
        message: "string value at .member can't be known during preview",
      })),
    );
    expect(() => runPolicies(evaluations.stage, readsMembers)).toThrow(
      /^policies could not run on what the preview knows: reads-members on urn:pulumi:stage::/,
    );
  });

  it("decides as before in a plain plan, where everything is known", async () => {
    const ev = await evaluateStack("stage");
    expect(analyze(ev, readsMembers)).toEqual({ violations: [], couldNotRun: [] });
    expect(ev.fresh).toBeUndefined();
    expect(ev.registrations.every((r) => (r.unknownPaths ?? []).length === 0)).toBe(true);
    expect(renderText(toPlan(ev))).not.toMatch(/\[unknown\]|As the first preview/);
  });
});

describe("the rules decide on what a preview knows", () => {
  /** A registration whose inputs hold UNKNOWN at `unknownPaths`, as a fresh evaluation records them. */
  function registration(
    type: string,
    inputs: Record<string, unknown>,
    unknownPaths: string[],
    stack = "stage",
  ): Registration {
    return {
      urn: `urn:pulumi:${stack}::monitor::${type}::res`,
      type,
      name: "res",
      custom: true,
      read: false,
      parent: "",
      protect: false,
      retainOnDelete: false,
      deleteBeforeReplace: false,
      dependsOn: [],
      propertyDependencies: {},
      inputs,
      secretPaths: [],
      unknownPaths,
      rawInputs: inputs,
    };
  }
  const report = (r: Registration, policy: string) => {
    const { violations, couldNotRun } = analyze({ stack: "stage", registrations: [r], outputs: {}, fresh: true });
    return {
      violations: violations.filter((v) => v.policy === policy).map((v) => v.message),
      couldNotRun: couldNotRun.filter((v) => v.policy === policy).map((v) => v.message),
    };
  };
  const job = (envs: Record<string, unknown>[]) => ({
    name: "monitor-stage-migrate",
    labels: { app: "monitor", environment: "stage", stack: "stage" },
    deletionProtection: true,
    template: { template: { containers: [{ image: `r@sha256:${"ab".repeat(32)}`, envs }] } },
  });
  const PATH = "template.template.containers[0].envs[0].value";

  it("a derived variable by its name: unknown PG_HOST passes", () => {
    expect(DERIVED_VARIABLES).toContain("PG_HOST");
    expect(
      report(registration(JOB, job([{ name: "PG_HOST", value: UNKNOWN }]), [PATH]), "cloudrun-no-plain-secrets"),
    ).toEqual({
      violations: [],
      couldNotRun: [],
    });
  });

  it("a secret's name refuses a plain value, known or not", () => {
    const found = report(
      registration(JOB, job([{ name: "SMTP_URL", value: UNKNOWN }]), [PATH]),
      "cloudrun-no-plain-secrets",
    );
    expect(found.couldNotRun).toEqual([]);
    expect(found.violations).toEqual([
      expect.stringMatching(/sets SMTP_URL as a plain value, but its name says it is a secret/),
    ]);
  });

  it("any other unknown plain value cannot be judged, and says so", () => {
    const found = report(
      registration(JOB, job([{ name: "SENTRY_DSN", value: UNKNOWN }]), [PATH]),
      "cloudrun-no-plain-secrets",
    );
    expect(found).toEqual({
      violations: [],
      couldNotRun: [expect.stringMatching(/\.envs\.0\.value can't be known during preview$/)],
    });
  });

  const grant = (members: unknown[]) => ({ name: "monitor-stage-migrate", role: "roles/run.invoker", members });

  it("an unknown member is built from an identity, never a public principal", () => {
    const single = registration(
      JOB_INVOKER,
      { name: "monitor-stage-migrate", role: "roles/run.invoker", member: UNKNOWN },
      ["member"],
    );
    expect(report(single, "cloudrun-public-invoker")).toEqual({ violations: [], couldNotRun: [] });
    const binding = registration("gcp:cloudrunv2/jobIamBinding:JobIamBinding", grant([UNKNOWN, "allUsers"]), [
      "members[0]",
    ]);
    expect(report(binding, "cloudrun-public-invoker").violations).toEqual([
      expect.stringMatching(
        /lets allUsers invoke monitor-stage-migrate, but a Cloud Run job is never invoked from the internet/,
      ),
    ]);
  });

  // The engine sends every unknown as one sentinel, which CrossGuard's proxy names "string" whatever its type.
  it("a whole unknown member list cannot be judged, and says so", () => {
    const binding = registration("gcp:cloudrunv2/jobIamBinding:JobIamBinding", grant([]), ["members"]);
    expect(
      report({ ...binding, inputs: { ...binding.inputs, members: UNKNOWN } }, "cloudrun-public-invoker").couldNotRun,
    ).toEqual(["string value at .members can't be known during preview"]);
  });
});

describe("npm run plan --fresh", () => {
  it("takes --fresh", () => {
    expect(parseArgs(["stage", "--fresh", "-c", "monitor:imageTag=abc1234"])).toEqual({
      stack: "stage",
      json: false,
      fresh: true,
      overrides: { "monitor:imageTag": "abc1234" },
    });
  });

  it("refuses a deploy that skips the bootstrap, as the first preview would, listing every secret version owed", async () => {
    // No secret exists before the first update, so Secret Manager has no version of any: the app could not start.
    const error: Error = await plan(
      { stack: "prod", json: false, fresh: true, overrides: { "monitor:imageTag": TAGS.prod } },
      ROOT,
    ).then(
      () => new Error("planned"),
      (err: Error) => err,
    );
    const managed = Object.keys(JSON.parse(loadStackConfig(ROOT, "prod").config["monitor:secrets"]) as object);
    expect(managed.length).toBeGreaterThan(5);
    expect(error.message).toMatch(/^Stack "prod": NEXTAUTH_SECRET \(it has no version yet\), /);
    expect(error.message).toMatch(/for a new environment with --config monitor:bootstrap=true/);
    for (const name of managed) {
      const id = `monitor-prod-${name.toLowerCase().replace(/_/g, "-")}`;
      expect(error.message).toContain(
        `\n  gcloud secrets versions add ${id} --project moz-fx-monitor-prod --data-file=-`,
      );
    }
  });

  /** The commands a fresh plan's text lists under "Secret versions owed", one a line. */
  async function owedOf(stack: string, overrides: Record<string, string>): Promise<string[]> {
    const { text, refused } = await plan({ stack, json: false, fresh: true, overrides }, ROOT);
    expect(refused).toBe(false);
    expect(text).toMatch(/\nPolicies: all passed\.\n/);
    const owed = /\nSecret versions owed before the app can start \((\d+)\):\n((?: {2}gcloud .*\n?)+)/.exec(text);
    expect(owed, text).not.toBeNull();
    const commands = owed![2]
      .trim()
      .split("\n")
      .map((l) => l.trim());
    expect(commands).toHaveLength(Number(owed![1]));
    return commands;
  }

  it("prints stage's fresh bootstrap with every secret version it will owe", async () => {
    const commands = await owedOf("stage", { "monitor:bootstrap": "true" });
    expect(commands).toContain(
      "gcloud secrets versions add monitor-stage-smtp-url --project moz-fx-monitor-nonprod --data-file=-",
    );
    const declared = Object.keys(JSON.parse(loadStackConfig(ROOT, "stage").config["monitor:secrets"]) as object);
    expect(commands).toHaveLength(declared.length);
  });

  it("prints the previews platform's first plan with every sandbox secret version it will owe", async () => {
    const commands = await owedOf("previews", {});
    const { sandboxSecrets } = JSON.parse(loadStackConfig(ROOT, "previews").config["monitor:preview"]) as {
      sandboxSecrets: string[];
    };
    expect(commands).toEqual(
      sandboxSecrets.map(
        (name) =>
          `gcloud secrets versions add monitor-preview-${name.toLowerCase().replace(/_/g, "-")} --project moz-fx-monitor-previews --data-file=-`,
      ),
    );
  });

  it("lists a newly declared managed secret among the versions a fresh bootstrap owes", async () => {
    const secrets = JSON.parse(loadStackConfig(ROOT, "prod").config["monitor:secrets"]) as Record<string, string>;
    const { text } = await plan(
      {
        stack: "prod",
        json: true,
        fresh: true,
        overrides: {
          "monitor:bootstrap": "true",
          "monitor:secrets": JSON.stringify({ ...secrets, OTEL_RESOURCE_ATTRIBUTES: "managed" }),
        },
      },
      ROOT,
    );
    const parsed = JSON.parse(text);
    expect(parsed.fresh).toBe(true);
    expect(parsed.outputs.owedSecretVersions).toContain(
      "gcloud secrets versions add monitor-prod-otel-resource-attributes --project moz-fx-monitor-prod --data-file=-",
    );
    // Only prod's known advisory (Pulumi.prod.yaml has no notification channel yet) may be reported, and it is
    // not declared in a bootstrap (no alert exists yet): nothing could not run.
    expect(parsed.policiesNotRun).toEqual([]);
    const grant = parsed.resources.find((r: { type: string }) => r.type === "gcp:projects/iAMMember:IAMMember");
    expect(grant.inputs.member).toBe(UNKNOWN);
    expect(grant.unknownPaths).toContain("member");
  });
});
