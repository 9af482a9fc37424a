import * as pulumi from "@pulumi/pulumi";
import { previewStack } from "../stacks/preview";
import { buildSpec } from "./spec";

/**
 * The program: read and validate the stack's config (which throws, before any resource exists, on anything
 * wrong), then compose the stack its name selects. Returns the stack outputs.
 */
export function buildStack(): Record<string, unknown> {
  const spec = buildSpec(pulumi.getStack(), pulumi.runtime.allConfig());
  switch (spec.kind) {
    case "preview":
      return previewStack(spec);
  }
}
