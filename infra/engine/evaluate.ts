import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type {
  ReadResourceRequest,
  RegisterResourceRequest,
  ResourceInvokeRequest,
} from "@pulumi/pulumi/proto/resource_pb";
import { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { deserializeProperties, specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import * as settings from "@pulumi/pulumi/runtime/settings";
import * as state from "@pulumi/pulumi/runtime/state";
import { artifactRegistryPath } from "../../shared-rules/artifact-registry";
import { PREVIEW_PLATFORM_OUTPUT, PREVIEW_PLATFORM_STACK } from "../platform";
import { createMocks, mockDigest, mockMigrationHead, mockPreviewPlatform } from "./mocks";

/**
 * The offline engine: runs the real program for one stack in-process under Pulumi's mock runtime and records
 * every registration as the engine would see it, with the options (`protect`, dependencies, parent) that the
 * mock API alone does not expose. `npm run plan` and the tests both use it.
 */

export const PROJECT = "monitor";
export const ORGANIZATION = "organization";
export const REDACTED = "[secret]";
/** What a value the engine cannot know until the update (an id, an email, a URL) reads as in a fresh plan. */
export const UNKNOWN = "[unknown]";

export interface Registration {
  urn: string;
  type: string;
  name: string;
  /** True for provider-managed resources, false for components. */
  custom: boolean;
  /** True for resources read rather than managed (stack references). */
  read: boolean;
  /** Parent URN, or "" at the root. */
  parent: string;
  /** URN of the explicit provider this resource uses; "" or absent for the package's default provider. */
  provider?: string;
  protect: boolean;
  retainOnDelete: boolean;
  deleteBeforeReplace: boolean;
  /** URNs this resource depends on, explicit and through its inputs. */
  dependsOn: string[];
  /** Input property → the URNs its value came from (what stack policies see as propertyDependencies). */
  propertyDependencies: Record<string, string[]>;
  /** Inputs with every secret replaced by REDACTED: safe to print. */
  inputs: Record<string, unknown>;
  /** Dotted paths of the inputs that are secret. */
  secretPaths: string[];
  /** Dotted paths of the inputs a preview cannot know (they read UNKNOWN); absent or empty when all are known. */
  unknownPaths?: string[];
  /** Inputs with secret values in the clear: for tests only, never printed. */
  rawInputs: Record<string, unknown>;
  /** The customTimeouts option, where one was set (`{create: "30m", ...}`). */
  customTimeouts?: { create?: string; update?: string; delete?: string };
}

/** A function call (data source) the program made: what it asked the provider. */
export interface Invocation {
  token: string;
  inputs: Record<string, unknown>;
}

export interface StackOutput {
  value: unknown;
  secret: boolean;
}

export interface Evaluation {
  stack: string;
  registrations: Registration[];
  invocations: Invocation[];
  outputs: Record<string, StackOutput>;
  /** Evaluated as a first preview sees the stack (EvaluateOptions.fresh). */
  fresh?: boolean;
}

export interface EvaluateOptions {
  /** Flat config (`namespace:key` → text) as the CLI passes it. */
  config: Record<string, string>;
  /** Keys of `config` that hold secrets. */
  secretKeys?: string[];
  /** Outputs of stacks this one references; defaults to what the stage stack exports for previews. */
  stackOutputs?: (stackName: string) => Record<string, unknown> | undefined;
  /**
   * Secret ids the engine treats as having no version yet (a new environment before SRE adds them). In a fresh plan
   * it defaults to every secret, since none exists before the first update; `[]` there is the deploy after a
   * bootstrap, once the versions are added.
   */
  missingSecretVersions?: readonly string[];
  /** Secret ids whose look-up fails for another reason, with the message the provider gives. */
  failingSecretVersions?: Readonly<Record<string, string>>;
  /** The program to run; the monitor program by default. */
  program?: () => Record<string, unknown>;
  /**
   * What the first `pulumi preview` of the stack sees: the engine runs with preview semantics, the providers
   * answer nothing they compute (ids, emails, connection names, URLs are unknown), and the stack has no outputs
   * of its own yet (so nothing deployed to keep). Other stacks' outputs and invokes are answered as usual.
   */
  fresh?: boolean;
  /**
   * The project's root (where Pulumi.yaml and the stack files are), as the CLI passes it to the program, which reads
   * the files to say where a value came from. Default: this repository.
   */
  root?: string;
}

type Props = Record<string, unknown>;

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Props)[specialSigKey] === specialSecretSig;
}

/**
 * Splits deserialized inputs into a printable copy, the secret paths and a raw copy; a value a preview does not
 * know (the SDK's `unknown`) becomes UNKNOWN in both copies, and its path goes to `unknownPaths`.
 */
export function unwrapSecrets(
  value: unknown,
  path = "",
  paths: string[] = [],
  unknownPaths: string[] = [],
): { redacted: unknown; raw: unknown; paths: string[]; unknownPaths: string[] } {
  if (pulumi.isUnknown(value)) {
    unknownPaths.push(path);
    return { redacted: UNKNOWN, raw: UNKNOWN, paths, unknownPaths };
  }
  if (isSecretWrapper(value)) {
    paths.push(path);
    return { redacted: REDACTED, raw: unwrapSecrets(value.value, path, [], unknownPaths).raw, paths, unknownPaths };
  }
  if (Array.isArray(value)) {
    const parts = value.map((v, i) => unwrapSecrets(v, `${path}[${i}]`, paths, unknownPaths));
    return { redacted: parts.map((p) => p.redacted), raw: parts.map((p) => p.raw), paths, unknownPaths };
  }
  if (typeof value === "object" && value !== null) {
    const redacted: Props = {};
    const raw: Props = {};
    for (const [k, v] of Object.entries(value)) {
      const part = unwrapSecrets(v, path ? `${path}.${k}` : k, paths, unknownPaths);
      redacted[k] = part.redacted;
      raw[k] = part.raw;
    }
    return { redacted, raw, paths, unknownPaths };
  }
  return { redacted: value, raw: value, paths, unknownPaths };
}

function propertyDependenciesOf(req: RegisterResourceRequest): Record<string, string[]> {
  const deps: Record<string, string[]> = {};
  req.getPropertydependenciesMap().forEach((value, key) => {
    deps[key] = [...value.getUrnsList()].sort();
  });
  return deps;
}

/** The root stack's type: the engine leaves it out of its children's URNs. */
const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

/**
 * The URN the engine gives a resource: its type qualified by every ancestor's type, `A$B$<type>` (pulumi/pulumi
 * sdk/go/common/resource/urn.go, NewURN with the parent URN's QualifiedType), the root stack left out. The mock
 * monitor chains the parent's own type only, which is wrong from two components deep.
 */
export function urnOf(stack: string, project: string, parent: string, type: string, name: string): string {
  const parentType = parent ? parent.split("::")[2] : "";
  const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

function customTimeoutsOf(req: RegisterResourceRequest): Pick<Registration, "customTimeouts"> {
  const t = req.getCustomtimeouts();
  if (!t) return {};
  const set = Object.entries({ create: t.getCreate(), update: t.getUpdate(), delete: t.getDelete() }).filter(
    ([, v]) => v,
  );
  return set.length > 0 ? { customTimeouts: Object.fromEntries(set) } : {};
}

/** A provider reference is `<urn>::<id>`; the URN itself contains `::`, the id does not. */
function providerUrn(reference: string): string {
  const cut = reference.lastIndexOf("::");
  return cut < 0 ? "" : reference.slice(0, cut);
}

/** How the monitor answers a request: as the gRPC stubs do, an error or the response message. */
type Callback = (err: Error | null, response: unknown) => void;

/** Reads what the mock API leaves out (options) from the registration request itself. */
class RecordingMonitor extends MockMonitor {
  readonly registrations: Registration[] = [];
  readonly invocations: Invocation[] = [];

  override async invoke(req: ResourceInvokeRequest, callback: Callback): Promise<void> {
    const token = req.getTok();
    if (token !== "pulumi:pulumi:getResource") {
      this.invocations.push({ token, inputs: unwrapSecrets(deserializeProperties(req.getArgs()!)).redacted as Props });
    }
    return super.invoke(req, callback);
  }

  constructor(mocks: pulumi.runtime.Mocks) {
    super(mocks);
    // Replaces the mock's URN (private in its typings) everywhere the mock uses it, so that the SDK (parents,
    // dependencies) holds the same URNs as the recording.
    (this as unknown as { newUrn: (parent: string, type: string, name: string) => string }).newUrn = (
      parent,
      type,
      name,
    ) => urnOf(pulumi.getStack(), pulumi.getProject(), parent, type, name);
  }

  /** `registered` is the request of a managed resource; a read (`registered` undefined) has no options. */
  private record(
    req: RegisterResourceRequest | ReadResourceRequest,
    registered: RegisterResourceRequest | undefined,
    inputs: unknown,
  ): void {
    const { redacted, raw, paths, unknownPaths } = unwrapSecrets(inputs);
    const read = registered === undefined;
    this.registrations.push({
      urn: urnOf(pulumi.getStack(), pulumi.getProject(), req.getParent(), req.getType(), req.getName()),
      type: req.getType(),
      name: req.getName(),
      custom: registered?.getCustom() ?? true,
      read,
      parent: req.getParent() ?? "",
      provider: providerUrn(req.getProvider() ?? ""),
      protect: Boolean(registered?.getProtect()),
      retainOnDelete: Boolean(registered?.getRetainondelete()),
      deleteBeforeReplace: Boolean(registered?.getDeletebeforereplace()),
      dependsOn: registered ? [...registered.getDependenciesList()].sort() : [],
      propertyDependencies: registered ? propertyDependenciesOf(registered) : {},
      inputs: redacted as Props,
      secretPaths: paths,
      unknownPaths,
      rawInputs: raw as Props,
      ...(registered && customTimeoutsOf(registered)),
    });
  }

  override async registerResource(req: RegisterResourceRequest, callback: Callback): Promise<void> {
    this.record(req, req, deserializeProperties(req.getObject()!));
    return super.registerResource(req, callback);
  }

  override async readResource(req: ReadResourceRequest, callback: Callback): Promise<void> {
    this.record(req, undefined, deserializeProperties(req.getProperties()!));
    return super.readResource(req, callback);
  }
}

/** What `pulumi up` would wait for before printing outputs: every output value and whether it is secret. */
async function resolveOutputs(programOutputs: Record<string, unknown>): Promise<Record<string, StackOutput>> {
  const entries = await Promise.all(
    Object.entries(programOutputs).map(async ([key, value]) => {
      // promise(withUnknowns) and isSecret are the SDK's own (OutputImpl), not in Output's typings.
      const output = pulumi.output(value) as unknown as {
        promise(withUnknowns: boolean): Promise<unknown>;
        isSecret: Promise<boolean>;
      };
      // With unknowns: in a fresh plan an output the engine computes reads UNKNOWN, not undefined.
      const [resolved, secret] = await Promise.all([output.promise(true), output.isSecret]);
      return [key, { value: unwrapSecrets(resolved).raw, secret: Boolean(secret) }] as const;
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * What other stacks (and a stack's own last update) export, as the offline engine assumes them: the preview
 * platform shaped exactly as the previews stack exports it, and for stage and prod a deployed image, so that a
 * deploy without a new tag plans as "keep what runs".
 */
export const DEPLOYED_TAGS: Record<string, string> = { stage: "3f9c2ab", prod: "2024.09.01" };
/** When the engine assumes the deployed images were built: stage's before any other short SHA, prod's on its date. */
export const DEPLOYED_BUILD_TIMES: Record<string, string> = {
  stage: "2024-09-02T00:00:00Z",
  prod: "2024-09-01T00:00:00Z",
};

function defaultStackOutputs(config: Record<string, string>, self: string, fresh: boolean) {
  return (stackName: string) => {
    const stack = stackName.split("/").pop() ?? "";
    // Before its first update a stack has no outputs: a reference to itself reads none.
    if (fresh && stack === self) return {};
    if (stack === PREVIEW_PLATFORM_STACK) {
      // What the previews stack exports, in the project previews run in (project-level config: Pulumi.yaml's).
      const preview = JSON.parse(config["monitor:preview"] ?? "{}") as {
        sandboxSecrets?: string[];
        identityProject?: string;
      };
      return {
        [PREVIEW_PLATFORM_OUTPUT]: mockPreviewPlatform(
          config["gcp:project"],
          config["gcp:region"],
          preview.sandboxSecrets ?? [],
          artifactRegistryPath(config["monitor:imageRepository"] ?? "")?.location,
          preview.identityProject,
        ),
      };
    }
    if (!(stack in DEPLOYED_TAGS)) return undefined;
    const repository = config["monitor:imageRepository"];
    const deployed = {
      imageTag: DEPLOYED_TAGS[stack],
      imageDigest: mockDigest(`${repository}:${DEPLOYED_TAGS[stack]}`),
      imageBuildTime: DEPLOYED_BUILD_TIMES[stack],
      migrationToken: mockDigest(`migration of ${DEPLOYED_TAGS[stack]}`).slice("sha256:".length, "sha256:".length + 12),
      migrationHead: mockMigrationHead(DEPLOYED_BUILD_TIMES[stack]),
    };
    return deployed;
  };
}

export async function evaluate(stack: string, options: EvaluateOptions): Promise<Evaluation> {
  const { config } = options;
  const fresh = options.fresh === true;
  const mocks = createMocks({
    project: config["gcp:project"],
    region: config["gcp:region"],
    stackOutputs: options.stackOutputs ?? defaultStackOutputs(config, stack, fresh),
    missingSecretVersions: options.missingSecretVersions,
    failingSecretVersions: options.failingSecretVersions,
    fresh,
  });
  // preview=true in a fresh plan: what the mocks leave out is unknown, as it is to the engine on a first preview.
  await pulumi.runtime.setMocks(mocks, PROJECT, stack, fresh, ORGANIZATION);
  // setMocks installs a plain MockMonitor and the feature flags (secrets, resource references) the SDK checks;
  // swapping only the monitor keeps the flags, so secret inputs reach the recorder marked as secret.
  const monitor = new RecordingMonitor(mocks);
  const store = (
    state as unknown as { getStore(): { settings: { monitor: unknown; options: { rootDirectory?: string } } } }
  ).getStore();
  store.settings.monitor = monitor;
  store.settings.options.rootDirectory = options.root ?? resolve(__dirname, "..", "..");
  pulumi.runtime.setAllConfig(config, options.secretKeys ?? []);

  // Loaded late so that a caller that never evaluates does not pay for the providers' SDKs.
  const program = options.program ?? (await import("../program")).buildStack;
  return withoutStackTraces(() =>
    withProgramFailures(async () => {
      const outputs = await resolveOutputs(program());
      // Internal to the SDK (not in its typings): resolves once every registration has reached the monitor.
      await (settings as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
      refuseDuplicateUrns(monitor.registrations);
      return {
        stack,
        registrations: monitor.registrations,
        invocations: monitor.invocations,
        outputs,
        ...(fresh && { fresh }),
      };
    }),
  );
}

/**
 * The SDK formats a stack trace for every promise it creates (debuggablePromise), and under a test runner each
 * one goes through the runner's source-mapping `Error.prepareStackTrace`: that was most of an evaluation's time.
 * Nothing reads those traces, and the engine reports errors by message, so an evaluation runs as `npm run plan`
 * does (register.js): no frames captured, V8's own formatting for the resource source positions the SDK still
 * takes (it raises the limit itself for those). Both are restored afterwards, for the caller's own errors.
 */
async function withoutStackTraces<T>(run: () => Promise<T>): Promise<T> {
  // Typed as always set, though it is undefined until something (here, the test runner) installs one.
  const errors: { stackTraceLimit: number; prepareStackTrace?: unknown } = Error;
  const { stackTraceLimit, prepareStackTrace } = errors;
  errors.stackTraceLimit = 0;
  errors.prepareStackTrace = undefined;
  try {
    return await run();
  } finally {
    errors.stackTraceLimit = stackTraceLimit;
    errors.prepareStackTrace = prepareStackTrace;
  }
}

/** The engine fails an update that registers one URN twice (two resources of one type and name under one parent). */
function refuseDuplicateUrns(registrations: readonly Registration[]): void {
  const seen = new Set<string>();
  for (const { urn } of registrations) {
    if (seen.has(urn)) throw new Error(`Duplicate resource URN '${urn}'; try giving it a unique name`);
    seen.add(urn);
  }
}

/**
 * An error thrown inside an `apply` surfaces as an unhandled rejection from the SDK's registration chain, and
 * what waits on that registration never settles. Pulumi's language host owns the process's unhandled rejections
 * and fails the update with the error: so does the engine, for as long as a program runs, and a little after a
 * failure (one cause usually fails several registrations).
 */
async function withProgramFailures<T>(run: () => Promise<T>): Promise<T> {
  const previous = process.listeners("unhandledRejection");
  process.removeAllListeners("unhandledRejection");
  let fail!: (reason: unknown) => void;
  const failure = new Promise<never>((_, reject) => (fail = reject));
  process.on("unhandledRejection", (reason) => fail(reason));
  try {
    return await Promise.race([run(), failure]);
  } catch (err) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    throw programError(err);
  } finally {
    process.removeAllListeners("unhandledRejection");
    for (const listener of previous) process.on("unhandledRejection", listener);
  }
}

/** The program's own message, without the SDK's `error serializing property "x": ` chain in front of it. */
function programError(err: unknown): Error {
  if (!(err instanceof Error)) return new Error(String(err));
  const message = err.message.replace(/^(error serializing property "[^"]*": )+/, "");
  if (message === err.message) return err;
  const clean = new Error(message);
  clean.name = err.name;
  return clean;
}
