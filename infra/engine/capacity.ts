import {
  BUDGET_LABELS,
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  connectionsNeeded,
  defaultMaxConnections,
  maxConnectionsFor,
  previewProcesses,
} from "../../shared-rules/connection-budget";
import type { Evaluation } from "./evaluate";

/**
 * How many previews the shared preview instance holds, and the plan's warning as the configured cap
 * (`monitor:preview.maxActive`) approaches what the instance's tier can reasonably hold.
 *
 * "Reasonably hold" is the tier's default max_connections. The program always raises max_connections to what
 * the cap needs (so the connection budget policy passes), but Cloud SQL derives that default from the instance's
 * memory, and every Postgres connection is a backend process with its own memory (work_mem per sort or hash,
 * temp_buffers, catalog caches) on top of the shared_buffers that take a third of it
 * (https://cloud.google.com/sql/docs/postgres/manage-memory-usage-best-practices). Past the default, a busy hour
 * of previews can run the instance out of memory, which restarts it under every preview at once. The warning
 * starts at 80 % of the default, so that it comes one cap change before the line, not after it.
 */
export const WARN_AT_FRACTION_OF_DEFAULT = 0.8;

export interface PreviewSizing {
  tier: string;
  maxPreviews: number;
  maxInstancesPerPreview: number;
  /** Connections one app process may open. */
  pool: number;
}

export interface PreviewCapacity extends PreviewSizing {
  /** Connections the cap needs: every preview's instances and migration at full pools, plus the reserve. */
  needed: number;
  /** max_connections the instance is given. */
  maxConnections: number;
  /** The tier's default max_connections, where Cloud SQL documents it. */
  tierDefault?: number;
  /** Previews that fit in max_connections, and in the tier's default. */
  admitted: number;
  admittedAtTierDefault?: number;
}

/** Previews whose every process can hold a full pool within `maxConnections`. */
export function previewsAdmitted(maxConnections: number, pool: number, maxInstancesPerPreview: number): number {
  const perPreview = pool * (maxInstancesPerPreview + MIGRATION_TASKS_PER_PREVIEW);
  return Math.max(0, Math.floor((maxConnections - RESERVED_CONNECTIONS) / perPreview));
}

export function previewCapacity(sizing: PreviewSizing): PreviewCapacity {
  const processes = previewProcesses(sizing.maxPreviews, sizing.maxInstancesPerPreview);
  const tierDefault = defaultMaxConnections(sizing.tier);
  const maxConnections = maxConnectionsFor(sizing.tier, processes, sizing.pool);
  return {
    ...sizing,
    needed: connectionsNeeded(processes, sizing.pool),
    maxConnections,
    tierDefault,
    admitted: previewsAdmitted(maxConnections, sizing.pool, sizing.maxInstancesPerPreview),
    ...(tierDefault !== undefined && {
      admittedAtTierDefault: previewsAdmitted(tierDefault, sizing.pool, sizing.maxInstancesPerPreview),
    }),
  };
}

/** Custom tiers by size, for the fix the warning suggests. */
const LARGER_TIERS = [
  "db-custom-1-3840",
  "db-custom-2-7680",
  "db-custom-4-15360",
  "db-custom-8-30720",
  "db-custom-16-61440",
];

/** The warning line for the plan, or undefined when the cap sits well inside the tier (or its default is unknown). */
export function capacityWarning(c: PreviewCapacity): string | undefined {
  if (c.tierDefault === undefined || c.needed < WARN_AT_FRACTION_OF_DEFAULT * c.tierDefault) return undefined;
  const sizing =
    `${c.maxPreviews} previews x (${c.maxInstancesPerPreview} instances + ${MIGRATION_TASKS_PER_PREVIEW} migration) ` +
    `x pool ${c.pool} + ${RESERVED_CONNECTIONS} reserved`;
  const over = c.needed > c.tierDefault;
  const share = over
    ? `${(c.needed / c.tierDefault).toFixed(1)}x`
    : `${Math.round((100 * c.needed) / c.tierDefault)} % of`;
  const bigger = LARGER_TIERS.find((t) => (defaultMaxConnections(t) ?? 0) >= c.needed);
  return (
    `warning: monitor:preview.maxActive ${c.maxPreviews} needs ${c.needed} connections on the shared preview ` +
    `instance (${sizing}), ${share} the ${c.tierDefault} that ${c.tier} is sized for` +
    (over ? `; max_connections is raised to ${c.maxConnections}, past what its memory holds comfortably` : "") +
    `. The tier's default admits ${c.admittedAtTierDefault} concurrent previews. Fix: lower monitor:preview.maxActive ` +
    `or monitor:preview.maxInstances in Pulumi.yaml, or set monitor:preview.instanceTier to a larger tier` +
    (bigger ? ` (${bigger} is sized for ${defaultMaxConnections(bigger)})` : "") +
    "."
  );
}

/** The shared instance's sizing as the stage stack declares it (its labels), or undefined in other stacks. */
export function platformSizing(evaluation: Evaluation): PreviewSizing | undefined {
  // The instance's inputs as the provider received them: its tier and the labels the stage stack sets.
  type Inputs = { settings?: { tier: string; userLabels?: Record<string, string> } };
  const instance = evaluation.registrations.find(
    (r) =>
      r.type === "gcp:sql/databaseInstance:DatabaseInstance" &&
      (r.inputs as Inputs).settings?.userLabels?.role === "preview-platform",
  );
  if (!instance) return undefined;
  const settings = (instance.inputs as Inputs).settings!;
  const labels = settings.userLabels!;
  return {
    tier: settings.tier,
    maxPreviews: Number(labels[BUDGET_LABELS.maxPreviews]),
    maxInstancesPerPreview: Number(labels[BUDGET_LABELS.maxInstancesPerPreview]),
    pool: Number(labels[BUDGET_LABELS.pool]),
  };
}

export function renderCapacity(c: PreviewCapacity): string {
  const lines = [
    `Preview capacity: ${c.tier}, max_connections ${c.maxConnections} (tier default ${c.tierDefault ?? "unknown"}), ` +
      `pool ${c.pool}, ${c.maxInstancesPerPreview} instances per preview: admits ${c.admitted} concurrent previews` +
      (c.admittedAtTierDefault !== undefined ? ` (${c.admittedAtTierDefault} at the tier's default)` : "") +
      `; the cap is ${c.maxPreviews}.`,
  ];
  const warning = capacityWarning(c);
  if (warning) lines.push(warning);
  return lines.join("\n");
}
