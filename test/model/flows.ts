/**
 * The delivery flows walked end to end: for one event, the caller workflow's jobs (`if:` evaluated), the reusable
 * workflow's jobs they call, each job's GitHub environment (its deployment policy), its OIDC token (the claims
 * GitHub documents), the token exchange (the provider's mapping and condition in CEL), the service account it may
 * impersonate, and each step's Pulumi operations (the DIY backend's objects and KMS keys, the config's secrets
 * manager), registry calls and script env, each checked against the IAM grants the stacks register.
 *
 * GitHub rules applied here, beyond those of the modules this uses (github/docs):
 * - A job's `if:` decides whether it runs; a called workflow's jobs run only when the caller job does
 *   (`content/actions/reference/workflows-and-actions/reusable-workflows.md`).
 * - `concurrency`: "Any existing pending job or workflow in the same concurrency group, if it exists, will be
 *   canceled and the new queued job or workflow will take its place" (workflow-syntax.md, `concurrency`): a run that
 *   shares a group with the next one may never run.
 * - A deployment to an environment: "GitHub ... will mark the previous deployment as inactive" for a new deployment
 *   of the same environment (REST `repos/deployments`, `auto_inactive`, default true): PRs that share an environment
 *   take each other's link away.
 * - pulumi/actions step outputs are the stack's outputs (pulumi/actions README, "Outputs").
 */
import { INFRA_COMMIT_PLACEHOLDER } from "../../infra/pipeline-contract";
import {
  type Job,
  type Step,
  type WorkflowFile,
  WORKFLOW_FILES,
  actionName,
  concurrencyOf,
  matrixCombinations,
  scriptsIn,
} from "../workflow-files";
import { gcp } from "./gcp-iam";
import { type RunContext, oidcToken, runRef } from "./github-claims";
import { deployment, variablesFor } from "./github-environments";
import { asString, conditionHolds, render, type Context } from "./github-expressions";
import { parseBackendUrl, stackListing, stacksFromListing } from "../../scripts/lib/state-bucket";
import {
  type Operation,
  type SecretsManager,
  OPERATIONS,
  PROJECT,
  backendAccess,
  configSecretsManager,
  stackObjects,
} from "./pulumi-backend";
import { type Permission } from "./roles";
import { scriptListsState, scriptReadsTimeSeries } from "./script-env";
import {
  type RegistryCall,
  calledFile,
  effectiveIdToken,
  envCheck,
  envOf,
  needsRefs,
  ownStarts,
  pulumiCalls,
  registryCalls,
  stepName,
} from "./workflows";
import { INFRA_COMMIT, type World, factsOf, stateKeyOf } from "./world";

/** What a flow must get done for one event: Pulumi operations on stacks, registry calls, or nothing at all. */
export type Goal =
  | { readonly op: string; readonly stack: string }
  | { readonly registry: RegistryCall }
  /** Cloud Monitoring's time series of a project read (preview admission counts the previews holding connections). */
  | { readonly timeSeries: string };

export interface FlowCase {
  readonly flow: string;
  /** The event, as the table shows it. */
  readonly event: string;
  /** The workflow file the event starts, as this repository holds it (`workflows/app/...` for the app's). */
  readonly caller: string;
  /** The run; its `workflowPath` is the caller's path in its own repository. */
  readonly run: RunContext;
  /** `workflow_dispatch` inputs. */
  readonly inputs?: Readonly<Record<string, string>>;
  /** Stacks whose state exists before the run. */
  readonly existing: readonly string[];
  /** Empty: the flow must reach no identity at all (a run GitHub gives no token). */
  readonly goals: readonly Goal[];
  /**
   * What a script decides at run time in this scenario, by `<step id>.<output>` (e.g. `order.deploy: "true"`: stage
   * runs an older merge). Any other step output is a placeholder, which no `if:` compares equal to a literal.
   */
  readonly stepOutputs?: Readonly<Record<string, string>>;
  /** Steps that fail in this scenario (a `continue-on-error` probe), by id: their `outcome` is "failure". */
  readonly failedSteps?: readonly string[];
}

export interface JobRun {
  /** `<file>#<job>` plus the matrix value, e.g. `config-preview.yml#preview (prod)`. */
  readonly name: string;
  readonly ran: boolean;
  readonly environment?: string;
  /** The service account the job's auth step impersonates. */
  readonly identity?: string;
  /** Required reviewers the environment makes the job wait for. */
  readonly reviewers: number;
  /** It calls a reusable workflow or authenticates to Google: what a flow's goals need. */
  readonly deploys: boolean;
}

export interface FlowResult {
  readonly case: FlowCase;
  readonly jobs: readonly JobRun[];
  readonly identities: readonly string[];
  readonly problems: readonly string[];
  readonly reached: readonly string[];
  readonly works: boolean;
}

const goalText = (g: Goal) =>
  "op" in g ? `${g.op} ${g.stack}` : "registry" in g ? `registry ${g.registry}` : `timeSeries.list ${g.timeSeries}`;

/** A job instance: a file's job, with the caller it was called from and its matrix values. */
interface Instance {
  readonly file: WorkflowFile;
  readonly id: string;
  readonly job: Job;
  readonly inputs: Record<string, string>;
  readonly matrix: Record<string, string>;
  readonly caller?: { readonly file: WorkflowFile; readonly id: string; readonly job: Job };
}

const HEAD_SHA = "2222222222222222222222222222222222222222";
/** When the bucket's objects were last written (the listing's `updated`; no decision here depends on it). */
const UPDATED = "2026-01-05T00:00:00Z";
const RUN_ID = "4242";

/** The `github` context of a run (contexts.md), as far as the workflow files read it. */
export function githubContext(run: RunContext): Record<string, unknown> {
  const t = run.trigger;
  const event =
    t.event === "pull_request"
      ? {
          action: t.action,
          number: t.number,
          pull_request: {
            number: t.number,
            head: {
              sha: HEAD_SHA,
              ref: t.headRef,
              repo: {
                full_name: t.fromFork
                  ? `contributor/${run.repository.fullName.split("/")[1]}`
                  : run.repository.fullName,
              },
            },
          },
        }
      : {};
  return {
    event_name: t.event,
    event,
    repository: run.repository.fullName,
    actor: run.actor,
    ref: runRef(run),
    // "The short ref name of the branch or tag ... For pull requests, the format is <pr_number>/merge."
    // (https://docs.github.com/en/actions/reference/workflows-and-actions/contexts#github-context)
    ref_name: runRef(run).replace(/^refs\/(heads|tags|pull)\//, ""),
    sha: run.sha ?? "1111111111111111111111111111111111111111",
    run_id: RUN_ID,
    run_attempt: "1",
    server_url: "https://github.com",
    workspace: "/home/runner/work/repo/repo",
    token: "<github.token>",
  };
}

/** Step and needs outputs as placeholders (their values are decided at run time); the model checks they exist. */
function placeholders(text: string, pattern: RegExp): Record<string, { outputs: Record<string, string> }> {
  const out: Record<string, { outputs: Record<string, string> }> = {};
  for (const [, id, name] of text.matchAll(pattern)) {
    (out[id] ??= { outputs: {} }).outputs[name] = `<${id}.${name}>`;
  }
  return out;
}

function jobText(job: Job): string {
  return JSON.stringify(job);
}

/** A Secret Manager version's type token: refreshing one reads its payload. */
const SECRET_VERSION = "gcp:secretmanager/secretVersion:SecretVersion";

const OBJECT_PERMISSION: Record<string, Permission> = {
  get: "storage.objects.get",
  list: "storage.objects.list",
  create: "storage.objects.create",
  delete: "storage.objects.delete",
};

/** Operations that load the stack's config, and so open its config secrets manager (pkg/cmd/pulumi/operations). */
const LOADS_CONFIG = new Set([
  "preview",
  "up",
  "refresh",
  "refresh --preview-only",
  "destroy",
  "stack history --show-secrets",
]);

class Walk {
  readonly problems: string[] = [];
  readonly reached: string[] = [];
  readonly jobs: JobRun[] = [];

  constructor(
    private readonly w: World,
    private readonly c: FlowCase,
  ) {}

  private problem(where: string, what: string) {
    this.problems.push(`${where}: ${what}`);
  }

  /** The caller's `on:` starts on this event (types and branches filters). */
  starts(file: WorkflowFile): boolean {
    const t = this.c.run.trigger;
    const start = ownStarts(file).find((s) => s.event === t.event);
    if (!start) return false;
    if (t.event === "pull_request") {
      // GitHub's default activity types for pull_request (events-that-trigger-workflows.md).
      return (start.filter ?? ["opened", "synchronize", "reopened"]).includes(t.action);
    }
    if (t.event === "push" && start.filter) return start.filter.some((b) => runRef(this.c.run) === `refs/heads/${b}`);
    return true;
  }

  run(): void {
    const caller = WORKFLOW_FILES.find((f) => f.path === this.c.caller);
    if (!caller) throw new Error(`no workflow ${this.c.caller}`);
    if (!this.starts(caller)) {
      this.problem(caller.path, `does not start on ${this.c.run.trigger.event}`);
      return;
    }
    this.walkFile(caller, this.c.inputs ?? {});
  }

  private context(inst: Instance, environment?: string): Context {
    const text = jobText(inst.job);
    return {
      github: githubContext(this.c.run),
      inputs: inst.inputs,
      matrix: inst.matrix,
      vars: variablesFor(this.w.github, this.c.run.repository.fullName, environment),
      // Secrets the flows pass are optional (CHAT_WEBHOOK_URL): unset renders as "".
      secrets: {},
      runner: { temp: "/home/runner/work/_temp" },
      needs: placeholders(text, /needs\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g),
      steps: Object.fromEntries(
        Object.entries({
          // Every step with an id has an outcome, whether or not its outputs are read (contexts.md, steps).
          ...Object.fromEntries((inst.job.steps ?? []).flatMap((st) => (st.id ? [[st.id, { outputs: {} }]] : []))),
          ...placeholders(text, /steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g),
        }).map(([id, v]) => [
          id,
          {
            outputs: { ...v.outputs, ...this.decided(id) },
            // continue-on-error: a failed step's conclusion is success, its outcome failure (contexts.md, steps).
            outcome: this.c.failedSteps?.includes(id) ? "failure" : "success",
            conclusion: "success",
          },
        ]),
      ),
    };
  }

  /** The outputs of step `id` the case decides. */
  private decided(id: string): Record<string, string> {
    return Object.fromEntries(
      Object.entries(this.c.stepOutputs ?? {})
        .filter(([key]) => key.startsWith(`${id}.`))
        .map(([key, value]) => [key.slice(id.length + 1), value]),
    );
  }

  private walkFile(file: WorkflowFile, inputs: Record<string, string>, caller?: Instance["caller"]): void {
    const declared = (file.workflow.on.workflow_call?.inputs ?? {}) as Record<string, { default?: unknown }>;
    const withDefaults = {
      ...Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, asString(v.default)])),
      ...inputs,
    };
    for (const [id, job] of Object.entries(file.workflow.jobs)) {
      for (const matrix of matrixCombinations(job)) {
        this.walkJob({ file, id, job, inputs: withDefaults, matrix, caller });
      }
    }
  }

  private walkJob(inst: Instance): void {
    const { file, id, job } = inst;
    const base = `${file.file}#${id}`;
    const name = Object.keys(inst.matrix).length > 0 ? `${base} (${Object.values(inst.matrix).join(", ")})` : base;
    if (!conditionHolds(job.if, this.context(inst))) {
      const deploys =
        calledFile(job) !== undefined ||
        (job.steps ?? []).some((s) => s.uses && actionName(s.uses) === "google-github-actions/auth");
      this.jobs.push({ name, ran: false, reviewers: 0, deploys });
      return;
    }
    const called = calledFile(job);
    if (called) {
      const ctx = this.context(inst);
      const inputs = Object.fromEntries(Object.entries(job.with ?? {}).map(([k, v]) => [k, render(String(v), ctx)]));
      this.walkFile(called.file, inputs, { file, id, job });
      return;
    }
    for (const ref of needsRefs(file, job).filter((r) => !r.exists)) {
      this.problem(name, `reads needs.${ref.job}.outputs.${ref.output}, which ${ref.job} does not declare or need`);
    }
    const rawEnvironment = typeof job.environment === "string" ? job.environment : job.environment?.name;
    const environment = rawEnvironment === undefined ? undefined : render(rawEnvironment, this.context(inst));
    const ctx = this.context(inst, environment);
    let reviewers = 0;
    if (environment !== undefined) {
      const d = deployment(this.w.github, this.c.run, environment);
      if (!d.allowed) this.problem(name, d.why);
      else reviewers = d.reviewers;
      this.checkDeploymentLink(inst, name, environment);
    }
    this.checkEveryRunRuns(inst, name);
    const starts = inst.caller
      ? [
          {
            event: this.c.run.trigger.event,
            via: inst.caller.file.path,
            callerPermissions: inst.caller.job.permissions,
          },
        ]
      : [];
    const idToken = effectiveIdToken(file, job, starts);
    let identity: string | undefined;
    for (const [index, step] of (job.steps ?? []).entries()) {
      if (!conditionHolds(step.if, ctx)) continue;
      const label = `${name} › ${render(stepName(step, index), ctx)}`;
      const env = Object.fromEntries(Object.entries(envOf(file, job, step)).map(([k, v]) => [k, render(v, ctx)]));
      if (step.uses && actionName(step.uses) === "google-github-actions/auth") {
        identity = this.authenticate(inst, label, step, ctx, environment, idToken);
      }
      for (const script of scriptsIn(step.run ?? "")) {
        const check = envCheck(label, script, env, idToken);
        if (check.missing.length > 0) this.problem(label, `${script} needs ${check.missing.join(", ")}, not passed`);
      }
      this.checkStepOutputs(label, step, inst, ctx);
      // The previews a script works on: those its listing of the bucket finds, else (a `pulumi stack ls`) all.
      let previews = this.c.existing.filter((s) => /^pr-\d+$/.test(s));
      if (scriptsIn(step.run ?? "").some(scriptListsState)) previews = this.listPreviews(label, env, identity);
      for (const call of pulumiCalls(step, envOf(file, job, step))) {
        const w = Object.fromEntries(Object.entries(call.with).map(([k, v]) => [k, render(v, ctx)]));
        const stacks = call.stack === "pr-*" ? previews : [render(call.stack, ctx)];
        for (const stack of stacks) this.pulumi(label, call.operations, stack, w, env, identity, call.excludes ?? []);
      }
      for (const r of registryCalls(step)) this.registry(label, r, env, identity);
      if (scriptsIn(step.run ?? "").some(scriptReadsTimeSeries)) this.timeSeries(label, env, identity);
    }
    this.jobs.push({ name, ran: true, environment, identity, reviewers, deploys: identity !== undefined });
    if (identity) this.checkPullRequestReach(name, identity, environment, reviewers);
  }

  private authenticate(
    inst: Instance,
    label: string,
    step: Step,
    ctx: Context,
    environment: string | undefined,
    idToken: boolean,
  ): string | undefined {
    const w = Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, render(String(v), ctx)]));
    const providerName = w.workload_identity_provider ?? "";
    const account = w.service_account ?? "";
    if (!providerName || !account) {
      this.problem(
        label,
        `workload_identity_provider or service_account is empty in environment ${environment ?? "(none)"}`,
      );
      return undefined;
    }
    const calledRef = inst.caller && calledFile(inst.caller.job)?.ref;
    const token = oidcToken({
      run: this.c.run,
      environment,
      idTokenWrite: idToken,
      called: inst.caller && {
        repository: this.w.infra,
        path: inst.file.path,
        // The pipeline stack commits the callers with the placeholder replaced by the commit it was applied from.
        ref: calledRef === INFRA_COMMIT_PLACEHOLDER ? INFRA_COMMIT : (calledRef ?? ""),
        sha: INFRA_COMMIT,
      },
      audience: `https://iam.googleapis.com/${providerName}`,
    });
    if (!token.issued) {
      this.problem(label, `no OIDC token: ${token.why}`);
      return undefined;
    }
    const provider = this.w.iam.providers.find((p) => p.name === providerName);
    if (!provider) {
      this.problem(label, `no workload identity provider ${providerName}`);
      return undefined;
    }
    const exchange = this.w.iam.exchange(provider, token.claims);
    if (!exchange.admitted) {
      this.problem(label, `the provider refuses the token: ${exchange.why}`);
      return undefined;
    }
    if (!this.w.iam.impersonable(provider, exchange.attributes).includes(account)) {
      this.problem(
        label,
        `the token may not impersonate ${account} (attributes ${JSON.stringify(exchange.attributes)})`,
      );
      return undefined;
    }
    return account;
  }

  private can(label: string, identity: string, resource: ReturnType<typeof gcp.object>, permission: Permission) {
    const result = this.w.iam.can(`serviceAccount:${identity}`, resource, permission);
    if (!result.allowed) this.problem(label, `${permission} on ${resource.name} denied: ${result.why}`);
    return result.allowed;
  }

  /**
   * The previews a script finds by listing object names (scripts/lib/state-bucket.ts, its own functions run here on
   * the bucket's objects): the identity needs `storage.objects.list` on the bucket, and a preview's lock, where Pulumi
   * writes it, must show as an update in progress, or the sweeper would destroy a preview an update holds.
   */
  private listPreviews(label: string, env: Record<string, string>, identity: string | undefined): string[] {
    const where = `${label} (listing previews)`;
    if (!identity) {
      this.problem(where, "objects.list with no Google credentials");
      return [];
    }
    if (env.PULUMI_BACKEND_URL !== this.w.state.url) {
      this.problem(where, `PULUMI_BACKEND_URL is "${env.PULUMI_BACKEND_URL ?? ""}", not ${this.w.state.url}`);
      return [];
    }
    if (!this.can(where, identity, gcp.bucket(this.w.state.project, this.w.state.bucket), "storage.objects.list")) {
      return [];
    }
    const { prefix } = parseBackendUrl(env.PULUMI_BACKEND_URL);
    const listing = stackListing({ prefix, project: PROJECT }, "pr-");
    const checkpoints = this.c.existing.map((s) => ({ name: stackObjects(s).checkpoint, updated: UPDATED }));
    const under = (objects: { name: string; updated: string }[], p: string) =>
      objects.filter((o) => o.name.startsWith(p));
    const found = stacksFromListing(listing, under(checkpoints, listing.checkpoints), []);
    for (const stack of found) {
      const lock = { name: stackObjects(stack.name).lock, updated: UPDATED };
      const seen = stacksFromListing(listing, under(checkpoints, listing.checkpoints), under([lock], listing.locks));
      if (!seen.find((s) => s.name === stack.name)?.updateInProgress) {
        this.problem(
          where,
          `lists locks under ${listing.locks}, but Pulumi locks ${stack.name} at ${lock.name}: an update in progress is never seen`,
        );
      }
    }
    return found.map((s) => s.name);
  }

  private pulumi(
    label: string,
    operations: readonly string[],
    stack: string,
    w: Record<string, string>,
    env: Record<string, string>,
    identity: string | undefined,
    excludes: readonly string[],
  ) {
    const where = `${label} (${stack})`;
    if (!identity) {
      this.problem(where, `pulumi ${operations.join(", ")} with no Google credentials`);
      return;
    }
    // pulumi/actions logs in to `cloud-url`; the CLI and the Automation API read PULUMI_BACKEND_URL.
    const backend = w["cloud-url"] || env.PULUMI_BACKEND_URL;
    if (backend !== this.w.state.url) {
      this.problem(
        where,
        `the backend is "${backend ?? ""}", not ${this.w.state.url} (the CLI would use Pulumi Cloud)`,
      );
      return;
    }
    const exists = this.c.existing.includes(stack);
    let file = factsOf(this.w, stack).file;
    if (!/^pr-\d+$/.test(stack) && !this.w.long.includes(stack)) this.problem(where, `${stack} is not a stack`);
    const failedBefore = this.problems.length;
    const resolve = (raw: string) => (raw === "select or init" ? (exists ? "select" : "init") : raw) as Operation;
    for (const raw of operations) {
      const op = resolve(raw);
      if (raw === "select" && !exists) this.problem(where, `select: stack ${stack} does not exist`);
      if (!OPERATIONS.includes(op)) throw new Error(`the model has no backend operation ${op}`);
      const otherStacks =
        op === "stack reference"
          ? factsOf(this.w, stack).references
          : op === "stack ls"
            ? [...this.w.long, ...this.c.existing.filter((s) => /^pr-\d+$/.test(s))]
            : undefined;
      const access = backendAccess(op, stack, { otherStacks });
      for (const o of access.objects) {
        const resource =
          o.verb === "list"
            ? gcp.bucket(this.w.state.project, this.w.state.bucket)
            : gcp.object(this.w.state.project, this.w.state.bucket, o.object);
        this.can(`${where} ${op}`, identity, resource, OBJECT_PERMISSION[o.verb]);
      }
      for (const k of access.keys) {
        const key =
          k.of === "config" ? (w["secrets-provider"] ?? "").replace(/^gcpkms:\/\//, "") : stateKeyOf(this.w, k.stack);
        if (op === "init") {
          if (!key) this.problem(`${where} init`, "no secrets-provider: the stack would get a passphrase manager");
          // `stack init --secrets-provider` writes the provider and its encrypted key into the stack file.
          else file = { secretsprovider: `gcpkms://${key}`, encryptedkey: "<written by stack init>" };
        }
        if (key) {
          const permission =
            k.verb === "encrypt"
              ? "cloudkms.cryptoKeyVersions.useToEncrypt"
              : "cloudkms.cryptoKeyVersions.useToDecrypt";
          this.can(`${where} ${op}`, identity, gcp.cryptoKey(key), permission);
        }
      }
      if (LOADS_CONFIG.has(op)) this.configSecrets(`${where} ${op}`, stack, file, env, identity);
      if (op === "up" || op === "preview" || op === "refresh" || op === "refresh --preview-only" || op === "destroy") {
        // The program's StackReferences read the other stacks during the operation.
        if (op !== "destroy") this.pulumiReferences(where, stack, identity);
        if (op.startsWith("refresh") && !excludes.some((g) => g.includes(SECRET_VERSION))) {
          for (const version of factsOf(this.w, stack).secretVersions) {
            // Reading a SecretVersion reads its payload: "Error reading SecretVersion: googleapi: Error 403:
            // Permission 'secretmanager.versions.access' denied" (GoogleCloudPlatform/terraform-gcp-datadog-integration#2).
            this.can(`${where} ${op}`, identity, version, "secretmanager.versions.access");
          }
        }
      }
    }
    if (this.problems.length === failedBefore) {
      for (const op of operations) this.reached.push(`${resolve(op)} ${stack}`);
    }
  }

  private pulumiReferences(where: string, stack: string, identity: string) {
    const access = backendAccess("stack reference", stack, { otherStacks: factsOf(this.w, stack).references });
    for (const o of access.objects) {
      const resource =
        o.verb === "list"
          ? gcp.bucket(this.w.state.project, this.w.state.bucket)
          : gcp.object(this.w.state.project, this.w.state.bucket, o.object);
      this.can(`${where} StackReference`, identity, resource, OBJECT_PERMISSION[o.verb]);
    }
    for (const k of access.keys) {
      this.can(
        `${where} StackReference`,
        identity,
        gcp.cryptoKey(stateKeyOf(this.w, k.stack)),
        "cloudkms.cryptoKeyVersions.useToDecrypt",
      );
    }
  }

  private configSecrets(
    where: string,
    stack: string,
    file: ReturnType<typeof factsOf>["file"],
    env: Record<string, string>,
    identity: string,
  ) {
    const state: SecretsManager = { kind: "gcpkms", key: stateKeyOf(this.w, stack), from: "state" };
    const manager = configSecretsManager(file, { ...env }, state);
    if (manager.kind === "passphrase" && manager.error) {
      this.problem(where, `the config's secrets manager is the passphrase manager: ${manager.error}`);
    } else if (manager.kind === "gcpkms") {
      this.can(where, identity, gcp.cryptoKey(manager.key), "cloudkms.cryptoKeyVersions.useToDecrypt");
    } else if (manager.kind !== "passphrase") {
      this.problem(where, `unknown secrets provider ${manager.why}`);
    }
  }

  private registry(label: string, call: RegistryCall, env: Record<string, string>, identity: string | undefined) {
    if (!identity) {
      this.problem(label, `registry ${call} with no Google credentials`);
      return;
    }
    const path = Object.values(env).find((v) => /^[a-z0-9-]+-docker\.pkg\.dev\//.test(v)) ?? "";
    const m = /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\//.exec(path);
    if (!m) {
      this.problem(label, `registry ${call}: no Artifact Registry image in the step's env`);
      return;
    }
    const repository = gcp.artifactRepository(m[2], m[1], m[3]);
    const permission: Permission =
      call === "read"
        ? "artifactregistry.repositories.downloadArtifacts"
        : "artifactregistry.repositories.uploadArtifacts";
    if (this.can(label, identity, repository, permission)) this.reached.push(`registry ${call}`);
  }

  /**
   * A script that lists Cloud Monitoring's time series of the project in GCP_PROJECT, with the auth step's token:
   * projects.timeSeries.list needs `monitoring.timeSeries.list` on that project
   * (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list, "Authorization").
   */
  private timeSeries(label: string, env: Record<string, string>, identity: string | undefined) {
    const where = `${label} (Cloud Monitoring)`;
    if (!identity) {
      this.problem(where, "timeSeries.list with no Google credentials");
      return;
    }
    if (!env.GCP_PROJECT) {
      this.problem(where, "timeSeries.list with GCP_PROJECT empty");
      return;
    }
    if (this.can(where, identity, gcp.timeSeries(env.GCP_PROJECT), "monitoring.timeSeries.list")) {
      this.reached.push(`timeSeries.list ${env.GCP_PROJECT}`);
    }
  }

  /** Every `steps.<id>.outputs.<name>` a step reads names an output of a pulumi/actions step's stack. */
  private checkStepOutputs(label: string, step: Step, inst: Instance, ctx: Context) {
    const text = JSON.stringify({ env: step.env, with: step.with, if: step.if });
    for (const [, id, output] of text.matchAll(/steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)/g)) {
      const source = (inst.job.steps ?? []).find((s) => s.id === id);
      if (!source) {
        this.problem(label, `reads steps.${id}.outputs.${output}: no step ${id}`);
        continue;
      }
      if (source.uses && actionName(source.uses) === "pulumi/actions") {
        const stack = render(asString(source.with?.["stack-name"]), ctx);
        if (!factsOf(this.w, stack).outputs.includes(output)) {
          this.problem(label, `reads steps.${id}.outputs.${output}: stack ${stack} exports no ${output}`);
        }
      }
    }
  }

  /** A job whose environment makes a deployment link gets one environment per pull request. */
  private checkDeploymentLink(inst: Instance, name: string, environment: string) {
    const trigger = this.c.run.trigger;
    if (trigger.event !== "pull_request" || typeof inst.job.environment !== "object") return;
    if (inst.job.environment.url === undefined) return;
    const other = { ...this.c.run, trigger: { ...trigger, number: trigger.number + 1 } };
    const otherEnvironment = render(inst.job.environment.name, { ...this.context(inst), github: githubContext(other) });
    if (otherEnvironment === environment) {
      this.problem(
        name,
        `every pull request deploys to environment ${environment}: each deploy inactivates the others' links`,
      );
    }
  }

  /** On push, a job that pushes an image must run for every push: no concurrency group shared with the next run. */
  private checkEveryRunRuns(inst: Instance, name: string) {
    if (this.c.run.trigger.event !== "push" || !(inst.job.steps ?? []).some((s) => registryCalls(s).includes("push")))
      return;
    const next = { ...this.c.run, sha: "3333333333333333333333333333333333333333" };
    const groups = [
      concurrencyOf(inst.job.concurrency),
      concurrencyOf(inst.caller?.file.workflow.concurrency),
      concurrencyOf(inst.file.workflow.concurrency),
    ].filter((g) => g !== undefined);
    for (const g of groups) {
      const here = render(g.group, this.context(inst));
      const there = render(g.group, { ...this.context(inst), github: { ...githubContext(next), run_id: "4243" } });
      if (here === there) {
        this.problem(
          name,
          `builds under concurrency group ${here}, shared with the next push: a pending run is cancelled`,
        );
      }
    }
  }

  /** No identity a pull request's job reaches may decrypt prod's state or read prod's secrets without a reviewer. */
  private checkPullRequestReach(name: string, identity: string, environment: string | undefined, reviewers: number) {
    if (this.c.run.trigger.event !== "pull_request" || reviewers > 0) return;
    const reach = prodReach(this.w, identity);
    if (reach.length > 0) {
      this.problem(
        name,
        `a pull request's job (environment ${environment ?? "none"}, no reviewer) reaches ${identity}, which ${reach.join("; ")}`,
      );
    }
  }
}

/** What of prod's an identity can read: the prod state key, prod's checkpoint, prod's secret payloads. */
export function prodReach(w: World, identity: string): string[] {
  const member = `serviceAccount:${identity}`;
  const out: string[] = [];
  if (w.iam.can(member, gcp.cryptoKey(stateKeyOf(w, "prod")), "cloudkms.cryptoKeyVersions.useToDecrypt").allowed) {
    out.push("decrypts prod's state key");
  }
  const checkpoint = gcp.object(w.state.project, w.state.bucket, stackObjects("prod").checkpoint);
  if (w.iam.can(member, checkpoint, "storage.objects.get").allowed) out.push("reads prod's checkpoint");
  if (factsOf(w, "prod").secretVersions.some((v) => w.iam.can(member, v, "secretmanager.versions.access").allowed)) {
    out.push("reads prod's secrets");
  }
  return out;
}

/** Walks one flow for one event. */
export function walkFlow(w: World, c: FlowCase): FlowResult {
  const walk = new Walk(w, c);
  walk.run();
  const problems = [...walk.problems];
  const identities = [...new Set(walk.jobs.flatMap((j) => (j.identity ? [j.identity] : [])))];
  if (c.goals.length === 0 && identities.length > 0)
    problems.push(`reaches ${identities.join(", ")}; it should reach none`);
  const skipped = walk.jobs.filter((j) => !j.ran && j.deploys).map((j) => j.name);
  for (const goal of c.goals) {
    if (!walk.reached.includes(goalText(goal))) {
      problems.push(`never gets to ${goalText(goal)}${skipped.length > 0 ? ` (skipped: ${skipped.join(", ")})` : ""}`);
    }
  }
  return { case: c, jobs: walk.jobs, identities, problems, reached: walk.reached, works: problems.length === 0 };
}

/**
 * Every identity a pull request's job can reach, whatever the PR edits: its own workflow file, a caller of any
 * reusable workflow at the pinned commit or at main, any environment name (the environment's deployment policy
 * still applies: GitHub refuses a job an environment's branch policy excludes, deployments-and-environments.md).
 * Returns what must never happen, one line per repository, environment and account: a stage or prod deployer
 * reached, or prod's state or secrets readable without a required reviewer.
 */
export function pullRequestReach(w: World, workflowFiles: readonly string[]): string[] {
  const stageProd = Object.entries((w.pipeline.outputs.deployers as { value: Record<string, string> }).value).filter(
    ([environment]) => environment === "stage" || environment === "prod",
  );
  const out = new Set<string>();
  for (const repository of [w.app, w.infra]) {
    const short = repository.fullName.split("/")[1];
    const environments = [
      undefined,
      "preview-7",
      "anything",
      ...w.github.environments.filter((e) => e.repository === short).map((e) => e.name),
    ];
    const trigger = { event: "pull_request", number: 7, action: "synchronize", headRef: "feature/edit" } as const;
    const run = (workflowPath: string): RunContext => ({ repository, workflowPath, trigger, actor: "a-contributor" });
    const variants = [
      // The PR's own (edited) workflow file: job_workflow_ref is the PR's merge ref.
      ...workflowFiles.map((f) => ({ run: run(`.github/workflows/${f}`), called: undefined })),
      // A caller (edited or added by the PR) of a reusable workflow, pinned or at main.
      ...workflowFiles.flatMap((f) =>
        [INFRA_COMMIT, "refs/heads/main"].map((ref) => ({
          run: run(".github/workflows/edited-caller.yml"),
          called: { repository: w.infra, path: `.github/workflows/${f}`, ref, sha: INFRA_COMMIT },
        })),
      ),
    ];
    for (const environment of environments) {
      const d =
        environment === undefined
          ? { allowed: true as const, reviewers: 0 }
          : deployment(w.github, variants[0].run, environment);
      if (!d.allowed) continue;
      for (const v of variants) {
        const token = oidcToken({ run: v.run, environment, called: v.called });
        if (!token.issued) continue;
        for (const provider of w.iam.providers) {
          const exchange = w.iam.exchange(provider, token.claims);
          if (!exchange.admitted) continue;
          for (const account of w.iam.impersonable(provider, exchange.attributes)) {
            const where = `${repository.fullName} PR, environment ${environment ?? "none"}: reaches ${account.split("@")[0]}`;
            const deployer = stageProd.find(([, email]) => email === account);
            if (deployer) out.add(`${where}, the ${deployer[0]} deployer`);
            const reach = d.reviewers > 0 ? [] : prodReach(w, account);
            if (reach.length > 0) out.add(`${where}, which ${reach.join("; ")} with no reviewer`);
          }
        }
      }
    }
  }
  return [...out].sort();
}
