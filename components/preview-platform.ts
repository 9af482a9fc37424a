import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import type { PreviewPlatform as PreviewPlatformContract } from "../infra/platform";
import { BUDGET_LABELS, maxConnectionsFor, previewProcesses } from "../shared-rules/connection-budget";
import { AppSecrets, type SecretSource } from "./app-secrets";
import { type Retention, retains } from "./options";
import { PostgresInstance } from "./postgres-instance";
import { PreviewDatabaseAdmin } from "./preview-database-admin";

export interface PreviewPlatformArgs extends Retention {
  readonly project: string;
  readonly region: string;
  /** How many previews may run at once, and how many Cloud Run instances each may scale to. */
  readonly maxPreviews: number;
  readonly maxInstancesPerPreview: number;
  /** Connections one app process may open (`monitor:connectionPool`). */
  readonly connectionPool: number;
  /** Machine type of the shared instance. */
  readonly tier: string;
  /** Sandbox credentials every preview reads (never production ones); SRE adds their versions. */
  readonly sandboxSecrets: readonly string[];
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The identity that deploys previews: each preview grants its own runtime account publish and view on the
   * topic, which takes setIamPolicy on this topic (and on no other). @default none
   */
  readonly previewDeployer?: pulumi.Input<string>;
  /** The identity that deploys this platform: it runs the database admin's init job. @default none */
  readonly platformDeployer?: pulumi.Input<string>;
}

/**
 * What every preview shares, owned by the stage stack: one Cloud SQL instance sized for the previews that may run
 * at once, the sandbox secrets, and a Pub/Sub topic with no subscribers (a preview's breach webhook publishes to
 * it and nobody is emailed). Previews grant their own identities access to the sandbox secrets. The topic is not
 * retained: it holds nothing for longer than ten minutes, and no subscription hangs on it.
 */
export class PreviewPlatform extends pulumi.ComponentResource {
  /** Exported by the stage stack as `previewPlatform`, read by every preview through a StackReference. */
  readonly contract: pulumi.Output<PreviewPlatformContract>;

  constructor(name: string, args: PreviewPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:PreviewPlatform", name, {}, opts);
    const processes = previewProcesses(args.maxPreviews, args.maxInstancesPerPreview);
    const maxConnections = maxConnectionsFor(args.tier, processes, args.connectionPool);
    const instance = new PostgresInstance(
      `${name}-instance`,
      {
        project: args.project,
        region: args.region,
        instanceName: PREVIEW_PLATFORM_NAMES.instance,
        tier: args.tier,
        edition: "ENTERPRISE",
        highAvailability: false,
        // Preview data is disposable: daily backups protect the instance's configuration, not its contents.
        backups: { enabled: true, pointInTimeRecovery: false, retainedBackups: 3, startTime: "05:00" },
        maintenanceWindow: { day: 7, hour: 6 },
        // The instance outlives every preview: `retain` (default true) keeps it from `pulumi destroy` and the console.
        retain: retains(args),
        maxConnections,
        labels: {
          ...args.labels,
          role: "preview-platform",
          [BUDGET_LABELS.maxPreviews]: String(args.maxPreviews),
          [BUDGET_LABELS.maxInstancesPerPreview]: String(args.maxInstancesPerPreview),
          [BUDGET_LABELS.pool]: String(args.connectionPool),
        },
      },
      { parent: this },
    );
    // One preview's user cannot reach another's database: see PreviewDatabaseAdmin and PreviewDatabaseAccess.
    const databaseAdmin = new PreviewDatabaseAdmin(
      `${name}-database-admin`,
      {
        project: args.project,
        region: args.region,
        instance,
        connectionName: `${args.project}:${args.region}:${PREVIEW_PLATFORM_NAMES.instance}`,
        labels: args.labels,
        deployers: {
          ...(args.previewDeployer !== undefined && { "preview-deployer": args.previewDeployer }),
          ...(args.platformDeployer !== undefined && { "platform-deployer": args.platformDeployer }),
        },
        retain: retains(args),
      },
      { parent: this },
    );
    const secrets: Record<string, SecretSource> = Object.fromEntries(
      args.sandboxSecrets.map((variable) => [variable, { kind: "managed" } as const]),
    );
    const sandbox = new AppSecrets(
      `${name}-sandbox`,
      {
        project: args.project,
        secretIdOf: PREVIEW_PLATFORM_NAMES.sandboxSecretId,
        secrets,
        labels: { ...args.labels, role: "preview-sandbox" },
        retain: retains(args),
      },
      { parent: this },
    );
    const topic = new gcp.pubsub.Topic(
      `${name}-topic`,
      {
        project: args.project,
        name: PREVIEW_PLATFORM_NAMES.topic,
        labels: args.labels,
        messageRetentionDuration: "600s",
      },
      { parent: this },
    );
    if (args.previewDeployer !== undefined) {
      new gcp.pubsub.TopicIAMMember(
        `${name}-topic-preview-deployer`,
        { project: args.project, topic: topic.name, role: "roles/pubsub.admin", member: args.previewDeployer },
        { parent: this },
      );
    }
    const sandboxSecrets = pulumi.all(
      Object.fromEntries(Object.entries(sandbox.refs).map(([variable, ref]) => [variable, ref.secret])),
    );
    this.contract = pulumi
      .all([instance.instanceName, instance.connectionName, sandboxSecrets, topic.name, databaseAdmin.admin])
      .apply(([instanceName, connectionName, secretNames, pubsubTopic, admin]) => ({
        project: args.project,
        region: args.region,
        instanceName,
        connectionName,
        sandboxSecrets: secretNames,
        pubsubTopic,
        databaseAdmin: admin,
      }));
    this.registerOutputs({ contract: this.contract });
  }
}
