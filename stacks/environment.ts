import * as pulumi from "@pulumi/pulumi";
import { AppDatabase } from "../components/app-database";
import { type AppRuntime, derivedEnv } from "../components/app-runtime";
import { AppSecrets, type SecretSource, owedVersions } from "../components/app-secrets";
import { BreachAlertsWorker } from "../components/breach-alerts-worker";
import { BreachNotifications } from "../components/breach-notifications";
import { cirrusSidecar } from "../components/cirrus";
import { keepDeployedImage, lastDeployed, resolveImage } from "../components/image";
import { LoadBalancer } from "../components/load-balancer";
import { MigrationJob, decideMigration } from "../components/migration-job";
import { PostgresInstance } from "../components/postgres-instance";
import { PreviewPlatform } from "../components/preview-platform";
import { ENVIRONMENT_SERVICES, ProjectServices } from "../components/project-services";
import { RuntimeIdentity } from "../components/runtime-identity";
import { ScheduledJob } from "../components/scheduled-job";
import { UptimeAlert } from "../components/uptime-alert";
import { WebService } from "../components/web-service";
import { PREVIEW_PLATFORM_NAMES, PUBSUB_NAMES } from "../infra/naming";
import { PREVIEW_PLATFORM_OUTPUT, stackReferenceName } from "../infra/platform";
import { deployerEmail } from "../infra/pipeline-contract";
import type { EnvironmentSpec } from "../infra/spec";
import { BUDGET_LABELS } from "../shared-rules/connection-budget";
import { Refusal } from "../shared-rules/refusal";

/** The app's periodic commands (monitor-app.md), by the schedule key that times them. */
const CRON_COMMANDS = {
  dbPullBreaches: "db-pull-breaches",
  deleteUnverifiedSubscribers: "db-delete-unverified-subscribers",
  remoteSettingsPullBreaches: "remote-settings-pull-breaches",
} as const;

/**
 * `stage` and `prod`: the running Monitor. Stateful resources (the instance, the database, the secrets) are
 * protected in Pulumi and at GCP; everything that runs the app runs one image digest, and the migration job gates
 * every deploy. Stage also owns the platform that previews share.
 *
 * With `monitor:bootstrap` (an environment's first deploy), only what must exist before the app can start is
 * declared, and the outputs list the secret versions SRE still owes; the next deploy runs the app.
 */
export function environmentStack(spec: EnvironmentSpec) {
  // Every GCP resource below uses this provider, so it waits for the project's APIs.
  const apis = new ProjectServices("apis", { project: spec.project, region: spec.region, services: ENVIRONMENT_SERVICES });
  const inProject = { provider: apis.provider };

  const instance = new PostgresInstance("database-instance", {
    project: spec.project,
    region: spec.region,
    instanceName: spec.names.instance,
    tier: spec.database.tier,
    edition: spec.database.edition,
    highAvailability: spec.database.highAvailability,
    backups: spec.database.backups,
    retainBackupsOnDelete: true,
    maintenanceWindow: spec.database.maintenanceWindow,
    maxConnections: spec.database.maxConnections,
    deletionProtection: true,
    protect: true,
    labels: { ...spec.labels, [BUDGET_LABELS.pool]: String(spec.connectionPool) },
  }, inProject);
  const database = new AppDatabase("database", {
    project: spec.project,
    instance: instance.instanceName,
    connectionName: instance.connectionName,
    databaseName: spec.names.database,
    userName: spec.names.databaseUser,
    protect: true,
  }, inProject);

  // The pipeline stack's deployer for this environment (its email follows from the project): it deploys what runs
  // as these accounts, so it may act as them, and only as them.
  const deployers = { deployer: `serviceAccount:${deployerEmail(spec.kind, spec.project)}` };
  const identity = new RuntimeIdentity("runtime", {
    project: spec.project,
    accountId: spec.names.runtimeServiceAccount,
    description: `Monitor ${spec.stack}: web service and jobs`,
    cloudSqlInstance: instance.connectionName,
    deployers,
  }, inProject);
  // The consumer alone may pull breach notifications; the web service (the HIBP webhook) alone may publish them.
  const workerIdentity = new RuntimeIdentity("worker", {
    project: spec.project,
    accountId: spec.names.workerServiceAccount,
    description: `Monitor ${spec.stack}: breach-alerts consumer`,
    cloudSqlInstance: instance.connectionName,
    deployers,
  }, inProject);
  const scheduler = new RuntimeIdentity("scheduler", {
    project: spec.project,
    accountId: spec.names.schedulerServiceAccount,
    description: `Monitor ${spec.stack}: Cloud Scheduler runs the app's periodic jobs as this`,
    deployers,
  }, inProject);

  const secrets: Record<string, SecretSource> = { DATABASE_URL: { kind: "value", value: database.url } };
  for (const [name, secret] of Object.entries(spec.secrets)) {
    secrets[name] = secret.source === "managed" ? { kind: "managed" } : { kind: "value", value: pulumi.secret(secret.value) };
  }
  const appSecrets = new AppSecrets("secrets", {
    project: spec.project,
    secretIdOf: spec.names.secretId,
    secrets,
    readers: [identity.member, workerIdentity.member],
    labels: spec.labels,
    protect: true,
  }, inProject);

  const notifications = new BreachNotifications("breach-notifications", {
    project: spec.project,
    topicName: PUBSUB_NAMES.topic,
    subscriptionName: PUBSUB_NAMES.subscription,
    publisherMembers: [identity.member],
    subscriberMembers: [workerIdentity.member],
    labels: spec.labels,
  }, inProject);

  const managed = Object.keys(spec.secrets).filter((name) => spec.secrets[name].source === "managed");
  const owed = owedVersions(spec.project, Object.fromEntries(managed.map((name) => [name, spec.names.secretId(name)])), {
    strict: !spec.bootstrap,
  });

  const base: Record<string, unknown> = {
    databaseInstance: instance.connectionName,
    databaseName: database.databaseName,
  };
  if (spec.previewPlatform) {
    const platform = new PreviewPlatform("preview-platform", {
      project: spec.project,
      region: spec.region,
      maxPreviews: spec.previewPlatform.maxConcurrent,
      maxInstancesPerPreview: spec.previewPlatform.maxInstances,
      connectionPool: spec.previewPlatform.connectionPool,
      tier: spec.previewPlatform.instanceTier,
      sandboxSecrets: spec.previewPlatform.sandboxSecrets,
      labels: spec.labels,
      previewDeployer: `serviceAccount:${deployerEmail("preview", spec.project)}`,
    }, inProject);
    base[PREVIEW_PLATFORM_OUTPUT] = platform.contract;
  }

  if (spec.bootstrap) {
    const sandbox = spec.previewPlatform?.sandboxSecrets ?? [];
    const sandboxOwed = owedVersions(
      spec.project,
      Object.fromEntries(sandbox.map((name) => [`preview sandbox ${name}`, PREVIEW_PLATFORM_NAMES.sandboxSecretId(name)])),
      { strict: false },
    );
    return {
      ...base,
      bootstrap: true,
      owedSecretVersions: pulumi.all([owed, sandboxOwed]).apply(([own, box]) => [...own, ...box].map((o) => o.command)),
    };
  }

  const deployed = lastDeployed(stackReferenceName(spec.stack));
  const image = spec.image.tag
    ? resolveImage({ repository: spec.image.repository, tag: spec.image.tag }, inProject)
    : keepDeployedImage(spec.image.repository, deployed);
  const migrationPlan = pulumi
    .all([image.digest, image.buildTime, deployed])
    .apply(([digest, buildTime, previous]) =>
      decideMigration({ digest, buildTime, deployId: spec.deployId, keep: spec.image.tag === undefined, previous }),
    );
  // No container may start before every secret it reads as `latest` has a version: refuse the plan instead.
  const imageRef = pulumi.all([image.ref, owed]).apply(([ref, missing]) => {
    if (missing.length > 0) {
      throw new Refusal(
        `Stack "${spec.stack}": ${missing.map((o) => `${o.variable} (${o.why})`).join(", ")} cannot be read by the app. ` +
          `Fix: add the versions, then deploy again:\n${missing.map((o) => `  ${o.command}`).join("\n")}`,
      );
    }
    return ref;
  });

  const url = `https://${spec.domain}`;

  const runtime: AppRuntime = {
    image: imageRef,
    serviceAccountEmail: identity.email,
    cloudSqlConnection: instance.connectionName,
    secrets: appSecrets.refs,
    env: {
      ...spec.env,
      ...derivedEnv({
        appEnv: spec.appEnv,
        url,
        cloudSqlConnection: instance.connectionName,
        pubsubProject: spec.project,
        pubsubTopic: notifications.topicName,
        pubsubSubscription: notifications.subscriptionName,
      }),
    },
  };
  const ready = [database, appSecrets, identity, notifications];

  const migration = new MigrationJob(
    "migration",
    {
      location: spec.region,
      jobName: spec.names.migrationJob,
      runtime,
      executionToken: migrationPlan.token,
      labels: spec.labels,
      deletionProtection: true,
    },
    { ...inProject, dependsOn: ready },
  );
  const afterMigration = { ...inProject, dependsOn: [migration, ...ready] };

  const web = new WebService(
    "web",
    {
      location: spec.region,
      serviceName: spec.names.service,
      runtime,
      ...spec.service,
      public: true,
      // Only through the load balancer, so Cloud Armor sees every request (the LB itself invokes as allUsers).
      ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
      sidecar: spec.cirrus && cirrusSidecar(spec.cirrus),
      labels: spec.labels,
      deletionProtection: true,
    },
    afterMigration,
  );
  const lb = new LoadBalancer(
    "lb",
    { namePrefix: spec.names.service, region: spec.region, serviceName: web.serviceName, domain: spec.domain, labels: spec.labels, protect: true },
    { ...inProject, dependsOn: [web] },
  );

  for (const [key, command] of Object.entries(CRON_COMMANDS) as [keyof typeof CRON_COMMANDS, string][]) {
    new ScheduledJob(
      command,
      {
        project: spec.project,
        location: spec.region,
        jobName: spec.names.cronJob(command),
        script: `cron:${command}`,
        schedule: spec.schedules[key],
        runtime,
        schedulerServiceAccountEmail: scheduler.email,
        labels: spec.labels,
        deletionProtection: true,
        timeoutSeconds: 1800,
        maxRetries: 1,
      },
      { ...inProject, dependsOn: [...afterMigration.dependsOn, scheduler] },
    );
  }

  new BreachAlertsWorker(
    "breach-alerts",
    {
      location: spec.region,
      name: spec.names.worker,
      runtime: { ...runtime, serviceAccountEmail: workerIdentity.email },
      ...spec.worker,
      labels: spec.labels,
      deletionProtection: true,
    },
    { ...inProject, dependsOn: [...afterMigration.dependsOn, workerIdentity] },
  );

  new UptimeAlert(
    "heartbeat",
    {
      project: spec.project,
      displayName: `Monitor ${spec.stack}`,
      host: spec.domain,
      notificationChannels: spec.alerts.notificationChannels,
      labels: spec.labels,
    },
    { ...inProject, dependsOn: [web, lb] },
  );

  return {
    url,
    serviceName: web.serviceName,
    imageTag: image.tag,
    imageDigest: image.digest,
    imageBuildTime: image.buildTime,
    migrationToken: migrationPlan.token,
    migration: migrationPlan.apply(({ runs, reason }) => ({ runs, reason })),
    ...base,
    migrationJobName: migration.jobName,
    // Point the domain's A record here, and create the CNAME first so the certificate is issued before traffic moves.
    loadBalancerIp: lb.ipAddress,
    dnsAuthorization: lb.dnsAuthorizationRecord,
  };
}
