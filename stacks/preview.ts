import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { AppSecrets, type SecretSource } from "../components/app-secrets";
import { derivedEnv } from "../components/app-runtime";
import { resolveImage } from "../components/image";
import { MigrationJob } from "../components/migration-job";
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
import { Refusal } from "../infra/refusal";

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

  const image = resolveImage(spec.image);
  const projectNumber = gcp.organizations.getProjectOutput({ projectId: spec.project }).number;
  // Cloud Run's deterministic URL, known before the service exists, so the app can be told its own address.
  const url = pulumi.interpolate`https://${spec.names.service}-${projectNumber}.${spec.region}.run.app`;

  const identity = new RuntimeIdentity("runtime", {
    project: spec.project,
    accountId: spec.names.runtimeServiceAccount,
    description: `Monitor preview for PR #${spec.pr}`,
    cloudSqlInstances: [connectionName],
  });

  const database = new AppDatabase("database", {
    project: instance.project,
    instance: instance.instance,
    databaseName: spec.names.database,
    userName: spec.names.databaseUser,
    protect: false,
  });

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
  });

  const runtime = {
    image: image.ref,
    serviceAccountEmail: identity.email,
    cloudSqlConnection: connectionName,
    secrets: appSecrets.refs,
    env: {
      ...spec.env,
      ...derivedEnv({ url, cloudSqlConnection: connectionName, project: spec.project, pubsubTopic: platform.pubsubTopic }),
    },
  };

  const migration = new MigrationJob(
    "migration",
    {
      location: spec.region,
      jobName: spec.names.migrationJob,
      runtime,
      executionToken: image.executionToken,
      labels: spec.labels,
      deletionProtection: false,
    },
    { dependsOn: [database, appSecrets, identity] },
  );

  const web = new WebService(
    "web",
    {
      location: spec.region,
      serviceName: spec.names.service,
      runtime,
      ...spec.service,
      public: true,
      labels: spec.labels,
      deletionProtection: false,
    },
    { dependsOn: [migration, database, appSecrets, identity] },
  );

  return {
    url,
    serviceName: web.serviceName,
    databaseName: database.databaseName,
    imageTag: image.tag,
    imageDigest: image.digest,
    migrationJobName: migration.jobName,
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
