import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import * as sql from "@pulumi/gcp/sql";
import {
  BUDGET_LABELS,
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  connectionsNeeded,
  previewProcesses,
} from "../shared-rules/connection-budget";
import type { Props } from "./stack";

/** Connections: every Cloud SQL instance has room for every app process that may use it at once. */

function positiveInteger(text: unknown): number | undefined {
  return typeof text === "string" && /^[1-9][0-9]*$/.test(text) ? Number(text) : undefined;
}

/** How many app processes a Cloud Run resource may run at once, each with its own pool. */
const PROCESSES_OF: Readonly<Record<string, (props: Props) => number>> = {
  // Cloud Run's default maximum is 100 instances.
  "gcp:cloudrunv2/service:Service": (p) => p.template?.scaling?.maxInstanceCount ?? 100,
  "gcp:cloudrunv2/workerPool:WorkerPool": (p) => p.scaling?.manualInstanceCount ?? 1,
  "gcp:cloudrunv2/job:Job": (p) => p.template?.parallelism || p.template?.taskCount || 1,
};

/**
 * Who may connect to an instance at once. The shared preview instance serves other stacks, so it says what it is
 * sized for in its labels; any other instance serves the Cloud Run resources of its own stack whose inputs are
 * built from it (its connection name in their Cloud SQL volume and PG_HOST), counted here from their scaling.
 */
function processesOf(instance: PolicyResource, labels: Record<string, string>, all: PolicyResource[]) {
  if (labels.role === "preview-platform") {
    const maxPreviews = positiveInteger(labels[BUDGET_LABELS.maxPreviews]);
    const perPreview = positiveInteger(labels[BUDGET_LABELS.maxInstancesPerPreview]);
    if (maxPreviews === undefined || perPreview === undefined) return undefined;
    return {
      processes: previewProcesses(maxPreviews, perPreview),
      what: `${maxPreviews} previews x (${perPreview} instances + ${MIGRATION_TASKS_PER_PREVIEW} migration task)`,
    };
  }
  const clients = all.filter(
    (r) =>
      r.type in PROCESSES_OF &&
      Object.values(r.propertyDependencies).some((deps) => deps.some((d) => d.urn === instance.urn)),
  );
  if (clients.length === 0) return { processes: 0, what: "no app processes" };
  const counts = clients.map((r) => ({ name: r.name, n: PROCESSES_OF[r.type](r.props) }));
  return {
    processes: counts.reduce((sum, c) => sum + c.n, 0),
    what: counts.map((c) => `${c.name} ${c.n}`).join(" + ") + " processes",
  };
}

export const connectionBudget: StackValidationPolicy = {
  name: "connection-budget",
  description: "Every Cloud SQL instance has connections for every app process that may use it at once.",
  // Mandatory: an over-committed instance fails requests at random in whichever process connects last.
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const instances = args.resources.filter((r) => r.isType(sql.DatabaseInstance));
    if (instances.length === 0) return args.notApplicable("no Cloud SQL instance in this stack");
    for (const resource of instances) {
      const report = (message: string) => reportViolation(`${resource.name} ${message}`, resource.urn);
      const { userLabels: labels = {}, databaseFlags = [] } = (resource.props.settings ?? {}) as Props;
      const flag = (databaseFlags as Props[]).find((f) => f.name === "max_connections");
      const limit = positiveInteger(flag?.value);
      if (limit === undefined) {
        report(
          "has no max_connections flag of a positive integer: set it explicitly (the default moves with the tier)",
        );
        continue;
      }
      const pool = positiveInteger(labels[BUDGET_LABELS.pool]);
      const sized = processesOf(resource, labels, args.resources);
      if (pool === undefined || sized === undefined) {
        const needs =
          labels.role === "preview-platform"
            ? `${BUDGET_LABELS.maxPreviews}, ${BUDGET_LABELS.maxInstancesPerPreview} and `
            : "";
        report(`needs the userLabels ${needs}${BUDGET_LABELS.pool}, as positive integers`);
        continue;
      }
      const needed = connectionsNeeded(sized.processes, pool);
      if (needed > limit) {
        report(
          `needs ${needed} connections: ${sized.what} x ${pool} per knex pool + ${RESERVED_CONNECTIONS} reserved, ` +
            `but its max_connections flag allows ${limit}. Lower the instance counts, or raise max_connections`,
        );
      }
    }
  },
};
