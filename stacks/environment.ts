import * as pulumi from "@pulumi/pulumi";
import { type OwedVersion, owedVersions } from "../components/app-secrets";
import { keepDeployedImage, lastDeployed, resolveImage } from "../components/image";
import { LoadBalancer } from "../components/load-balancer";
import { decideMigration } from "../components/migration-job";
import { MonitorApp } from "../components/monitor-app";
import { PostgresInstance } from "../components/postgres-instance";
import { ENVIRONMENT_SERVICES, ProjectServices } from "../components/project-services";
import { UptimeAlert } from "../components/uptime-alert";
import { PUBSUB_NAMES } from "../infra/naming";
import { stackReferenceName } from "../infra/platform";
import { deployerEmail } from "../infra/pipeline-contract";
import type { EnvironmentSpec } from "../infra/spec";
import { BUDGET_LABELS } from "../shared-rules/connection-budget";
import { Refusal } from "../shared-rules/refusal";
import { appArgsOf } from "./app-args";

/**
 * `stage` and `prod`: the running Monitor. This wires the platform (APIs, the instance, the load balancer and the
 * uptime check), the image and the migration decision to one MonitorApp, which
 * retains everything it holds (Pulumi protect and the provider's guard); everything that runs the app runs one
 * image digest, and the migration job gates every deploy.
 *
 * With `monitor:bootstrap` (an environment's first deploy), only what must exist before the app can start is
 * declared, and the outputs list the secret versions SRE still owes; the next deploy runs the app.
 */
export function environmentStack(spec: EnvironmentSpec) {
  // Every GCP resource below uses this provider, so it waits for the project's APIs.
  const apis = new ProjectServices("apis", {
    project: spec.project,
    region: spec.region,
    services: ENVIRONMENT_SERVICES,
  });
  const inProject = { provider: apis.provider };

  const instance = new PostgresInstance(
    "database-instance",
    {
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
      labels: { ...spec.labels, [BUDGET_LABELS.pool]: String(spec.connectionPool) },
    },
    inProject,
  );

  const managed = Object.keys(spec.secrets).filter((name) => spec.secrets[name].source === "managed");
  const owed = owedVersions(
    spec.project,
    Object.fromEntries(managed.map((name) => [name, spec.names.secretId(name)])),
    {
      strict: !spec.bootstrap,
    },
  );

  // A bootstrap runs nothing: it declares what must exist before the app can start, and lists what SRE owes.
  const release = spec.bootstrap ? undefined : releaseOf(spec, owed, inProject);
  const url = `https://${spec.domain}`;
  const app = new MonitorApp(
    "app",
    {
      ...appArgsOf(spec),
      title: `Monitor ${spec.stack}`,
      instance,
      url,
      secrets: {
        managed,
        values: Object.fromEntries(
          Object.entries(spec.secrets).flatMap(([name, s]) => (s.source === "config" ? [[name, s.value]] : [])),
        ),
      },
      // The pipeline stack's deployer for this environment (its email follows from the project): it deploys what
      // runs as the app's accounts, so it may act as them, and only as them.
      deployers: { deployer: `serviceAccount:${deployerEmail(spec.kind, spec.project)}` },
      breachAlerts: {
        queue: { topicName: PUBSUB_NAMES.topic, subscriptionName: PUBSUB_NAMES.subscription },
        worker: spec.worker,
      },
      schedules: spec.schedules,
      // Only through the load balancer, so Cloud Armor sees every request (the LB itself invokes as allUsers).
      ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
      release: release && { image: release.imageRef, migrationToken: release.migrationPlan.token },
    },
    inProject,
  );

  const base: Record<string, unknown> = {
    databaseInstance: instance.connectionName,
    databaseName: app.databaseName,
  };

  if (!release || !app.web) {
    return {
      ...base,
      bootstrap: firstDeployOnly(spec),
      owedSecretVersions: owed.apply((own) => own.map((o) => o.command)),
    };
  }

  const { image, migrationPlan } = release;
  const web = app.web;
  const lb = new LoadBalancer(
    "lb",
    {
      namePrefix: spec.names.service,
      region: spec.region,
      serviceName: web.serviceName,
      domain: spec.domain,
      labels: spec.labels,
    },
    { ...inProject, dependsOn: [web] },
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
    migrationHead: migrationPlan.databaseHead,
    migration: migrationPlan.apply(({ runs, reason }) => ({ runs, reason })),
    ...base,
    migrationJobName: app.migrationJobName,
    // Point the domain's A record here, and create the CNAME first so the certificate is issued before traffic moves.
    loadBalancerIp: lb.ipAddress,
    dnsAuthorization: lb.dnsAuthorizationRecord,
  };
}

/**
 * A bootstrap plans as if nothing existed: run over a deployed stack, it would declare away what runs the app. The
 * stack's own last outputs (lastDeployed, a StackReference to itself) name the image a deployed stack runs; a stack
 * that was never deployed has none, or only a bootstrap's. Resolves to true, or refuses the update.
 */
function firstDeployOnly(spec: EnvironmentSpec): pulumi.Output<true> {
  return lastDeployed(stackReferenceName(spec.stack)).apply((deployed) => {
    if (deployed.tag === undefined && deployed.digest === undefined) return true as const;
    throw new Refusal(
      `Stack "${spec.stack}": monitor:bootstrap: ${spec.stack} is already deployed and runs ${deployed.tag ?? "an image"} ` +
        `(${deployed.digest ?? "digest unknown"}). A bootstrap declares only what must exist before the app can start, so ` +
        "this update would delete what runs it: the web service, the breach-alerts worker, the scheduled jobs, the " +
        "load balancer and the uptime alert (the protected ones would fail it half-way). Fix: drop monitor:bootstrap " +
        `(npx pulumi config rm --stack ${spec.stack} monitor:bootstrap) and deploy as usual; to keep the image it runs, ` +
        "pass no monitor:imageTag",
    );
  });
}

/**
 * The image this deploy runs (a new tag resolved to its digest, or what the stack runs already) and whether it
 * migrates. No container may start before every secret it reads as `latest` has a version: refuse the plan instead.
 */
function releaseOf(spec: EnvironmentSpec, owed: pulumi.Output<OwedVersion[]>, inProject: pulumi.InvokeOutputOptions) {
  const deployed = lastDeployed(stackReferenceName(spec.stack));
  const image = spec.image.tag
    ? resolveImage({ repository: spec.image.repository, tag: spec.image.tag }, inProject)
    : keepDeployedImage(spec.image.repository, deployed);
  const migrationPlan = pulumi
    .all([image.digest, image.buildTime, image.migrationHead, deployed])
    .apply(([digest, buildTime, migrationHead, previous]) =>
      decideMigration({
        digest,
        buildTime,
        migrationHead,
        deployId: spec.deployId,
        keep: spec.image.tag === undefined,
        previous,
      }),
    );
  const imageRef = pulumi.all([image.ref, owed]).apply(([ref, missing]) => {
    if (missing.length > 0) {
      throw new Refusal(
        `Stack "${spec.stack}": ${missing.map((o) => `${o.variable} (${o.why})`).join(", ")} cannot be read by the app. ` +
          "Fix: add the versions, then deploy again (Secret Manager answers a secret that does not exist yet as one " +
          "without versions: create it first, for a new environment with --config monitor:bootstrap=true, for a new " +
          `secret with pulumi up --target <its URN>):\n${missing.map((o) => `  ${o.command}`).join("\n")}`,
      );
    }
    return ref;
  });
  return { image, migrationPlan, imageRef };
}
