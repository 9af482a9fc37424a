/**
 * The workflow files as the flows see them (parsed by test/workflow-files.ts): per job, what starts it (through its
 * caller in workflows/app/ for a reusable workflow), its environment and permissions, the `needs.*.outputs.*` it
 * reads and whether each exists, the env each script step passes against what the script reads, and the Pulumi and
 * registry operations each step runs. GitHub semantics used (github/docs):
 * - a called workflow runs in the caller's run: `on.workflow_call` jobs start on the caller's events
 *   (`content/actions/reference/workflows-and-actions/reusable-workflows.md`), and a caller job's `permissions` caps
 *   the called jobs' ("The GITHUB_TOKEN permissions passed from the caller workflow can be only downgraded");
 * - `needs.<job>.outputs.<name>` is "the set of outputs of a job that the current job depends on" (contexts.md): the
 *   job must be in `needs` and declare the output, else it is an empty string;
 * - the runner sets `GITHUB_*`, `RUNNER_*` and, with `id-token: write`, `ACTIONS_ID_TOKEN_REQUEST_*` in every step
 *   (variables.md, "Default environment variables"; oidc.md); `env:` at workflow, job and step level add to it.
 */
import { parse } from "yaml";
import {
  type Job,
  PULUMI_ACTION,
  type Step,
  WORKFLOW_FILES,
  type WorkflowFile,
  actionName,
  environmentName,
  scriptsIn,
} from "../workflow-files";
import { type EventName } from "./github-claims";
import { type Need, scriptEnv, scriptExcludes, scriptPulumiCalls, scriptRegistryCalls } from "./script-env";

export interface Start {
  readonly event: EventName;
  /** `pull_request` activity types, or `push` branches, the trigger names (undefined: GitHub's default). */
  readonly filter?: readonly string[];
  /** The workflow file whose `on:` this is (the caller, for a reusable workflow). */
  readonly via: string;
  /** The caller job's permissions, which cap the called job's. */
  readonly callerPermissions?: Job["permissions"];
}

export interface NeedsRef {
  readonly job: string;
  readonly output: string;
  /** The job is in `needs` and declares the output. */
  readonly exists: boolean;
}

export interface EnvCheck {
  readonly step: string;
  readonly script: string;
  /** Read unconditionally by the script and not passed (or passed empty). */
  readonly missing: readonly string[];
  /** Read on one branch of the script only and not passed. */
  readonly conditional: readonly string[];
}

export interface PulumiCall {
  /** `login`, `select`, `select or init`, `up`, `preview`, `refresh --preview-only`, `destroy`, `stack rm`, ... */
  readonly operations: readonly string[];
  /** The stack as written: an expression (`${{ inputs.environment }}`), `$STACK` resolved from env, or `pr-*`. */
  readonly stack: string;
  /** pulumi/actions inputs (`cloud-url`, `secrets-provider`, ...); empty for the CLI and scripts. */
  readonly with: Readonly<Record<string, string>>;
  /** Through a script (the Automation API), as opposed to pulumi/actions or the CLI. */
  readonly script?: string;
  /** `--exclude` URN globs: resources the operation leaves alone. */
  readonly excludes?: readonly string[];
}

/** What a step does to the image registry: push a tag, add a tag to a pushed digest, or read a manifest. */
export type RegistryCall = "push" | "tag" | "read";

export interface JobModel {
  readonly file: WorkflowFile;
  readonly id: string;
  readonly job: Job;
  readonly starts: readonly Start[];
  readonly environment?: string;
  /** The effective id-token permission: the job's, capped by its caller's. */
  readonly idToken: boolean;
  readonly needsRefs: readonly NeedsRef[];
  readonly envChecks: readonly EnvCheck[];
  readonly pulumi: readonly PulumiCall[];
}

const stringsIn = (v: unknown): string[] =>
  typeof v === "string"
    ? [v]
    : Array.isArray(v)
      ? v.flatMap(stringsIn)
      : v && typeof v === "object"
        ? Object.values(v).flatMap(stringsIn)
        : [];

/** Events and filters of a workflow's `on:`. */
export function ownStarts(file: WorkflowFile): Start[] {
  const on = file.workflow.on;
  return Object.keys(on)
    .filter((event) => event !== "workflow_call")
    .map((event) => {
      const block = on[event] as { types?: string[]; branches?: string[] } | null;
      return { event: event as EventName, filter: block?.types ?? block?.branches, via: file.path };
    });
}

/** The jobs in other files that call `file` (`uses: <owner>/<repo>/.github/workflows/<file>@<ref>` or `./...`). */
export function callersOf(file: WorkflowFile): { file: WorkflowFile; id: string; job: Job }[] {
  return WORKFLOW_FILES.flatMap((caller) =>
    Object.entries(caller.workflow.jobs)
      .filter(([, job]) => calledFile(job)?.path === file.path)
      .map(([id, job]) => ({ file: caller, id, job })),
  );
}

/** The infra workflow a caller job's `uses:` names, and the ref it names it at. */
export function calledFile(job: Job): { path: string; file: WorkflowFile; ref: string } | undefined {
  if (typeof job.uses !== "string") return undefined;
  const m = /^(?:[^/]+\/[^/]+\/|\.\/)\.github\/workflows\/([^@]+)(?:@(.+))?$/.exec(job.uses);
  const file = m && WORKFLOW_FILES.find((f) => f.home === "infra" && f.file === m[1]);
  return file ? { path: file.path, file, ref: m[2] ?? "" } : undefined;
}

function startsOf(file: WorkflowFile): Start[] {
  const starts = ownStarts(file);
  if ("workflow_call" in file.workflow.on) {
    for (const caller of callersOf(file)) {
      for (const s of ownStarts(caller.file)) starts.push({ ...s, callerPermissions: caller.job.permissions });
    }
  }
  return starts;
}

/** A permission scope's level in a `permissions:` value (`write-all` and `read-all` included). */
export const permission = (p: Job["permissions"] | undefined, scope: string): string | undefined =>
  typeof p === "string" ? (p === "write-all" ? "write" : p === "read-all" ? "read" : undefined) : p?.[scope];

/** The `needs.<job>.outputs.<name>` a job reads, each checked against the named job's `outputs:`. */
export function needsRefs(file: WorkflowFile, job: Job): NeedsRef[] {
  const needs = job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs];
  const text = stringsIn([job.steps, job.env, job.environment, job.with, job.if, job.outputs, job.concurrency]).join(
    "\n",
  );
  return [...text.matchAll(/needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)].map(([, j, output]) => ({
    job: j,
    output,
    exists: needs.includes(j) && output in (file.workflow.jobs[j]?.outputs ?? {}),
  }));
}

/** Variables the runner sets in every step. */
const RUNNER = /^(GITHUB_|RUNNER_|CI$)/;

export function stepName(step: Step, index: number): string {
  return step.name ?? step.id ?? (step.uses ? actionName(step.uses) : (step.run?.split("\n")[0] ?? `step ${index}`));
}

/** The env a step sees as written: workflow, job and step `env:` (later wins). */
export function envOf(file: WorkflowFile, job: Job, step: Step): Record<string, string> {
  return Object.fromEntries(
    Object.entries({ ...(file.workflow.env ?? {}), ...(job.env ?? {}), ...(step.env ?? {}) }).map(([k, v]) => [
      k,
      String(v),
    ]),
  );
}

/**
 * What `script` reads against what the step passes. `passed` is the step's env (values as written, or rendered: an
 * empty value is not passed, as scripts/lib/cli.ts `optionalEnv` treats "" as unset).
 */
export function envCheck(step: string, script: string, passed: Readonly<Record<string, string>>, idToken: boolean) {
  const reads = scriptEnv(script);
  const given = (name: string) =>
    (name in passed && passed[name].trim() !== "") ||
    RUNNER.test(name) ||
    (name.startsWith("ACTIONS_ID_TOKEN_REQUEST_") && idToken);
  const by = (need: Need) => reads.filter((r) => r.need === need && !given(r.name)).map((r) => r.name);
  // The token request variables are the runner's, there only with id-token: write (oidc.md).
  const tokenRequest =
    reads.some((r) => r.name.startsWith("ACTIONS_ID_TOKEN_REQUEST_")) && !idToken
      ? ["ACTIONS_ID_TOKEN_REQUEST_URL"]
      : [];
  return { step, script, missing: [...by("required"), ...tokenRequest], conditional: by("conditional") };
}

/** `pulumi <op>` on a run: line, with the stack it names (`--stack "$STACK"` reads the step's env). */
function cliCalls(run: string, env: Record<string, string>): PulumiCall[] {
  return [...run.matchAll(/\bpulumi ((?:stack )?[a-z]+)\b([^\n]*)/g)]
    .filter(([, op]) => !["login", "version", "about"].includes(op))
    .map(([, op, rest]) => {
      const flags = [...rest.matchAll(/--(preview-only|remove)\b/g)].map((m) => ` --${m[1]}`).join("");
      const arg = /--stack[ =]"?\$?\{?([A-Za-z0-9_-]+)\}?"?/.exec(rest)?.[1] ?? "";
      const excludes = [...rest.matchAll(/--exclude[ =]["']?([^"'\s]+)/g)].map((m) => m[1]);
      return { operations: [`${op}${flags}`], stack: env[arg] ?? arg, with: {}, excludes };
    });
}

/** The Pulumi operations one step runs, in order. */
export function pulumiCalls(step: Step, env: Record<string, string>): PulumiCall[] {
  const out: PulumiCall[] = [];
  if (step.uses && actionName(step.uses) === PULUMI_ACTION && step.with?.command) {
    const w = Object.fromEntries(Object.entries(step.with).map(([k, v]) => [k, String(v)]));
    // pulumi/actions src/main.ts: `cloud-url` → `pulumi login`; upsert → createOrSelectStack (init when missing),
    // else selectStack; `refresh: true` refreshes first; remove → `stack rm` after a destroy; `output` reads outputs.
    const command = w.command === "output" ? "stack output" : w.command === "update" ? "up" : w.command;
    const ops = [
      ...(w["cloud-url"] ? ["login"] : []),
      w.upsert === "true" ? "select or init" : "select",
      w.refresh === "true" && command !== "refresh" ? "refresh" : undefined,
      command,
      w.remove === "true" && command === "destroy" ? "stack rm" : undefined,
    ].filter((o): o is string => o !== undefined);
    out.push({ operations: ops, stack: w["stack-name"], with: w });
  }
  if (step.run) {
    out.push(...cliCalls(step.run, env));
    for (const script of scriptsIn(step.run)) {
      const operations = scriptPulumiCalls(script);
      if (operations.length > 0) {
        out.push({ operations, stack: env.STACK ?? "pr-*", with: {}, script, excludes: scriptExcludes(script) });
      }
    }
  }
  return out;
}

/**
 * What a run: line does to the registry (`docker push`, `gcloud artifacts docker tags add`, a manifest read), itself
 * or through the scripts it runs (scripts/build-image.ts pushes).
 */
export function registryCalls(step: Step): RegistryCall[] {
  const run = step.run ?? "";
  return [
    ...(/\bdocker push\b/.test(run) ? (["push"] as const) : []),
    ...scriptsIn(run).flatMap(scriptRegistryCalls),
    ...(/\bgcloud artifacts docker tags add\b/.test(run) ? (["tag"] as const) : []),
    ...(/\bdocker (manifest inspect|pull)\b/.test(run) ? (["read"] as const) : []),
  ];
}

/** Whether a job asks for an OIDC token, given its caller's permissions. */
export function effectiveIdToken(file: WorkflowFile, job: Job, starts: readonly Start[]): boolean {
  const own = permission(job.permissions ?? (file.workflow.permissions as Job["permissions"]), "id-token") === "write";
  return own && starts.every((s) => !s.callerPermissions || permission(s.callerPermissions, "id-token") === "write");
}

/** Every job of every workflow file, modelled statically (expressions as written). */
export function jobModels(): JobModel[] {
  return WORKFLOW_FILES.flatMap((file) =>
    Object.entries(file.workflow.jobs)
      .filter(([, job]) => job.uses === undefined)
      .map(([id, job]) => {
        const starts = startsOf(file);
        const idToken = effectiveIdToken(file, job, starts);
        const steps = job.steps ?? [];
        return {
          file,
          id,
          job,
          starts,
          environment: environmentName(job),
          idToken,
          needsRefs: needsRefs(file, job),
          envChecks: steps.flatMap((step, index) =>
            scriptsIn(step.run ?? "").map((script) =>
              envCheck(stepName(step, index), script, envOf(file, job, step), idToken),
            ),
          ),
          pulumi: steps.flatMap((step) => pulumiCalls(step, envOf(file, job, step))),
        };
      }),
  );
}

export function jobModel(path: string, id: string): JobModel {
  const found = jobModels().find((j) => j.file.path === path && j.id === id);
  if (!found) throw new Error(`no job ${id} in ${path}`);
  return found;
}

/** The config-map keys a pulumi/actions step sets (`{key: {value, secret}}` YAML). */
export function configMapKeys(call: PulumiCall): string[] {
  const map: unknown = call.with["config-map"] ? parse(call.with["config-map"]) : undefined;
  return map && typeof map === "object" ? Object.keys(map) : [];
}
