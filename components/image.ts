import * as pulumi from "@pulumi/pulumi";
import { Image } from "@pulumi/docker/image";
import { getDockerImageOutput } from "@pulumi/gcp/artifactregistry/getDockerImage";
import { getClientConfigOutput } from "@pulumi/gcp/organizations/getClientConfig";
import { type ArtifactRegistryPath, artifactRegistryPath } from "../shared-rules/artifact-registry";
import { DIGEST, migrationHeadOf } from "../shared-rules/image-tags";
import { Refusal } from "../shared-rules/refusal";

/**
 * Which bytes a stack runs. Stage and prod resolve a tag to its digest through the Artifact Registry API, with
 * Google credentials alone (ADC or workload identity; no docker config, no gcloud): the Docker provider's own
 * registry look-ups read only its `registryAuth`, so Artifact Registry would refuse them. A preview built from the
 * PR's checkout pushes with a short-lived Google access token and runs the digest its build produced.
 */

export interface ImageReference {
  /** `<location>-docker.pkg.dev/<project>/<repository>/<image>`. */
  readonly repository: string;
  readonly tag: string;
}

export interface ResolvedImage {
  readonly tag: pulumi.Output<string>;
  /** `sha256:<hex>`. */
  readonly digest: pulumi.Output<string>;
  /** `<repository>@sha256:<hex>`: what every container runs. */
  readonly ref: pulumi.Output<string>;
  /** When the registry says the image was built (RFC 3339); undefined where it does not know. */
  readonly buildTime: pulumi.Output<string | undefined>;
  /**
   * The newest knex migration the image carries, from its migration tag (shared-rules/image-tags.ts); undefined
   * for an image built without one, and where nothing is resolved (a kept image, a preview's own build).
   */
  readonly migrationHead: pulumi.Output<string | undefined>;
}

function requirePath(repository: string): ArtifactRegistryPath {
  const path = artifactRegistryPath(repository);
  if (!path) {
    throw new Refusal(
      `Stack "${pulumi.getStack()}": monitor:imageRepository "${repository}" is not an Artifact Registry path. ` +
        "Fix: use <location>-docker.pkg.dev/<project>/<repository>/<image>",
    );
  }
  return path;
}

function digestOf(reference: string, what: string): string {
  const digest = reference.slice(reference.lastIndexOf("@") + 1);
  if (!DIGEST.test(digest)) {
    throw new Refusal(
      `Stack "${pulumi.getStack()}": the registry reported no sha256 digest for ${what} (got "${reference}"). ` +
        "Fix: push that tag, or pass one that exists with --config monitor:imageTag=<tag>",
    );
  }
  return digest;
}

function pinned(
  repository: string,
  tag: pulumi.Input<string>,
  digest: pulumi.Output<string>,
  buildTime: pulumi.Input<string | undefined>,
  migrationHead?: pulumi.Input<string | undefined>,
): ResolvedImage {
  return {
    tag: pulumi.output(tag),
    digest,
    ref: pulumi.interpolate`${repository}@${digest}`,
    buildTime: pulumi.output(buildTime),
    migrationHead: pulumi.output(migrationHead),
  };
}

/**
 * Resolves a tag to the digest it names at deploy time, so that what is deployed cannot change underneath (prod
 * runs exactly the bytes stage ran) and a tag that does not exist fails the preview, not the rollout.
 */
export function resolveImage(image: ImageReference, opts?: pulumi.InvokeOutputOptions): ResolvedImage {
  const path = requirePath(image.repository);
  const found = getDockerImageOutput(
    {
      project: path.project,
      location: path.location,
      repositoryId: path.repositoryId,
      imageName: `${path.image}:${image.tag}`,
    },
    opts,
  );
  const digest = found.selfLink.apply((link) => digestOf(link ?? "", `${image.repository}:${image.tag}`));
  return pinned(
    image.repository,
    image.tag,
    digest,
    found.buildTime.apply((t) => t || undefined),
    // "A list of all tags associated with the image" (getDockerImage.d.ts `tags`): the build's migration tag is one.
    found.tags.apply((tags) => migrationHeadOf(tags ?? [])),
  );
}

export interface PreviewBuildArgs extends ImageReference {
  /** Directory holding the app's checkout and its Dockerfile. */
  readonly context: string;
}

/**
 * Builds the PR's checkout and pushes it as `<repository>:<tag>`, reusing the layers of the PR's previous image.
 * The push authenticates with the deployer's own short-lived access token (Artifact Registry accepts it as the
 * password of `oauth2accesstoken`), so no key and no docker login exist anywhere.
 */
export function buildPreviewImage(
  name: string,
  args: PreviewBuildArgs,
  gcpOpts?: pulumi.InvokeOutputOptions,
): ResolvedImage {
  const path = requirePath(args.repository);
  const taggedName = `${args.repository}:${args.tag}`;
  const image = new Image(name, {
    imageName: taggedName,
    build: {
      context: args.context,
      dockerfile: `${args.context}/Dockerfile`,
      // Cloud Run runs linux/amd64 only, whatever machine builds.
      platform: "linux/amd64",
      // The previous push of this PR carries inline cache metadata: only changed layers are rebuilt.
      args: { BUILDKIT_INLINE_CACHE: "1" },
      cacheFrom: { images: [taggedName] },
    },
    registry: {
      server: path.host,
      username: "oauth2accesstoken",
      password: pulumi.secret(getClientConfigOutput(gcpOpts).accessToken),
    },
  });
  const digest = image.repoDigest.apply((ref) => digestOf(ref, taggedName));
  return pinned(args.repository, args.tag, digest, undefined);
}

/** What a stack recorded about the image it deployed last (its own outputs). */
export interface DeployedState {
  /** @default undefined: nothing deployed yet */
  readonly tag?: string;
  /** @default undefined: nothing deployed yet */
  readonly digest?: string;
  /** @default undefined: the registry did not say */
  readonly buildTime?: string;
  /** @default undefined: no migration recorded */
  readonly migrationToken?: string;
  /** The newest migration the database has had applied. @default undefined: not recorded (an older deploy) */
  readonly migrationHead?: string;
}

/**
 * The stack's own outputs of its last update, through a StackReference to itself: a deploy without a new tag
 * keeps running exactly those bytes, and a deploy of an older image is recognised as a rollback.
 */
export function lastDeployed(stackName: string): pulumi.Output<DeployedState> {
  const self = new pulumi.StackReference("deployed", { name: stackName });
  const read = (key: string) => self.getOutput(key).apply((v) => (typeof v === "string" && v !== "" ? v : undefined));
  return pulumi
    .all([read("imageTag"), read("imageDigest"), read("imageBuildTime"), read("migrationToken"), read("migrationHead")])
    .apply(([tag, digest, buildTime, migrationToken, migrationHead]) => ({
      tag,
      digest,
      buildTime,
      migrationToken,
      migrationHead,
    }));
}

/** The image the stack deployed last, or a refusal when there is none yet. */
export function keepDeployedImage(repository: string, deployed: pulumi.Output<DeployedState>): ResolvedImage {
  const previous = deployed.apply((d) => {
    if (!d.tag || !DIGEST.test(d.digest ?? "")) {
      throw new Refusal(
        `Stack "${pulumi.getStack()}": no image is deployed yet, so there is nothing to keep. ` +
          "Fix: pass the image to deploy with --config monitor:imageTag=<tag>",
      );
    }
    return { tag: d.tag, digest: d.digest!, buildTime: d.buildTime };
  });
  return pinned(repository, previous.tag, previous.digest, previous.buildTime);
}
