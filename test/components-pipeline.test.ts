import { describe, expect, it } from "vitest";
import { Deployer } from "../components/deployer";
import { ImageRegistry } from "../components/image-registry";
import type { Grantee } from "../components/options";
import { StateBackend } from "../components/state-backend";
import { WorkloadIdentity } from "../components/workload-identity";
import type { Evaluation } from "../infra/engine/evaluate";
import { PROJECT, evaluateComponent, ofType } from "./harness";

const TRUSTED = {
  repositoryIds: ["1"],
  ownerIds: ["2"],
  pinnedWorkflowRefs: [],
  infra: { repositoryId: "1", fullName: "mozilla/monitor-delivery" },
  pullRequestEnvironments: [],
  environments: ["stage"],
};

const stateBackend = (keys: string[], retain?: boolean) =>
  new StateBackend("state", { project: PROJECT, bucket: "monitor-state", region: "US", keys, retain });
const imageRegistry = (retain?: boolean) =>
  new ImageRegistry("images", {
    project: PROJECT,
    region: "us",
    repositoryId: "monitor",
    prImageTtlDays: 14,
    untaggedTtlDays: 14,
    retain,
  });

/** The pipeline's stateful components, retained or not. */
function stateful(retain?: boolean): Promise<Evaluation> {
  return evaluateComponent(() => {
    stateBackend(["stage"], retain);
    imageRegistry(retain);
    new WorkloadIdentity("wif", { project: PROJECT, trusted: TRUSTED, retain });
    return {};
  });
}

const GUARDED = [
  "gcp:storage/bucket:Bucket",
  "gcp:kms/cryptoKey:CryptoKey",
  "gcp:artifactregistry/repository:Repository",
  "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
];

describe("retain, the one protection switch of the pipeline's stateful components", () => {
  it("by default protects the bucket, key ring, keys, registry and pool, and sets each provider guard", async () => {
    const ev = await stateful();
    for (const type of [...GUARDED, "gcp:kms/keyRing:KeyRing"]) {
      expect(ofType(ev, type).length, type).toBeGreaterThan(0);
      for (const r of ofType(ev, type)) expect(r.protect, type).toBe(true);
    }
    for (const type of GUARDED) for (const r of ofType(ev, type)) expect(r.inputs.deletionPolicy, type).toBe("PREVENT");
    expect(ofType(ev, "gcp:storage/bucket:Bucket")[0].inputs.forceDestroy).toBe(false);
  });

  it("keeps the key ring named pulumi in global unless told otherwise, and the registry's host in its region", async () => {
    const ev = await stateful();
    expect(ofType(ev, "gcp:kms/keyRing:KeyRing")[0].inputs).toMatchObject({ name: "pulumi", location: "global" });
    expect(ofType(ev, "gcp:storage/bucket:Bucket")[0].inputs.location).toBe("US");
    expect(ofType(ev, "gcp:artifactregistry/repository:Repository")[0].inputs.location).toBe("us");
    expect(ofType(ev, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool")[0].inputs.workloadIdentityPoolId).toBe(
      "github-actions",
    );
  });

  it("retain: false leaves all of it deletable, by Pulumi and by the provider", async () => {
    const ev = await stateful(false);
    for (const type of [...GUARDED, "gcp:kms/keyRing:KeyRing"])
      for (const r of ofType(ev, type)) expect(r.protect, type).toBe(false);
    for (const type of GUARDED) for (const r of ofType(ev, type)) expect(r.inputs.deletionPolicy, type).toBe("DELETE");
    expect(ofType(ev, "gcp:storage/bucket:Bucket")[0].inputs.forceDestroy).toBe(true);
  });
});

const A: Grantee = { key: "deployer-a", member: `serviceAccount:a@${PROJECT}.iam.gserviceaccount.com` };
const B: Grantee = { key: "deployer-b", member: `serviceAccount:b@${PROJECT}.iam.gserviceaccount.com` };
const C: Grantee = {
  key: "run-agent-x",
  member: "serviceAccount:service-1@serverless-robot-prod.iam.gserviceaccount.com",
};

/** Every custom resource the program registers, by logical name: what `pulumi up` matches old and new state on. */
async function byName(program: () => void): Promise<Record<string, { type: string; inputs: Record<string, unknown> }>> {
  const ev = await evaluateComponent(() => {
    program();
    return {};
  });
  return Object.fromEntries(
    ev.registrations
      .filter((r) => !r.type.startsWith("monitor:"))
      .map((r) => [r.name, { type: r.type, inputs: r.inputs }]),
  );
}

describe("grants as methods, each binding named after its grantee", () => {
  const registry = (grantees: Grantee[]) =>
    byName(() => {
      const images = imageRegistry();
      for (const g of grantees) {
        if (g === C) images.grantPull(g);
        else images.grantPush(g);
      }
    });

  it("ImageRegistry: grantPush and grantPull bind writer and reader on the repository, named <name>-push|pull-<key>", async () => {
    const names = await registry([A, C]);
    expect(names["images-push-deployer-a"].inputs).toMatchObject({
      project: PROJECT,
      location: "us",
      repository: "monitor",
      role: "roles/artifactregistry.writer",
      member: A.member,
    });
    expect(names["images-pull-run-agent-x"].inputs).toMatchObject({
      role: "roles/artifactregistry.reader",
      member: C.member,
    });
  });

  it("ImageRegistry: reordering, adding or removing grantees leaves every other binding's name and inputs alone", async () => {
    const before = await registry([A, B, C]);
    expect(await registry([C, B, A])).toEqual(before);
    const without = await registry([B, C]);
    expect(without["images-push-deployer-b"]).toEqual(before["images-push-deployer-b"]);
    expect(without["images-push-deployer-a"]).toBeUndefined();
  });

  const deployer = (principalSets: Grantee[]) =>
    byName(() => {
      const d = new Deployer("deployer-x", { project: PROJECT, accountId: "monitor-deploy-x", description: "x" });
      for (const p of principalSets) d.grantImpersonation(p);
    });
  const APP: Grantee = { key: "app", member: "principalSet://iam.googleapis.com/pool/attribute.repository_id/1" };
  const INFRA: Grantee = { key: "infra", member: "principalSet://iam.googleapis.com/pool/attribute.repository_id/2" };

  it("Deployer: is a Grantee keyed by its name; grantImpersonation binds workloadIdentityUser named <name>-wif-<key>", async () => {
    const names = await deployer([APP, INFRA]);
    expect(names["deployer-x-wif-app"].inputs).toMatchObject({
      role: "roles/iam.workloadIdentityUser",
      member: APP.member,
    });
    expect(String(names["deployer-x-wif-infra"].inputs.serviceAccountId)).toMatch(/monitor-deploy-x@/);
    expect(await deployer([INFRA, APP])).toEqual(names);
    await evaluateComponent(() => {
      const d = new Deployer("deployer-y", { project: PROJECT, accountId: "monitor-deploy-y", description: "y" });
      expect(d.key).toBe("deployer-y");
      return {};
    });
  });

  const backend = (grantees: Grantee[]) =>
    byName(() => {
      const state = stateBackend(["stage", "prod"]);
      for (const g of grantees) {
        state.grantStateAccess(
          g,
          g === A
            ? { writes: [{ name: "stage" }], encrypts: ["stage"] }
            : { reads: [{ name: "prod" }], decrypts: ["prod"] },
        );
      }
    });

  it("StateBackend: grantStateAccess names each bucket and key binding after the grantee", async () => {
    const names = await backend([A, B]);
    expect(
      Object.keys(names)
        .filter((n) => n.endsWith(A.key))
        .sort(),
    ).toEqual(["state-reads-deployer-a", "state-stage-encrypt-decrypt-deployer-a", "state-writes-deployer-a"]);
    expect(
      Object.keys(names)
        .filter((n) => n.endsWith(B.key))
        .sort(),
    ).toEqual(["state-prod-decrypt-deployer-b", "state-reads-deployer-b"]);
    // The condition's description says who it is for: the key, unless a label is given.
    expect((names["state-writes-deployer-a"].inputs.condition as any).description).toMatch(
      /^deployer-a: \.pulumi\/stacks\/monitor\/stage\.json/,
    );
    expect(await backend([B, A])).toEqual(names);
  });

  it("StateBackend: refuses a key it does not hold, naming the grantee and the keys it has", async () => {
    await expect(
      evaluateComponent(() => {
        stateBackend(["stage"]).grantStateAccess(A, { writes: [{ name: "stage" }], encrypts: ["prod"] });
        return {};
      }),
    ).rejects.toThrow("deployer-a is granted the key prod, which is not one of stage");
    // Refused before any binding: the program stops with nothing granted.
    const ev = await evaluateComponent(() => {
      const state = stateBackend(["stage"]);
      expect(() => state.grantStateAccess(A, { writes: [{ name: "stage" }], decrypts: ["prod"] })).toThrow(
        /not one of stage/,
      );
      return {};
    });
    expect(ev.registrations.filter((r) => r.name.endsWith(A.key))).toEqual([]);
  });
});
