import { describe, expect, it } from "vitest";
import { capacityWarning, previewCapacity, previewsAdmitted } from "../infra/engine/capacity";
import { plan } from "../infra/plan-cli";
import { ROOT } from "./harness";

describe("preview capacity of the shared instance", () => {
  it("admits the previews whose every instance and migration can hold a full pool, after the reserve", () => {
    // (100 - 10 reserved) / (10 x (2 + 1)) = 3
    expect(previewsAdmitted(100, 10, 2)).toBe(3);
    expect(previewsAdmitted(310, 10, 2)).toBe(10);
    expect(previewsAdmitted(5, 10, 2)).toBe(0);
  });

  it.each([
    // tier, previews, instances, pool → warns?
    ["db-custom-1-3840", 2, 2, 10, false], // 70 of 100: well inside
    ["db-custom-1-3840", 3, 2, 10, true], // 100 of 100: at the line
    ["db-custom-1-3840", 10, 2, 10, true], // 310: 3.1x the default
    ["db-custom-4-15360", 10, 2, 10, false], // 310 of 400 (77 %)
    ["db-custom-4-15360", 11, 2, 10, true], // 340 of 400 (85 %)
    ["db-unknown-tier", 50, 2, 10, false], // no documented default: nothing to compare with
  ] as const)(
    "%s with %i previews x %i instances, pool %i: warns %s",
    (tier, maxPreviews, maxInstancesPerPreview, pool, warns) => {
      const warning = capacityWarning(previewCapacity({ tier, maxPreviews, maxInstancesPerPreview, pool }));
      expect(warning !== undefined).toBe(warns);
    },
  );

  it("says what the cap needs against the tier's default, how many previews the tier admits, and the fix", () => {
    const warning = capacityWarning(
      previewCapacity({ tier: "db-custom-1-3840", maxPreviews: 10, maxInstancesPerPreview: 2, pool: 10 }),
    );
    expect(warning).toBe(
      "warning: monitor:preview.maxActive 10 needs 310 connections on the shared preview instance " +
        "(10 previews x (2 instances + 1 migration) x pool 10 + 10 reserved), 3.1x the 100 that db-custom-1-3840 is sized for; " +
        "max_connections is raised to 310, past what its memory holds comfortably. The tier's default admits 3 concurrent previews. " +
        "Fix: lower monitor:preview.maxActive or monitor:preview.maxInstances in Pulumi.yaml, or set monitor:preview.instanceTier " +
        "to a larger tier (db-custom-4-15360 is sized for 400).",
    );
    const close = capacityWarning(
      previewCapacity({ tier: "db-custom-4-15360", maxPreviews: 11, maxInstancesPerPreview: 2, pool: 10 }),
    );
    expect(close).toMatch(
      /needs 340 connections .*, 85 % of the 400 that db-custom-4-15360 is sized for\. The tier's default admits 13 /,
    );
  });

  it("npm run plan -- previews prints the capacity for the committed config; other stacks print none", async () => {
    const previews = await plan({ stack: "previews", json: false, fresh: false, overrides: {} }, ROOT);
    expect(previews.text).toMatch(
      /\nPreview capacity: db-custom-4-16384, max_connections 500 \(tier default 500\), pool 10, 1 instances per preview: admits 24 concurrent previews \(24 at the tier's default\); the cap is 20\./,
    );
    const stage = await plan({ stack: "stage", json: false, fresh: false, overrides: {} }, ROOT);
    expect(stage.text).not.toMatch(/Preview capacity/);
    const prod = await plan({ stack: "prod", json: false, fresh: false, overrides: {} }, ROOT);
    expect(prod.text).not.toMatch(/Preview capacity|warning:/);
  });
});
