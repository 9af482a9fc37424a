import { describe, expect, it } from "vitest";
import { ImageRegistry } from "../components/image-registry";
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

/** The pipeline's stateful components, retained or not. */
function stateful(retain?: boolean): Promise<Evaluation> {
  return evaluateComponent(() => {
    new StateBackend("state", {
      project: PROJECT,
      bucket: "monitor-state",
      location: "US",
      keyRing: "pulumi",
      keyLocation: "global",
      keys: ["stage"],
      labels: {},
      access: [],
      retain,
    });
    new ImageRegistry("images", {
      project: PROJECT,
      location: "us",
      repositoryId: "monitor",
      prImageTtlDays: 14,
      untaggedTtlDays: 14,
      labels: {},
      writers: {},
      readers: {},
      retain,
    });
    new WorkloadIdentity("wif", { project: PROJECT, poolId: "github-actions", trusted: TRUSTED, retain });
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

  it("retain: false leaves all of it deletable, by Pulumi and by the provider", async () => {
    const ev = await stateful(false);
    for (const type of [...GUARDED, "gcp:kms/keyRing:KeyRing"]) for (const r of ofType(ev, type)) expect(r.protect, type).toBe(false);
    for (const type of GUARDED) for (const r of ofType(ev, type)) expect(r.inputs.deletionPolicy, type).toBe("DELETE");
    expect(ofType(ev, "gcp:storage/bucket:Bucket")[0].inputs.forceDestroy).toBe(true);
  });
});
