import { PreviewPlatform } from "../components/preview-platform";
import { PREVIEWS_PLATFORM_SERVICES, ProjectServices } from "../components/project-services";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import { PREVIEW_PLATFORM_OUTPUT } from "../infra/platform";
import { databaseAdminEmail, deployerEmail } from "../infra/pipeline-contract";
import type { PreviewsSpec } from "../infra/spec";
import { owedVersions } from "../components/app-secrets";
import { artifactRegistryPath } from "../shared-rules/artifact-registry";

/**
 * `previews`: the platform every preview shares, in the previews' own GCP project, applied from this repository's
 * main (config-apply.yml) by its own deployer. Nothing of stage or prod lives in that project, so no role held
 * there (the preview deployer's, a preview's runtime account's) reaches them. Its outputs are what previews read
 * (no secret among them), and the sandbox secret versions SRE still owes.
 */
export function previewsStack(spec: PreviewsSpec) {
  const apis = new ProjectServices("apis", {
    project: spec.project,
    region: spec.region,
    services: PREVIEWS_PLATFORM_SERVICES,
  });
  const inProject = { provider: apis.provider };
  const registry = artifactRegistryPath(spec.image.repository);
  const platform = new PreviewPlatform(
    "preview-platform",
    {
      project: spec.project,
      region: spec.region,
      maxActivePreviews: spec.preview.maxActive,
      maxInstancesPerPreview: spec.preview.maxInstances,
      connectionPool: spec.preview.connectionPool,
      tier: spec.preview.instanceTier,
      sandboxSecrets: spec.preview.sandboxSecrets,
      registryRegion: registry!.location,
      imageTtlDays: spec.preview.ttlDays * 2,
      labels: spec.labels,
      databaseAdminAccount: databaseAdminEmail(spec.preview.identityProject!),
    },
    inProject,
  );
  platform.grantPreviewDeployer({
    key: "preview-deployer",
    member: `serviceAccount:${deployerEmail("preview", spec.preview.identityProject!)}`,
  });

  const sandboxOwed = owedVersions(
    spec.project,
    Object.fromEntries(
      spec.preview.sandboxSecrets.map((name) => [
        `preview sandbox ${name}`,
        PREVIEW_PLATFORM_NAMES.sandboxSecretId(name),
      ]),
    ),
    { strict: false },
  );
  return {
    [PREVIEW_PLATFORM_OUTPUT]: platform.contract,
    owedSecretVersions: sandboxOwed.apply((owed) => owed.map((o) => o.command)),
  };
}
