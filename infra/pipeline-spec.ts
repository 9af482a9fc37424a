import { z } from "zod";
import { type Labels, labelsFor } from "./naming";
import { DEPLOY_ENVIRONMENTS, type DeployEnvironment, INFRA_COMMIT_PLACEHOLDER } from "./pipeline-contract";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";
import { GCP_PROJECT_ID } from "../shared-rules/gcp-ids";
import type { StackKind } from "../shared-rules/stack-name";

/**
 * The pipeline stack's config: its keys (merged into config-keys.ts's table, so that a pipeline key is refused in
 * another stack's file and the other way round) and the typed PipelineSpec the stack builds from. Every bad value
 * is refused here, with the stack, the key and the fix, before a resource exists.
 */

const gcpProject = z.string().regex(GCP_PROJECT_ID, "expected a GCP project id (6-30 chars, lowercase)");
/** GitHub's numeric ids: what the OIDC token's repository_id / repository_owner_id claims carry (as text). */
const githubId = z.number().int().positive("expected GitHub's numeric id (gh api repos/<owner>/<name> --jq .id)");

const repository = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/, "expected <owner>/<name>, e.g. mozilla/blurts-server"),
  /** `gh api repos/<owner>/<name> --jq .id` */
  id: githubId,
  /** `gh api repos/<owner>/<name> --jq .owner.id` */
  ownerId: githubId,
});

const pipelineSettings = z.strictObject({
  appRepository: repository,
  infraRepository: repository,
  /** GCP project of each deploy environment: previews have one of their own. */
  projects: z.strictObject({ preview: gcpProject, stage: gcpProject, prod: gcpProject }),
  state: z.strictObject({
    project: gcpProject,
    bucket: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{1,61}[a-z0-9]$/, "expected a bucket name: 3-63 of a-z, 0-9, '-', '_' (no dots)"),
    /** Bucket location: a region or multi-region (US, EU). */
    location: z.string().regex(/^[A-Za-z]+(-[a-z]+[0-9]+)?$/, "expected a GCS location such as US or us-central1"),
    keyRing: z.string().regex(/^[A-Za-z0-9_-]{1,63}$/, "expected a key ring id: 1-63 of letters, digits, '_', '-'"),
    /** @default "global" */
    keyLocation: z
      .string()
      .regex(/^(global|[a-z]+(-[a-z]+[0-9]+)?)$/, "expected global, a region or a multi-region")
      .optional(),
  }),
  /** Teams (numeric ids, `gh api orgs/<org>/teams/<slug> --jq .id`) whose approval a prod deploy waits for. */
  prodReviewerTeams: z
    .array(githubId)
    .min(1, "prod needs at least one reviewing team")
    .max(6, "GitHub allows at most 6 reviewers"),
  /** The GitHub App the stack runs as: a bypass actor of the app repository's default-branch ruleset. */
  githubAppId: githubId,
  /**
   * The GitHub App the pre-release creates release tags as (contents: write on the app repository only): the one
   * bypass actor of the release-tag ruleset. Not the pipeline's own App, whose key administers both repositories.
   */
  releaseAppId: githubId,
  registry: z
    .strictObject({
      /** A PR's images are deleted this many days after upload, whether or not its preview is gone. */
      prImageTtlDays: z.number().int().min(1).max(365).optional(),
      /** Images no tag points at any more are deleted this many days after upload. */
      untaggedTtlDays: z.number().int().min(1).max(365).optional(),
    })
    .optional(),
});

const SHA = /^[0-9a-f]{40}$/;

/** The keys only the pipeline stack takes; config-keys.ts refuses them elsewhere. */
export const PIPELINE_KEYS = {
  "monitor:pipeline": pipelineSettings.optional(),
  "monitor:infraCommit": z
    .string()
    .regex(SHA, "expected the full 40-hex commit of this repository the stack is applied from (git rev-parse HEAD)")
    .refine((sha) => sha !== INFRA_COMMIT_PLACEHOLDER, "this is the placeholder the caller files carry, not a commit")
    .optional(),
  /** The team chat webhook; a secret, never plaintext. */
  "monitor:chatWebhookUrl": z.string().min(1).optional(),
} as const;

export interface RepositoryRef {
  /** `owner/name` */
  fullName: string;
  owner: string;
  name: string;
  /** As the OIDC claims carry them: decimal text. */
  id: string;
  ownerId: string;
}

export interface RegistrySpec {
  project: string;
  location: string;
  repositoryId: string;
  /** `<location>-docker.pkg.dev/<project>/<repository>/<image>`: what the deploys read as monitor:imageRepository. */
  imagePath: string;
  prImageTtlDays: number;
  untaggedTtlDays: number;
}

export interface PipelineSpec {
  kind: "pipeline";
  stack: "pipeline";
  appRepository: RepositoryRef;
  infraRepository: RepositoryRef;
  /** Commit of this repository that callers, and the identity conditions, are pinned to. */
  infraCommit: string;
  projects: Record<DeployEnvironment, string>;
  region: string;
  state: { project: string; bucket: string; location: string; keyRing: string; keyLocation: string };
  prodReviewerTeams: number[];
  githubAppId: number;
  releaseAppId: number;
  /** Where the previews' CI identities live (monitor:preview.identityProject): not the previews project. */
  previewIdentityProject: string;
  registry: RegistrySpec;
  /** For the sweeper: previews older than ttlDays go, and at most cap run at once; activeCap for admission. */
  previews: { ttlDays: number; cap: number; activeCap: number };
  /** Set only when configured as a secret. */
  chatWebhookUrl?: string;
  labels: Labels;
}

const REGISTRY_DEFAULTS = { prImageTtlDays: 14, untaggedTtlDays: 14 };

function repositoryRef(r: z.infer<typeof repository>): RepositoryRef {
  const [owner, name] = r.name.split("/");
  return { fullName: r.name, owner, name, id: String(r.id), ownerId: String(r.ownerId) };
}

/**
 * What the pipeline's spec reads of the parsed keys: its own, and the project-level ones it shares with every stack.
 * Declared here rather than taken from config-keys.ts, which merges PIPELINE_KEYS into its table: the arrow runs one
 * way only (config-keys.ts -> pipeline-spec.ts), and config-keys.ts's Values satisfies this type.
 */
export type PipelineValues = { [K in keyof typeof PIPELINE_KEYS]: z.infer<(typeof PIPELINE_KEYS)[K]> } & {
  "gcp:region": string;
  "monitor:imageRepository"?: string;
  "monitor:preview": { ttlDays: number; maxOpen: number; maxActive: number; identityProject?: string };
};

/** Builds the pipeline's spec from parsed keys; problems are collected, and the caller throws if there are any. */
export function pipelineSpec(
  stack: Extract<StackKind, { kind: "pipeline" }>,
  values: PipelineValues,
  secretKeys: readonly string[],
  file: string,
  problems: string[],
): PipelineSpec {
  const settings = values["monitor:pipeline"];
  if (settings === undefined && !problems.some((p) => p.startsWith("monitor:pipeline"))) {
    problems.push(
      `monitor:pipeline in ${file}: required for the pipeline stack (repositories, projects, state, reviewers). ` +
        "Fix: add it (see docs/pipeline.md)",
    );
  }
  const infraCommit = values["monitor:infraCommit"];
  if (infraCommit === undefined && !problems.some((p) => p.startsWith("monitor:infraCommit"))) {
    problems.push(
      "monitor:infraCommit: required for the pipeline stack: the commit of this repository that the app's workflows " +
        "and the deploy identities are pinned to. Fix: pass --config monitor:infraCommit=$(git rev-parse HEAD) " +
        "(CI passes the commit it checked out)",
    );
  }
  const webhook = values["monitor:chatWebhookUrl"];
  if (webhook !== undefined && !secretKeys.includes("monitor:chatWebhookUrl")) {
    problems.push(
      `monitor:chatWebhookUrl in ${file} is stored in plaintext. Fix: remove it and set it with ` +
        "`pulumi config set --stack pipeline --secret monitor:chatWebhookUrl <url>`",
    );
  }

  const identityProject = values["monitor:preview"].identityProject;
  if (identityProject === undefined) {
    problems.push(
      "monitor:preview.identityProject in Pulumi.yaml: required by the pipeline stack (the preview deployer and the " +
        "previews platform's deployer live there). Fix: add it, e.g. identityProject: moz-fx-monitor-nonprod",
    );
  }
  // The key's schema already refused anything but an Artifact Registry path.
  const registryPath = artifactRegistryPath(values["monitor:imageRepository"] ?? "");
  const previews = {
    ttlDays: values["monitor:preview"].ttlDays,
    cap: values["monitor:preview"].maxOpen,
    activeCap: values["monitor:preview"].maxActive,
  };
  const registrySettings = { ...REGISTRY_DEFAULTS, ...settings?.registry };
  if (registrySettings.prImageTtlDays < previews.ttlDays) {
    problems.push(
      `monitor:pipeline.registry.prImageTtlDays in ${file}: ${registrySettings.prImageTtlDays} days is shorter than ` +
        `a preview may live (monitor:preview.ttlDays, ${previews.ttlDays}), so a preview's redeploy could find its ` +
        "image gone. Fix: raise prImageTtlDays or lower monitor:preview.ttlDays",
    );
  }

  if (settings) {
    if (settings.appRepository.id === settings.infraRepository.id) {
      problems.push(
        `monitor:pipeline.infraRepository in ${file}: has the app repository's id. Fix: give this repository's own ` +
          "id (gh api repos/<owner>/<name> --jq .id)",
      );
    }
    if (settings.releaseAppId === settings.githubAppId) {
      // Its key is a secret of the app repository's stage environment, which every stage job may read.
      problems.push(
        `monitor:pipeline.releaseAppId in ${file}: is the pipeline's own App (githubAppId), whose key administers ` +
          "both repositories; the release App's key is a secret of the app's stage environment. Fix: register a " +
          "GitHub App of its own for release tags, installed on the app repository only with Contents: write",
      );
    }
    const { preview: previewProject, stage, prod } = settings.projects;
    if (prod === previewProject || prod === stage) {
      problems.push(
        `monitor:pipeline.projects.prod in ${file}: prod shares the project ${prod} with ${prod === stage ? "stage" : "previews"}, ` +
          "so their deployers' project roles would reach prod. Fix: give prod its own project",
      );
    } else if (previewProject === stage) {
      problems.push(
        `monitor:pipeline.projects.preview in ${file}: previews share the project ${stage} with stage, so the roles ` +
          "a pull request's preview deployer holds there (Cloud Run, service accounts: no condition narrows them) " +
          "would reach stage. Fix: give previews a project of their own (the previews stack's gcp:project)",
      );
    }
    if (identityProject === previewProject) {
      problems.push(
        `monitor:preview.identityProject in Pulumi.yaml is the previews project ${previewProject}: its service ` +
          "accounts are one per open preview. Fix: name another project (the stage project)",
      );
    }
  }

  const empty: RepositoryRef = { fullName: "", owner: "", name: "", id: "", ownerId: "" };
  return {
    kind: "pipeline",
    stack: stack.stack,
    appRepository: settings ? repositoryRef(settings.appRepository) : empty,
    infraRepository: settings ? repositoryRef(settings.infraRepository) : empty,
    infraCommit: infraCommit ?? "",
    projects:
      settings?.projects ??
      (Object.fromEntries(DEPLOY_ENVIRONMENTS.map((e) => [e, ""])) as Record<DeployEnvironment, string>),
    region: values["gcp:region"],
    state: settings
      ? { ...settings.state, keyLocation: settings.state.keyLocation ?? "global" }
      : { project: "", bucket: "", location: "", keyRing: "", keyLocation: "" },
    prodReviewerTeams: settings?.prodReviewerTeams ?? [],
    githubAppId: settings?.githubAppId ?? 0,
    releaseAppId: settings?.releaseAppId ?? 0,
    previewIdentityProject: identityProject ?? "",
    registry: {
      location: registryPath?.location ?? "",
      project: registryPath?.project ?? "",
      repositoryId: registryPath?.repositoryId ?? "",
      imagePath: values["monitor:imageRepository"] ?? "",
      ...registrySettings,
    },
    previews,
    chatWebhookUrl: webhook !== undefined && secretKeys.includes("monitor:chatWebhookUrl") ? webhook : undefined,
    labels: labelsFor(stack),
  };
}
