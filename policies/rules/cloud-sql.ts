import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as sql from "@pulumi/gcp/sql";
import { CLOUDSQL_SUPERUSER, PREVIEW_DATABASE_ROLE, SHARED_PREVIEW_INSTANCE } from "../shared-rules/preview-database";
import { UNKNOWN, knownOr, stackOf } from "./stack";

/** Cloud SQL: prod's data survives a bad migration or a zone outage, and no instance is open to the internet. */

export const prodDatabaseRecoverable: ResourceValidationPolicy = {
  name: "prod-database-recoverable",
  description: "Prod Cloud SQL has backups, point-in-time recovery and a standby in a second zone.",
  // Mandatory: without these a bad migration or a zone outage loses users' data or takes Monitor down.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "prod") return args.notApplicable("only prod");
    const settings = instance.settings;
    if (settings?.backupConfiguration?.enabled !== true) {
      reportViolation(`${args.name} has no automated backups: set settings.backupConfiguration.enabled: true`);
    }
    if (settings?.backupConfiguration?.pointInTimeRecoveryEnabled !== true) {
      reportViolation(
        `${args.name} has no point-in-time recovery: set settings.backupConfiguration.pointInTimeRecoveryEnabled: true`,
      );
    }
    if (settings?.availabilityType !== "REGIONAL") {
      reportViolation(
        `${args.name} is not highly available (availabilityType ${settings?.availabilityType ?? "unset"}): ` +
          'set settings.availabilityType: "REGIONAL"',
      );
    }
  }),
};

const ENCRYPTED_SSL_MODES = ["ENCRYPTED_ONLY", "TRUSTED_CLIENT_CERTIFICATE_REQUIRED"];

export const cloudSqlEncryptedConnections: ResourceValidationPolicy = {
  name: "cloudsql-encrypted-connections",
  description: "Cloud SQL instances refuse unencrypted connections.",
  // Mandatory: database credentials and users' data would otherwise cross the network in clear.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    const sslMode = instance.settings?.ipConfiguration?.sslMode;
    if (!sslMode || !ENCRYPTED_SSL_MODES.includes(sslMode)) {
      reportViolation(
        `${args.name} accepts unencrypted connections (sslMode ${sslMode ?? "unset"}): ` +
          'set settings.ipConfiguration.sslMode: "ENCRYPTED_ONLY"',
      );
    }
  }),
};

/**
 * A public IP is allowed only with `connectorEnforcement: "REQUIRED"`: then every connection goes through the Cloud
 * SQL connector or Auth Proxy, which checks IAM, and GCP rejects direct ones, so the address is reachable but not
 * usable. Without it, an authorized network lets a password alone in. A network open to all of the internet is
 * refused even with enforcement, since lifting enforcement would then expose the instance at once.
 */
export const cloudSqlNoOpenPublicIp: ResourceValidationPolicy = {
  name: "cloudsql-no-open-public-ip",
  description: "Cloud SQL instances are not reachable from the internet except through the Cloud SQL connector.",
  // Mandatory: an exposed Postgres is brute-forced within hours.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.DatabaseInstance, (instance, args, reportViolation) => {
    const ip = instance.settings?.ipConfiguration;
    const open = (ip?.authorizedNetworks ?? []).filter((n) => /\/0$/.test(n.value));
    if (open.length > 0) {
      reportViolation(`${args.name} allows ${open.map((n) => n.value).join(", ")}: remove it from authorizedNetworks`);
    }
    // GCP assigns a public address unless told not to.
    const publicIp = ip?.ipv4Enabled !== false;
    if (publicIp && instance.settings?.connectorEnforcement !== "REQUIRED") {
      reportViolation(
        `${args.name} has a public IP that accepts direct connections: set settings.connectorEnforcement: "REQUIRED" ` +
          "(connections only through the Cloud SQL connector) or settings.ipConfiguration.ipv4Enabled: false",
      );
    }
  }),
};

/**
 * A preview's database user never names cloudsqlsuperuser, and on the shared preview instance it is a member of the
 * previews' role alone. Cloud SQL makes a user created with no `databaseRoles` a member of cloudsqlsuperuser
 * (https://cloud.google.com/sql/docs/postgres/users; the Admin API's InitialUser.roles: "If empty, will grant role
 * cloudsqlsuperuser"), and cloudsqlsuperuser owns every database the API creates: such a user could alter or drop
 * every other preview's database (test/preview-database-isolation.test.ts shows it on a real PostgreSQL 16). The
 * preview's database access job refuses such a user at deploy time too; this refuses it before anything is created.
 * A dedicated instance (`monitor:preview.instanceConnectionName`) holds one preview only: there the API's default is
 * harmless, but asking for cloudsqlsuperuser by name is still refused, so that no copy of it reaches the shared one.
 */
export const previewDatabaseUserIsolated: ResourceValidationPolicy = {
  name: "preview-database-user-isolated",
  description: `A preview's database user never names ${CLOUDSQL_SUPERUSER}, and on the shared instance is a member of ${PREVIEW_DATABASE_ROLE} alone.`,
  // Mandatory: pull-request code runs as this user, and cloudsqlsuperuser would reach every other preview's data.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(sql.User, (user, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "preview") return args.notApplicable("only previews share an instance");
    const roles: unknown = knownOr(() => user.databaseRoles, UNKNOWN);
    const list = Array.isArray(roles) ? roles.map(String) : [];
    const fix = `set databaseRoles: ["${PREVIEW_DATABASE_ROLE}"]`;
    if (list.includes(CLOUDSQL_SUPERUSER)) {
      return reportViolation(
        `${args.name} names ${CLOUDSQL_SUPERUSER} in databaseRoles, which owns every database the Cloud SQL API ` +
          `creates and would let pull-request code reach them: ${fix}`,
      );
    }
    // Unknown (a first preview of a platform not yet deployed) counts as shared: the safe reading.
    const instance = knownOr(() => user.instance, UNKNOWN);
    if (instance !== UNKNOWN && instance !== SHARED_PREVIEW_INSTANCE) return;
    if (list.length === 1 && list[0] === PREVIEW_DATABASE_ROLE) return;
    const why =
      roles === UNKNOWN
        ? "has databaseRoles not known before the deploy"
        : list.length === 0
          ? `has no databaseRoles, so Cloud SQL makes it a member of ${CLOUDSQL_SUPERUSER}`
          : `has databaseRoles ${JSON.stringify(list)}`;
    reportViolation(
      `${args.name} ${why}, which would let pull-request code reach other previews' databases on the shared ` +
        `instance: ${fix}`,
    );
  }),
};
