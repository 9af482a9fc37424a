import * as pulumi from "@pulumi/pulumi";
import type { Names } from "../infra/naming";
import type { ServiceSizing, WorkerSizing } from "../shared-rules/sizing";
import type { CirrusSettings } from "../shared-rules/cirrus";
import { PREVIEW_DATABASE_ROLE } from "../shared-rules/preview-database";
import { AppDatabase } from "./app-database";
import { type AppRuntime, derivedEnv } from "./app-runtime";
import { AppSecrets, type SecretSource } from "./app-secrets";
import type { DatabaseAdmin } from "./database-admin-job";
import { BreachAlertsWorker } from "./breach-alerts-worker";
import { BreachNotifications, type TopicRef, grantTopicPublish } from "./breach-notifications";
import { cirrusSidecar } from "./cirrus";
import { MigrationJob } from "./migration-job";
import { type Grantee, type Retention, retains } from "./options";
import { type CloudSqlInstanceRef, PostgresInstance, grantCloudSqlConnect } from "./postgres-instance";
import { PreviewDatabaseAccess } from "./preview-database-access";
import { RuntimeIdentity } from "./runtime-identity";
import { ScheduledJob } from "./scheduled-job";
import { WebService } from "./web-service";

/** The app's periodic commands (monitor-app.md), by the schedule key that times them. */
export const CRON_COMMANDS = {
  dbPullBreaches: "db-pull-breaches",
  deleteUnverifiedSubscribers: "db-delete-unverified-subscribers",
  remoteSettingsPullBreaches: "remote-settings-pull-breaches",
} as const;

/** Five-field UTC cron schedules of the app's periodic commands, by CRON_COMMANDS key. */
export type AppSchedules = { readonly [K in keyof typeof CRON_COMMANDS]: string };

/** The secret variables besides DATABASE_URL (which the component derives), by where their values come from. */
export interface AppSecretSources {
  /** Random values made once per environment (the app issues and checks them itself). @default none */
  readonly generated?: readonly string[];
  /** Created here; SRE adds their versions in Secret Manager. @default none */
  readonly managed?: readonly string[];
  /** Values the program holds (encrypted stack config), written as versions here. @default none */
  readonly values?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Another stack's secrets (the preview sandbox), variable → secret resource name: access is granted only. @default none */
  readonly existing?: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * Where the HIBP webhook's breach notifications go. Previews publish to a topic another stack owns (nobody consumes
 * it); stage and prod own the queue and run the worker that emails the alerts.
 */
export type BreachAlerts =
  | { readonly publishTo: TopicRef }
  | {
      readonly queue: { readonly topicName: string; readonly subscriptionName: string };
      readonly worker: WorkerSizing;
    };

/** What runs: unset, only what must exist before the app can start is declared (an environment's bootstrap). */
export interface AppRelease {
  /** `<repository>@sha256:<hex>`: what every container runs. */
  readonly image: pulumi.Input<string>;
  /** The migration execution this deploy waits for (see decideMigration). */
  readonly migrationToken: pulumi.Input<string>;
}

export interface MonitorAppArgs extends Retention {
  /** The project everything here lives in (the database excepted: it lives where `instance` is). */
  readonly project: string;
  readonly region: string;
  readonly names: Names;
  readonly labels: Readonly<Record<string, string>>;
  /** Who runs this, for the identities' descriptions: `Monitor stage`. */
  readonly title: string;
  /** The web service's identity's description. @default `${title}: web service and jobs` */
  readonly runtimeDescription?: string;
  /** The Cloud SQL instance the database goes on: this stack's PostgresInstance, or the platform's, by name. */
  readonly instance: CloudSqlInstanceRef;
  /**
   * On an instance other previews share: the platform's database admin. The app's user then joins only the
   * previews' role, and before each migration the admin gives it its own database and closes that database to
   * everyone else (PreviewDatabaseAccess). @default none: the app's user is the instance's only one
   */
  readonly sharedInstanceAdmin?: DatabaseAdmin;
  /** What the app runs as: `appEnvFor(kind)` (shared-rules/app-env.ts). */
  readonly appEnv: string;
  /** Where users reach the app (`SERVER_URL`, `NEXTAUTH_URL`). */
  readonly url: pulumi.Input<string>;
  /** Plain values from config; the derived ones are computed here. */
  readonly env: Readonly<Record<string, string>>;
  readonly secrets: AppSecretSources;
  /** Identities that deploy what runs as the app's accounts, by key (see RuntimeIdentity.grantActAs). @default none */
  readonly deployers?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly breachAlerts: BreachAlerts;
  /** When the app's periodic jobs run; each gets a Cloud Run job and a Cloud Scheduler trigger. @default none */
  readonly schedules?: AppSchedules;
  readonly service: ServiceSizing;
  /** See WebServiceArgs.ingress. @default "INGRESS_TRAFFIC_ALL" */
  readonly ingress?: "INGRESS_TRAFFIC_ALL" | "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER";
  /** The Cirrus sidecar beside the web service. @default none (NIMBUS_SIDECAR_URL names a hosted Cirrus) */
  readonly cirrus?: CirrusSettings;
  /** @default undefined: declare what must exist before the app can start, run nothing */
  readonly release?: AppRelease;
}

/**
 * Monitor, whole: its database on a Cloud SQL instance, its secrets, the identities it runs as, the migration job
 * that gates every deploy and the web service; where it owns its breach queue (stage, prod), also the worker that
 * consumes it and the periodic jobs. Every container runs one image with one env, derived here, and each identity
 * gets exactly the grants it needs, named after it.
 *
 * Order, which `pulumi up` and `pulumi destroy` both follow: the migration waits for the database, the secrets, the
 * identities and their grants (and the queue); the web service and every job wait for the migration. So teardown
 * removes the service and the jobs before the database, and the database before its user.
 */
export class MonitorApp extends pulumi.ComponentResource {
  readonly databaseName: pulumi.Output<string>;
  /** The web service; undefined without a release. */
  readonly web: WebService | undefined;
  /** The migration job's name; undefined without a release. */
  readonly migrationJobName: pulumi.Output<string> | undefined;

  constructor(name: string, args: MonitorAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:MonitorApp", name, {}, opts);
    const retain = retains(args);
    const child = { parent: this };
    const { names, labels } = args;
    const breach = args.breachAlerts;

    const identity = (key: string, accountId: string, description: string) =>
      new RuntimeIdentity(key, { project: args.project, accountId, description, deployers: args.deployers }, child);
    const runtime = identity(
      "runtime",
      names.runtimeServiceAccount,
      args.runtimeDescription ?? `${args.title}: web service and jobs`,
    );
    // The consumer alone may pull breach notifications; the web service (the HIBP webhook) alone may publish them.
    const worker =
      "queue" in breach
        ? identity("worker", names.workerServiceAccount, `${args.title}: breach-alerts consumer`)
        : undefined;
    const scheduler =
      args.schedules &&
      identity(
        "scheduler",
        names.schedulerServiceAccount,
        `${args.title}: Cloud Scheduler runs the app's periodic jobs as this`,
      );
    const appIdentities: Grantee[] = worker ? [runtime, worker] : [runtime];

    const instance = args.instance;
    const connect = (grantee: Grantee) =>
      instance instanceof PostgresInstance
        ? instance.grantConnect(grantee)
        : grantCloudSqlConnect("database-instance", instance, grantee, child);
    const grants: pulumi.Resource[] = appIdentities.map(connect);

    const database = new AppDatabase(
      "database",
      {
        project: instance.project,
        instance: instance.instanceName,
        connectionName: instance.connectionName,
        databaseName: names.database,
        userName: names.databaseUser,
        ...(args.sharedInstanceAdmin && { databaseRoles: [PREVIEW_DATABASE_ROLE] }),
        retain,
      },
      child,
    );

    const secrets = new AppSecrets(
      "secrets",
      {
        project: args.project,
        secretIdOf: (variable) => names.secretId(variable),
        secrets: secretSources(database, args.secrets),
        labels,
        retain,
      },
      child,
    );
    for (const grantee of appIdentities) grants.push(...secrets.grantAccess(grantee));

    let notifications: BreachNotifications | undefined;
    let pubsub: { project: pulumi.Input<string>; topic: pulumi.Input<string>; subscription?: pulumi.Input<string> };
    if ("queue" in breach) {
      notifications = new BreachNotifications(
        "breach-notifications",
        { project: args.project, ...breach.queue, labels, retain },
        child,
      );
      grants.push(...notifications.grantPublish(runtime));
      if (worker) grants.push(notifications.grantSubscribe(worker));
      pubsub = { project: args.project, topic: notifications.topicName, subscription: notifications.subscriptionName };
    } else {
      // IAM on a topic lives with the topic: the preview's identity is granted in the platform's project.
      grants.push(...grantTopicPublish("breach-notifications", breach.publishTo, runtime, child));
      pubsub = { project: breach.publishTo.project, topic: breach.publishTo.topic };
    }

    this.databaseName = database.databaseName;
    if (!args.release) {
      this.web = undefined;
      this.migrationJobName = undefined;
      this.registerOutputs({ databaseName: this.databaseName });
      return;
    }

    const app: AppRuntime = {
      image: args.release.image,
      serviceAccountEmail: runtime.email,
      cloudSqlConnection: instance.connectionName,
      secrets: secrets.refs,
      env: {
        ...args.env,
        ...derivedEnv({
          appEnv: args.appEnv,
          url: args.url,
          cloudSqlConnection: instance.connectionName,
          pubsubProject: pubsub.project,
          pubsubTopic: pubsub.topic,
          pubsubSubscription: pubsub.subscription,
        }),
      },
    };
    const access =
      args.sharedInstanceAdmin &&
      new PreviewDatabaseAccess(
        "database-access",
        {
          region: args.region,
          jobName: names.databaseAccessJob,
          labels,
          admin: args.sharedInstanceAdmin,
          connectionName: instance.connectionName,
          databaseName: database.databaseName,
          userName: database.userName,
          deployToken: args.release.migrationToken,
        },
        { ...child, dependsOn: [database] },
      );
    const ready = [
      database,
      secrets,
      runtime,
      ...grants,
      ...(notifications ? [notifications] : []),
      ...(access ? [access] : []),
    ];
    const common = { region: args.region, runtime: app, labels, retain };

    const migration = new MigrationJob(
      "migration",
      { ...common, jobName: names.migrationJob, executionToken: args.release.migrationToken },
      { ...child, dependsOn: ready },
    );
    const afterMigration = [migration, ...ready];

    this.web = new WebService(
      "web",
      {
        ...common,
        serviceName: names.service,
        ...args.service,
        ingress: args.ingress,
        sidecar: args.cirrus && cirrusSidecar(args.cirrus),
      },
      { ...child, dependsOn: afterMigration },
    );

    if (args.schedules && scheduler) {
      for (const [key, command] of Object.entries(CRON_COMMANDS) as [keyof AppSchedules, string][]) {
        new ScheduledJob(
          command,
          {
            ...common,
            project: args.project,
            jobName: names.cronJob(command),
            script: `cron:${command}`,
            schedule: args.schedules[key],
            scheduler,
          },
          { ...child, dependsOn: [...afterMigration, scheduler] },
        );
      }
    }

    if ("queue" in breach && worker) {
      new BreachAlertsWorker(
        "breach-alerts",
        { ...common, ...breach.worker, name: names.worker, runtime: { ...app, serviceAccountEmail: worker.email } },
        { ...child, dependsOn: [...afterMigration, worker] },
      );
    }

    this.migrationJobName = migration.jobName;
    this.registerOutputs({
      databaseName: this.databaseName,
      serviceName: this.web.serviceName,
      migrationJobName: this.migrationJobName,
    });
  }
}

/** DATABASE_URL first (the database's own, a secret), then the rest by where their values come from. */
function secretSources(database: AppDatabase, sources: AppSecretSources): Record<string, SecretSource> {
  const secrets: Record<string, SecretSource> = { DATABASE_URL: { kind: "value", value: database.url } };
  for (const name of sources.generated ?? []) secrets[name] = { kind: "generated" };
  for (const name of sources.managed ?? []) secrets[name] = { kind: "managed" };
  for (const [name, value] of Object.entries(sources.values ?? {}))
    secrets[name] = { kind: "value", value: pulumi.secret(value) };
  for (const [name, secret] of Object.entries(sources.existing ?? {})) secrets[name] = { kind: "existing", secret };
  return secrets;
}
