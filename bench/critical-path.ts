/**
 * The critical path of a `pulumi up` that creates a stack from nothing: the engine starts a resource as soon as
 * everything it waits for exists, so the time to the last resource is the longest chain of create times through
 * the dependency graph the offline engine recorded. A resource waits for
 * - what it depends on, explicitly or through its inputs (`dependsOn`, `propertyDependencies`);
 * - its explicit provider (which here waits for the project's APIs);
 * - for a dependency on a component: every resource inside that component (Pulumi expands it so).
 * Components themselves take no time, and nor does a resource's parent unless it is one of the above.
 */
import type { Registration } from "../infra/engine/evaluate";

/** What the graph needs of a registration: a subset, so that tests can hand-make one. */
export type GraphNode = Pick<
  Registration,
  "urn" | "type" | "name" | "custom" | "parent" | "dependsOn" | "propertyDependencies"
> &
  Partial<Pick<Registration, "provider" | "read">>;

export interface Step {
  urn: string;
  type: string;
  name: string;
  /** Seconds after the `up` starts at which this resource starts and is created. */
  start: number;
  finish: number;
}

export interface CriticalPath {
  /** Seconds until the last resource exists. */
  total: number;
  /** The chain that decides it, first resource first. */
  steps: Step[];
}

/** URN → the custom resources it stands for: itself, or every custom resource below a component. */
function expansions(nodes: readonly GraphNode[]): Map<string, string[]> {
  const children = new Map<string, GraphNode[]>();
  for (const node of nodes) {
    if (!children.has(node.parent)) children.set(node.parent, []);
    children.get(node.parent)!.push(node);
  }
  const expanded = new Map<string, string[]>();
  const expand = (node: GraphNode): string[] => {
    const known = expanded.get(node.urn);
    if (known) return known;
    const result = node.custom ? [node.urn] : (children.get(node.urn) ?? []).flatMap(expand);
    expanded.set(node.urn, result);
    return result;
  };
  for (const node of nodes) expand(node);
  return expanded;
}

/** Custom resource URN → the custom resources it waits for. URNs the graph does not hold are ignored. */
export function waitsFor(nodes: readonly GraphNode[]): Map<string, Set<string>> {
  const expanded = expansions(nodes);
  const edges = new Map<string, Set<string>>();
  for (const node of nodes) {
    if (!node.custom) continue;
    const direct = [...node.dependsOn, ...Object.values(node.propertyDependencies).flat()];
    if (node.provider) direct.push(node.provider);
    const waits = new Set(direct.flatMap((urn) => expanded.get(urn) ?? []));
    waits.delete(node.urn);
    edges.set(node.urn, waits);
  }
  return edges;
}

/**
 * The longest chain of `seconds(node)` through the graph. Throws on a cycle (the engine would refuse one too).
 */
export function criticalPath(nodes: readonly GraphNode[], seconds: (node: GraphNode) => number): CriticalPath {
  const byUrn = new Map(nodes.map((n) => [n.urn, n]));
  const edges = waitsFor(nodes);
  const finish = new Map<string, number>();
  const via = new Map<string, string | undefined>();
  const visiting = new Set<string>();
  const finishOf = (urn: string): number => {
    const known = finish.get(urn);
    if (known !== undefined) return known;
    if (visiting.has(urn)) throw new Error(`dependency cycle through ${urn}`);
    visiting.add(urn);
    let start = 0;
    let before: string | undefined;
    for (const dep of [...edges.get(urn)!].sort()) {
      const at = finishOf(dep);
      if (at > start) [start, before] = [at, dep];
    }
    visiting.delete(urn);
    const done = start + seconds(byUrn.get(urn)!);
    finish.set(urn, done);
    via.set(urn, before);
    return done;
  };
  let last: string | undefined;
  for (const urn of edges.keys()) if (last === undefined || finishOf(urn) > finishOf(last)) last = urn;
  const steps: Step[] = [];
  for (let urn = last; urn !== undefined; urn = via.get(urn)) {
    const node = byUrn.get(urn)!;
    const done = finish.get(urn)!;
    steps.unshift({ urn, type: node.type, name: node.name, start: done - seconds(node), finish: done });
  }
  return { total: last === undefined ? 0 : finish.get(last)!, steps };
}

export const PER_PREVIEW_INSTANCE_TYPE = "gcp:sql/databaseInstance:DatabaseInstance";

/**
 * The design previews replace: each creates its own Cloud SQL instance instead of reading the shared one from
 * stage. Every resource that waited for the shared platform (the StackReference `platformUrn`) now waits for that
 * instance too, and the instance waits for the platform's own inputs (the APIs, through the provider).
 */
export function withInstancePerPreview(nodes: readonly GraphNode[], platformUrn: string): GraphNode[] {
  const platform = nodes.find((n) => n.urn === platformUrn);
  if (!platform) throw new Error(`no ${platformUrn} in the graph`);
  const provider = nodes.find((n) => n.type === "pulumi:providers:gcp")?.urn;
  const instance: GraphNode = {
    urn: `${platformUrn.slice(0, platformUrn.indexOf("::"))}::monitor::${PER_PREVIEW_INSTANCE_TYPE}::instance`,
    type: PER_PREVIEW_INSTANCE_TYPE,
    name: "instance",
    custom: true,
    parent: "",
    dependsOn: [],
    propertyDependencies: {},
    ...(provider ? { provider } : {}),
  };
  const waitsOnPlatform = (n: GraphNode) =>
    n.dependsOn.includes(platformUrn) ||
    Object.values(n.propertyDependencies).some((urns) => urns.includes(platformUrn));
  return [
    ...nodes.map((n) => (n.custom && waitsOnPlatform(n) ? { ...n, dependsOn: [...n.dependsOn, instance.urn] } : n)),
    instance,
  ];
}
