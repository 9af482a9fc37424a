import * as gcp from "@pulumi/gcp";
import { describe, expect, it } from "vitest";
import { evaluateComponent, evaluateStack } from "./harness";

const COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";

describe("one URN per resource, as the engine demands", () => {
  it("the offline engine refuses a second resource of the same type and name, as `pulumi up` would", async () => {
    await expect(
      evaluateComponent(() => {
        new gcp.pubsub.Topic("twice", { name: "a" });
        new gcp.pubsub.Topic("twice", { name: "b" });
        return {};
      }),
    ).rejects.toThrow(/Duplicate resource URN 'urn:pulumi:stage::monitor::gcp:pubsub\/topic:Topic::twice'/);
  });

  it.each([["pr-123"], ["stage"], ["prod"], ["pipeline"]])("%s registers every URN once", async (stack) => {
    const ev = await evaluateStack(stack, stack === "pipeline" ? { "monitor:infraCommit": COMMIT } : {});
    const urns = ev.registrations.map((r) => r.urn);
    expect(urns.length).toBeGreaterThan(30);
    expect(new Set(urns).size).toBe(urns.length);
  });

  it("the review identity holds the same viewer role in stage's and the previews' projects under two names", async () => {
    const ev = await evaluateStack("pipeline", { "monitor:infraCommit": COMMIT });
    const runViewers = ev.registrations.filter(
      (r) => r.name.startsWith("reviewer") && r.inputs.role === "roles/run.viewer",
    );
    expect(runViewers.map((r) => [r.name, r.inputs.project])).toEqual([
      ["reviewer-run-viewer", "moz-fx-monitor-nonprod"],
      ["reviewer-moz-fx-monitor-previews-run-viewer", "moz-fx-monitor-previews"],
      ["reviewer-prod-run-viewer", "moz-fx-monitor-prod"],
    ]);
  });
});
