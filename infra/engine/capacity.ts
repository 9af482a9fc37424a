import {
  MIGRATION_TASKS_PER_PREVIEW,
  RESERVED_CONNECTIONS,
  previewConnections,
  tierFor,
} from "../../shared-rules/connection-budget";
import { Refusal } from "../../shared-rules/refusal";
import { PREVIEW_PLATFORM_NAMES } from "../naming";
import { PREVIEW_PLATFORM_OUTPUT, PREVIEW_PLATFORM_STACK } from "../platform";
import { type PreviewsSpec, buildSpec } from "../spec";
import { loadStackConfig } from "./config-files";
import { type Evaluation, type Registration, evaluate } from "./evaluate";
import { mockProjectNumber } from "./mocks";

/**
 * What the previews project holds when every preview that may be open is open (`monitor:preview.maxOpen`) and every
 * one that may be active is busy (`monitor:preview.maxActive`), against the limits GCP documents. Counted from the
 * program itself, not assumed: the plan of the previews stack evaluates a representative preview (`pr-1`, with the
 * committed config and the previews stack's own outputs) and the pipeline stack in-process, and counts what each
 * registers in the previews project. `npm run plan -- previews` prints it and refuses a config that does not fit.
 */

/** The preview stack whose registrations stand for every preview's: previews differ only in their number. */
export const REPRESENTATIVE_PREVIEW = "pr-1";
/** The pipeline stack needs the commit it is applied from; it pins workflow refs and changes no count. */
const COUNTING_COMMIT = "1".repeat(40);

/**
 * "By default, each project can have up to 100 service accounts" (https://cloud.google.com/iam/docs/service-accounts-create;
 * the quota: https://cloud.google.com/iam/quotas). A raised quota is not modelled: the default is the line.
 */
export const SERVICE_ACCOUNTS_PER_PROJECT = { limit: 100, source: "https://cloud.google.com/iam/quotas" } as const;
/**
 * An allow policy holds up to 1,500 principals, and "each occurrence of a principal counts": a principal in two role
 * bindings counts twice (https://cloud.google.com/iam/docs/allow-policies, "Limits on all principals"). Each IAM
 * member resource adds its principal to one binding (its role and condition), so it counts once.
 */
export const PRINCIPALS_PER_POLICY = {
  limit: 1500,
  source: "https://cloud.google.com/iam/docs/allow-policies",
} as const;
/** Cloud SQL's default max_connections by memory, the table "Maximum concurrent connections". */
export const CONNECTIONS_SOURCE = "https://cloud.google.com/sql/docs/postgres/quotas";

export interface CapacityLimit {
  kind: "connections" | "service accounts" | "principals";
  /** What the limit applies to: the instance, the project, or the resource whose allow policy it is. */
  on: string;
  used: number;
  limit: number;
  source: string;
  /** How `used` is counted, with its figures. */
  counted: string;
  /**
   * The config key that moves `used`, and its largest value that fits with everything else as it is; null when no
   * preview adds to this limit.
   */
  key: "monitor:preview.maxActive" | "monitor:preview.maxOpen";
  fitsUpTo: number | null;
}

export interface PreviewsCapacity {
  /** monitor:preview.maxOpen: previews that may exist at once. */
  openPreviews: number;
  /** monitor:preview.maxActive: previews that may hold database connections at once. */
  activePreviews: number;
  /** monitor:preview.instanceTier: the shared instance's machine, sized for the active previews. */
  instanceTier: string;
  limits: CapacityLimit[];
  /** Limits one step of their key away from refusal. */
  warnings: string[];
}

/** What `countCapacity` counts from: the previews stack's settings and the three stacks' registrations. */
export interface CapacityInputs {
  spec: PreviewsSpec;
  previews: Evaluation;
  /** A representative preview (REPRESENTATIVE_PREVIEW). */
  preview: Evaluation;
  pipeline: Evaluation;
}

/** A registration's project: its `project` input, else that of the explicit provider it uses. */
function projectOf(r: Registration, evaluation: Evaluation): string | undefined {
  if (typeof r.inputs.project === "string") return r.inputs.project;
  const provider = r.provider ? evaluation.registrations.find((p) => p.urn === r.provider) : undefined;
  return typeof provider?.inputs.project === "string" ? provider.inputs.project : undefined;
}

/** Principals an IAM registration adds: one for a member, each of its members for a binding. */
function principalsOf(r: Registration): number {
  return Array.isArray(r.inputs.members) ? r.inputs.members.length : 1;
}

/**
 * The allow policy an IAM registration adds principals to, named `projects/<id>[/topics/<t>|/secrets/<s>]`; undefined
 * for the kinds no shared limit counts. Resource names may carry the project's number (Secret Manager's do):
 * `projectIds` maps it back to the id.
 */
function policyOf(r: Registration, evaluation: Evaluation, projectIds: ReadonlyMap<string, string>) {
  const id = (project: string | undefined) => (project && projectIds.get(project)) ?? project;
  // `projects/<p>/<collection>/<name>`, `<p>/<name>` or `<name>`, as the provider's IAM resources take them.
  const named = (value: unknown, collection: string) => {
    const text = String(value);
    const full = new RegExp(`^projects/([^/]+)/${collection}/([^/]+)$`).exec(text);
    const short = /^([^/]+)\/([^/]+)$/.exec(text);
    const [project, name] = full ? [full[1], full[2]] : short ? [short[1], short[2]] : [projectOf(r, evaluation), text];
    return `projects/${id(project)}/${collection}/${name}`;
  };
  switch (r.type) {
    case "gcp:projects/iAMMember:IAMMember":
    case "gcp:projects/iAMBinding:IAMBinding":
      return `projects/${id(projectOf(r, evaluation))}`;
    case "gcp:pubsub/topicIAMMember:TopicIAMMember":
    case "gcp:pubsub/topicIAMBinding:TopicIAMBinding":
      return named(r.inputs.topic, "topics");
    case "gcp:secretmanager/secretIamMember:SecretIamMember":
    case "gcp:secretmanager/secretIamBinding:SecretIamBinding":
      return named(r.inputs.secretId, "secrets");
    default:
      return undefined;
  }
}

export function countCapacity({ spec, previews, preview, pipeline }: CapacityInputs): PreviewsCapacity {
  const project = spec.project;
  const settings = spec.preview;
  const maxOpen = settings.maxOpen;
  const projectIds = new Map([[mockProjectNumber(project), project]]);
  const count = (evaluation: Evaluation, matches: (r: Registration) => boolean, weigh: (r: Registration) => number) =>
    evaluation.registrations.filter((r) => !r.read && matches(r)).reduce((sum, r) => sum + weigh(r), 0);

  /** A limit every open preview adds to: `perPreview` each, plus what the previews and pipeline stacks hold. */
  const perOpenPreview = (
    kind: "service accounts" | "principals",
    on: string,
    matches: (r: Registration, evaluation: Evaluation) => boolean,
    weigh: (r: Registration) => number,
    { limit, source }: { limit: number; source: string },
  ): CapacityLimit => {
    const [perPreview, platform, ci] = [preview, previews, pipeline].map((e) => count(e, (r) => matches(r, e), weigh));
    return {
      kind,
      on,
      used: maxOpen * perPreview + platform + ci,
      limit,
      source,
      counted:
        `${maxOpen} open previews x ${perPreview} (${REPRESENTATIVE_PREVIEW}'s) + ${platform} (the previews stack's) ` +
        `+ ${ci} (the pipeline stack's)`,
      key: "monitor:preview.maxOpen",
      fitsUpTo: perPreview === 0 ? null : Math.max(0, Math.floor((limit - platform - ci) / perPreview)),
    };
  };

  const tier = settings.instanceTier;
  const budget = previewConnections(tier, settings.maxActive, settings.maxInstances, settings.connectionPool);
  const instance = previews.registrations.find((r) => r.type === "gcp:sql/databaseInstance:DatabaseInstance");
  type Flags = { settings?: { databaseFlags?: { name: string; value: string }[] } };
  const flag = (instance?.inputs as Flags | undefined)?.settings?.databaseFlags?.find(
    (f) => f.name === "max_connections",
  );
  const connections: CapacityLimit = {
    kind: "connections",
    on: `${project}:${spec.region}:${PREVIEW_PLATFORM_NAMES.instance}`,
    used: budget.used,
    // The spec refuses a tier whose default is not known, so there is one here.
    limit: budget.limit!,
    source: CONNECTIONS_SOURCE,
    counted:
      `${settings.maxActive} active previews x (${settings.maxInstances} instance${settings.maxInstances === 1 ? "" : "s"} + ` +
      `${MIGRATION_TASKS_PER_PREVIEW} migration task) x pool ${settings.connectionPool} + ${RESERVED_CONNECTIONS} reserved, against ${tier}'s ` +
      `default max_connections${flag ? ` (the instance's flag: ${flag.value})` : ""}`,
    key: "monitor:preview.maxActive",
    fitsUpTo: budget.fits!,
  };

  const inProject = (r: Registration, e: Evaluation) => projectOf(r, e) === project;
  const onPolicy = (policy: string) => (r: Registration, e: Evaluation) => policyOf(r, e, projectIds) === policy;
  const sharedPolicies = [
    `projects/${project}`,
    `projects/${project}/topics/${PREVIEW_PLATFORM_NAMES.topic}`,
    ...settings.sandboxSecrets.map(
      (name) => `projects/${project}/secrets/${PREVIEW_PLATFORM_NAMES.sandboxSecretId(name)}`,
    ),
  ];
  const limits = [
    connections,
    perOpenPreview(
      "service accounts",
      `projects/${project}`,
      (r, e) => r.type === "gcp:serviceaccount/account:Account" && inProject(r, e),
      () => 1,
      SERVICE_ACCOUNTS_PER_PROJECT,
    ),
    ...sharedPolicies.map((policy) =>
      perOpenPreview("principals", policy, onPolicy(policy), principalsOf, PRINCIPALS_PER_POLICY),
    ),
  ];

  const warnings: string[] = [];
  // The warning comes one step before the line: when one more active preview would be refused. It used to come at
  // 80 % of the tier's default, when max_connections could be raised past it; now the default is the line itself,
  // and the budget already counts every active preview busy at full pools with a migration running (a warm
  // instance holds 2 idle connections, a cold one none), so a margin below the line would count that margin twice.
  if (connections.used + budget.perPreview > connections.limit) {
    const bigger = tierFor(connections.used + budget.perPreview);
    warnings.push(
      `warning: monitor:preview.maxActive ${settings.maxActive} is the most ${tier} holds (${connections.used} of ` +
        `${connections.limit} connections): one more active preview needs ${budget.perPreview} more and is refused` +
        (bigger ? `; ${bigger} would hold it` : "") +
        ".",
    );
  }
  return { openPreviews: maxOpen, activePreviews: settings.maxActive, instanceTier: tier, limits, warnings };
}

/** The refusal for every limit the config exceeds, naming the stack, the key and the fix; undefined when all fit. */
/**
 * The refusal for every limit exceeded. `at` names where a key's value came from, as config refusals do
 * (infra/config/origins.ts: `monitor:preview.maxOpen in Pulumi.yaml`, or `(from --config)`).
 */
export function capacityRefusal(
  stack: string,
  capacity: PreviewsCapacity,
  at: (path: string) => string = (path) => `${path} in Pulumi.yaml`,
): Refusal | undefined {
  const over = capacity.limits.filter((l) => l.used > l.limit);
  if (over.length === 0) return undefined;
  const problems = over.map(
    (l) =>
      `${at(l.key)}: needs ${l.used} ${l.kind} on ${l.on} (${l.counted}), over the ${l.limit} allowed ` +
      `(${l.source}). Fix: lower ${l.key} to at most ${l.fitsUpTo}`,
  );
  return new Refusal(
    `Stack "${stack}" does not fit the previews project:\n${problems.map((p) => `  - ${p}`).join("\n")}`,
  );
}

/** The capacity the previews stack's plan reports, counted from its evaluation and those of pr-1 and the pipeline. */
export async function previewsCapacity(
  previews: Evaluation,
  root: string,
  overrides: Record<string, string>,
): Promise<PreviewsCapacity> {
  const own = loadStackConfig(root, PREVIEW_PLATFORM_STACK, overrides);
  const spec = buildSpec(PREVIEW_PLATFORM_STACK, own.config, own.secretKeys) as PreviewsSpec;
  const counted = async (stack: string, run: () => Promise<Evaluation>) => {
    try {
      return await run();
    } catch (err) {
      throw new Refusal(
        `Stack "${PREVIEW_PLATFORM_STACK}": counting its capacity plans ${stack}, which failed: ` +
          `${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  // A fresh plan knows no outputs and no resource names: the counts come from what the next update registers.
  const platform = previews.fresh
    ? await counted(PREVIEW_PLATFORM_STACK, () => evaluate(PREVIEW_PLATFORM_STACK, own))
    : previews;
  const contract = platform.outputs[PREVIEW_PLATFORM_OUTPUT]?.value;
  // A preview reads the project-level config the previews stack is sized from, with the same --config overrides.
  const preview = await counted(REPRESENTATIVE_PREVIEW, () =>
    evaluate(REPRESENTATIVE_PREVIEW, {
      ...loadStackConfig(root, REPRESENTATIVE_PREVIEW, overrides),
      stackOutputs: (name) =>
        name.endsWith(`/${PREVIEW_PLATFORM_STACK}`) ? { [PREVIEW_PLATFORM_OUTPUT]: contract } : undefined,
    }),
  );
  // The pipeline's own stack file, with the preview settings it reads (identityProject) as the plan was given them.
  const pipelineOverrides = {
    ...("monitor:preview" in overrides && { "monitor:preview": overrides["monitor:preview"] }),
    "monitor:infraCommit": COUNTING_COMMIT,
  };
  const pipeline = await counted("pipeline", () =>
    evaluate("pipeline", loadStackConfig(root, "pipeline", pipelineOverrides)),
  );
  return countCapacity({ spec, previews: platform, preview, pipeline });
}

/** The capacity as the text plan prints it: one row per limit, then the warnings. */
export function renderCapacity(c: PreviewsCapacity): string {
  const rows = c.limits.map((l) => [
    `${l.kind} on ${l.on}`,
    String(l.used),
    String(l.limit),
    `${l.key.replace("monitor:preview.", "")} <= ${l.fitsUpTo ?? "any"}`,
    `${l.counted}; ${l.source}`,
  ]);
  const header = ["limit", "used", "of", "fits", "counted"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `  ${cells.map((cell, i) => (i === cells.length - 1 ? cell : i === 1 || i === 2 ? cell.padStart(widths[i]) : cell.padEnd(widths[i]))).join("  ")}`;
  return [
    `Preview capacity: ${c.openPreviews} open previews (monitor:preview.maxOpen), ${c.activePreviews} active ` +
      "(monitor:preview.maxActive), counted on the previews stack, " +
      `${REPRESENTATIVE_PREVIEW} and the pipeline stack:`,
    line(header),
    ...rows.map(line),
    ...c.warnings,
  ].join("\n");
}
