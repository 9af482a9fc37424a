import { describe, expect, it } from "vitest";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { mockProjectNumber } from "../infra/engine/mocks";
import { evaluateStack, handMadeEvaluation, handMadeRegistration } from "./harness";
import { IamModel, gcp, resourceBinding } from "./model/gcp-iam";
import { githubSettings } from "./model/github-environments";

let n = 0;
function reg(type: string, inputs: Record<string, unknown>): Registration {
  n += 1;
  return handMadeRegistration(type, inputs, { name: `r${n}` });
}
const evaluation = (registrations: Registration[]): Evaluation => handMadeEvaluation(registrations);

const PROJECT = "p-test";
const POOL = `projects/${mockProjectNumber(PROJECT)}/locations/global/workloadIdentityPools/gh`;
const SA = "deployer@p-test.iam.gserviceaccount.com";
const OTHER = "other@p-test.iam.gserviceaccount.com";

const model = IamModel.fromEvaluations([
  evaluation([
    reg("gcp:iam/workloadIdentityPool:WorkloadIdentityPool", { project: PROJECT, workloadIdentityPoolId: "gh" }),
    reg("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider", {
      project: PROJECT,
      workloadIdentityPoolId: "gh",
      workloadIdentityPoolProviderId: "github",
      attributeMapping: {
        "google.subject": "assertion.repository_id + ':' + assertion.run_id",
        "attribute.repo_env":
          "assertion.repository_id + '|' + (has(assertion.environment) ? assertion.environment : 'none')",
      },
      attributeCondition: "assertion.repository_owner_id == '65' && attribute.repo_env != '74|none'",
    }),
    reg("gcp:serviceaccount/iAMMember:IAMMember", {
      serviceAccountId: `projects/${PROJECT}/serviceAccounts/${SA}`,
      role: "roles/iam.workloadIdentityUser",
      member: `principalSet://iam.googleapis.com/${POOL}/attribute.repo_env/74|stage`,
    }),
    reg("gcp:serviceaccount/iAMMember:IAMMember", {
      serviceAccountId: `projects/${PROJECT}/serviceAccounts/${OTHER}`,
      role: "roles/iam.workloadIdentityUser",
      member: `principalSet://iam.googleapis.com/${POOL}/attribute.repo_env/74|prod`,
    }),
    reg("gcp:storage/bucketIAMMember:BucketIAMMember", {
      bucket: "state",
      role: "roles/storage.objectUser",
      member: `serviceAccount:${SA}`,
      condition: {
        title: "own",
        expression: `resource.name == "projects/_/buckets/state" || resource.name.startsWith("projects/_/buckets/state/objects/.pulumi/stacks/monitor/stage.json")`,
      },
    }),
    reg("gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember", {
      cryptoKeyId: `projects/${PROJECT}/locations/global/keyRings/r/cryptoKeys/stage`,
      role: "roles/cloudkms.cryptoKeyDecrypter",
      member: `serviceAccount:${SA}`,
    }),
    reg("gcp:projects/iAMMember:IAMMember", {
      project: PROJECT,
      role: "roles/secretmanager.admin",
      member: `serviceAccount:${SA}`,
      condition: {
        title: "secrets-only-by-type",
        expression: `resource.type != "secretmanager.googleapis.com/Secret" || resource.name.extract("/secrets/{id}").startsWith("pr-")`,
      },
    }),
    reg("gcp:projects/iAMMember:IAMMember", {
      project: PROJECT,
      role: "roles/iam.serviceAccountUser",
      member: `serviceAccount:${SA}`,
      condition: {
        title: "pr-accounts",
        expression: `resource.type != "iam.googleapis.com/ServiceAccount" || resource.name.extract("serviceAccounts/{a}@").startsWith("pr-")`,
      },
    }),
  ]),
]);
const provider = model.provider(`${POOL}/providers/github`);
const claims = (extra: Record<string, string>) => ({
  repository_owner_id: "65",
  repository_id: "74",
  run_id: "9",
  ...extra,
});

describe("workload identity federation (WorkloadIdentityPoolProvider attribute_mapping/attribute_condition)", () => {
  it("maps the assertion, then admits by the condition over assertion and attribute", () => {
    const admitted = model.exchange(provider, claims({ environment: "stage" }));
    expect(admitted).toEqual({
      admitted: true,
      attributes: { "google.subject": "74:9", "attribute.repo_env": "74|stage" },
    });
    // The condition reads the mapped attribute: no environment maps to 74|none, which it refuses.
    const refused = model.exchange(provider, claims({}));
    expect(refused).toMatchObject({ admitted: false, why: "the attribute condition is false" });
    expect(model.exchange(provider, { ...claims({ environment: "stage" }), repository_owner_id: "66" }).admitted).toBe(
      false,
    );
  });

  it("a mapping over a missing claim rejects the token", () => {
    const result = model.exchange(provider, { repository_owner_id: "65", run_id: "1", environment: "stage" });
    expect(result).toMatchObject({ admitted: false });
    expect(result.admitted || result.why).toMatch(/could not be mapped/);
  });

  it("principalSets match exactly, one attribute each", () => {
    const exchange = model.exchange(provider, claims({ environment: "stage" }));
    expect(model.principals(provider, exchange.attributes)).toContain(
      `principalSet://iam.googleapis.com/${POOL}/attribute.repo_env/74|stage`,
    );
    expect(model.impersonable(provider, exchange.attributes)).toEqual([SA]);
    // A value that differs in case or by a suffix is another set.
    expect(model.impersonable(provider, { "attribute.repo_env": "74|Stage" })).toEqual([]);
    expect(model.impersonable(provider, { "attribute.repo_env": "74|stage2" })).toEqual([]);
    expect(model.impersonable(provider, { "attribute.repo_env": "74|prod" })).toEqual([OTHER]);
  });
});

describe("IAM grants with conditions (conditions-attribute-reference, conditions-resource-attributes)", () => {
  const me = `serviceAccount:${SA}`;

  it("a bucket grant holds on the objects its condition names, and on listing the bucket", () => {
    expect(
      model.can(me, gcp.object(PROJECT, "state", ".pulumi/stacks/monitor/stage.json"), "storage.objects.create")
        .allowed,
    ).toBe(true);
    expect(
      model.can(me, gcp.object(PROJECT, "state", ".pulumi/stacks/monitor/stage.json.bak"), "storage.objects.get")
        .allowed,
    ).toBe(true);
    expect(model.can(me, gcp.bucket(PROJECT, "state"), "storage.objects.list").allowed).toBe(true);
    const prod = model.can(me, gcp.object(PROJECT, "state", ".pulumi/stacks/monitor/prod.json"), "storage.objects.get");
    expect(prod).toMatchObject({ allowed: false });
    expect(prod.why).toMatch(/condition own that evaluates to false/);
    // Another identity holds nothing there.
    expect(model.can(`serviceAccount:${OTHER}`, gcp.bucket(PROJECT, "state"), "storage.objects.list").allowed).toBe(
      false,
    );
  });

  it("a key grant: decrypt yes, encrypt no (the role's permissions)", () => {
    const key = gcp.cryptoKey(`projects/${PROJECT}/locations/global/keyRings/r/cryptoKeys/stage`);
    expect(model.can(me, key, "cloudkms.cryptoKeyVersions.useToDecrypt").allowed).toBe(true);
    expect(model.can(me, key, "cloudkms.cryptoKeyVersions.useToEncrypt").allowed).toBe(false);
  });

  it("a secret version has its own type: a condition on the Secret type lets every version through", () => {
    const secret = gcp.secret(PROJECT, "stage-aws-key");
    const version = gcp.secretVersion(PROJECT, "stage-aws-key");
    expect(version.type).toBe("secretmanager.googleapis.com/SecretVersion");
    expect(version.name).toBe(`projects/${mockProjectNumber(PROJECT)}/secrets/stage-aws-key/versions/latest`);
    expect(model.can(me, secret, "secretmanager.versions.access").allowed).toBe(false);
    expect(model.can(me, version, "secretmanager.versions.access").allowed).toBe(true);
    expect(model.can(me, gcp.secret(PROJECT, "pr-7-db"), "secretmanager.secrets.get").allowed).toBe(true);
  });

  it("a condition over attributes IAM resources do not provide grants nothing on a service account", () => {
    // iam.googleapis.com is in none of the attribute reference's lists: resource.type and resource.name are absent.
    expect(resourceBinding(gcp.serviceAccount("pr-7-run@p-test.iam.gserviceaccount.com"))).toEqual({});
    const actAs = model.can(
      me,
      gcp.serviceAccount("pr-7-run@p-test.iam.gserviceaccount.com"),
      "iam.serviceAccounts.actAs",
    );
    expect(actAs.allowed).toBe(false);
    expect(actAs.why).toMatch(/errors .*grants nothing/);
  });

  it("resource attributes as the services provide them", () => {
    expect(resourceBinding(gcp.project(PROJECT))).toEqual({
      type: "cloudresourcemanager.googleapis.com/Project",
      service: "cloudresourcemanager.googleapis.com",
    });
    expect(resourceBinding(gcp.sqlInstance(PROJECT, "db"))).toMatchObject({ name: `projects/${PROJECT}/instances/db` });
    expect(resourceBinding(gcp.topic(PROJECT, "t"))).toEqual({});
    expect(resourceBinding(gcp.runService(PROJECT, "us-central1", "s"))).toEqual({});
  });
});

describe("the pipeline stack, read by the model", () => {
  it("every provider it registers is the one the GitHub environments name, and every principalSet names its pool", async () => {
    const pipeline = await evaluateStack("pipeline", {
      "monitor:infraCommit": "0123456789abcdef0123456789abcdef01234567",
    });
    const iam = IamModel.fromEvaluations([pipeline]);
    const settings = githubSettings(pipeline);
    const named = new Set(
      settings.environments.map((e) => e.variables.GCP_WORKLOAD_IDENTITY_PROVIDER).filter((v) => v !== undefined),
    );
    expect([...named].sort()).toEqual(iam.providers.map((p) => p.name).sort());
    const pools = new Set(iam.providers.map((p) => p.poolName));
    const sets = iam.grants.filter((g) => g.member.startsWith("principalSet://"));
    expect(sets.length).toBeGreaterThan(0);
    for (const g of sets) {
      const m = /^principalSet:\/\/iam\.googleapis\.com\/(.+)\/attribute\.([a-z0-9_]+)\/(.+)$/.exec(g.member);
      expect(m, g.member).not.toBeNull();
      expect(pools.has(m![1]), g.member).toBe(true);
      const mapped = iam.providers.filter((p) => p.poolName === m![1]).flatMap((p) => [...p.mapping.keys()]);
      expect(mapped, g.member).toContain(`attribute.${m![2]}`);
    }
  });
});
