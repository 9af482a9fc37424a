import { type Evaluation, REDACTED, type Registration, UNKNOWN } from "./evaluate";
import { shownProperties } from "./properties";

/**
 * Turns an evaluation into what `pulumi preview` would show: the resource tree with key properties, the env of
 * every container (secrets by reference or redacted), and the stack outputs. Only redacted inputs are read here.
 */

export interface EnvEntry {
  name: string;
  /** A plain value, or `secret <name>@<version>` for a Secret Manager reference. */
  value: string;
  secret: boolean;
}

export interface PlanResource {
  urn: string;
  type: string;
  name: string;
  parent: string;
  protect: boolean;
  read: boolean;
  dependsOn: string[];
  inputs: Record<string, unknown>;
  /** In a fresh plan, the paths of the inputs that read UNKNOWN. */
  unknownPaths?: string[];
}

export interface Plan {
  stack: string;
  /** As the stack's first preview sees it: what the providers compute reads UNKNOWN. */
  fresh?: boolean;
  resources: PlanResource[];
  /** Resource name → env of its container, for Cloud Run services, jobs and worker pools. */
  env: Record<string, EnvEntry[]>;
  outputs: Record<string, unknown>;
}

/** What the plan reads of a Cloud Run container, as the provider's inputs spell it (`cloudrunv2` `containers`). */
interface Container {
  name?: string;
  image?: string;
  commands?: string[];
  args?: string[];
  envs?: {
    name: string;
    value?: unknown;
    valueSource?: { secretKeyRef?: { secret: string; version: string } };
  }[];
}
interface Template {
  containers?: Container[];
  template?: Template;
}

// Inputs are recorded as the provider received them; these types decide only where the plan looks.
const CONTAINER_PATHS: Record<string, (inputs: { template?: Template }) => Container[] | undefined> = {
  "gcp:cloudrunv2/service:Service": (i) => i.template?.containers,
  "gcp:cloudrunv2/job:Job": (i) => i.template?.template?.containers,
  "gcp:cloudrunv2/workerPool:WorkerPool": (i) => i.template?.containers,
};

/** The containers of a Cloud Run resource's template, or undefined for other types. */
export function containersOf(r: Pick<Registration, "type" | "inputs">): Container[] | undefined {
  return CONTAINER_PATHS[r.type]?.(r.inputs);
}

/** The env of a Cloud Run resource's first container (the app's), or of the one named `container`. */
export function envOf(r: Pick<Registration, "type" | "inputs">, container?: string): EnvEntry[] {
  const all = containersOf(r) ?? [];
  const chosen = container === undefined ? all[0] : all.find((c) => c.name === container);
  return (chosen?.envs ?? []).map((e): EnvEntry => {
    const ref = e.valueSource?.secretKeyRef;
    if (ref) return { name: e.name, value: `secret ${ref.secret}@${ref.version}`, secret: true };
    return { name: e.name, value: String(e.value), secret: e.value === REDACTED };
  });
}

/** The env of every container, by the resource's name (`<resource>/<container>` for a sidecar). */
export function envTables(resources: readonly Pick<Registration, "type" | "inputs" | "name">[]): Plan["env"] {
  const env: Record<string, EnvEntry[]> = {};
  for (const r of resources) {
    const containers = containersOf(r);
    if (!containers) continue;
    const name = typeof r.inputs.name === "string" && r.inputs.name ? r.inputs.name : r.name;
    env[name] = envOf(r);
    // A sidecar's settings are its env (Cirrus's channel, Remote Settings URL): `<resource>/<container>`.
    for (const sidecar of containers.slice(1)) {
      if (sidecar.name) env[`${name}/${sidecar.name}`] = envOf(r, sidecar.name);
    }
  }
  return env;
}

export function toPlan(evaluation: Evaluation): Plan {
  const env = envTables(evaluation.registrations);
  return {
    stack: evaluation.stack,
    ...(evaluation.fresh && { fresh: true }),
    resources: evaluation.registrations.map((r) => ({
      urn: r.urn,
      type: r.type,
      name: r.name,
      parent: r.parent,
      protect: r.protect,
      read: r.read,
      dependsOn: r.dependsOn,
      inputs: r.inputs,
      ...(r.unknownPaths?.length && { unknownPaths: r.unknownPaths }),
    })),
    env,
    outputs: Object.fromEntries(Object.entries(evaluation.outputs).map(([k, o]) => [k, o.secret ? REDACTED : o.value])),
  };
}

/** What properties.ts shows of the resource, plus the command its first container runs, as one line. */
function keyProperties(r: PlanResource): string[] {
  const props = shownProperties(r.type, r.inputs);
  const container = containersOf(r)?.[0];
  const command = [...(container?.commands ?? []), ...(container?.args ?? [])];
  // A script passed as one argument (psql --command) shows as its first line and its length.
  const shown = command.map((arg) => {
    const lines = String(arg).split("\n");
    return lines.length > 1 ? `${lines[0]} ... (${lines.length} lines)` : arg;
  });
  if (command.length > 0) props.push(`command=${shown.join(" ")}`);
  return props;
}

export function renderText(plan: Plan): string {
  const lines: string[] = [];
  const managed = plan.resources.filter((r) => !r.read);
  lines.push(
    `Plan for stack ${plan.stack}: ${managed.length} resources to create, ${plan.resources.length - managed.length} read`,
  );
  if (plan.fresh) {
    lines.push(
      `As the first preview of ${plan.stack} sees it: nothing deployed yet, and ${UNKNOWN} for what only the ` +
        "update can know (ids, emails, connection names, generated values).",
    );
  }
  lines.push("");
  const children = new Map<string, PlanResource[]>();
  for (const r of plan.resources) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const walk = (parent: string, depth: number) => {
    for (const r of children.get(parent) ?? []) {
      const marker = r.read ? "~ read" : "+";
      const flags = r.protect ? " [protected]" : "";
      lines.push(`${"  ".repeat(depth)}${marker} ${r.type}  ${r.name}${flags}`);
      for (const p of keyProperties(r)) lines.push(`${"  ".repeat(depth + 2)}${p}`);
      walk(r.urn, depth + 1);
    }
  };
  walk("", 0);

  // Containers that run one image usually share one environment: print each distinct table once.
  const tables = new Map<string, { containers: string[]; entries: EnvEntry[] }>();
  for (const [container, entries] of Object.entries(plan.env)) {
    const key = JSON.stringify(entries);
    const table = tables.get(key) ?? { containers: [], entries };
    table.containers.push(container);
    tables.set(key, table);
  }
  for (const { containers, entries } of tables.values()) {
    lines.push("", `Environment of ${containers.join(", ")}:`);
    const width = Math.max(0, ...entries.map((e) => e.name.length));
    for (const e of entries) lines.push(`  ${e.name.padEnd(width)}  ${e.value}`);
  }

  lines.push("", "Outputs:");
  for (const [key, value] of Object.entries(plan.outputs)) {
    lines.push(`  ${key}: ${value === UNKNOWN ? UNKNOWN : JSON.stringify(value)}`);
  }
  // A bootstrap's to-do list (stacks/environment.ts): one command a line, to run before the deploy that follows.
  const owed = plan.outputs.owedSecretVersions;
  if (Array.isArray(owed) && owed.length > 0) {
    lines.push(
      "",
      `Secret versions owed before the app can start (${owed.length}):`,
      ...owed.map((c) => `  ${String(c)}`),
    );
  }
  return lines.join("\n");
}
