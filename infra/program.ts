import { existsSync } from "node:fs";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { environmentStack } from "../stacks/environment";
import { pipelineStack } from "../stacks/pipeline";
import { previewStack } from "../stacks/preview";
import { previewsStack } from "../stacks/previews";
import { REPOSITORY_ROOT, readConfigSources } from "./config/files";
import { buildSpec } from "./spec";

/**
 * The program: read and validate the stack's config (which throws, before any resource exists, on anything
 * wrong), then compose the stack its name selects. Returns the stack outputs.
 */
export function buildStack(): Record<string, unknown> {
  const config = pulumi.runtime.allConfig();
  const stack = pulumi.getStack();
  // The files themselves, so that a refusal names the file a value came from, and the other stacks' files, for the
  // checks that compare environments; their YAML is refused here as in `npm run plan`.
  const sources = readConfigSources(projectRoot(), stack);
  const spec = buildSpec(stack, config, Object.keys(config).filter(isSecretKey), sources);
  switch (spec.kind) {
    case "preview":
      return previewStack(spec);
    case "previews":
      return previewsStack(spec);
    case "stage":
    case "prod":
      return environmentStack(spec);
    case "pipeline":
      return pipelineStack(spec);
  }
}

/**
 * The directory of Pulumi.yaml: what the CLI's language host passes as the root directory (its `--root-directory`,
 * @pulumi/pulumi cmd/run/index.js line 233; the offline engine sets the same), else the repository this file is in.
 */
function projectRoot(): string {
  const root = pulumi.getRootDirectory();
  return root && existsSync(join(root, "Pulumi.yaml")) ? root : REPOSITORY_ROOT;
}

/** Whether the CLI decrypted this key (it was set with --secret). Internal to the SDK, hence the cast. */
function isSecretKey(key: string): boolean {
  return (runtimeConfig as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(key);
}
