import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { ENTERPRISE_ONLY_TIER, MAINTENANCE_WINDOW, RETAINED_BACKUPS } from "../shared-rules/cloud-sql";
import { HH_MM } from "../shared-rules/time-of-day";
import { type Grantee, type Retention, retains, waitsFor } from "./options";

export interface PostgresBackups {
  readonly enabled: boolean;
  readonly pointInTimeRecovery: boolean;
  /** How many daily backups to keep. */
  readonly retainedBackups: number;
  /** `HH:MM` (UTC) when the daily backup window starts. */
  readonly startTime: string;
}

export interface PostgresInstanceArgs extends Retention {
  readonly project: pulumi.Input<string>;
  readonly region: string;
  readonly instanceName: string;
  /** @default "POSTGRES_16" */
  readonly databaseVersion?: string;
  /** Machine type, e.g. `db-custom-1-3840` or `db-g1-small`. */
  readonly tier: string;
  /**
   * Postgres 16+ would otherwise default to `ENTERPRISE_PLUS`, which rejects shared-core and `db-custom-*` tiers at
   * create time.
   * @default "ENTERPRISE"
   */
  readonly edition?: "ENTERPRISE" | "ENTERPRISE_PLUS";
  /** A standby in a second zone (`REGIONAL`); needs backups with point-in-time recovery. */
  readonly highAvailability: boolean;
  readonly backups: PostgresBackups;
  /** Keep automated backups after the instance is deleted, so a mistaken delete is recoverable. @default true */
  readonly retainBackupsOnDelete?: boolean;
  /**
   * When Google may restart the instance for updates: `day` 1 (Monday) to 7, `hour` 0-23 UTC.
   * @default none: Google picks
   */
  readonly maintenanceWindow?: { readonly day: number; readonly hour: number };
  /**
   * The `max_connections` flag, always set: Cloud SQL's default depends on the tier's memory, so a tier change
   * would otherwise silently change how many app processes fit (see shared-rules/connection-budget.ts).
   */
  readonly maxConnections: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** A Cloud SQL instance: this stack's PostgresInstance, or another stack's known only by name (as previews see it). */
export interface CloudSqlInstanceRef {
  readonly project: pulumi.Input<string>;
  readonly instanceName: pulumi.Input<string>;
  /** `project:region:instance`. */
  readonly connectionName: pulumi.Input<string>;
}

/**
 * Lets `grantee` connect to this one instance through the Cloud SQL connector: `roles/cloudsql.client`, bound in the
 * instance's project (a binding covers only its own project's instances, wherever the caller runs) and conditioned
 * on exactly this instance, so a preview's identity cannot reach stage's or prod's database. Named
 * `<name>-cloudsql-client-<key>`.
 */
export function grantCloudSqlConnect(
  name: string,
  instance: CloudSqlInstanceRef,
  grantee: Grantee,
  opts: pulumi.CustomResourceOptions,
): gcp.projects.IAMMember {
  const where = pulumi.output(instance.connectionName).apply((c) => {
    const [project, , id] = c.split(":");
    return { project, resourceName: `projects/${project}/instances/${id}` };
  });
  return new gcp.projects.IAMMember(
    `${name}-cloudsql-client-${grantee.key}`,
    {
      project: where.project,
      role: "roles/cloudsql.client",
      member: grantee.member,
      condition: {
        title: "own-instance-only",
        description: "Connect only to this environment's Cloud SQL instance",
        expression: pulumi.interpolate`resource.name == "${where.resourceName}"`,
      },
    },
    opts,
  );
}

/** The argument errors, each a sentence that says what to change; empty when the args are usable. */
function argumentErrors(name: string, args: PostgresInstanceArgs, edition: string): string[] {
  const errors: string[] = [];
  const { backups, maintenanceWindow: window, maxConnections } = args;
  if (args.highAvailability && !(backups.enabled && backups.pointInTimeRecovery)) {
    errors.push(
      "highAvailability (availabilityType REGIONAL) needs backups.enabled and backups.pointInTimeRecovery; " +
        "enable both or set highAvailability: false",
    );
  }
  if (backups.pointInTimeRecovery && !backups.enabled) {
    errors.push("backups.pointInTimeRecovery needs backups.enabled");
  }
  if (!HH_MM.test(backups.startTime)) {
    errors.push(`backups.startTime must be HH:MM (UTC), got "${backups.startTime}"`);
  }
  if (!inRange(backups.retainedBackups, RETAINED_BACKUPS)) {
    errors.push(`backups.retainedBackups must be an integer from 1 to 365, got ${backups.retainedBackups}`);
  }
  if (edition === "ENTERPRISE_PLUS" && ENTERPRISE_ONLY_TIER.test(args.tier)) {
    errors.push(`tier ${args.tier} exists only in the ENTERPRISE edition; set edition: "ENTERPRISE"`);
  }
  if (window && !(inRange(window.day, MAINTENANCE_WINDOW.day) && inRange(window.hour, MAINTENANCE_WINDOW.hour))) {
    errors.push(`maintenanceWindow needs day 1-7 and hour 0-23, got day ${window.day} hour ${window.hour}`);
  }
  if (!(Number.isInteger(maxConnections) && maxConnections > 0)) {
    errors.push(`maxConnections must be a positive integer, got ${maxConnections}`);
  }
  return errors.map((e) => `PostgresInstance "${name}": ${e}`);
}

function inRange(n: number, { min, max }: { readonly min: number; readonly max: number }): boolean {
  return Number.isInteger(n) && n >= min && n <= max;
}

/**
 * One Cloud SQL for PostgreSQL instance with safe defaults. Its only way in is the Cloud SQL connector: the Cloud
 * Run volume (the Auth Proxy) authenticates with the caller's IAM identity (`roles/cloudsql.client`) and encrypts the
 * connection, so the instance has a public IPv4 address but no authorized networks, refuses connections that do not
 * come through a connector, and refuses unencrypted ones. No VPC or private services access is needed for that.
 */
export class PostgresInstance extends pulumi.ComponentResource implements CloudSqlInstanceRef {
  readonly project: pulumi.Output<string>;
  readonly instanceName: pulumi.Output<string>;
  /** `project:region:instance`, for the Cloud SQL volume and `PG_HOST`. */
  readonly connectionName: pulumi.Output<string>;
  private readonly name: string;

  constructor(name: string, args: PostgresInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    const edition = args.edition ?? "ENTERPRISE";
    // Refuse before anything is registered: a half-described instance is worse than none.
    const errors = argumentErrors(name, args, edition);
    if (errors.length > 0) throw new Error(errors.join("\n"));
    super("monitor:components:PostgresInstance", name, {}, opts);
    this.name = name;
    // Retained: Pulumi's protect, the provider's flag and GCP's own (every API surface refuses the delete).
    const retain = retains(args);

    const { backups } = args;
    const instance = new gcp.sql.DatabaseInstance(
      name,
      {
        project: args.project,
        region: args.region,
        name: args.instanceName,
        databaseVersion: args.databaseVersion ?? "POSTGRES_16",
        deletionProtection: retain,
        settings: {
          tier: args.tier,
          edition,
          availabilityType: args.highAvailability ? "REGIONAL" : "ZONAL",
          deletionProtectionEnabled: retain,
          retainBackupsOnDelete: args.retainBackupsOnDelete ?? true,
          userLabels: args.labels,
          backupConfiguration: {
            enabled: backups.enabled,
            pointInTimeRecoveryEnabled: backups.pointInTimeRecovery,
            startTime: backups.startTime,
            backupRetentionSettings: { retainedBackups: backups.retainedBackups, retentionUnit: "COUNT" },
          },
          ipConfiguration: {
            // A public address with an empty allow-list: nothing reaches it except through the connector below.
            ipv4Enabled: true,
            authorizedNetworks: [],
            sslMode: "ENCRYPTED_ONLY",
          },
          // Only the Auth Proxy and the language connectors, which check IAM, may connect; this also rules out
          // allow-listing an address later (`gcloud sql connect` without --beta does that).
          connectorEnforcement: "REQUIRED",
          ...(args.maintenanceWindow && {
            maintenanceWindow: { day: args.maintenanceWindow.day, hour: args.maintenanceWindow.hour },
          }),
          databaseFlags: [{ name: "max_connections", value: String(args.maxConnections) }],
        },
      },
      waitsFor(this, opts, { protect: retain }),
    );
    this.project = pulumi.output(args.project);
    this.instanceName = instance.name;
    this.connectionName = instance.connectionName;
    this.registerOutputs({ instanceName: this.instanceName, connectionName: this.connectionName });
  }

  /** Lets `grantee` connect to this instance, and to no other; see grantCloudSqlConnect. */
  grantConnect(grantee: Grantee): gcp.projects.IAMMember {
    return grantCloudSqlConnect(this.name, this, grantee, { parent: this });
  }
}
