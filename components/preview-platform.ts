import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import type { PreviewPlatform as PreviewPlatformContract } from "../infra/platform";
import { BUDGET_LABELS, maxConnectionsFor, previewProcesses } from "../shared-rules/connection-budget";
import { AppSecrets, type SecretSource } from "./app-secrets";
import { ImageRegistry } from "./image-registry";
import { type Grantee, type Retention, retains } from "./options";
import { PostgresInstance } from "./postgres-instance";
import { PreviewDatabaseAdmin } from "./preview-database-admin";

export interface PreviewPlatformArgs extends Retention {
  /** The previews' own GCP project: nothing of stage or prod lives there. */
  readonly project: string;
  readonly region: string;
  /** Previews that may hold database connections at once, and how many Cloud Run instances each may scale to. */
  readonly maxActivePreviews: number;
  readonly maxInstancesPerPreview: number;
  /** Connections one app process may open (`monitor:connectionPool`). */
  readonly connectionPool: number;
  /** Machine type of the shared instance. */
  readonly tier: string;
  /** Sandbox credentials every preview reads (never production ones); SRE adds their versions. */
  readonly sandboxSecrets: readonly string[];
  /** Where previews push their images: `<location>-docker.pkg.dev/<project>/<repository>`'s location. */
  readonly registryRegion: string;
  /** A PR's image is deleted this many days after its upload. */
  readonly imageTtlDays: number;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The service account the database admin's jobs run as (`databaseAdminEmail()`, infra/pipeline-contract.ts): the
   * pipeline stack creates it outside this project, whose service accounts are one per open preview.
   */
  readonly databaseAdminAccount: string;
}

/**
 * The permissions a preview's deployer needs on what the platform owns, and nothing more: to grant its preview's
 * runtime account publish and view on the topic and access to the sandbox secrets, it reads and sets their IAM
 * policies (`setIamPolicy`); it can neither read a sandbox value nor delete, update or publish to anything here.
 */
const GRANTOR_PERMISSIONS = [
  "pubsub.topics.get",
  "pubsub.topics.getIamPolicy",
  "pubsub.topics.setIamPolicy",
  "secretmanager.secrets.get",
  "secretmanager.secrets.getIamPolicy",
  "secretmanager.secrets.setIamPolicy",
] as const;

/**
 * What every preview shares, owned by the `previews` stack in the previews' own project: one Cloud SQL instance
 * sized for the previews that may be active at once, the sandbox secrets, a Pub/Sub topic with no subscribers (a
 * preview's breach webhook publishes to it and nobody is emailed), and the registry previews push their images to
 * (apart from the one stage and prod deploy from, so that no preview can overwrite a release's tag). Previews grant
 * their own identities access to the secrets and the topic, through `grantPreviewDeployer`. The topic is not
 * retained: it holds nothing for longer than ten minutes, and no subscription hangs on it.
 */
export class PreviewPlatform extends pulumi.ComponentResource {
  /** Exported by the previews stack as `previewPlatform`, read by every preview through a StackReference. */
  readonly contract: pulumi.Output<PreviewPlatformContract>;
  private readonly baseName: string;
  private readonly args: PreviewPlatformArgs;
  private readonly topic: gcp.pubsub.Topic;
  private readonly sandbox: AppSecrets;
  private readonly registry: ImageRegistry;
  private readonly grantorRole: gcp.projects.IAMCustomRole;

  constructor(name: string, args: PreviewPlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:PreviewPlatform", name, {}, opts);
    this.baseName = name;
    this.args = args;
    const processes = previewProcesses(args.maxActivePreviews, args.maxInstancesPerPreview);
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
          [BUDGET_LABELS.maxPreviews]: String(args.maxActivePreviews),
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
        serviceAccountEmail: args.databaseAdminAccount,
        retain: retains(args),
      },
      { parent: this },
    );
    const secrets: Record<string, SecretSource> = Object.fromEntries(
      args.sandboxSecrets.map((variable) => [variable, { kind: "managed" } as const]),
    );
    this.sandbox = new AppSecrets(
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
    this.topic = new gcp.pubsub.Topic(
      `${name}-topic`,
      {
        project: args.project,
        name: PREVIEW_PLATFORM_NAMES.topic,
        labels: args.labels,
        messageRetentionDuration: "600s",
      },
      { parent: this },
    );
    this.registry = new ImageRegistry(
      `${name}-images`,
      {
        project: args.project,
        region: args.registryRegion,
        repositoryId: PREVIEW_PLATFORM_NAMES.registry,
        prImageTtlDays: args.imageTtlDays,
        untaggedTtlDays: args.imageTtlDays,
        labels: args.labels,
        retain: retains(args),
      },
      { parent: this },
    );
    // A deleted custom role's id stays reserved for 37 days (https://cloud.google.com/iam/docs/creating-custom-roles#deleting-custom-role).
    this.grantorRole = new gcp.projects.IAMCustomRole(
      `${name}-grantor-role`,
      {
        project: args.project,
        roleId: PREVIEW_PLATFORM_NAMES.grantorRole,
        title: "Monitor preview grantor",
        description: "Grants a preview's runtime account the platform's topic and sandbox secrets; reads no value",
        permissions: [...GRANTOR_PERMISSIONS],
        stage: "GA",
      },
      { parent: this, protect: retains(args) },
    );
    const sandboxSecrets = pulumi.all(
      Object.fromEntries(Object.entries(this.sandbox.refs).map(([variable, ref]) => [variable, ref.secret])),
    );
    this.contract = pulumi
      .all([instance.instanceName, instance.connectionName, sandboxSecrets, this.topic.name, databaseAdmin.admin])
      .apply(([instanceName, connectionName, secretNames, pubsubTopic, admin]) => ({
        project: args.project,
        region: args.region,
        instanceName,
        connectionName,
        sandboxSecrets: secretNames,
        pubsubTopic,
        imageRepository: this.registry.host,
        databaseAdmin: admin,
      }));
    this.registerOutputs({ contract: this.contract });
  }

  /**
   * Lets the identity that deploys previews grant each preview's own runtime account the topic and the sandbox
   * secrets (the platform's custom grantor role, bound on exactly those resources) and push the previews' images.
   * Bindings are named `<name>-<what>-<key>`.
   */
  grantPreviewDeployer(deployer: Grantee): void {
    // The role's name as the provider documents its `name` output (projects/{{project}}/roles/{{role_id}}),
    // known at plan time so that the plan and the policy pack can read it; dependsOn keeps the order.
    const role = `projects/${this.args.project}/roles/${PREVIEW_PLATFORM_NAMES.grantorRole}`;
    new gcp.pubsub.TopicIAMMember(
      `${this.baseName}-topic-grantor-${deployer.key}`,
      { project: this.args.project, topic: this.topic.name, role, member: deployer.member },
      { parent: this, dependsOn: [this.grantorRole] },
    );
    this.sandbox.grantRole(role, "grantor", deployer, [this.grantorRole]);
    this.registry.grantPush(deployer);
  }
}
