import * as pulumi from "@pulumi/pulumi";
import { getRegistryImageOutput } from "@pulumi/docker/getRegistryImage";
import { EXECUTION_TOKEN_LENGTH } from "../infra/naming";
import { Refusal } from "../infra/refusal";

export interface ImageReference {
  repository: string;
  tag: string;
}

export interface ResolvedImage {
  tag: pulumi.Output<string>;
  /** `sha256:<hex>` as the registry reports it for the tag right now. */
  digest: pulumi.Output<string>;
  /** `<repository>@sha256:<hex>`: what every container runs. */
  ref: pulumi.Output<string>;
  /** A short, stable token per image, for a Cloud Run Job's `runExecutionToken`. */
  executionToken: pulumi.Output<string>;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** One image pinned by digest, whichever way the digest was found. */
function pinned(repository: string, tag: pulumi.Output<string>, digest: pulumi.Output<string>): ResolvedImage {
  return {
    tag,
    digest,
    ref: pulumi.interpolate`${repository}@${digest}`,
    executionToken: digest.apply((d) => d.slice("sha256:".length, "sha256:".length + EXECUTION_TOKEN_LENGTH)),
  };
}

/**
 * Resolves a tag to the digest it names at deploy time, so that what is deployed cannot change underneath (prod
 * runs exactly the bytes stage ran) and a tag that does not exist fails the preview, not the rollout.
 */
export function resolveImage(image: ImageReference): ResolvedImage {
  const found = getRegistryImageOutput({ name: `${image.repository}:${image.tag}` });
  const digest = found.sha256Digest.apply((d) => {
    if (!DIGEST.test(d ?? "")) {
      throw new Refusal(
        `Stack "${pulumi.getStack()}": the registry has no sha256 digest for ${image.repository}:${image.tag} ` +
          `(got "${d}"). Fix: push that tag, or pass one that exists with --config monitor:imageTag=<tag>`,
      );
    }
    return d;
  });
  return pinned(image.repository, pulumi.output(image.tag), digest);
}

/**
 * The image this stack deployed last, read from its own outputs: a deploy without a new tag (an env-var change)
 * keeps running exactly those bytes instead of failing or rolling back.
 */
export function deployedImage(repository: string, stackName: string): ResolvedImage {
  const self = new pulumi.StackReference("deployed", { name: stackName });
  const previous = pulumi
    .all([self.getOutput("imageTag"), self.getOutput("imageDigest")])
    .apply(([tag, digest]) => {
      if (typeof tag !== "string" || !DIGEST.test(String(digest))) {
        throw new Refusal(
          `Stack "${pulumi.getStack()}": no image is deployed yet, so there is nothing to keep. ` +
            "Fix: pass the image to deploy with --config monitor:imageTag=<tag>",
        );
      }
      return { tag, digest: String(digest) };
    });
  return pinned(repository, previous.tag, previous.digest);
}
