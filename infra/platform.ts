import * as pulumi from "@pulumi/pulumi";

/**
 * The contract between the `previews` stack, which owns the platform that previews share in their own project, and
 * every preview stack, which reads it through a StackReference. One type on both sides keeps the two from drifting.
 * Nothing in it is a secret: the preview deployer reads it, and secret outputs would need the platform's key.
 */
export const PREVIEW_PLATFORM_OUTPUT = "previewPlatform";
/** The stack that owns the platform. */
export const PREVIEW_PLATFORM_STACK = "previews";

export interface PreviewPlatform {
  project: string;
  region: string;
  /** The shared Cloud SQL instance's name and its `project:region:instance` connection name. */
  instanceName: string;
  connectionName: string;
  /** Variable name → Secret Manager resource name of a sandbox secret previews may read. */
  sandboxSecrets: Record<string, string>;
  /** Pub/Sub topic previews publish breach notifications to (no production subscribers). */
  pubsubTopic: string;
  /** `<location>-docker.pkg.dev/<project>/<repository>`: where previews push their images (never stage's or prod's). */
  imageRepository: string;
  /**
   * The admin each preview's database access job runs as (components/preview-database-admin.ts): its Postgres user,
   * the Secret Manager name of its password (never the value), and the service account that may read it. Absent
   * from a platform deployed before it existed.
   */
  databaseAdmin?: { user: string; passwordSecret: string; serviceAccountEmail: string };
}

/** `project:region:instance` → its parts, or undefined when it is not of that form. */
export function parseConnectionName(
  connectionName: string,
): { project: string; region: string; instance: string } | undefined {
  const parts = connectionName.split(":");
  if (parts.length !== 3 || parts.some((p) => p.length === 0)) return undefined;
  const [project, region, instance] = parts;
  return { project, region, instance };
}

/**
 * Another stack of this project as a StackReference names it: `<organization>/<project>/<stack>`, read from the
 * running program so that it is right on any backend (a gs:// bucket says `organization`, Pulumi Cloud the org).
 */
export function stackReferenceName(stack: string): string {
  return `${pulumi.getOrganization()}/${pulumi.getProject()}/${stack}`;
}
