import { describe, expect, it } from "vitest";
import { checkedHost } from "../components/uptime-alert";
import { loadStackConfig } from "../infra/engine/config-files";
import { ConfigError, buildSpec } from "../infra/spec";
import { HOSTNAME_EXPECTED } from "../shared-rules/hostname";
import { ROOT } from "./harness";

/** The problems buildSpec finds with stage's committed config plus `overrides` (raw config text). */
function problemsWith(overrides: Record<string, string>): readonly string[] {
  const { config } = loadStackConfig(ROOT, "stage", overrides);
  try {
    buildSpec("stage", config);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("one rule, applied alike by the config and the components (shared-rules/)", () => {
  // Normalised candidates: the uptime check trims, lower-cases and drops a trailing dot before it checks.
  it.each([
    ["monitor.mozilla.org", true],
    ["monitor-stage.allizom.org", true],
    ["xn--bcher-kva.example", true],
    ["10.0.0.1", false],
    ["localhost", false],
    ["monitor.mozilla.org:443", false],
    ["-monitor.mozilla.org", false],
    [`${"a".repeat(64)}.org`, false],
    [`${"a.".repeat(126)}org`, false],
  ])("monitor:domain and the uptime check agree on %j (a hostname: %s)", (host, valid) => {
    // The hostname rule's own problem (prod's domain on stage is refused too, as a crossed environment).
    const refusedByConfig = problemsWith({ "monitor:domain": host }).some(
      (p) => p.startsWith("monitor:domain in") && p.includes(HOSTNAME_EXPECTED),
    );
    const refusedByCheck = (() => {
      try {
        checkedHost(host);
        return false;
      } catch {
        return true;
      }
    })();
    expect({ refusedByConfig, refusedByCheck }).toEqual({ refusedByConfig: !valid, refusedByCheck: !valid });
  });

  it.each(["24:00", "5:00", "05:60", "0500"])("monitor:database.backupStartTime refuses %j as HH:MM", (time) => {
    expect(problemsWith({ "monitor:database": JSON.stringify({ backupStartTime: time }) })).toEqual([
      "monitor:database.backupStartTime in Pulumi.stage.yaml: expected HH:MM in UTC. Fix: correct monitor:database.backupStartTime in Pulumi.stage.yaml as expected",
    ]);
  });
});
