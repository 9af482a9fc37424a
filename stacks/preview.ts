import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { AppSecrets, type SecretSource } from "../components/app-secrets";
import { derivedEnv } from "../components/app-runtime";
import { buildPreviewImage, resolveImage } from "../components/image";
import { MigrationJob, decideMigration } from "../components/migration-job";
import { cirrusSidecar } from "../components/cirrus";
import { PREVIEW_SERVICES, ProjectServices } from "../components/project-services";
import { AppDatabase } from "../components/app-database";
import { RuntimeIdentity } from "../components/runtime-identity";
import { WebService } from "../components/web-service";
import {
  PREVIEW_PLATFORM_OUTPUT,
  type PreviewPlatform,
  parseConnectionName,
  stackReferenceName,
} from "../infra/platform";
import type { PreviewSpec } from "../infra/spec";
import { Refusal } from "../shared-rules/refusal";

/**
 * `pr-<N>`: one pull request's preview on the platform the stage stack owns. Everything here is disposable:
 * created without deletion protection, and ordered so that `pulumi destroy` removes the service and migration
 * job before the database, and the database before its user.
 */
export function previewStack(spec: PreviewSpec) {
  const platformStack = spec.preview.platformStack ?? stackReferenceName("stage");
  const platform = new pulumi.StackReference("preview-platform", { name: platformStack })
    .requireOutput(PREVIEW_PLATFORM_OUTPUT) as pulumi.Output<PreviewPlatform>;

  const override = spec.preview.instanceConnectionName;
  const connectionName = override ? pulumi.output(override) : platform.connectionName;
  const instance = override
    ? pulumi.output(parseConnectionName(override)!)
    : pulumi.all([platform.project, platform.instanceName]).apply(([project, name]) => ({ project, instance: name }));

  // Every GCP resource (and the project lookup) uses this provider, so it waits for the preview project's APIs.
  const apis = new ProjectServices("apis", { project: spec.project, region: spec.region, services: PREVIEW_SERVICES });
  const inProject = { provider: apis.provider };

  // Built from the PR's checkout when CI gives one; otherwise the `pr-<N>` image someone pushed.
  const image = spec.appSource
    ? buildPreviewImage("image", { ...spec.image, context: spec.appSource }, inProject)
    : resolveImage(spec.image, inProject);
  const migrationPlan = image.digest.apply((digest) => decideMigration({ digest, deployId: spec.deployId, keep: false }));
  const projectNumber = gcp.organizations.getProjectOutput({ projectId: spec.project }, inProject).number;
  // Cloud Run's deterministic URL, known before the service exists, so the app can be told its own address.
  const url = pulumi.interpolate`https://${spec.names.service}-${projectNumber}.${spec.region}.run.app`;

  const identity = new RuntimeIdentity("runtime", {
    project: spec.project,
    accountId: spec.names.runtimeServiceAccount,
    description: `Monitor preview for PR #${spec.pr}`,
    cloudSqlInstance: connectionName,
  }, inProject);
  // The HIBP webhook calls `topic.exists()` and then publishes, to the platform's topic in the platform's project:
  // IAM on a topic lives with the topic, so this preview's identity is granted there.
  for (const [suffix, role] of [["publisher", "roles/pubsub.publisher"], ["viewer", "roles/pubsub.viewer"]]) {
    new gcp.pubsub.TopicIAMMember(
      `runtime-pubsub-${suffix}`,
      { project: platform.project, topic: platform.pubsubTopic, role, member: identity.member },
      inProject,
    );
  }

  const database = new AppDatabase("database", {
    project: instance.project,
    instance: instance.instance,
    connectionName,
    databaseName: spec.names.database,
    userName: spec.names.databaseUser,
    protect: false,
  }, inProject);

  const secrets: Record<string, SecretSource> = { DATABASE_URL: { kind: "value", value: database.url } };
  for (const name of spec.generatedSecrets) secrets[name] = { kind: "generated" };
  for (const name of spec.preview.sandboxSecrets) {
    secrets[name] = { kind: "existing", secret: platform.sandboxSecrets.apply((all) => sandboxSecret(spec, platformStack, all, name)) };
  }
  const appSecrets = new AppSecrets("secrets", {
    project: spec.project,
    secretIdOf: spec.names.secretId,
    secrets,
    readers: [identity.member],
    labels: spec.labels,
    protect: false,
  }, inProject);

  const runtime = {
    image: image.ref,
    serviceAccountEmail: identity.email,
    cloudSqlConnection: connectionName,
    secrets: appSecrets.refs,
    env: {
      ...spec.env,
      ...derivedEnv({
        appEnv: spec.appEnv,
        url,
        cloudSqlConnection: connectionName,
        pubsubProject: platform.project,
        pubsubTopic: platform.pubsubTopic,
      }),
    },
  };

  const migration = new MigrationJob(
    "migration",
    {
      location: spec.region,
      jobName: spec.names.migrationJob,
      runtime,
      executionToken: migrationPlan.token,
      labels: spec.labels,
      deletionProtection: false,
    },
    { ...inProject, dependsOn: [database, appSecrets, identity] },
  );

  const web = new WebService(
    "web",
    {
      location: spec.region,
      serviceName: spec.names.service,
      runtime,
      ...spec.service,
      public: true,
      sidecar: spec.cirrus && cirrusSidecar(spec.cirrus),
      labels: spec.labels,
      deletionProtection: false,
    },
    { ...inProject, dependsOn: [migration, database, appSecrets, identity] },
  );

  return {
    url,
    serviceName: web.serviceName,
    databaseName: database.databaseName,
    imageTag: image.tag,
    imageDigest: image.digest,
    migrationJobName: migration.jobName,
    migration: migrationPlan.apply(({ runs, reason }) => ({ runs, reason })),
  };
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
        `Fix: add it to the stage stack's preview sandbox, or remove it from monitor:preview.sandboxSecrets.`,
    );
  }
  return secret;
}
