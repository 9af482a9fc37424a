import { beforeAll, describe, expect, it } from "vitest";
import { type Evaluation, urnOf } from "../infra/engine/evaluate";
import { toPlan } from "../infra/engine/render";
import { runPolicies } from "../policies/offline";
import { stackOf } from "../policies/rules";
import type { Policies } from "@pulumi/policy";
import { INSTANCE, deletedBefore, evaluateStack, ofType } from "./harness";

// The engine qualifies a resource's type with every ancestor's type, the root stack left out (the SDK's own
// createUrn in @pulumi/pulumi/resource.js prefixes the parent URN's whole type chain). The plan must print those.

// The previews stack nests deepest: its platform's instance sits in a PostgresInstance inside the PreviewPlatform.
let stack: Evaluation;
beforeAll(async () => {
  stack = await evaluateStack("previews");
});

/** Every ancestor's type then the resource's own, from the recorded parent links alone. */
function typeChain(evaluation: Evaluation, urn: string): string {
  const r = evaluation.registrations.find((x) => x.urn === urn)!;
  return r.parent ? `${typeChain(evaluation, r.parent)}$${r.type}` : r.type;
}

describe("URNs", () => {
  it("chain every ancestor's type, two components deep and more", () => {
    const nested = ofType(stack, INSTANCE).find((r) => r.name === "preview-platform-instance")!;
    expect(nested.urn).toBe(
      "urn:pulumi:previews::monitor::monitor:components:PreviewPlatform$monitor:components:PostgresInstance$" +
        "gcp:sql/databaseInstance:DatabaseInstance::preview-platform-instance",
    );
    expect(stack.registrations.some((r) => typeChain(stack, r.urn).split("$").length >= 3)).toBe(true);
    for (const r of stack.registrations) {
      expect(r.urn).toBe(`urn:pulumi:previews::monitor::${typeChain(stack, r.urn)}::${r.name}`);
    }
  });

  it("are the ones the plan prints, and parents and dependencies point at them", () => {
    const urns = new Set(stack.registrations.map((r) => r.urn));
    const plan = toPlan(stack);
    expect(plan.resources.map((r) => r.urn)).toEqual(stack.registrations.map((r) => r.urn));
    for (const r of plan.resources) {
      if (r.parent) expect(urns).toContain(r.parent);
      for (const dep of r.dependsOn) expect(urns).toContain(dep);
    }
  });

  it("leave the root stack's type out, as the engine does", () => {
    expect(urnOf("prod", "monitor", "urn:pulumi:prod::monitor::pulumi:pulumi:Stack::monitor-prod", "a:b:C", "x")).toBe(
      "urn:pulumi:prod::monitor::a:b:C::x",
    );
    expect(urnOf("prod", "monitor", "urn:pulumi:prod::monitor::A$B::p", "a:b:C", "x")).toBe(
      "urn:pulumi:prod::monitor::A$B$a:b:C::x",
    );
  });

  it("still give policies their stack and their parent, and destroy its order", () => {
    const nested = ofType(stack, INSTANCE).find((r) => r.name === "preview-platform-instance")!;
    expect(stackOf(nested.urn)).toEqual({ kind: "previews", stack: "previews" });
    const parents: Record<string, string | undefined> = {};
    const probe: Policies = [
      {
        name: "probe-parents",
        description: "records each resource's parent as a stack policy sees it",
        enforcementLevel: "advisory",
        validateStack: (args) => {
          for (const r of args.resources) parents[r.urn] = r.parent?.urn;
        },
      },
    ];
    expect(runPolicies(stack, probe)).toEqual([]);
    expect(parents[nested.urn]).toBe(nested.parent);
    expect(parents[nested.parent]).toMatch(/::monitor:components:PreviewPlatform::preview-platform$/);
    // Children go before their parents, whatever the depth.
    const platform = stack.registrations.find((r) => r.urn === parents[nested.parent])!;
    expect(deletedBefore(stack, nested, platform)).toBe(true);
    expect(deletedBefore(stack, platform, nested)).toBe(false);
  });
});
