/**
 * What each Pulumi CLI operation reads and writes on a self-managed (DIY) `gs://` backend, and which KMS key it uses,
 * from pulumi/pulumi's source (snapshot 1b5949891b, 3.260-dev; the project pins CLI 3.265.0). Paths:
 *
 * - `.pulumi/meta.yaml`: read by every command that opens the backend (pkg/backend/diy/backend.go:330
 *   `ensurePulumiMeta`, meta.go:116 `readPulumiMeta`); written only when absent (meta.go:65).
 * - `.pulumi/stacks/` is listed on every open, to warn about legacy stacks (backend.go:384), unless
 *   PULUMI_DIY_BACKEND_NO_LEGACY_WARNING is set.
 * - A project-scoped stack's checkpoint is `.pulumi/stacks/<project>/<stack>.json` (store.go:122, `.gz`/`.zst` when
 *   compressed); finding it lists that prefix (state.go:523 `stackPath`), `stackExists` reads it (state.go:115).
 * - Its tags file `.pulumi/stacks/<project>/<stack>.pulumi-tags` is read by every update's target (state.go:97,
 *   stack_tags.go:38-63): a missing file is fine, any other error (a 403) fails the operation.
 * - Locks: `.pulumi/locks/organization/<project>/<stack>/<uuid>.json` (lock.go:170: the lock dir is the fully
 *   qualified name `organization/<project>/<stack>`, backend.go:190); `Lock` lists the dir, writes its file and lists
 *   again (lock.go:130, :64), `Unlock` deletes it (lock.go:156). `preview` and `refresh/destroy --preview-only` take no
 *   lock (backend.go:1197, :1242, :1267).
 * - An update writes the checkpoint after copying it to `<stack>.json.bak` (state.go:256, :465), then
 *   `.pulumi/history/<project>/<stack>/<stack>-<ns>.history.json` and `.checkpoint.json` (state.go:690, called at
 *   backend.go:1456) and `.pulumi/backups/<project>/<stack>/<stack>.<ns>.json` (state.go:490).
 * - `stack rm` (backend.go:1062, state.go:409) locks, reads the checkpoint, copies it to `.json.bak` and deletes it,
 *   deletes the tags file and everything under the stack's history prefix.
 * - `stack ls` (backend.go:926) lists `.pulumi/stacks/<project>/` and reads every stack's checkpoint.
 * - `stack history` lists the stack's history prefix and reads each record (state.go:575); with `--show-secrets`
 *   it decrypts each update's config with the config's secrets manager (pkg/cmd/pulumi/stack/stack_history.go).
 * - A StackReference (backend.go:412-422) and `stack output` read the other stack's checkpoint and open its secrets.
 *
 * Secrets: opening a checkpoint opens its secrets manager (pkg/resource/stack/deployment.go:633
 * `initializeSecretsManager`), and a `gcpkms` manager decrypts its data key with KMS at once
 * (pkg/secrets/cloud/manager.go:109); a new stack's data key is encrypted with KMS (manager.go:79-89). The config's
 * secrets manager is chosen by pkg/cmd/pulumi/stack/secrets.go:226-287 (see `configSecretsManager`).
 */

export const PROJECT = "monitor";
/** The organization every DIY stack's fully qualified name uses (backend.go:190). */
const ORGANIZATION = "organization";
/** A lock file's name is a UUID per CLI process (backend.go lockID); any one stands for all. */
const LOCK_ID = "6f1c2e4a-8d3b-4f0e-9a7c-5b2d1e3f4a6b";
/** Update timestamps in history and backup names (nanoseconds). */
const NANOS = "1767225600000000000";

export type ObjectAccess =
  | { readonly verb: "get" | "create" | "delete"; readonly object: string; readonly why: string }
  | { readonly verb: "list"; readonly prefix: string; readonly why: string };

export interface KeyUse {
  readonly verb: "decrypt" | "encrypt";
  /** Whose key: the state's (a stack's checkpoint) or the config's (the stack file's secrets provider). */
  readonly of: "state" | "config";
  readonly stack: string;
  readonly why: string;
}

export interface BackendAccess {
  readonly objects: readonly ObjectAccess[];
  readonly keys: readonly KeyUse[];
}

export type Operation =
  | "login"
  | "select"
  | "init"
  | "preview"
  | "up"
  | "refresh"
  | "refresh --preview-only"
  | "destroy"
  | "destroy --remove"
  | "stack rm"
  | "stack output"
  | "stack reference"
  | "stack ls"
  | "stack history"
  | "stack history --show-secrets"
  | "cancel";

export const OPERATIONS: readonly Operation[] = [
  "login",
  "select",
  "init",
  "preview",
  "up",
  "refresh",
  "refresh --preview-only",
  "destroy",
  "destroy --remove",
  "stack rm",
  "stack output",
  "stack reference",
  "stack ls",
  "stack history",
  "stack history --show-secrets",
  "cancel",
];

/** The object names of one stack. */
export function stackObjects(stack: string, project = PROJECT) {
  const checkpoint = `.pulumi/stacks/${project}/${stack}.json`;
  const lockDir = `.pulumi/locks/${ORGANIZATION}/${project}/${stack}/`;
  const historyDir = `.pulumi/history/${project}/${stack}/`;
  return {
    checkpoint,
    backup: `${checkpoint}.bak`,
    tags: `.pulumi/stacks/${project}/${stack}.pulumi-tags`,
    lockDir,
    lock: `${lockDir}${LOCK_ID}.json`,
    historyDir,
    history: `${historyDir}${stack}-${NANOS}.history.json`,
    historyCheckpoint: `${historyDir}${stack}-${NANOS}.checkpoint.json`,
    backupDir: `.pulumi/backups/${project}/${stack}/`,
    backupFile: `.pulumi/backups/${project}/${stack}/${stack}.${NANOS}.json`,
  };
}

export interface OperationOptions {
  /** The other stack a `stack reference` reads; `stack ls` reads every one of these. */
  readonly otherStacks?: readonly string[];
  /** PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: skips the listing of `.pulumi/stacks/` on open. */
  readonly noLegacyWarning?: boolean;
}

const open = (o: OperationOptions): ObjectAccess[] => [
  { verb: "get", object: ".pulumi/meta.yaml", why: "every command reads meta.yaml (backend.go:330)" },
  ...(o.noLegacyWarning
    ? []
    : [{ verb: "list" as const, prefix: ".pulumi/stacks/", why: "legacy-stack warning on open (backend.go:384)" }]),
];

const find = (s: ReturnType<typeof stackObjects>): ObjectAccess[] => [
  { verb: "list", prefix: s.checkpoint, why: "stackPath lists the checkpoint's variants (state.go:523)" },
  { verb: "get", object: s.checkpoint, why: "stackExists / getCheckpoint (state.go:115, :200)" },
];

const lock = (s: ReturnType<typeof stackObjects>): ObjectAccess[] => [
  { verb: "list", prefix: s.lockDir, why: "checkForLock (lock.go:64)" },
  { verb: "create", object: s.lock, why: "Lock writes the lock file (lock.go:130)" },
];
const unlock = (s: ReturnType<typeof stackObjects>): ObjectAccess => ({
  verb: "delete",
  object: s.lock,
  why: "Unlock (lock.go:156)",
});

const readTarget = (
  stack: string,
  s: ReturnType<typeof stackObjects>,
): { objects: ObjectAccess[]; keys: KeyUse[] } => ({
  objects: [
    ...find(s),
    { verb: "get", object: s.tags, why: "getTarget loads the stack's tags; only not-found is tolerated (state.go:97)" },
  ],
  keys: [{ verb: "decrypt", of: "state", stack, why: "the checkpoint's secrets manager (deployment.go:633)" }],
});

const writeUpdate = (s: ReturnType<typeof stackObjects>): ObjectAccess[] => [
  { verb: "create", object: s.backup, why: "saveCheckpoint copies the checkpoint to .bak (state.go:465)" },
  { verb: "create", object: s.checkpoint, why: "saveCheckpoint (state.go:256)" },
  { verb: "create", object: s.history, why: "addToHistory (state.go:690)" },
  { verb: "create", object: s.historyCheckpoint, why: "addToHistory copies the checkpoint (state.go:690)" },
  { verb: "create", object: s.backupFile, why: "backupStack (state.go:490)" },
];

const remove = (s: ReturnType<typeof stackObjects>): ObjectAccess[] => [
  ...lock(s),
  ...find(s),
  { verb: "create", object: s.backup, why: "removeStack backs the checkpoint up (state.go:409, :465)" },
  { verb: "delete", object: s.checkpoint, why: "removeStack deletes the checkpoint (state.go:465)" },
  { verb: "delete", object: s.tags, why: "removeStack deletes the tags file (state.go:409; errors only logged)" },
  { verb: "list", prefix: s.historyDir, why: "removeAllByPrefix on the history (state.go:409)" },
  { verb: "delete", object: s.history, why: "removeAllByPrefix deletes each history file (state.go:409)" },
  unlock(s),
];

/** The objects and keys `operation` on `stack` touches. */
export function backendAccess(operation: Operation, stack: string, options: OperationOptions = {}): BackendAccess {
  const s = stackObjects(stack);
  const opened = open(options);
  switch (operation) {
    case "login":
      return { objects: opened, keys: [] };
    case "select":
      return { objects: [...opened, ...find(s)], keys: [] };
    case "init":
      return {
        objects: [
          ...opened,
          ...lock(s),
          ...find(s),
          { verb: "create", object: s.checkpoint, why: "CreateStack saves an empty checkpoint (backend.go:847)" },
          unlock(s),
        ],
        keys: [{ verb: "encrypt", of: "config", stack, why: "a new gcpkms data key (manager.go:79-89)" }],
      };
    case "preview":
    case "refresh --preview-only": {
      const t = readTarget(stack, s);
      return { objects: [...opened, ...t.objects], keys: t.keys };
    }
    case "up":
    case "refresh":
    case "destroy": {
      const t = readTarget(stack, s);
      return { objects: [...opened, ...lock(s), ...t.objects, ...writeUpdate(s), unlock(s)], keys: t.keys };
    }
    case "destroy --remove": {
      const t = readTarget(stack, s);
      return {
        objects: [...opened, ...lock(s), ...t.objects, ...writeUpdate(s), unlock(s), ...remove(s)],
        keys: t.keys,
      };
    }
    case "stack rm":
      return { objects: [...opened, ...remove(s)], keys: [] };
    case "stack output":
      return {
        objects: [...opened, ...find(s)],
        keys: [
          { verb: "decrypt", of: "state", stack, why: "stack outputs open the state's secrets (deployment.go:519)" },
        ],
      };
    case "stack reference": {
      // Read by the program of `stack`: the other stack's checkpoint and its state key.
      const others = options.otherStacks ?? [];
      return {
        objects: others.flatMap((o) => find(stackObjects(o))),
        keys: others.map((o) => ({
          verb: "decrypt" as const,
          of: "state" as const,
          stack: o,
          why: "StackReference outputs (backend.go:412-422, deployment.go:519)",
        })),
      };
    }
    case "stack ls":
      return {
        objects: [
          ...opened,
          { verb: "list", prefix: `.pulumi/stacks/${PROJECT}/`, why: "ListReferences (store.go:250)" },
          ...(options.otherStacks ?? []).map((o) => ({
            verb: "get" as const,
            object: stackObjects(o).checkpoint,
            why: "ListStacks reads every stack's checkpoint (backend.go:926)",
          })),
        ],
        keys: [],
      };
    // With --show-secrets it also opens the config's secrets manager (stack_history.go GetDecrypter): the caller
    // checks that as for any operation that loads config.
    case "stack history":
    case "stack history --show-secrets":
      return {
        objects: [
          ...opened,
          ...find(s),
          { verb: "list", prefix: s.historyDir, why: "getHistory lists the history (state.go:575)" },
          { verb: "get", object: s.history, why: "getHistory reads each update record (state.go:575)" },
        ],
        keys: [],
      };
    case "cancel":
      return {
        objects: [
          ...opened,
          { verb: "list", prefix: s.lockDir, why: "CancelCurrentUpdate (backend.go:1684)" },
          { verb: "delete", object: s.lock, why: "CancelCurrentUpdate deletes every lock (backend.go:1684)" },
        ],
        keys: [],
      };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The config's secrets manager (pkg/cmd/pulumi/stack/secrets.go:226-287).

/** What a stack file says about secrets (absent when the file is absent). */
export interface StackFileSecrets {
  readonly secretsprovider?: string;
  readonly encryptedkey?: string;
  readonly encryptionsalt?: string;
}

export type SecretsManager =
  | { readonly kind: "gcpkms"; readonly key: string; readonly from: "stack file" | "state" }
  | { readonly kind: "passphrase"; readonly error?: string }
  | { readonly kind: "unknown"; readonly why: string };

/** Pulumi's boolean env values: "1" or "true" in any case (sdk/go/common/util/env/env.go:346). */
export const envTrue = (v: string | undefined) => v === "1" || v?.toLowerCase() === "true";

/**
 * Which secrets manager an existing stack's config is opened with:
 * 1. the stack file names a provider other than passphrase/default (secrets.go:237): that one;
 * 2. else an `encryptionsalt` (secrets.go:243): passphrase;
 * 3. else, with PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true (secrets.go:258, sdk/go/common/env/env.go:132), the
 *    manager recorded in the state;
 * 4. else the backend's default (secrets.go:287), which for DIY is the passphrase manager (backend.go:1713), and
 *    without PULUMI_CONFIG_PASSPHRASE(_FILE) in a non-interactive run it fails: "passphrase must be set with
 *    PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables" (passphrase/manager.go:395).
 * `secrets-provider` of pulumi/actions and the Automation API apply only at `stack init` (pulumi/pulumi#5650).
 */
export function configSecretsManager(
  file: StackFileSecrets | undefined,
  env: Readonly<Record<string, string | undefined>>,
  stateManager: SecretsManager | undefined,
): SecretsManager {
  const provider = file?.secretsprovider;
  if (provider && provider !== "passphrase" && provider !== "default") {
    const m = /^gcpkms:\/\/(.+)$/.exec(provider);
    return m ? { kind: "gcpkms", key: m[1].split("?")[0], from: "stack file" } : { kind: "unknown", why: provider };
  }
  const passphrase = env.PULUMI_CONFIG_PASSPHRASE !== undefined || !!env.PULUMI_CONFIG_PASSPHRASE_FILE;
  const passphraseError = passphrase
    ? undefined
    : "passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables";
  if (file?.encryptionsalt) return { kind: "passphrase", error: passphraseError };
  if (envTrue(env.PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER) && stateManager) return stateManager;
  return { kind: "passphrase", error: passphraseError };
}
