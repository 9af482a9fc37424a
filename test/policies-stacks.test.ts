import { readdirSync } from "node:fs";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, evaluate } from "../infra/engine/evaluate";
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

/** The stack's evaluation, or undefined while the program still refuses the stack as not yet available. */
async function evaluateStack(stack: string): Promise<Evaluation | undefined> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, OVERRIDES[stack]);
  try {
    return await evaluate(stack, { config, secretKeys });
  } catch (e) {
    if (e instanceof Error && e.message.includes("not yet available")) return undefined;
    throw e;
  }
}

describe("the real stacks", () => {
  for (const stack of STACKS) {
    it(`${stack} has no mandatory violation`, async (ctx) => {
      const evaluation = await evaluateStack(stack);
      if (!evaluation) return ctx.skip(`the program does not build ${stack} yet`);
      expect(evaluation.registrations.length).toBeGreaterThan(0);
      expect(runPolicies(evaluation).filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
    });
  }

  it("are really analyzed: a preview service left undeletable is caught", async () => {
    const evaluation = (await evaluateStack("pr-123"))!;
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
