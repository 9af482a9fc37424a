import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig, readYaml } from "../infra/engine/config-files";
import type { Evaluation } from "../infra/engine/evaluate";
import { REPOSITORY_VARIABLES, REUSABLE_WORKFLOWS, STATE_KEYS } from "../infra/pipeline-contract";
import { parseStackName } from "../shared-rules/stack-name";
import { ROOT, evaluateStack } from "./harness";
import { workflowFile } from "./workflow-files";

/**
 * Issue 14, item 1: every stack opens with the KMS key the pipeline stack creates for it. A self-managed backend
 * opens an existing stack whose file names no secrets provider with the passphrase manager (pulumi/pulumi
 * pkg/cmd/pulumi/stack/secrets.go:287, the diy backend's DefaultSecretManager), and pulumi/actions' or the
 * Automation API's secrets provider applies only when a stack is created (pulumi/pulumi#5650): so the long-lived
 * stacks name theirs in their committed file, and a preview is created with its key and reopened from its state.
 */

const STACK_FILES = readdirSync(ROOT).flatMap((f) => /^Pulumi\.([a-z0-9-]+)\.yaml$/.exec(f)?.[1] ?? []);
let pipeline: Evaluation;
beforeAll(async () => {
  pipeline = await evaluateStack("pipeline", { "monitor:infraCommit": "3f9c2ab0123456789abcdef0123456789abcdef0" });
});
const createdKeys = () => pipeline.outputs.secretsProviders.value as Record<string, string>;

describe("secrets providers", () => {
  it("every long-lived stack has a committed file (a preview is the only kind without one)", () => {
    expect(STACK_FILES.sort()).toEqual(STATE_KEYS.filter((k) => k !== "preview").sort());
  });

  it.each(STACK_FILES)("Pulumi.%s.yaml names the key the pipeline stack creates for it", (stack) => {
    const file = readYaml<{ secretsprovider?: string }>(join(ROOT, `Pulumi.${stack}.yaml`));
    const key = parseStackName(stack).kind;
    expect(STATE_KEYS).toContain(key);
    expect(file.secretsprovider).toBe(createdKeys()[key]);
    expect(file.secretsprovider).toBe(
      `gcpkms://projects/moz-fx-monitor-prod/locations/global/keyRings/pulumi/cryptoKeys/pulumi-${key}`,
    );
  });

  it("a preview is created with the preview key: the workflow passes the variable the pipeline sets to it", () => {
    const up = workflowFile("infra", REUSABLE_WORKFLOWS.previewUp).workflow.jobs.deploy.steps!.find(
      (s) => s.id === "up",
    )!;
    expect(up.with).toMatchObject({
      upsert: true,
      "secrets-provider": `\${{ vars.${REPOSITORY_VARIABLES.previewSecretsProvider} }}`,
    });
    expect(createdKeys().preview).toMatch(/\/cryptoKeys\/pulumi-preview$/);
  });

  it("the engine reads config only: secretsprovider and encryptedkey never become config", () => {
    const root = mkdtempSync(join(tmpdir(), "stack-files-"));
    writeFileSync(join(root, "Pulumi.yaml"), "name: monitor\nruntime: nodejs\nconfig:\n  gcp:region: us-central1\n");
    writeFileSync(
      join(root, "Pulumi.stage.yaml"),
      "secretsprovider: gcpkms://projects/p/locations/global/keyRings/pulumi/cryptoKeys/pulumi-stage\n" +
        "encryptedkey: Q2lRQUNyeXB0ZWRLZXk=\nconfig:\n  monitor:domain: monitor-stage.allizom.org\n",
    );
    expect(loadStackConfig(root, "stage").config).toEqual({
      "gcp:region": "us-central1",
      "monitor:domain": "monitor-stage.allizom.org",
    });
    for (const stack of STACK_FILES)
      for (const key of Object.keys(loadStackConfig(ROOT, stack).config)) expect(key).toMatch(/^[a-z]+:/);
  });
});
