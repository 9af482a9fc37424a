/**
 * The workflow files as data, for the workflow tests: every file of this repository's `.github/workflows/` and of
 * the app repository's callers under APP_FILES_DIR, parsed with `yaml` (a Document too, for the `# vX.Y.Z`
 * comments), and the questions the tests ask of them: which steps, which `uses:`, which pulumi operations.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { parse, parseDocument, isMap, isSeq, type Document, type Scalar } from "yaml";
import { APP_FILES_DIR } from "../infra/pipeline-contract";
import { ROOT } from "./harness";

export const INFRA_WORKFLOWS_DIR = join(ROOT, ".github/workflows");
export const APP_WORKFLOWS_DIR = join(ROOT, APP_FILES_DIR, ".github/workflows");

/** Whose repository a workflow file runs in. */
export type Home = "infra" | "app";

export interface Step {
  readonly name?: string;
  readonly id?: string;
  readonly if?: string;
  readonly uses?: string;
  readonly run?: string;
  readonly with?: Record<string, unknown>;
  readonly env?: Record<string, unknown>;
  readonly shell?: string;
  readonly "working-directory"?: string;
  readonly "continue-on-error"?: boolean;
}

export interface Job {
  readonly name?: string;
  readonly if?: string;
  readonly needs?: string | string[];
  readonly uses?: string;
  readonly with?: Record<string, unknown>;
  readonly secrets?: Record<string, unknown> | "inherit";
  readonly permissions?: Record<string, string> | string;
  readonly environment?: string | { name: string; url?: string };
  readonly concurrency?: string | { group: string; "cancel-in-progress"?: boolean | string };
  readonly strategy?: { matrix?: Record<string, unknown> };
  readonly outputs?: Record<string, string>;
  readonly env?: Record<string, unknown>;
  readonly steps?: Step[];
}

export interface Workflow {
  readonly name?: string;
  // `any`: each trigger's block has its own shape; the suites read into them as the YAML has it.
  readonly on: Record<string, any>;
  readonly permissions?: unknown;
  readonly concurrency?: Job["concurrency"];
  readonly env?: Record<string, unknown>;
  readonly jobs: Record<string, Job>;
}

export interface WorkflowFile {
  readonly home: Home;
  /** Path from the repository root, e.g. `.github/workflows/ci.yml` or `workflows/app/.github/workflows/stage.yml`. */
  readonly path: string;
  readonly file: string;
  readonly text: string;
  readonly workflow: Workflow;
  readonly document: Document;
}

function load(home: Home, dir: string): WorkflowFile[] {
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((file) => {
      const full = join(dir, file);
      const text = readFileSync(full, "utf8");
      return {
        home,
        path: relative(ROOT, full),
        file,
        text,
        workflow: parse(text) as Workflow,
        document: parseDocument(text),
      };
    });
}

export const WORKFLOW_FILES: readonly WorkflowFile[] = [
  ...load("infra", INFRA_WORKFLOWS_DIR),
  ...load("app", APP_WORKFLOWS_DIR),
];

export function workflowFile(home: Home, file: string): WorkflowFile {
  const found = WORKFLOW_FILES.find((w) => w.home === home && w.file === file);
  if (!found) throw new Error(`no ${home} workflow ${file}`);
  return found;
}

export function jobsOf(wf: WorkflowFile): [string, Job][] {
  return Object.entries(wf.workflow.jobs);
}

export function stepsOf(wf: WorkflowFile): { jobId: string; job: Job; step: Step; index: number }[] {
  return jobsOf(wf).flatMap(([jobId, job]) => (job.steps ?? []).map((step, index) => ({ jobId, job, step, index })));
}

/** A step's `uses:` scalar with its trailing comment (` v7.0.1` for `uses: x@sha # v7.0.1`). */
export function usesNodes(wf: WorkflowFile): { jobId: string; value: string; comment?: string }[] {
  const out: { jobId: string; value: string; comment?: string }[] = [];
  const jobs = wf.document.get("jobs", true);
  if (!isMap(jobs)) return out;
  for (const pair of jobs.items) {
    const jobId = String((pair.key as Scalar).value);
    const steps = isMap(pair.value) ? pair.value.get("steps", true) : undefined;
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step)) continue;
      const node = step.get("uses", true);
      if (node) out.push({ jobId, value: String(node.value), comment: node.comment ?? undefined });
    }
  }
  return out;
}

export const PULUMI_ACTION = "pulumi/actions";
export const actionName = (uses: string) => uses.split("@")[0];

export function environmentName(job: Job): string | undefined {
  return typeof job.environment === "string" ? job.environment : job.environment?.name;
}

/**
 * The matrix combinations a job runs as (one, empty, without a matrix). GitHub's rules (workflow-syntax.md,
 * `jobs.<job_id>.strategy.matrix` and `...matrix.include`): the lists multiply; then each `include` object is added
 * to every original combination none of whose original values it would overwrite, and becomes a combination of its
 * own when it fits none; a matrix of `include` alone has no original combination, so each object is one.
 */
export function matrixCombinations(job: Job): Record<string, string>[] {
  const matrix = job.strategy?.matrix;
  if (matrix === undefined) return [{}];
  const { include, exclude, ...lists } = matrix;
  if (exclude !== undefined) throw new Error("matrixCombinations does not implement matrix.exclude");
  const original = Object.entries(lists).reduce<Record<string, string>[]>(
    (combos, [key, values]) => {
      if (!Array.isArray(values)) throw new Error(`matrix.${key} is not a list`);
      return combos.flatMap((c) => values.map((v) => ({ ...c, [key]: String(v) })));
    },
    Object.keys(lists).length > 0 ? [{}] : [],
  );
  const combos = original.map((c) => ({ ...c }));
  for (const entry of (include ?? []) as Record<string, unknown>[]) {
    const values = Object.fromEntries(Object.entries(entry).map(([k, v]) => [k, String(v)]));
    let added = false;
    original.forEach((o, i) => {
      if (Object.entries(values).every(([k, v]) => !(k in o) || o[k] === v)) {
        Object.assign(combos[i], values);
        added = true;
      }
    });
    if (!added) combos.push(values);
  }
  return combos;
}

export function concurrencyOf(
  c: Job["concurrency"],
): { group: string; cancel: boolean | string | undefined } | undefined {
  if (c === undefined) return undefined;
  return typeof c === "string" ? { group: c, cancel: undefined } : { group: c.group, cancel: c["cancel-in-progress"] };
}

/** `scripts/<name>.ts` files a run: line executes. */
export function scriptsIn(run: string): string[] {
  return [...run.matchAll(/(?:^|[\s/])scripts\/([a-z0-9-]+)\.ts\b/g)].map((m) => `scripts/${m[1]}.ts`);
}

/**
 * What a job does to Pulumi stacks: pulumi/actions commands with their stack and config keys, the CLI commands of
 * run: lines (`pulumi refresh --stack "$STACK"` reads the stack from the step's env), and the scripts that destroy.
 */
export interface PulumiOp {
  readonly jobId: string;
  readonly command: string;
  readonly stack: string;
  readonly config: string[];
  readonly flags: string[];
}

export function pulumiOps(wf: WorkflowFile): PulumiOp[] {
  const ops: PulumiOp[] = [];
  for (const { jobId, step } of stepsOf(wf)) {
    if (step.uses && actionName(step.uses) === PULUMI_ACTION && step.with?.command) {
      const w = step.with;
      // The action takes its config map as one YAML string.
      const configMap: unknown = typeof w["config-map"] === "string" ? parse(w["config-map"]) : undefined;
      const config = typeof configMap === "object" && configMap !== null ? Object.keys(configMap) : [];
      const flags = ["upsert", "diff", "policyPacks", "comment-on-pr", "expect-no-changes", "remove"].filter(
        (f) => w[f] !== undefined && w[f] !== false,
      );
      ops.push({ jobId, command: String(w.command), stack: String(w["stack-name"]), config, flags });
    }
    if (step.run) {
      for (const m of step.run.matchAll(/\bpulumi (refresh|up|destroy|preview)\b([^\n]*)/g)) {
        const stackArg = /--stack "?\$?([A-Za-z0-9_-]+)"?/.exec(m[2])?.[1] ?? "";
        const stack = step.env && stackArg in step.env ? String(step.env[stackArg]) : stackArg;
        ops.push({
          jobId,
          command: m[1],
          stack,
          config: [],
          flags: [...m[2].matchAll(/--([a-z-]+)/g)].map((f) => f[1]).filter((f) => f !== "stack"),
        });
      }
      for (const script of scriptsIn(step.run)) {
        if (script === "scripts/destroy-preview.ts")
          ops.push({
            jobId,
            command: "destroy",
            stack: String(step.env?.STACK),
            config: [],
            flags: ["remove", "retry"],
          });
        if (script === "scripts/sweep-previews.ts")
          ops.push({ jobId, command: "destroy", stack: "pr-*", config: [], flags: ["remove", "sweep"] });
      }
    }
  }
  return ops;
}

/**
 * Evaluates a job's `if:` as GitHub Actions would, for the subset the callers use: `&&`, `||`, `!`, `==`, `!=`,
 * parentheses, 'string' literals, context paths (`github.event.action`) and `endsWith(a, b)`; comparisons of strings
 * are case-insensitive (docs.github.com, "Evaluate expressions": "GitHub ignores case when comparing strings").
 */
export function evaluateIf(expression: string, context: Record<string, unknown>): boolean {
  const tokens = expression.match(/'[^']*'|&&|\|\||==|!=|!|\(|\)|,|[A-Za-z_][\w.\-[\]]*/g) ?? [];
  let i = 0;
  const lookup = (path: string) =>
    path
      .split(".")
      .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined), context);
  const str = (v: unknown) =>
    (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : "").toLowerCase();
  const primary = (): unknown => {
    const t = tokens[i++];
    if (t === "!") return !truthy(primary());
    if (t === "(") {
      const v = or();
      i++;
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1);
    if (t === "endsWith" && tokens[i] === "(") {
      i++;
      const a = or();
      i++;
      const b = or();
      i++;
      return str(a).endsWith(str(b));
    }
    return lookup(t);
  };
  const truthy = (v: unknown) => v !== undefined && v !== null && v !== false && v !== "" && v !== 0;
  const comparison = (): unknown => {
    const left = primary();
    if (tokens[i] === "==" || tokens[i] === "!=") {
      const op = tokens[i++];
      const right = primary();
      return op === "==" ? str(left) === str(right) : str(left) !== str(right);
    }
    return left;
  };
  const and = (): unknown => {
    let v = comparison();
    while (tokens[i] === "&&") {
      i++;
      const r = comparison();
      v = truthy(v) && truthy(r);
    }
    return v;
  };
  const or = (): unknown => {
    let v = and();
    while (tokens[i] === "||") {
      i++;
      const r = and();
      v = truthy(v) || truthy(r);
    }
    return v;
  };
  return truthy(or());
}
