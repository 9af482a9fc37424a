import * as pulumi from "@pulumi/pulumi";
import * as runtimeConfig from "@pulumi/pulumi/runtime/config";
import { environmentStack } from "../stacks/environment";
import { pipelineStack } from "../stacks/pipeline";
import { previewStack } from "../stacks/preview";
import { previewsStack } from "../stacks/previews";
import { buildSpec } from "./spec";

/**
 * The program: read and validate the stack's config (which throws, before any resource exists, on anything
 * wrong), then compose the stack its name selects. Returns the stack outputs.
 */
export function buildStack(): Record<string, unknown> {
  const config = pulumi.runtime.allConfig();
  const spec = buildSpec(pulumi.getStack(), config, Object.keys(config).filter(isSecretKey));
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

/** Whether the CLI decrypted this key (it was set with --secret). Internal to the SDK, hence the cast. */
function isSecretKey(key: string): boolean {
  return (runtimeConfig as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(key);
}
