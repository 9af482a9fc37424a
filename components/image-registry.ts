import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import type * as inputs from "@pulumi/gcp/types/input";
import { type Grantee, type Retention, retains, deletionPolicyFor } from "./options";

/**
 * The Artifact Registry repository the app's images are pushed to and deployed from (by digest), with cleanup
 * policies: a PR's images (`pr-<N>`) go after a TTL, images no tag points at are pruned, stage builds (short SHAs)
 * go once they are neither among the most recent nor running, and release (`YYYY.MM.DD[.N]`) images and whatever a
 * stack runs are kept.
 *
 * Artifact Registry's rules (https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy): "If a
 * version matches both a keep and a delete policy, the version is kept" (KEEP beats DELETE, so a KEEP on every
 * short-SHA prefix would keep every stage build forever); at most 10 policies per repository; `mostRecentVersions`
 * ("keep the most recent versions") is a keep policy only, and counts versions (digests) of a package, whatever
 * their tags.
 */

export const MAX_CLEANUP_POLICIES = 10;
/** A short SHA starts with a hex digit; a calendar tag with `20` (kept by its own KEEP); neither matches `pr-`. */
const HEX_DIGITS = [..."0123456789abcdef"];
/**
 * The tag the deploy workflows move to the digest a stack runs after each deploy (`running-stage`): the registry
 * cannot read stack outputs, so the deploy says what runs by this tag, and a KEEP on the prefix keeps it. Prod runs
 * calendar tags only, which are kept anyway.
 */
export const RUNNING_TAG_PREFIX = "running-";
export const runningTag = (stack: string) => `${RUNNING_TAG_PREFIX}${stack}`;
/** Stage builds kept besides what runs: enough to roll stage back across a few days of merges. */
export const DEFAULT_RECENT_VERSIONS = 30;
/** A stage build younger than this is never deleted: it may be the one a deploy is resolving right now. */
const STAGE_BUILD_MIN_AGE = "3d";

export function cleanupPolicies(
  prImageTtlDays: number,
  untaggedTtlDays: number,
  recentVersions: number = DEFAULT_RECENT_VERSIONS,
): inputs.artifactregistry.RepositoryCleanupPolicy[] {
  const policies: inputs.artifactregistry.RepositoryCleanupPolicy[] = [
    {
      id: "delete-pr-images",
      action: "DELETE",
      condition: { tagState: "TAGGED", tagPrefixes: ["pr-"], olderThan: `${prImageTtlDays}d` },
    },
    {
      // A digest whose tag moved on (a PR's earlier push); the margin covers a deploy resolving it right now.
      id: "delete-untagged",
      action: "DELETE",
      condition: { tagState: "UNTAGGED", olderThan: `${untaggedTtlDays}d` },
    },
    {
      // Every stage build (short SHA) is a candidate; the KEEPs below save the recent, the released and the running.
      // "2" also matches calendar tags, which keep-releases keeps.
      id: "delete-stage-builds",
      action: "DELETE",
      condition: { tagState: "TAGGED", tagPrefixes: HEX_DIGITS, olderThan: STAGE_BUILD_MIN_AGE },
    },
    { id: "keep-releases", action: "KEEP", condition: { tagState: "TAGGED", tagPrefixes: ["20"] } },
    { id: "keep-running", action: "KEEP", condition: { tagState: "TAGGED", tagPrefixes: [RUNNING_TAG_PREFIX] } },
    { id: "keep-recent", action: "KEEP", mostRecentVersions: { keepCount: recentVersions } },
  ];
  if (policies.length > MAX_CLEANUP_POLICIES)
    throw new Error(`Artifact Registry takes at most ${MAX_CLEANUP_POLICIES} cleanup policies`);
  return policies;
}

export interface ImageRegistryArgs extends Retention {
  /** The GCP project the repository lives in. */
  readonly project: string;
  /** Region or multi-region (`us`), as in `<region>-docker.pkg.dev`. */
  readonly region: string;
  readonly repositoryId: string;
  /**
   * Days a `pr-<N>` image is kept. No default here: it must outlast a preview, whose TTL only the stack's spec
   * knows (the pipeline spec holds the default and checks the two together).
   */
  readonly prImageTtlDays: number;
  /** Days an untagged image is kept; a default would live beside prImageTtlDays's, in the pipeline spec. */
  readonly untaggedTtlDays: number;
  /** The most recent versions (digests) kept whatever their tags. @default DEFAULT_RECENT_VERSIONS */
  readonly recentVersions?: number;
  /** @default none */
  readonly labels?: Readonly<Record<string, string>>;
}

export class ImageRegistry extends pulumi.ComponentResource {
  /** `projects/<p>/locations/<l>/repositories/<id>` */
  readonly name: pulumi.Output<string>;
  /** `<region>-docker.pkg.dev/<project>/<repository>` */
  readonly host: string;
  private readonly baseName: string;
  private readonly repository: { project: string; location: string; repository: pulumi.Output<string> };

  constructor(name: string, args: ImageRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:ImageRegistry", name, {}, opts);
    // Release images are what a rollback deploys.
    const retain = retains(args);
    const repository = new gcp.artifactregistry.Repository(
      name,
      {
        project: args.project,
        location: args.region,
        repositoryId: args.repositoryId,
        format: "DOCKER",
        description: "Monitor's app images: pr-<N>, short SHAs (stage) and calendar tags (releases)",
        // `pr-<N>` moves with every push, so tags cannot be immutable.
        dockerConfig: { immutableTags: false },
        cleanupPolicyDryRun: false,
        cleanupPolicies: cleanupPolicies(args.prImageTtlDays, args.untaggedTtlDays, args.recentVersions),
        labels: args.labels,
        deletionPolicy: deletionPolicyFor(retain),
      },
      { parent: this, protect: retain },
    );
    this.repository = { project: args.project, location: args.region, repository: repository.repositoryId };
    this.baseName = name;
    this.name = repository.name;
    this.host = `${args.region}-docker.pkg.dev/${args.project}/${args.repositoryId}`;
    this.registerOutputs({ name: this.name, host: this.host });
  }

  /** Lets `grantee` push and tag images (previews, stage, the pre-release): `<name>-push-<key>`. */
  grantPush(grantee: Grantee): gcp.artifactregistry.RepositoryIamMember {
    return this.grant("push", "roles/artifactregistry.writer", grantee);
  }

  /**
   * Lets `grantee` resolve tags and pull images (prod's deploy, a Cloud Run service agent, review): `<name>-pull-<key>`.
   * `dependsOn`: what must exist before the binding can (IAM refuses a member that does not exist yet).
   */
  grantPull(grantee: Grantee, dependsOn?: pulumi.Input<pulumi.Resource>[]): gcp.artifactregistry.RepositoryIamMember {
    return this.grant("pull", "roles/artifactregistry.reader", grantee, dependsOn);
  }

  private grant(
    what: string,
    role: string,
    grantee: Grantee,
    dependsOn?: pulumi.Input<pulumi.Resource>[],
  ): gcp.artifactregistry.RepositoryIamMember {
    return new gcp.artifactregistry.RepositoryIamMember(
      `${this.baseName}-${what}-${grantee.key}`,
      { ...this.repository, role, member: grantee.member },
      { parent: this, dependsOn },
    );
  }
}
