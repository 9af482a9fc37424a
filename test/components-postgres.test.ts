import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../infra/engine/evaluate";
import { one, evaluateComponent } from "./harness";
import { PostgresInstance, type PostgresInstanceArgs, grantCloudSqlConnect } from "../components/postgres-instance";

const INSTANCE = "gcp:sql/databaseInstance:DatabaseInstance";
const COMPONENT = "monitor:components:PostgresInstance";

/** What stage would ask for: a dedicated instance, highly available, protected every way. */
const STAGE: PostgresInstanceArgs = {
  project: "moz-fx-monitor-nonprod",
  region: "us-central1",
  instanceName: "monitor-stage",
  tier: "db-custom-1-3840",
  highAvailability: true,
  backups: { enabled: true, pointInTimeRecovery: true, retainedBackups: 14, startTime: "03:00" },
  maintenanceWindow: { day: 2, hour: 5 },
  maxConnections: 200,
  labels: { app: "monitor", environment: "stage" },
};

function planInstance(args: PostgresInstanceArgs): Promise<Evaluation> {
  return evaluateComponent(() => {
    const db = new PostgresInstance("postgres", args);
    return { instanceName: db.instanceName, connectionName: db.connectionName };
  });
}

const settingsOf = (ev: Evaluation) => (one(ev, INSTANCE).inputs as any).settings;

describe("PostgresInstance for stage or prod", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await planInstance(STAGE);
  });

  it("creates one Postgres 16 instance inside the component, with a custom tier in the ENTERPRISE edition", () => {
    const instance = one(ev, INSTANCE);
    expect(instance.parent).toBe(one(ev, COMPONENT).urn);
    expect(instance.inputs).toMatchObject({
      project: "moz-fx-monitor-nonprod",
      region: "us-central1",
      name: "monitor-stage",
      databaseVersion: "POSTGRES_16",
    });
    expect(settingsOf(ev)).toMatchObject({ tier: "db-custom-1-3840", edition: "ENTERPRISE" });
  });

  it("is highly available, with backups and point-in-time recovery kept after a delete", () => {
    expect(settingsOf(ev)).toMatchObject({
      availabilityType: "REGIONAL",
      retainBackupsOnDelete: true,
      backupConfiguration: {
        enabled: true,
        pointInTimeRecoveryEnabled: true,
        startTime: "03:00",
        backupRetentionSettings: { retainedBackups: 14, retentionUnit: "COUNT" },
      },
    });
  });

  it("is protected by Pulumi, by the provider and by GCP itself", () => {
    const instance = one(ev, INSTANCE);
    expect(instance.protect).toBe(true);
    expect(instance.inputs.deletionProtection).toBe(true);
    expect(settingsOf(ev).deletionProtectionEnabled).toBe(true);
  });

  it("is reachable only through the IAM-checked connector, encrypted, with no authorized networks", () => {
    const settings = settingsOf(ev);
    expect(settings.connectorEnforcement).toBe("REQUIRED");
    expect(settings.ipConfiguration.sslMode).toBe("ENCRYPTED_ONLY");
    expect(settings.ipConfiguration.ipv4Enabled).toBe(true);
    expect(settings.ipConfiguration.authorizedNetworks ?? []).toEqual([]);
    expect(settings.ipConfiguration.privateNetwork).toBeUndefined();
  });

  it("sets max_connections, the maintenance window and the labels", () => {
    const settings = settingsOf(ev);
    expect(settings.databaseFlags).toEqual([{ name: "max_connections", value: "200" }]);
    expect(settings.maintenanceWindow).toEqual({ day: 2, hour: 5 });
    expect(settings.userLabels).toEqual({ app: "monitor", environment: "stage" });
  });

  it("outputs the instance name and the connection name the Cloud SQL volume takes", () => {
    expect(ev.outputs.instanceName.value).toBe("monitor-stage");
    expect(ev.outputs.connectionName.value).toBe("moz-fx-monitor-nonprod:us-central1:monitor-stage");
  });
});

describe("PostgresInstance with the lightest settings", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await planInstance({
      ...STAGE,
      instanceName: "monitor-previews",
      tier: "db-g1-small",
      highAvailability: false,
      backups: { enabled: true, pointInTimeRecovery: false, retainedBackups: 3, startTime: "04:30" },
      maintenanceWindow: undefined,
      maxConnections: 50,
      retain: false,
    });
  });

  it("is zonal, shared-core in the ENTERPRISE edition, and deletable", () => {
    const instance = one(ev, INSTANCE);
    expect(settingsOf(ev)).toMatchObject({ tier: "db-g1-small", edition: "ENTERPRISE", availabilityType: "ZONAL" });
    expect(instance.protect).toBe(false);
    expect(instance.inputs.deletionProtection).toBe(false);
    expect(settingsOf(ev).deletionProtectionEnabled).toBe(false);
  });

  it("keeps Cloud SQL's defaults where nothing was asked, but always sets max_connections and connector-only access", () => {
    const settings = settingsOf(ev);
    expect(settings.databaseFlags).toEqual([{ name: "max_connections", value: "50" }]);
    expect(settings.maintenanceWindow).toBeUndefined();
    expect(settings.ipConfiguration.sslMode).toBe("ENCRYPTED_ONLY");
    expect(settings.connectorEnforcement).toBe("REQUIRED");
  });
});

describe("PostgresInstance refuses settings GCP would reject", () => {
  it("refuses high availability without point-in-time recovery", async () => {
    await expect(planInstance({ ...STAGE, backups: { ...STAGE.backups, pointInTimeRecovery: false } })).rejects.toThrow(
      /PostgresInstance "postgres": highAvailability .* needs backups.enabled and backups.pointInTimeRecovery/,
    );
  });

  it("refuses high availability without backups", async () => {
    await expect(planInstance({ ...STAGE, backups: { ...STAGE.backups, enabled: false } })).rejects.toThrow(
      /highAvailability .* needs backups\.enabled/,
    );
  });

  it("refuses a custom or shared-core tier in the ENTERPRISE_PLUS edition", async () => {
    await expect(planInstance({ ...STAGE, edition: "ENTERPRISE_PLUS" })).rejects.toThrow(
      /tier db-custom-1-3840 exists only in the ENTERPRISE edition/,
    );
  });

  it("refuses a backup start time that is not HH:MM and an impossible maintenance window, in one message", async () => {
    const refused = planInstance({
      ...STAGE,
      backups: { ...STAGE.backups, startTime: "3am" },
      maintenanceWindow: { day: 0, hour: 24 },
    });
    await expect(refused).rejects.toThrow(/backups\.startTime must be HH:MM \(UTC\), got "3am"/);
    await expect(refused).rejects.toThrow(/maintenanceWindow needs day 1-7 and hour 0-23/);
  });
});

describe("connecting to an instance", () => {
  const CLIENT = "gcp:projects/iAMMember:IAMMember";
  const RUNTIME = {
    key: "runtime",
    member: "serviceAccount:monitor-stage-run@moz-fx-monitor-nonprod.iam.gserviceaccount.com",
  };

  it("grants cloudsql.client in the instance's project, on that instance alone, named after the grantee", async () => {
    const ev = await evaluateComponent(() => {
      new PostgresInstance("postgres", STAGE).grantConnect(RUNTIME);
      return {};
    });
    const grant = one(ev, CLIENT);
    expect(grant.name).toBe("postgres-cloudsql-client-runtime");
    expect(grant.parent).toBe(one(ev, COMPONENT).urn);
    expect(grant.inputs).toMatchObject({
      project: "moz-fx-monitor-nonprod",
      role: "roles/cloudsql.client",
      member: RUNTIME.member,
      condition: { expression: 'resource.name == "projects/moz-fx-monitor-nonprod/instances/monitor-stage"' },
    });
  });

  it("does the same for an instance known only by its connection name, in that instance's project", async () => {
    const ev = await evaluateComponent(() => {
      const instance = {
        project: "moz-fx-other",
        instanceName: "shared",
        connectionName: "moz-fx-other:us-central1:shared",
      };
      grantCloudSqlConnect("shared-instance", instance, RUNTIME, {});
      return {};
    });
    expect(one(ev, CLIENT).name).toBe("shared-instance-cloudsql-client-runtime");
    expect(one(ev, CLIENT).inputs).toMatchObject({
      project: "moz-fx-other",
      condition: { expression: 'resource.name == "projects/moz-fx-other/instances/shared"' },
    });
  });
});
