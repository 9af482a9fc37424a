import { describe, expect, it } from "vitest";
import { evaluateStack } from "./harness";

// A URN is a resource's identity to Pulumi: a changed one plans as delete-and-create, which for a database, a
// secret or a bucket means data gone. So every stack's URNs are committed in test/urns/<stack>.txt, and a change
// to them is a visible, deliberate diff. When a rename is intended, give the resource `aliases: [{ name: "<old>" }]`
// (or `parent`/`type` as changed) so the engine moves it instead of replacing it, and then update the file with
// `npx vitest run -u test/urn-contract.test.ts`.

const COMMIT = "4b825dc642cb6eb9a060e54bf8d69288fbee4904";
const STACKS: [string, Record<string, string>][] = [
  ["pr-123", {}],
  ["previews", {}],
  ["stage", {}],
  ["prod", {}],
  ["pipeline", { "monitor:infraCommit": COMMIT }],
];

describe("URN contract", () => {
  it.each(STACKS)("%s declares exactly the committed URNs", async (stack, overrides) => {
    const { registrations } = await evaluateStack(stack, overrides);
    const urns = registrations.map((r) => r.urn).sort();
    expect(urns.length).toBeGreaterThan(20);
    await expect(`${urns.join("\n")}\n`).toMatchFileSnapshot(`urns/${stack}.txt`);
  });
});
