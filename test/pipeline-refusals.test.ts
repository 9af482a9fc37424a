import { describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { buildSpec } from "../infra/spec";
import { ROOT, refusedStack } from "./harness";

// The pipeline's config is refused whole, with the stack, the key and the fix, before any resource exists.

const COMMIT = "3f9c2ab0123456789abcdef0123456789abcdef0";
const committed = () => JSON.parse(loadStackConfig(ROOT, "pipeline").config["monitor:pipeline"]);
const withSettings = (change: (s: any) => void) => {
  const settings = committed();
  change(settings);
  return { "monitor:infraCommit": COMMIT, "monitor:pipeline": JSON.stringify(settings) };
};

async function refusal(overrides: Record<string, string>, stack = "pipeline"): Promise<string> {
  const { error, registrations } = await refusedStack(stack, overrides);
  expect(registrations).toEqual([]);
  return error.message;
}

describe("pipeline config refusals", () => {
  it("needs the commit it is applied from, as a full SHA and not the callers' placeholder", async () => {
    expect(await refusal({})).toMatch(
      /^Stack "pipeline" has invalid configuration:\n {2}- monitor:infraCommit: required for the pipeline stack.*Fix: pass --config monitor:infraCommit=\$\(git rev-parse HEAD\)/,
    );
    expect(await refusal({ "monitor:infraCommit": "3f9c2ab" })).toMatch(
      /monitor:infraCommit in Pulumi\.pipeline\.yaml: expected the full 40-hex commit/,
    );
    expect(await refusal({ "monitor:infraCommit": "main" })).toMatch(
      /monitor:infraCommit .*expected the full 40-hex commit/,
    );
    expect(await refusal({ "monitor:infraCommit": "0".repeat(40) })).toMatch(
      /monitor:infraCommit .*the placeholder the caller files carry/,
    );
  });

  it("refuses a plaintext chat webhook", async () => {
    expect(
      await refusal({ "monitor:infraCommit": COMMIT, "monitor:chatWebhookUrl": "https://chat.example/hooks/x" }),
    ).toMatch(
      /monitor:chatWebhookUrl in Pulumi\.pipeline\.yaml is stored in plaintext\. Fix: .*pulumi config set --stack pipeline --secret monitor:chatWebhookUrl/,
    );
  });

  it("refuses what would weaken the identities", async () => {
    expect(await refusal(withSettings((s) => (s.projects.prod = s.projects.stage)))).toMatch(
      /monitor:pipeline\.projects\.prod in Pulumi\.pipeline\.yaml: prod shares the project moz-fx-monitor-nonprod with stage.*Fix: give prod its own project/,
    );
    expect(await refusal(withSettings((s) => (s.infraRepository.id = s.appRepository.id)))).toMatch(
      /monitor:pipeline\.infraRepository .*has the app repository's id/,
    );
    expect(await refusal(withSettings((s) => (s.appRepository.id = "126358286")))).toMatch(
      /monitor:pipeline\.appRepository\.id in Pulumi\.pipeline\.yaml: /,
    );
    expect(await refusal(withSettings((s) => (s.appRepository.name = "blurts-server")))).toMatch(
      /monitor:pipeline\.appRepository\.name .*expected <owner>\/<name>/,
    );
    expect(await refusal(withSettings((s) => (s.prodReviewerTeams = [])))).toMatch(
      /monitor:pipeline\.prodReviewerTeams .*prod needs at least one reviewing team/,
    );
    expect(await refusal(withSettings((s) => (s.sreTeam = "x")))).toMatch(
      /monitor:pipeline in Pulumi\.pipeline\.yaml: .*sreTeam/,
    );
  });

  it("refuses a PR image TTL shorter than a preview may live", async () => {
    expect(await refusal(withSettings((s) => (s.registry.prImageTtlDays = 3)))).toMatch(
      /monitor:pipeline\.registry\.prImageTtlDays .*3 days is shorter than a preview may live \(monitor:preview\.ttlDays, 7\).*Fix: raise prImageTtlDays/,
    );
  });

  it("refuses an image repository that is not Artifact Registry", async () => {
    expect(
      await refusal({ "monitor:infraCommit": COMMIT, "monitor:imageRepository": "ghcr.io/mozilla/blurts-server" }),
    ).toMatch(
      /monitor:imageRepository in Pulumi\.pipeline\.yaml: expected an Artifact Registry path without tag or digest/,
    );
  });

  it("reports every problem at once", async () => {
    const message = await refusal({
      "monitor:infraCommit": "nope",
      "monitor:chatWebhookUrl": "x",
      "monitor:domain": "monitor.mozilla.org",
    });
    expect(message.split("\n  - ")).toHaveLength(4);
  });
});

describe("keys in the wrong stack", () => {
  it("refuses stage and prod keys, and an image tag, in the pipeline stack", async () => {
    expect(await refusal({ "monitor:infraCommit": COMMIT, "monitor:domain": "monitor.mozilla.org" })).toMatch(
      /monitor:domain in Pulumi\.pipeline\.yaml: not read by the pipeline stack, so it would be silently ignored \(read by stage and prod\)\. Fix: remove it from Pulumi\.pipeline\.yaml \(it belongs in Pulumi\.stage\.yaml or Pulumi\.prod\.yaml\)/,
    );
    expect(await refusal({ "monitor:infraCommit": COMMIT, "monitor:imageTag": "3f9c2ab" })).toMatch(
      /monitor:imageTag in Pulumi\.pipeline\.yaml: not read by the pipeline stack.*Fix: remove it from Pulumi\.pipeline\.yaml/,
    );
  });

  it.each([
    ["stage", "in Pulumi\\.stage\\.yaml", "remove it from Pulumi\\.stage\\.yaml"],
    ["prod", "in Pulumi\\.prod\\.yaml", "remove it from Pulumi\\.prod\\.yaml"],
    ["pr-4", "\\(from --config\\)", "drop --config KEY"],
  ])("refuses pipeline keys in %s, where the stack would ignore them", (stack, where, fix) => {
    const { config, sources } = loadStackConfig(ROOT, stack, {
      "monitor:infraCommit": COMMIT,
      "monitor:pipeline": "{}",
    });
    let message = "";
    try {
      buildSpec(stack, config, [], sources);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message.split("\n  - ")).toHaveLength(3);
    for (const [key, home] of [
      // A commit is passed per deploy; the settings live in the pipeline's file.
      ["monitor:infraCommit", "it is passed with --config to the pipeline stack"],
      ["monitor:pipeline", "it belongs in Pulumi\\.pipeline\\.yaml"],
    ]) {
      expect(message).toMatch(
        new RegExp(
          `${key} ${where}: not read by .*, so it would be silently ignored \\(read by the pipeline stack\\)\\. ` +
            `Fix: ${fix.replace("KEY", key)} \\(${home}\\)`,
        ),
      );
    }
  });
});
