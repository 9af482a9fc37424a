import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, evaluate } from "../infra/engine/evaluate";
import * as gcp from "../infra/gcp";
import { plan } from "../infra/plan-cli";
import { runPolicies } from "../policies/offline";

// Every stack the program defines passes every mandatory rule, as `pulumi preview --policy-pack policies` would
// require. Evaluations run one after another: each swaps Pulumi's process-wide mock state.

const ROOT = resolve(__dirname, "..");
// A preview needs no stack file; every other stack exists once its Pulumi.<stack>.yaml does.
const STACKS = ["pr-123", ...readdirSync(ROOT).flatMap((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1] ?? [])];

/** What CI passes with --config: the pipeline is applied from a commit. */
const OVERRIDES: Record<string, Record<string, string>> = {
  pipeline: { "monitor:infraCommit": "3f9c2ab0123456789abcdef0123456789abcdef0" },
};

/** The stack's evaluation with the overrides CI passes. */
async function evaluateStack(stack: string): Promise<Evaluation> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, OVERRIDES[stack]);
  return evaluate(stack, { config, secretKeys });
}

describe("the real stacks", () => {
  for (const stack of STACKS) {
    it(`${stack} has no mandatory violation`, async () => {
      const evaluation = await evaluateStack(stack);
      expect(evaluation.registrations.length).toBeGreaterThan(0);
      expect(runPolicies(evaluation).filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    });
  }

  it("are really analyzed: a preview service left undeletable is caught", async () => {
    const evaluation = await evaluateStack("pr-123");
    const registrations = evaluation.registrations.map((r) =>
      r.type === "gcp:cloudrunv2/service:Service" ? { ...r, inputs: { ...r.inputs, deletionProtection: true } } : r,
    );
    const found = runPolicies({ ...evaluation, registrations }).map((v) => `${v.policy}: ${v.message}`);
    expect(found).toEqual([
      "preview-resources-deletable: web cannot be destroyed with its preview (deletionProtection is true): create it " +
        'with deletionProtection: false (and deletionPolicy "DELETE" where the type has one)',
    ]);
  });
});

describe("previews-in-previews-project", () => {
  const POLICY = "previews-in-previews-project";
  const PREVIEWS = "moz-fx-monitor-previews";
  const STAGE = "moz-fx-monitor-nonprod";

  it("refuses the plan of a preview whose database is put on stage's instance", async () => {
    const preview = JSON.parse(loadStackConfig(ROOT, "pr-123").config["monitor:preview"]);
    const overrides = {
      "monitor:preview": JSON.stringify({ ...preview, instanceConnectionName: `${STAGE}:us-central1:monitor-stage` }),
    };
    const { text, refused } = await plan({ stack: "pr-123", json: true, fresh: false, overrides }, ROOT);
    expect(refused).toBe(true);
    const found = (JSON.parse(text).policyViolations as { policy: string; urn: string; message: string }[])
      .filter((v) => v.policy === POLICY)
      .map((v) => v.message);
    expect(found.sort()).toEqual(
      ["database", "database-instance-cloudsql-client-runtime", "database-user"].map(
        (name) =>
          `${name} is in ${STAGE}, outside the previews project ${PREVIEWS} (the project of the stack's gcp provider): ` +
          "a preview creates nothing in another project. Put it in the previews project, or take it from the previews " +
          "stack's outputs",
      ),
    );
  });

  /** A preview stack of a few resources, on a provider in `providerProjects` (one provider each). */
  async function violations(providerProjects: string[], build: (provider: gcp.Provider) => void) {
    const evaluation = await evaluate("pr-9", {
      config: { "gcp:project": PREVIEWS, "gcp:region": "us-central1" },
      program: () => {
        const providers = providerProjects.map((project, i) => new gcp.Provider(`gcp-${i}`, { project }));
        build(providers[0]);
        return {};
      },
    });
    return runPolicies(evaluation)
      .filter((v) => v.policy === POLICY)
      .map((v) => v.message);
  }

  it("reads the previews project from the stack's provider, and checks a resource's project and its projects/<id> names", async () => {
    const found = await violations([PREVIEWS], (provider) => {
      new gcp.pubsub.TopicIAMMember(
        "stage-topic",
        { topic: `projects/${STAGE}/topics/hibp-breaches`, role: "roles/pubsub.publisher", member: "allUsers" },
        { provider },
      );
      new gcp.secretmanager.Secret(
        "own",
        { project: PREVIEWS, secretId: "monitor-pr-9-x", replication: { auto: {} } },
        { provider },
      );
    });
    expect(found).toEqual([
      expect.stringMatching(
        /^stage-topic is in moz-fx-monitor-nonprod, outside the previews project moz-fx-monitor-previews /,
      ),
    ]);
  });

  it("refuses providers in two projects, and says nothing of a stack that keeps to one", async () => {
    expect(await violations([PREVIEWS, STAGE], () => undefined)).toEqual([
      expect.stringMatching(
        /^gcp-0: the stack's gcp providers name the projects moz-fx-monitor-previews, moz-fx-monitor-nonprod/,
      ),
      expect.stringMatching(/^gcp-1: /),
    ]);
    expect(
      await violations([PREVIEWS], (provider) => new gcp.pubsub.Topic("t", { project: PREVIEWS }, { provider })),
    ).toEqual([]);
  });
});
