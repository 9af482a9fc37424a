import type { Policies } from "@pulumi/policy";
import { resourcesLabelled } from "./labels";
import { cloudRunImagePinned, cloudRunNoPlainSecrets, cloudRunPublicInvoker, prodWebWarm } from "./cloud-run";
import {
  cloudSqlEncryptedConnections,
  cloudSqlNoOpenPublicIp,
  previewDatabaseUserIsolated,
  prodDatabaseRecoverable,
} from "./cloud-sql";
import { connectionBudget } from "./connection-budget";
import { noBasicRoles, noServiceAccountKeys, workloadIdentityPinsWorkflow, workloadIdentityScoped } from "./iam";
import { prodAlertsNotify } from "./monitoring";
import { previewsInPreviewsProject } from "./projects";
import { previewResourcesDeletable, statefulResourcesProtected } from "./protection";

export { namesRepository, pinsWorkflow } from "./iam";
export { deletionGuards } from "./protection";
export { stackOf } from "./stack";

/**
 * The CrossGuard rules for the monitor project, one file per area as pulumi-policy-aws arranges its own. This module
 * only exports them: constructing a PolicyPack starts the analyzer's server, which only the pack's entry (index.ts)
 * may do. Rules read the stack from each URN (stack.ts), so one pack serves every stack and a rule that concerns one
 * environment says so itself. The order is the order the CLI reports in.
 */
export const policies: Policies = [
  statefulResourcesProtected,
  prodDatabaseRecoverable,
  previewResourcesDeletable,
  resourcesLabelled,
  cloudSqlEncryptedConnections,
  cloudSqlNoOpenPublicIp,
  previewDatabaseUserIsolated,
  cloudRunImagePinned,
  cloudRunNoPlainSecrets,
  cloudRunPublicInvoker,
  prodWebWarm,
  prodAlertsNotify,
  workloadIdentityScoped,
  noServiceAccountKeys,
  connectionBudget,
  previewsInPreviewsProject,
  noBasicRoles,
  workloadIdentityPinsWorkflow,
];
