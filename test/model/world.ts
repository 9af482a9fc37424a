/**
 * Everything the flows run against, read from what the stacks register (never restated): the pipeline stack's
 * workload identity providers, deployers, state bucket, keys, registry and GitHub environments and variables; the
 * environment stacks' grants, outputs, StackReferences and secrets; the stack files' secrets providers.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { loadStackConfig } from "../../infra/engine/config-files";
import type { Evaluation } from "../../infra/engine/evaluate";
import { ROOT, evaluateStack } from "../harness";
import { IamModel, gcp, type GcpResource } from "./gcp-iam";
import { type Repository } from "./github-claims";
import { type GithubSettings, githubSettings } from "./github-environments";
import { type StackFileSecrets } from "./pulumi-backend";

/** The commit the pipeline stack is applied from in the model: what the callers and the provider pin. */
export const INFRA_COMMIT = "0123456789abcdef0123456789abcdef01234567";

/** The preview stack the flows deploy, and one the sweeper finds. */
export const PREVIEW_STACK = "pr-7";

export interface StackFacts {
  readonly evaluation: Evaluation;
  /** Stacks its program reads through a StackReference (`organization/monitor/<stack>` → `<stack>`). */
  readonly references: readonly string[];
  /** Stack outputs by name (pulumi/actions turns each into a step output). */
  readonly outputs: readonly string[];
  /** The Secret Manager versions it manages, as IAM names them. */
  readonly secretVersions: readonly GcpResource[];
  /** The stack file's secrets settings; undefined when no `Pulumi.<stack>.yaml` is committed. */
  readonly file?: StackFileSecrets;
}

export interface World {
  readonly iam: IamModel;
  readonly github: GithubSettings;
  readonly app: Repository;
  readonly infra: Repository;
  readonly pipeline: Evaluation;
  /** `gs://<bucket>` → the bucket and its project. */
  readonly state: { readonly url: string; readonly bucket: string; readonly project: string };
  /** Key name (the pipeline's `secretsProviders` output) → `projects/.../cryptoKeys/<k>`. */
  readonly keys: Readonly<Record<string, string>>;
  readonly stacks: Readonly<Record<string, StackFacts>>;
  /** Where every preview's state is (their checkpoints are what the sweeper and `stack ls` see). */
  readonly long: readonly string[];
}

function repository(settings: { name: string; id: number; ownerId: number }): Repository {
  return { fullName: settings.name, id: String(settings.id), ownerId: String(settings.ownerId), visibility: "public" };
}

function stackFile(stack: string): StackFileSecrets | undefined {
  const path = join(ROOT, `Pulumi.${stack}.yaml`);
  if (!existsSync(path)) return undefined;
  const file = (parse(readFileSync(path, "utf8")) ?? {}) as StackFileSecrets;
  return {
    secretsprovider: file.secretsprovider,
    encryptedkey: file.encryptedkey,
    encryptionsalt: file.encryptionsalt,
  };
}

const output = (e: Evaluation, name: string): unknown => (e.outputs[name] as { value?: unknown } | undefined)?.value;

async function stackFacts(stack: string): Promise<StackFacts> {
  const evaluation = await evaluateStack(stack);
  const references = evaluation.registrations
    .filter((r) => r.type === "pulumi:pulumi:StackReference")
    .map(
      (r) =>
        String((r.inputs as { name: string }).name)
          .split("/")
          .pop() ?? "",
    );
  const secretVersions = evaluation.registrations
    .filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion")
    .map((r) => {
      // `secret` is the Secret's id output: projects/<number>/secrets/<id>.
      const secret = String((r.inputs as { secret: string }).secret);
      const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(secret);
      if (!m) throw new Error(`${stack}: a SecretVersion of an unexpected secret name ${secret}`);
      const project = evaluation.registrations.find(
        (s) => s.type === "gcp:secretmanager/secret:Secret" && (s.inputs as { secretId: string }).secretId === m[2],
      )?.inputs.project;
      return gcp.secretVersion(String(project), m[2]);
    });
  return {
    evaluation,
    references: [...new Set(references)],
    outputs: Object.keys(evaluation.outputs),
    secretVersions,
    file: stackFile(stack),
  };
}

/** The app and infra repositories as the pipeline stack's config names them (ids as the tokens carry them). */
export function repositories(): { app: Repository; infra: Repository } {
  const settings = JSON.parse(loadStackConfig(ROOT, "pipeline").config["monitor:pipeline"]) as {
    appRepository: { name: string; id: number; ownerId: number };
    infraRepository: { name: string; id: number; ownerId: number };
  };
  return { app: repository(settings.appRepository), infra: repository(settings.infraRepository) };
}

/** The stacks that always exist (the rest are previews). */
export const LONG_STACKS = ["pipeline", "previews", "stage", "prod"] as const;

let world: Promise<World> | undefined;

/** The world, evaluated once per worker. */
export function loadWorld(): Promise<World> {
  world ??= (async () => {
    const pipeline = await evaluateStack("pipeline", { "monitor:infraCommit": INFRA_COMMIT });
    const names = ["previews", "stage", "prod", PREVIEW_STACK];
    // One at a time: the mock runtime is process-global (infra/engine/evaluate.ts).
    const stacks: Record<string, StackFacts> = {};
    for (const name of names) stacks[name] = await stackFacts(name);
    const url = String(output(pipeline, "stateBackend"));
    const bucket = url.replace(/^gs:\/\//, "");
    const bucketRegistration = pipeline.registrations.find(
      (r) => r.type === "gcp:storage/bucket:Bucket" && (r.inputs as { name: string }).name === bucket,
    );
    if (!bucketRegistration) throw new Error(`the pipeline registers no bucket ${bucket}`);
    const keys = Object.fromEntries(
      Object.entries(output(pipeline, "secretsProviders") as Record<string, string>).map(([k, v]) => [
        k,
        v.replace(/^gcpkms:\/\//, ""),
      ]),
    );
    return {
      iam: IamModel.fromEvaluations([pipeline, ...Object.values(stacks).map((s) => s.evaluation)]),
      github: githubSettings(pipeline),
      ...repositories(),
      pipeline,
      state: { url, bucket, project: String(bucketRegistration.inputs.project) },
      keys,
      stacks,
      long: LONG_STACKS,
    };
  })();
  return world;
}

/** The stack `stack` stands for in the world: `pr-<N>` is the preview stack. */
export function factsOf(w: World, stack: string): StackFacts {
  const facts = w.stacks[/^pr-\d+$/.test(stack) ? PREVIEW_STACK : stack];
  if (!facts) throw new Error(`the model has no stack ${stack}`);
  return facts;
}

/**
 * The KMS key a stack's state was created with: `stack init --secrets-provider` with the pipeline's key for its
 * kind (README, "Using it for real"; previews through PULUMI_SECRETS_PROVIDER). The stack file's provider, when it
 * names one, is the same key.
 */
export function stateKeyOf(w: World, stack: string): string {
  const kind = /^pr-\d+$/.test(stack) ? "preview" : stack;
  const key = w.keys[kind];
  if (!key) throw new Error(`the pipeline's secretsProviders has no key for ${kind}`);
  return key;
}
