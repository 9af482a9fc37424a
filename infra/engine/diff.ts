import type { PolicyNotRun, PolicyViolation } from "../../policies/offline";
import { addVersionCommand } from "../naming";
import { type LeafValue, leavesOf, shownProperties } from "./properties";
import { type EnvEntry, type Plan, type PlanResource, envTables } from "./render";

/**
 * `npm run plan -- <stack> --diff <ref>`: two plans of one stack (the one at a git ref, the working tree's) compared
 * as `pulumi preview --diff` reads, so that only what would change is printed: resources created, deleted or
 * updated with the property paths that change, environment values, outputs, policy verdicts, and the secrets a
 * stack file sets, by name. Both plans are the `--json` documents, whose secrets are already references or
 * `[secret]`: nothing here can print a credential.
 */

/** What `npm run plan -- <stack> --json` prints, as far as the diff reads it. */
export interface PlanDocument extends Plan {
  policyViolations: PolicyViolation[];
  policiesNotRun: PolicyNotRun[];
}

/** A property, output or variable: absent on one side when it is added or removed. */
export interface Change<T = LeafValue> {
  path: string;
  before?: T;
  after?: T;
}

export interface ResourceDiff {
  op: "create" | "delete" | "update";
  urn: string;
  type: string;
  /** The names from the stack root down (`app/web/web`): names repeat under different parents. */
  label: string;
  read: boolean;
  protect: boolean;
  /** For an update, the input paths that change, the environment's left to `env`. */
  changes: Change[];
  /** For an update, whether a container's environment changes too (shown once under `env`). */
  envChanged: boolean;
  /** For a create, the lines the text plan shows of it. */
  shown: string[];
}

/** One environment's changes, for every container whose environment changes alike. */
export interface EnvDiff {
  containers: string[];
  changes: Change<string>[];
}

export interface PolicyChange {
  op: "added" | "gone";
  /** A violation, or a policy that could not run on what the preview knows. */
  kind: "violation" | "not run";
  policy: string;
  enforcementLevel: string;
  urn?: string;
  message: string;
}

/** A `secure:` value of a stack file that is new, gone or has new ciphertext: its key only. */
export interface SecretChange {
  key: string;
  file: string;
  op: "set" | "changed" | "removed";
}

/** A Secret Manager secret the change creates without a version: the steps its first deploy needs before it. */
export interface NewSecret {
  secretId: string;
  urn: string;
  /** Adds its value, once the secret exists. */
  command: string;
}

export interface PlanDiff {
  stack: string;
  /** The ref as given, and the commit it named. */
  base: { ref: string; commit: string };
  resources: ResourceDiff[];
  unchanged: number;
  env: EnvDiff[];
  outputs: Change[];
  secrets: SecretChange[];
  /** Managed secrets the change declares: no deploy reads one before it exists with a version. */
  newSecrets: NewSecret[];
  policies: PolicyChange[];
}

/** Input paths of a container's environment, which `env` shows once for all the containers that share it. */
const ENV_PATH = /(^|\.)envs\[/;

function changesBetween(before: Map<string, LeafValue>, after: Map<string, LeafValue>): Change[] {
  const changes: Change[] = [];
  for (const [path, value] of after) {
    if (!before.has(path)) changes.push({ path, after: value });
    else if (JSON.stringify(before.get(path)) !== JSON.stringify(value)) {
      changes.push({ path, before: before.get(path), after: value });
    }
  }
  for (const [path, value] of before) if (!after.has(path)) changes.push({ path, before: value });
  return changes;
}

function labelOf(urn: string, byUrn: Map<string, PlanResource>): string {
  const names: string[] = [];
  for (let r = byUrn.get(urn); r; r = byUrn.get(r.parent)) names.unshift(r.name);
  return names.join("/");
}

function diffResources(before: Plan, after: Plan): { resources: ResourceDiff[]; unchanged: number } {
  const old = new Map(before.resources.map((r) => [r.urn, r]));
  const now = new Map(after.resources.map((r) => [r.urn, r]));
  const resources: ResourceDiff[] = [];
  let unchanged = 0;
  const base = (r: PlanResource, byUrn: Map<string, PlanResource>) => ({
    urn: r.urn,
    type: r.type,
    label: labelOf(r.urn, byUrn),
    read: r.read,
    protect: r.protect,
  });
  for (const r of after.resources) {
    const was = old.get(r.urn);
    if (!was) {
      resources.push({
        op: "create",
        ...base(r, now),
        changes: [],
        envChanged: false,
        shown: shownProperties(r.type, r.inputs),
      });
      continue;
    }
    const all = changesBetween(leavesOf(was.inputs), leavesOf(r.inputs));
    const changes = all.filter((c) => !ENV_PATH.test(c.path));
    const envChanged = changes.length < all.length;
    if (was.protect !== r.protect) changes.push({ path: "(protect)", before: was.protect, after: r.protect });
    if (changes.length === 0 && !envChanged) unchanged++;
    else resources.push({ op: "update", ...base(r, now), changes, envChanged, shown: [] });
  }
  // Without an alias, a resource whose URN changed is deleted and another created, as Pulumi plans it.
  for (const r of before.resources) {
    if (!now.has(r.urn)) resources.push({ op: "delete", ...base(r, old), changes: [], envChanged: false, shown: [] });
  }
  return { resources, unchanged };
}

/**
 * Both sides' environments as this engine reads them from the resources' inputs, not as each plan's `env` lists
 * them: a plan made by an older engine (which left out the sidecar's) then differs only where the inputs do.
 */
function diffEnv(before: Plan, after: Plan): EnvDiff[] {
  const byChanges = new Map<string, EnvDiff>();
  const [old, now] = [envTables(before.resources), envTables(after.resources)];
  const containers = [...new Set([...Object.keys(now), ...Object.keys(old)])];
  const asMap = (entries: EnvEntry[] | undefined) => new Map((entries ?? []).map((e) => [e.name, e.value]));
  for (const container of containers) {
    const changes = changesBetween(asMap(old[container]), asMap(now[container])) as Change<string>[];
    if (changes.length === 0) continue;
    const key = JSON.stringify(changes);
    const group = byChanges.get(key) ?? { containers: [], changes };
    group.containers.push(container);
    byChanges.set(key, group);
  }
  return [...byChanges.values()];
}

function diffPolicies(before: PlanDocument, after: PlanDocument): PolicyChange[] {
  const listed = (doc: PlanDocument) => [
    ...doc.policyViolations.map((v) => ({ kind: "violation" as const, ...v })),
    ...doc.policiesNotRun.map((v) => ({ kind: "not run" as const, ...v })),
  ];
  const keyOf = (v: Omit<PolicyChange, "op">) => JSON.stringify([v.kind, v.policy, v.urn, v.message]);
  const old = new Set(listed(before).map(keyOf));
  const now = new Set(listed(after).map(keyOf));
  return [
    ...listed(after)
      .filter((v) => !old.has(keyOf(v)))
      .map((v) => ({ op: "added" as const, ...v })),
    ...listed(before)
      .filter((v) => !now.has(keyOf(v)))
      .map((v) => ({ op: "gone" as const, ...v })),
  ];
}

const SECRET = "gcp:secretmanager/secret:Secret";
const SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion";

/**
 * Secrets created without a version alongside (a `managed` secret: SRE adds the value). The deploy of the change
 * reads them as `latest` and refuses while none exists (components/app-secrets.ts, owedVersions), so the secret is
 * created first with a targeted update and given its value (docs/release.md, "Env-var and secret changes").
 */
function newSecrets(resources: ResourceDiff[], after: Plan): NewSecret[] {
  const created = new Set(resources.filter((r) => r.op === "create").map((r) => r.urn));
  const versioned = after.resources
    .filter((r) => r.type === SECRET_VERSION && created.has(r.urn))
    .map((r) => String(r.inputs.secret));
  return after.resources
    .filter((r) => r.type === SECRET && created.has(r.urn))
    .map((r) => ({ urn: r.urn, secretId: String(r.inputs.secretId), project: String(r.inputs.project) }))
    .filter(({ secretId }) => !versioned.some((v) => v.endsWith(`/secrets/${secretId}`)))
    .map(({ urn, secretId, project }) => ({ urn, secretId, command: addVersionCommand(project, secretId) }));
}

/** What the working tree's plan (`after`) changes against the plan at the ref (`before`). */
export function diffPlans(
  before: PlanDocument,
  after: PlanDocument,
  base: PlanDiff["base"],
  secrets: SecretChange[] = [],
): PlanDiff {
  const outputs = changesBetween(
    new Map(Object.entries(before.outputs) as [string, LeafValue][]),
    new Map(Object.entries(after.outputs) as [string, LeafValue][]),
  );
  const { resources, unchanged } = diffResources(before, after);
  return {
    stack: after.stack,
    base,
    resources,
    unchanged,
    env: diffEnv(before, after),
    outputs,
    secrets,
    newSecrets: newSecrets(resources, after),
    policies: diffPolicies(before, after),
  };
}

/** Stack file secrets: `key → ciphertext` on each side, compared by key; the ciphertext itself is never kept. */
export function diffSecrets(
  before: Record<string, { file: string; ciphertext: string }>,
  after: Record<string, { file: string; ciphertext: string }>,
): SecretChange[] {
  const changes: SecretChange[] = [];
  for (const [key, { file, ciphertext }] of Object.entries(after)) {
    if (!(key in before)) changes.push({ key, file, op: "set" });
    else if (before[key].ciphertext !== ciphertext) changes.push({ key, file, op: "changed" });
  }
  for (const [key, { file }] of Object.entries(before)) if (!(key in after)) changes.push({ key, file, op: "removed" });
  return changes;
}

const MARKER = { create: "+", delete: "-", update: "~" } as const;

/** A value in full: a diff that cut a long value could hide the very change it is about. */
function shown(value: LeafValue): string {
  return typeof value === "string" && value !== "" ? value : JSON.stringify(value);
}

function changeLine<T extends LeafValue>({ path, before, after }: Change<T>): string {
  if (before === undefined) return `+ ${path}: ${shown(after!)}`;
  if (after === undefined) return `- ${path}: ${shown(before)}`;
  return `~ ${path}: ${shown(before)} => ${shown(after)}`;
}

export function renderDiff(diff: PlanDiff): string {
  const against = `against ${diff.base.ref} (${diff.base.commit.slice(0, 7)})`;
  const count = (op: ResourceDiff["op"]) => diff.resources.filter((r) => r.op === op).length;
  const sections: string[][] = [];
  if (diff.resources.length > 0) {
    sections.push(
      diff.resources.flatMap((r) => [
        `${MARKER[r.op]} ${r.type}  ${r.label}${r.read ? " (read)" : ""}${r.protect ? " [protected]" : ""}`,
        ...(r.op === "delete" && r.protect ? ["      pulumi refuses to delete it while it is protected"] : []),
        ...r.shown.map((p) => `      ${p}`),
        ...r.changes.map((c) => `    ${changeLine(c)}`),
        ...(r.envChanged ? ["    ~ environment: see below"] : []),
      ]),
    );
  }
  for (const { containers, changes } of diff.env) {
    sections.push([`Environment of ${containers.join(", ")}:`, ...changes.map((c) => `    ${changeLine(c)}`)]);
  }
  if (diff.outputs.length > 0) sections.push(["Outputs:", ...diff.outputs.map((c) => `    ${changeLine(c)}`)]);
  if (diff.secrets.length > 0) {
    const marker = { set: "+", changed: "~", removed: "-" } as const;
    sections.push([
      "Secrets the stack file sets (by name; values are never shown):",
      ...diff.secrets.map((s) => `    ${marker[s.op]} ${s.key}  (${s.file}: ${s.op})`),
    ]);
  }
  if (diff.newSecrets.length > 0) {
    sections.push([
      "New secrets: the deploy of this change refuses until each exists with a version. Before merging:",
      ...diff.newSecrets.flatMap((s) => [
        `    ${s.secretId}:`,
        `      pulumi up --stack ${diff.stack} --target '${s.urn}'`,
        `      ${s.command}`,
      ]),
    ]);
  }
  if (diff.policies.length > 0) {
    sections.push([
      "Policies:",
      ...diff.policies.flatMap((p) => [
        `    ${p.op === "added" ? "+" : "-"} [${p.enforcementLevel}] ${p.policy}` +
          `${p.kind === "violation" ? "" : " (could not run)"}: ${p.urn ?? "(stack)"}`,
        `          ${p.message}`,
      ]),
    ]);
  }
  if (sections.length === 0) return `No changes to stack ${diff.stack} ${against}: the working tree plans the same.`;
  const summary =
    `Resources: ${count("create")} to create, ${count("update")} to update, ${count("delete")} to delete, ` +
    `${diff.unchanged} unchanged.`;
  return [[`Changes to stack ${diff.stack} ${against}:`], ...sections, [summary]].map((s) => s.join("\n")).join("\n\n");
}
