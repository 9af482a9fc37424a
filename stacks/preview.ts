import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { buildPreviewImage, resolveImage } from "../components/image";
import { decideMigration } from "../components/migration-job";
import { MonitorApp } from "../components/monitor-app";
import type { CloudSqlInstanceRef } from "../components/postgres-instance";
import {
  PREVIEW_PLATFORM_OUTPUT,
  PREVIEW_PLATFORM_STACK,
  type PreviewPlatform,
  parseConnectionName,
  stackReferenceName,
} from "../infra/platform";
import type { PreviewSpec } from "../infra/spec";
import { Refusal } from "../shared-rules/refusal";
import { appArgsOf } from "./app-args";

/**
 * `pr-<N>`: one pull request's preview on the platform the `previews` stack owns, in the previews' own project:
 * this wires the platform, the image and the migration decision to one MonitorApp. Everything here is disposable (`retain: false`), and MonitorApp
 * orders it so that `pulumi destroy` removes the service and migration job before the database, and the database
 * before its user.
 */
export function previewStack(spec: PreviewSpec) {
  const platformStack = spec.preview.platformStack ?? stackReferenceName(PREVIEW_PLATFORM_STACK);
  const platform = new pulumi.StackReference("preview-platform", { name: platformStack }).requireOutput(
    PREVIEW_PLATFORM_OUTPUT,
  ) as pulumi.Output<PreviewPlatform>;

  // The platform's shared instance, or the one monitor:preview.instanceConnectionName names instead.
  const override = spec.preview.instanceConnectionName;
  const parsed = override ? parseConnectionName(override) : undefined;
  const instance: CloudSqlInstanceRef =
    override && parsed
      ? { project: parsed.project, instanceName: parsed.instance, connectionName: override }
      : { project: platform.project, instanceName: platform.instanceName, connectionName: platform.connectionName };

  // Every GCP resource (and the project lookup) uses this provider. The previews stack enabled the project's APIs
  // (components/project-services.ts PREVIEWS_PLATFORM_SERVICES); a preview's deployer may not enable any.
  const inProject = { provider: new gcp.Provider("gcp", { project: spec.project, region: spec.region }) };

  // Built from the PR's checkout when CI gives one; otherwise the `pr-<N>` image someone pushed.
  const image = spec.appSource
    ? buildPreviewImage("image", { ...spec.image, context: spec.appSource }, inProject)
    : resolveImage(spec.image, inProject);
  const migrationPlan = image.digest.apply((digest) =>
    decideMigration({ digest, deployId: spec.deployId, keep: false }),
  );
  const projectNumber = gcp.organizations.getProjectOutput({ projectId: spec.project }, inProject).number;
  // Cloud Run's deterministic URL, known before the service exists, so the app can be told its own address.
  const url = pulumi.interpolate`https://${spec.names.service}-${projectNumber}.${spec.region}.run.app`;

  const app = new MonitorApp(
    "app",
    {
      ...appArgsOf(spec),
      title: `Monitor preview for PR #${spec.pr}`,
      // A preview's one identity runs everything it has: the service and the migration.
      runtimeDescription: `Monitor preview for PR #${spec.pr}`,
      instance,
      // On the platform's shared instance, the platform's admin gives this preview's user its own database alone; a
      // dedicated instance (monitor:preview.instanceConnectionName) has no other preview on it.
      sharedInstanceAdmin: override
        ? undefined
        : platform.apply((p) => databaseAdminOf(spec, platformStack, p.databaseAdmin)),
      url,
      secrets: {
        generated: spec.generatedSecrets,
        existing: Object.fromEntries(
          spec.preview.sandboxSecrets.map((name) => [
            name,
            platform.sandboxSecrets.apply((all) => sandboxSecret(spec, platformStack, all, name)),
          ]),
        ),
      },
      // Nobody consumes a preview's breach notifications: it publishes to the platform's topic.
      breachAlerts: { publishTo: { project: platform.project, topic: platform.pubsubTopic } },
      release: { image: image.ref, migrationToken: migrationPlan.token },
      // Disposable: `pulumi destroy` (which never reruns the program) must be able to remove all of it.
      retain: false,
    },
    inProject,
  );

  return {
    url,
    serviceName: app.web!.serviceName,
    databaseName: app.databaseName,
    imageTag: image.tag,
    imageDigest: image.digest,
    migrationJobName: app.migrationJobName!,
    migration: migrationPlan.apply(({ runs, reason }) => ({ runs, reason })),
  };
}

function databaseAdminOf(
  spec: PreviewSpec,
  platformStack: string,
  admin: PreviewPlatform["databaseAdmin"],
): NonNullable<PreviewPlatform["databaseAdmin"]> {
  if (!admin) {
    throw new Refusal(
      `Stack "${spec.stack}": the preview platform (${platformStack}, output ${PREVIEW_PLATFORM_OUTPUT}.databaseAdmin) ` +
        "has no database admin, without which this preview's database would be open to every other preview on the " +
        "shared instance. Fix: apply the previews stack first (it creates the admin), or set " +
        "monitor:preview.platformStack to a platform that has one.",
    );
  }
  return admin;
}

function sandboxSecret(
  spec: PreviewSpec,
  platformStack: string,
  all: Record<string, string> | undefined,
  name: string,
): string {
  const secret = all?.[name];
  if (!secret) {
    throw new Refusal(
      `Stack "${spec.stack}": monitor:preview.sandboxSecrets names ${name}, but the preview platform ` +
        `(${platformStack}, output ${PREVIEW_PLATFORM_OUTPUT}.sandboxSecrets) has no such secret. ` +
        `Fix: apply the previews stack (it creates the sandbox secrets monitor:preview.sandboxSecrets names), or remove it from monitor:preview.sandboxSecrets.`,
    );
  }
  return secret;
}
