import { describe, expect, it } from "vitest";
import { type ObjectAccess, backendAccess, configSecretsManager, stackObjects } from "./model/pulumi-backend";

const names = (objects: readonly ObjectAccess[], verbs: ObjectAccess["verb"][]) =>
  objects.filter((o) => verbs.includes(o.verb)).map((o) => ("object" in o ? o.object : o.prefix));

describe("the DIY backend's objects (pulumi/pulumi pkg/backend/diy)", () => {
  it("names a project-scoped stack's objects; locks live under the fully qualified name", () => {
    expect(stackObjects("stage")).toMatchObject({
      checkpoint: ".pulumi/stacks/monitor/stage.json",
      backup: ".pulumi/stacks/monitor/stage.json.bak",
      tags: ".pulumi/stacks/monitor/stage.pulumi-tags",
      lockDir: ".pulumi/locks/organization/monitor/stage/",
      historyDir: ".pulumi/history/monitor/stage/",
      backupDir: ".pulumi/backups/monitor/stage/",
    });
    expect(stackObjects("pr-12").lock).toMatch(/^\.pulumi\/locks\/organization\/monitor\/pr-12\/[0-9a-f-]{36}\.json$/);
  });

  it("every command reads meta.yaml and lists .pulumi/stacks/ unless the legacy warning is off", () => {
    for (const op of ["login", "select", "preview", "up", "stack output", "stack ls"] as const) {
      const objects = backendAccess(op, "stage").objects;
      expect(names(objects, ["get"]), op).toContain(".pulumi/meta.yaml");
      expect(names(objects, ["list"]), op).toContain(".pulumi/stacks/");
    }
    expect(names(backendAccess("login", "stage", { noLegacyWarning: true }).objects, ["list"])).toEqual([]);
  });

  it("preview and refresh --preview-only read (checkpoint, tags) and take no lock; up also locks and writes", () => {
    for (const op of ["preview", "refresh --preview-only"] as const) {
      const a = backendAccess(op, "stage");
      expect(names(a.objects, ["create", "delete"]), op).toEqual([]);
      expect(names(a.objects, ["get"])).toEqual([
        ".pulumi/meta.yaml",
        ".pulumi/stacks/monitor/stage.json",
        ".pulumi/stacks/monitor/stage.pulumi-tags",
      ]);
      expect(a.keys).toEqual([expect.objectContaining({ verb: "decrypt", of: "state", stack: "stage" })]);
    }
    for (const op of ["up", "refresh", "destroy"] as const) {
      const a = backendAccess(op, "stage");
      const s = stackObjects("stage");
      expect(names(a.objects, ["create"]), op).toEqual([
        s.lock,
        s.backup,
        s.checkpoint,
        s.history,
        s.historyCheckpoint,
        s.backupFile,
      ]);
      expect(names(a.objects, ["delete"]), op).toEqual([s.lock]);
    }
  });

  it("init creates the checkpoint and encrypts a new data key; select only finds the checkpoint", () => {
    const init = backendAccess("init", "pr-3");
    expect(names(init.objects, ["create"])).toEqual([stackObjects("pr-3").lock, stackObjects("pr-3").checkpoint]);
    expect(init.keys).toEqual([expect.objectContaining({ verb: "encrypt", of: "config" })]);
    const select = backendAccess("select", "pr-3");
    expect(names(select.objects, ["create", "delete"])).toEqual([]);
    expect(select.keys).toEqual([]);
  });

  it("stack rm and destroy --remove delete the checkpoint, the tags file and the history", () => {
    const s = stackObjects("pr-3");
    for (const op of ["stack rm", "destroy --remove"] as const) {
      const deleted = names(backendAccess(op, "pr-3").objects, ["delete"]);
      expect(deleted, op).toEqual(expect.arrayContaining([s.checkpoint, s.tags, s.history, s.lock]));
    }
    // Only destroy --remove destroys first (and so decrypts).
    expect(backendAccess("stack rm", "pr-3").keys).toEqual([]);
    expect(backendAccess("destroy --remove", "pr-3").keys).toHaveLength(1);
  });

  it("a StackReference and stack output read the other stack and decrypt with its state key", () => {
    const ref = backendAccess("stack reference", "pr-3", { otherStacks: ["stage"] });
    expect(names(ref.objects, ["get"])).toEqual([".pulumi/stacks/monitor/stage.json"]);
    expect(ref.keys).toEqual([expect.objectContaining({ verb: "decrypt", of: "state", stack: "stage" })]);
    expect(backendAccess("stack output", "stage").keys).toEqual([expect.objectContaining({ stack: "stage" })]);
  });

  it("stack ls reads every stack's checkpoint", () => {
    const ls = backendAccess("stack ls", "pr-3", { otherStacks: ["pr-3", "stage", "prod", "pipeline"] });
    expect(names(ls.objects, ["get"])).toEqual([
      ".pulumi/meta.yaml",
      ".pulumi/stacks/monitor/pr-3.json",
      ".pulumi/stacks/monitor/stage.json",
      ".pulumi/stacks/monitor/prod.json",
      ".pulumi/stacks/monitor/pipeline.json",
    ]);
  });

  it("cancel deletes the stack's locks", () => {
    expect(names(backendAccess("cancel", "stage").objects, ["delete"])).toEqual([stackObjects("stage").lock]);
  });
});

describe("the config's secrets manager (pkg/cmd/pulumi/stack/secrets.go:226-287)", () => {
  const kms = "projects/p/locations/global/keyRings/pulumi/cryptoKeys/pulumi-stage";
  const state = { kind: "gcpkms", key: kms, from: "state" } as const;

  it("a stack file's gcpkms provider wins", () => {
    expect(configSecretsManager({ secretsprovider: `gcpkms://${kms}`, encryptedkey: "x" }, {}, state)).toEqual({
      kind: "gcpkms",
      key: kms,
      from: "stack file",
    });
  });

  it("no provider and no fallback: the passphrase manager, which fails without a passphrase", () => {
    const m = configSecretsManager({}, {}, state);
    expect(m).toEqual({
      kind: "passphrase",
      error: expect.stringMatching(/passphrase must be set with PULUMI_CONFIG_PASSPHRASE/),
    });
    // No stack file at all (an uncommitted Pulumi.pr-<N>.yaml) is the same.
    expect(configSecretsManager(undefined, {}, state).kind).toBe("passphrase");
    // With a passphrase it opens (and cannot read gcpkms ciphertext: another manager).
    expect(configSecretsManager(undefined, { PULUMI_CONFIG_PASSPHRASE: "" }, state)).toEqual({ kind: "passphrase" });
  });

  it("PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER=true (or 1) uses the state's manager", () => {
    expect(configSecretsManager(undefined, { PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true" }, state)).toBe(state);
    expect(configSecretsManager({}, { PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "1" }, state)).toBe(state);
    expect(configSecretsManager({}, { PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "yes" }, state).kind).toBe(
      "passphrase",
    );
    // An encryptionsalt means passphrase, fallback or not.
    expect(
      configSecretsManager({ encryptionsalt: "v1:x" }, { PULUMI_FALLBACK_TO_STATE_SECRETS_MANAGER: "true" }, state)
        .kind,
    ).toBe("passphrase");
  });
});
