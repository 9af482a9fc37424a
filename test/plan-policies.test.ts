import type { Policies } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { plan } from "../infra/plan-cli";
import { ROOT } from "./harness";

// The committed stacks pass every rule by construction; to see the plan refuse, give it a pack that a preview
// breaks (one mandatory, one advisory rule), as a hand edit to a component would.
const PACK: Policies = [
  {
    name: "no-public-services",
    description: "test rule",
    enforcementLevel: "mandatory",
    validateResource: (args, report) => {
      if (args.type === "gcp:cloudrunv2/serviceIamMember:ServiceIamMember" && args.props.member === "allUsers") {
        report("this service is public");
      }
    },
  },
  {
    name: "small-databases",
    description: "test rule",
    enforcementLevel: "advisory",
    validateStack: (args, report) => report(`${args.resources.length} resources is a lot`),
  },
];

describe("npm run plan with a policy violated", () => {
  it("refuses the plan on a mandatory violation, naming the policy, the resource and the message", async () => {
    const { text, refused } = await plan({ stack: "pr-123", json: false, fresh: false, overrides: {} }, ROOT, PACK);
    expect(refused).toBe(true);
    expect(text).toMatch(/\nPolicies: 1 mandatory, 1 advisory violation\(s\)\.\n/);
    expect(text).toMatch(
      /\[mandatory\] no-public-services: urn:pulumi:pr-123::monitor::monitor:components:MonitorApp\$monitor:components:WebService\$gcp:cloudrunv2\/serviceIamMember:ServiceIamMember::web-public-invoker\n {6}this service is public/,
    );
    expect(text).toMatch(/\[advisory\] small-databases: \(stack\)\n {6}\d+ resources is a lot/);
  });

  it("lists the violations in --json too", async () => {
    const { text, refused } = await plan({ stack: "pr-123", json: true, fresh: false, overrides: {} }, ROOT, PACK);
    expect(refused).toBe(true);
    const violations = JSON.parse(text).policyViolations;
    expect(violations.map((v: { policy: string; enforcementLevel: string }) => [v.policy, v.enforcementLevel])).toEqual(
      [
        ["no-public-services", "mandatory"],
        ["small-databases", "advisory"],
      ],
    );
  });
});
