import type { Policies } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { plan } from "../infra/plan-cli";
import { ROOT } from "./harness";

// A pack with a rule that reads a value a first preview does not know (as a careless edit to a rule would):
// CrossGuard would report it as an advisory "can't run" and pass; the plan lists it apart and refuses.
const PACK: Policies = [
  {
    name: "reads-unknown-members",
    description: "test rule",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type === "gcp:projects/iAMMember:IAMMember" && args.props.member === "allUsers") report("public");
    },
  },
];

describe("npm run plan --fresh with a policy that cannot decide", () => {
  it("lists it as could not run, not as passed, and refuses the plan", async () => {
    const { text, refused } = await plan({ stack: "pr-123", json: false, fresh: true, overrides: {} }, ROOT, PACK);
    expect(refused).toBe(true);
    expect(text).not.toMatch(/all passed/);
    expect(text).toMatch(
      /\nPolicies: no violation\.\nPolicies that could not run during preview \(they read a value the preview does not know, and decided nothing\): 1 mandatory, 0 advisory\.\n {2}\[mandatory\] reads-unknown-members: urn:pulumi:pr-123::monitor::monitor:components:MonitorApp\$gcp:projects\/iAMMember:IAMMember::database-instance-cloudsql-client-runtime\n {6}string value at \.member can't be known during preview$/,
    );
  });

  it("lists it under policiesNotRun in --json", async () => {
    const { text } = await plan({ stack: "pr-123", json: true, fresh: true, overrides: {} }, ROOT, PACK);
    const parsed = JSON.parse(text);
    expect(parsed.policyViolations).toEqual([]);
    expect(parsed.policiesNotRun).toEqual([
      {
        policy: "reads-unknown-members",
        enforcementLevel: "mandatory",
        urn: expect.stringMatching(/::database-instance-cloudsql-client-runtime$/),
        message: "string value at .member can't be known during preview",
      },
    ]);
  });

  it("decides in a plain plan, where the member is known", async () => {
    const { text, refused } = await plan({ stack: "pr-123", json: false, fresh: false, overrides: {} }, ROOT, PACK);
    expect(refused).toBe(false);
    expect(text).toMatch(/\nPolicies: all passed\.$/);
  });
});
