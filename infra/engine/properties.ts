/**
 * A resource's inputs as property paths, and which of them the text plan shows: the settings a reviewer decides on
 * (sizes, scaling, backups, schedules, the sidecar), table-driven, so that a change to one of them changes a line of
 * the plan. The diff (diff.ts) compares the same paths.
 */

/** A leaf of a resource's inputs: a scalar, or an empty list or mapping (whose appearance is a change too). */
export type LeafValue = string | number | boolean | null | readonly [] | Readonly<Record<string, never>>;

/**
 * The inputs as `path → value`, paths as `pulumi preview --diff` spells them (`settings.tier`), except that a list
 * of mappings that each have a distinct `name` is keyed by it (`containers[cirrus].image`, `envs[SMTP_URL]`): an
 * entry added to such a list then reads as one added entry, not as every later index changing.
 */
export function leavesOf(value: unknown, path = "", into = new Map<string, LeafValue>()): Map<string, LeafValue> {
  if (Array.isArray(value)) {
    if (value.length === 0) into.set(path, []);
    const names = value.map((v: unknown) =>
      typeof v === "object" && v !== null && typeof (v as { name?: unknown }).name === "string"
        ? (v as { name: string }).name
        : undefined,
    );
    const keyed = names.every((n) => n !== undefined) && new Set(names).size === names.length;
    value.forEach((v: unknown, i) => {
      // The key says the name; an entry that is nothing but its name still shows, as an empty mapping.
      if (keyed) leavesOf(withoutName(v as Record<string, unknown>), `${path}[${names[i]}]`, into);
      else leavesOf(v, `${path}[${i}]`, into);
    });
  } else if (typeof value === "object" && value !== null) {
    const entries = Object.entries(value);
    if (entries.length === 0) into.set(path, {});
    for (const [k, v] of entries) leavesOf(v, path ? `${path}.${k}` : k, into);
  } else if (value !== undefined) {
    into.set(path, value as LeafValue);
  }
  return into;
}

function withoutName(entry: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(entry).filter(([key]) => key !== "name"));
}

/** Cloud Run's containers: what each runs and how big it is (the sidecar included, under its own name). */
const containers = (at: string) => [`${at}[*].image`, `${at}[*].resources.limits`];
/** An IAM grant's condition: what it is limited to. */
const CONDITION = ["condition.title", "condition.expression"];

/**
 * Besides every top-level scalar, what the text plan shows of each type: path prefixes, `[*]` standing for any
 * list entry. Chosen for what a stack file or the program decides and a reviewer must see change; what every stack
 * sets alike (probes, labels, volumes) stays in `--json`.
 */
export const SHOWN: Readonly<Record<string, readonly string[]>> = {
  "gcp:sql/databaseInstance:DatabaseInstance": [
    "settings.tier",
    "settings.edition",
    "settings.availabilityType",
    "settings.backupConfiguration",
    "settings.maintenanceWindow",
    "settings.databaseFlags",
    "settings.deletionProtectionEnabled",
    "settings.retainBackupsOnDelete",
    "settings.ipConfiguration.sslMode",
    "settings.connectorEnforcement",
  ],
  "gcp:cloudrunv2/service:Service": [
    "template.scaling",
    "template.maxInstanceRequestConcurrency",
    "template.serviceAccount",
    ...containers("template.containers"),
  ],
  "gcp:cloudrunv2/job:Job": [
    "template.taskCount",
    "template.parallelism",
    "template.template.timeout",
    "template.template.maxRetries",
    "template.template.serviceAccount",
    ...containers("template.template.containers"),
  ],
  "gcp:cloudrunv2/workerPool:WorkerPool": ["scaling", "template.serviceAccount", ...containers("template.containers")],
  "gcp:cloudscheduler/job:Job": ["httpTarget.oauthToken.serviceAccountEmail"],
  "gcp:pubsub/subscription:Subscription": ["retryPolicy", "expirationPolicy"],
  "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": ["httpCheck.path", "monitoredResource.labels.host"],
  "gcp:monitoring/alertPolicy:AlertPolicy": ["notificationChannels"],
  "gcp:compute/securityPolicy:SecurityPolicy": ["rules[*].action", "rules[*].description"],
  "gcp:projects/iAMMember:IAMMember": CONDITION,
  "gcp:pubsub/topicIAMMember:TopicIAMMember": CONDITION,
  "gcp:secretmanager/secretIamMember:SecretIamMember": CONDITION,
};

const matchers = new Map<string, RegExp>();
function matcherFor(type: string): RegExp | undefined {
  const prefixes = SHOWN[type];
  if (!prefixes) return undefined;
  let matcher = matchers.get(type);
  if (!matcher) {
    const escaped = prefixes.map((p) => p.replace(/[.[\]]/g, (c) => `\\${c}`).replace(/\\\[\*\\\]/g, "\\[[^\\]]+\\]"));
    matcher = new RegExp(`^(${escaped.join("|")})($|[.[])`);
    matchers.set(type, matcher);
  }
  return matcher;
}

/** Paths printed whole however long: an image by digest is only of use entire. */
const WHOLE = /(^|\.)image$/;

/** How a leaf reads in the text plan. */
export function formatLeaf(path: string, value: LeafValue): string {
  const text = typeof value === "string" && value !== "" ? value : JSON.stringify(value);
  return !WHOLE.test(path) && text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** The lines the text plan prints under a resource: its top-level scalars, then what SHOWN lists for its type. */
export function shownProperties(type: string, inputs: Record<string, unknown>): string[] {
  const scalars = Object.entries(inputs).filter(([, v]) => ["string", "number", "boolean"].includes(typeof v));
  const lines = scalars.map(([k, v]) => `${k}=${formatLeaf(k, v as LeafValue)}`);
  const matcher = matcherFor(type);
  if (!matcher) return lines;
  const printed = new Set(scalars.map(([k]) => k));
  for (const [path, value] of leavesOf(inputs)) {
    if (!printed.has(path) && matcher.test(path)) lines.push(`${path}=${formatLeaf(path, value)}`);
  }
  return lines;
}
