import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { pinWorkflowFiles } from "../components/github-repository";
import { DEFAULT_RECENT_VERSIONS, MAX_CLEANUP_POLICIES, runningTag } from "../components/image-registry";
import { attributeValue } from "../components/workload-identity";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, type Registration, evaluate } from "../infra/engine/evaluate";
import {
  APP_REQUIRED_CHECKS,
  CHAT_WEBHOOK_SECRET,
  DEPLOY_ENVIRONMENTS,
  ENVIRONMENT_VARIABLES,
  INFRA_COMMIT_PLACEHOLDER,
  INFRA_REPOSITORY_PLACEHOLDER,
  INFRA_REQUIRED_CHECKS,
  RELEASE_APP,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
  DATABASE_ADMIN_ACCOUNT_ID,
  databaseAdminEmail,
  deployerEmail,
} from "../infra/pipeline-contract";
import { DATABASE_ADMIN_ACT_AS } from "../components/deployer";
import { mockProjectNumber } from "../infra/engine/mocks";
import { type PipelineSpec, buildSpec } from "../infra/spec";
import { pipelineStack, readTree } from "../stacks/pipeline";
import { runPolicies } from "../policies/offline";
import { ROOT, ofType, one, waitsForAll } from "./harness";

const COMMIT = "3f9c2ab0123456789abcdef0123456789abcdef0";
const APP_ID = "126358286";
const INFRA_ID = "912345678";
const OWNER_ID = "131524";
const INFRA = "mozilla/monitor-delivery";
const NONPROD = "moz-fx-monitor-nonprod";
const PREVIEWS = "moz-fx-monitor-previews";
const PROD = "moz-fx-monitor-prod";

/** Caller files as another helper writes them under workflows/app/: placeholders where the pin goes. */
const FIXTURES = [
  {
    path: ".github/workflows/preview.yml",
    content: `on: pull_request\njobs:\n  up:\n    uses: ${INFRA_REPOSITORY_PLACEHOLDER}/.github/workflows/preview-up.yml@${INFRA_COMMIT_PLACEHOLDER}\n`,
  },
  { path: ".github/release.yml", content: "changelog:\n  exclude:\n    authors: [dependabot]\n" },
];

/** The pipeline stack from its committed config, with the caller fixtures and any --config overrides. */
async function evaluatePipeline(
  overrides: Record<string, string> = {},
  secretOverrides: string[] = [],
): Promise<{ evaluation: Evaluation; spec: PipelineSpec }> {
  const { config, secretKeys } = loadStackConfig(ROOT, "pipeline", { "monitor:infraCommit": COMMIT, ...overrides });
  const keys = [...secretKeys, ...secretOverrides];
  const spec = buildSpec("pipeline", config, keys) as PipelineSpec;
  const evaluation = await evaluate("pipeline", {
    config,
    secretKeys: keys,
    program: () => pipelineStack(spec, FIXTURES),
  });
  return { evaluation, spec };
}

const PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider";
const WIF_USER = "gcp:serviceaccount/iAMMember:IAMMember";
const PROJECT_GRANT = "gcp:projects/iAMMember:IAMMember";
const BUCKET_GRANT = "gcp:storage/bucketIAMMember:BucketIAMMember";
const KEY_GRANT = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember";
const REGISTRY = "gcp:artifactregistry/repository:Repository";
const REGISTRY_GRANT = "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember";
const ENVIRONMENT = "github:index/repositoryEnvironment:RepositoryEnvironment";
const DEPLOYMENT_POLICY = "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy";
const ENV_VARIABLE = "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable";
const RULESET = "github:index/repositoryRuleset:RepositoryRuleset";
const FILE = "github:index/repositoryFile:RepositoryFile";

let evaluation: Evaluation;
beforeAll(async () => {
  ({ evaluation } = await evaluatePipeline());
});

const providerIn = (project: string) => ofType(evaluation, PROVIDER).find((r) => r.inputs.project === project)!;
const grantsOf = (type: string, account: string) =>
  ofType(evaluation, type).filter((r) => String(r.inputs.member) === `serviceAccount:${account}`);
/** The principalSets allowed to impersonate `account`, as [attribute, value]. */
function principalSetsOf(account: string): Array<[string, string]> {
  return ofType(evaluation, WIF_USER)
    .filter((r) => String(r.inputs.serviceAccountId).endsWith(`/${account}`))
    .map((r) => {
      const match = /\/attribute\.([a-z0-9_]+)\/(.+)$/.exec(String(r.inputs.member));
      if (!match) throw new Error(`not a single-attribute principalSet: ${String(r.inputs.member)}`);
      return [match[1], match[2]];
    });
}
/** Whether a token with these claims falls in one of `account`'s principalSets. */
const mayImpersonate = (account: string, claims: Record<string, string>) =>
  principalSetsOf(account).some(([attribute, value]) => attributeValue(attribute, claims) === value);

/** Where each identity lives: the previews' outside the previews project (monitor:preview.identityProject). */
const emails = {
  preview: deployerEmail("preview", NONPROD),
  previews: deployerEmail("previews", NONPROD),
  stage: deployerEmail("stage", NONPROD),
  prod: deployerEmail("prod", PROD),
  review: `monitor-review@${NONPROD}.iam.gserviceaccount.com`,
  reviewProd: `monitor-review-prod@${PROD}.iam.gserviceaccount.com`,
};

describe("workload identity", () => {
  it("has one pool and GitHub provider per GCP project, never per preview", () => {
    const pools = ofType(evaluation, "gcp:iam/workloadIdentityPool:WorkloadIdentityPool");
    expect(pools.map((p) => p.inputs.project).sort()).toEqual([NONPROD, PREVIEWS, PROD]);
    expect(pools.every((p) => p.protect && p.inputs.deletionPolicy === "PREVENT")).toBe(true);
    for (const provider of ofType(evaluation, PROVIDER)) {
      expect(provider.inputs.oidc).toEqual({ issuerUri: "https://token.actions.githubusercontent.com" });
    }
  });

  it("pins owner and repositories by id, and job_workflow_ref to this repository's reusable workflows at the commit", () => {
    for (const project of [NONPROD, PREVIEWS, PROD]) {
      const condition = String(providerIn(project).inputs.attributeCondition);
      expect(condition).toContain(`assertion.repository_owner_id in ['${OWNER_ID}']`);
      expect(condition).toContain(`assertion.repository_id in ['${APP_ID}', '${INFRA_ID}']`);
      const pinned = Object.values(REUSABLE_WORKFLOWS).map((f) => `'${INFRA}/.github/workflows/${f}@${COMMIT}'`);
      expect(condition).toContain(`assertion.job_workflow_ref in [${pinned.join(", ")}]`);
      // This repository's own workflows only from main.
      expect(condition).toContain(
        `assertion.ref == 'refs/heads/main' && assertion.job_workflow_ref.endsWith('@refs/heads/main')`,
      );
      expect(condition).not.toMatch(/assertion\.sub\b/);
      // Google's limit on the condition's length.
      expect(condition.length).toBeLessThan(4096);
    }
  });

  it("admits only the environments each pool's identities are bound to; pull requests only for the reviews", () => {
    const nonprod = String(providerIn(NONPROD).inputs.attributeCondition);
    const previews = String(providerIn(PREVIEWS).inputs.attributeCondition);
    const prod = String(providerIn(PROD).inputs.attributeCondition);
    expect(nonprod).toContain("has(assertion.environment) && (assertion.environment in ['stage', 'review'])");
    expect(nonprod).toContain(`assertion.event_name == 'pull_request' && assertion.environment in ['review']`);
    expect(previews).toContain(
      "has(assertion.environment) && (assertion.environment in ['preview', 'previews'] || assertion.environment.startsWith('preview-'))",
    );
    expect(previews).not.toContain("pull_request");
    expect(prod).toContain("has(assertion.environment) && (assertion.environment in ['prod', 'review-prod', 'drift'])");
    // A pull request may ask for prod's read-only identity only through review-prod, whose reviewers approve first.
    expect(prod).toContain(`assertion.event_name == 'pull_request' && assertion.environment in ['review-prod']`);
  });

  it("maps the claims the bindings use, with valid keys and a bounded subject", () => {
    const mapping = providerIn(NONPROD).inputs.attributeMapping as Record<string, string>;
    expect(Object.keys(mapping).every((k) => k === "google.subject" || /^attribute\.[a-z0-9_]{1,100}$/.test(k))).toBe(
      true,
    );
    expect(mapping["google.subject"]).toBe(
      "assertion.repository_id + ':' + assertion.run_id + ':' + assertion.run_attempt",
    );
    // Ids of at most 20 digits and a run attempt: far below Google's 127 bytes.
    expect(attributeValue("repository_id", { repository_id: "9".repeat(20) }).length + 2 * 21 + 5).toBeLessThan(127);
    expect(mapping["attribute.repository_environment_ref"]).toBe(
      "assertion.repository_id + '|' + (has(assertion.environment) ? (assertion.environment.startsWith('preview-') ? " +
        "'preview' : assertion.environment) : 'none') + '|' + assertion.ref",
    );
    for (const cel of Object.values(mapping)) expect(cel.length).toBeLessThanOrEqual(2048);
  });

  it("binds each deployer to principalSets of one attribute each: prod only from the prod environment on main", () => {
    expect(principalSetsOf(emails.prod)).toEqual([
      ["repository_environment_ref", `${APP_ID}|prod|refs/heads/main`],
      ["repository_environment_ref", `${INFRA_ID}|prod|refs/heads/main`],
    ]);
    expect(principalSetsOf(emails.stage)).toEqual([
      ["repository_environment_ref", `${APP_ID}|stage|refs/heads/main`],
      ["repository_environment_ref", `${INFRA_ID}|stage|refs/heads/main`],
    ]);
    expect(principalSetsOf(emails.preview)).toEqual([["repository_environment", `${APP_ID}|preview`]]);
    expect(principalSetsOf(emails.previews)).toEqual([
      ["repository_environment_ref", `${INFRA_ID}|previews|refs/heads/main`],
    ]);
    expect(principalSetsOf(emails.review)).toEqual([["repository_environment", `${INFRA_ID}|review`]]);
    expect(principalSetsOf(emails.reviewProd)).toEqual([
      ["repository_environment", `${INFRA_ID}|review-prod`],
      ["repository_environment_ref", `${INFRA_ID}|drift|refs/heads/main`],
    ]);
    const prodBindings = ofType(evaluation, WIF_USER).filter((r) =>
      String(r.inputs.serviceAccountId).endsWith(emails.prod),
    );
    expect(prodBindings.every((r) => String(r.inputs.member).includes(`/projects/${"514461819990"}/`))).toBe(true);
    expect(prodBindings.every((r) => r.inputs.role === "roles/iam.workloadIdentityUser")).toBe(true);
  });

  it("never lets a pull request's token impersonate a deployer of stage, prod or the previews platform", () => {
    for (const repository_id of [APP_ID, INFRA_ID]) {
      for (const environment of [undefined, "preview", "preview-7", "previews", "review", "drift", "stage", "prod"]) {
        const claims: Record<string, string> = { repository_id, ref: "refs/pull/7/merge", event_name: "pull_request" };
        if (environment) claims.environment = environment;
        expect(mayImpersonate(emails.stage, claims), JSON.stringify(claims)).toBe(false);
        expect(mayImpersonate(emails.prod, claims), JSON.stringify(claims)).toBe(false);
        expect(mayImpersonate(emails.previews, claims), JSON.stringify(claims)).toBe(false);
        if (environment !== "review-prod") expect(mayImpersonate(emails.reviewProd, claims)).toBe(false);
      }
    }
    // What a PR may reach: the app's preview deployer from its own preview-<N> environment, and this repository's
    // read-only review identity (prod's only through review-prod, behind the prod reviewers).
    expect(
      mayImpersonate(emails.preview, { repository_id: APP_ID, environment: "preview-7", ref: "refs/pull/7/merge" }),
    ).toBe(true);
    expect(
      mayImpersonate(emails.preview, { repository_id: INFRA_ID, environment: "preview-7", ref: "refs/pull/7/merge" }),
    ).toBe(false);
    expect(
      mayImpersonate(emails.review, { repository_id: INFRA_ID, environment: "review", ref: "refs/pull/7/merge" }),
    ).toBe(true);
    expect(
      mayImpersonate(emails.review, { repository_id: APP_ID, environment: "review", ref: "refs/pull/7/merge" }),
    ).toBe(false);
  });

  it("lets main reach stage and prod only through their environments, and no other branch or tag", () => {
    const main = { repository_id: APP_ID, ref: "refs/heads/main" };
    expect(mayImpersonate(emails.stage, { ...main, environment: "stage" })).toBe(true);
    expect(mayImpersonate(emails.prod, { ...main, environment: "prod" })).toBe(true);
    expect(mayImpersonate(emails.prod, main)).toBe(false);
    expect(mayImpersonate(emails.prod, { ...main, environment: "stage" })).toBe(false);
    expect(mayImpersonate(emails.prod, { repository_id: APP_ID, environment: "prod", ref: "refs/heads/feature" })).toBe(
      false,
    );
    expect(
      mayImpersonate(emails.prod, { repository_id: APP_ID, environment: "prod", ref: "refs/tags/2024.09.01" }),
    ).toBe(false);
  });
});

describe("deployers", () => {
  it("are exported by environment, as the environment stacks compute them", () => {
    expect(evaluation.outputs.deployers.value).toEqual({
      preview: emails.preview,
      previews: emails.previews,
      stage: emails.stage,
      prod: emails.prod,
    });
    expect(evaluation.outputs.reviewers.value).toEqual({ review: emails.review, reviewProd: emails.reviewProd });
    for (const env of DEPLOY_ENVIRONMENTS) expect(emails[env]).toMatch(/^[a-z0-9-]{6,30}@/);
  });

  it("never hold a basic role, and no service account key exists", () => {
    const roles = ofType(evaluation, PROJECT_GRANT).map((r) => r.inputs.role);
    expect(roles).not.toContain("roles/owner");
    expect(roles).not.toContain("roles/editor");
    expect(roles).not.toContain("roles/viewer");
    expect(ofType(evaluation, "gcp:serviceaccount/key:Key")).toEqual([]);
  });

  it("grant project IAM only for the cloudsql.client grants the stacks make", () => {
    const iamAdmins = ofType(evaluation, PROJECT_GRANT).filter(
      (r) => r.inputs.role === "roles/resourcemanager.projectIamAdmin",
    );
    expect(iamAdmins).toHaveLength(3);
    for (const r of iamAdmins) {
      expect((r.inputs.condition as any).expression).toBe(
        'api.getAttribute("iam.googleapis.com/modifiedGrantsByRole", []).hasOnly(["roles/cloudsql.client"])',
      );
    }
  });

  it("keep previews in the previews project: the shared instance's databases, their own secrets and accounts", () => {
    const previewGrants = grantsOf(PROJECT_GRANT, emails.preview);
    const conditionOf = (role: string) =>
      (previewGrants.find((r) => String(r.inputs.role).endsWith(role))!.inputs.condition as any).expression;
    // Every role is in the previews project: none in stage's or prod's, none in the project the account lives in.
    expect(new Set(previewGrants.map((r) => r.inputs.project))).toEqual(new Set([PREVIEWS]));
    // Databases and users on the shared instance only, never the instance's settings or its deletion.
    expect(conditionOf("roles/monitorPreviewDatabases")).toBe(
      `resource.name == "projects/${PREVIEWS}/instances/monitor-previews"`,
    );
    const databases = ofType(evaluation, "gcp:projects/iAMCustomRole:IAMCustomRole").find(
      (r) => r.inputs.roleId === "monitorPreviewDatabases",
    )!;
    expect(databases.inputs.project).toBe(PREVIEWS);
    expect((databases.inputs.permissions as string[]).filter((p) => p.startsWith("cloudsql.instances."))).toEqual([
      "cloudsql.instances.get",
      "cloudsql.instances.connect",
    ]);
    // Its own secrets and their versions (the sandbox secrets' IAM is the previews stack's grant).
    expect(conditionOf("roles/secretmanager.admin")).toMatch(
      /^resource\.type == "cloudresourcemanager\.googleapis\.com\/Project" \|\| resource\.name\.startsWith\("projects\/\d+\/secrets\/monitor-pr-"\)$/,
    );
    // It enables no API: the previews stack does.
    expect(previewGrants.map((r) => r.inputs.role)).not.toContain("roles/serviceusage.serviceUsageAdmin");
    // Admission reads the shared instance's connections per database, and nothing else Cloud Monitoring holds.
    const admission = ofType(evaluation, "gcp:projects/iAMCustomRole:IAMCustomRole").find(
      (r) => r.inputs.roleId === "monitorPreviewAdmission",
    )!;
    expect([admission.inputs.project, admission.inputs.permissions]).toEqual([
      PREVIEWS,
      ["monitoring.timeSeries.list"],
    ]);
    expect(previewGrants.map((r) => r.inputs.role)).toContain(`projects/${PREVIEWS}/roles/monitorPreviewAdmission`);
  });

  it("give the previews platform's deployer roles in the previews project only", () => {
    expect(new Set(grantsOf(PROJECT_GRANT, emails.previews).map((r) => r.inputs.project))).toEqual(new Set([PREVIEWS]));
  });

  it("give the review identities viewer-type roles only: stage's and the platform's, and prod's apart", () => {
    const rolesOf = (email: string) =>
      [
        ...grantsOf(PROJECT_GRANT, email),
        ...grantsOf(BUCKET_GRANT, email),
        ...grantsOf(KEY_GRANT, email),
        ...grantsOf(REGISTRY_GRANT, email),
      ].map((r) => String(r.inputs.role));
    for (const email of [emails.review, emails.reviewProd]) {
      expect(rolesOf(email).length).toBeGreaterThan(10);
      for (const role of rolesOf(email))
        expect(role).toMatch(
          /\.viewer$|\.objectViewer$|\.serviceUsageViewer$|^roles\/browser$|securityReviewer$|cryptoKeyDecrypter$|\.reader$/,
        );
    }
    expect(new Set(grantsOf(PROJECT_GRANT, emails.review).map((r) => r.inputs.project))).toEqual(
      new Set([NONPROD, PREVIEWS]),
    );
    expect(new Set(grantsOf(PROJECT_GRANT, emails.reviewProd).map((r) => r.inputs.project))).toEqual(new Set([PROD]));
  });
});

describe("the previews' database admin", () => {
  const ADMIN = databaseAdminEmail(NONPROD);
  const onAdmin = () =>
    ofType(evaluation, WIF_USER).filter((r) => String(r.inputs.serviceAccountId).endsWith(`/${ADMIN}`));

  it("lives beside the previews' deployers, outside the previews project whose accounts are one per open preview", () => {
    const accounts = ofType(evaluation, "gcp:serviceaccount/account:Account");
    const admin = accounts.filter((r) => r.inputs.accountId === DATABASE_ADMIN_ACCOUNT_ID);
    expect(admin.map((r) => r.inputs.project)).toEqual([NONPROD]);
    expect(accounts.filter((r) => r.inputs.project === PREVIEWS)).toEqual([]);
  });

  it("is acted as by the two deployers of its jobs alone, on the account, never through a project role", () => {
    const actAs = onAdmin().filter((r) => r.inputs.role === "roles/iam.serviceAccountUser");
    expect(actAs.map((r) => String(r.inputs.member)).sort()).toEqual(
      [`serviceAccount:${emails.preview}`, `serviceAccount:${emails.previews}`].sort(),
    );
    expect(Object.keys(DATABASE_ADMIN_ACT_AS).sort()).toEqual(["preview", "previews"]);
    const projectActAs = ofType(evaluation, PROJECT_GRANT).filter(
      (r) => r.inputs.project === NONPROD && r.inputs.role === "roles/iam.serviceAccountUser",
    );
    expect(projectActAs).toEqual([]);
  });

  it("lets Cloud Run in the previews project run jobs as it, once that project's Cloud Run API (its agent) is on", () => {
    const [tokenCreator] = onAdmin().filter((r) => r.inputs.role === "roles/iam.serviceAccountTokenCreator");
    expect(String(tokenCreator.inputs.member)).toBe(
      `serviceAccount:service-${mockProjectNumber(PREVIEWS)}@serverless-robot-prod.iam.gserviceaccount.com`,
    );
    const runApi = ofType(evaluation, "gcp:projects/service:Service").find(
      (r) => r.inputs.project === PREVIEWS && r.inputs.service === "run.googleapis.com",
    )!;
    expect(waitsForAll(evaluation, tokenCreator)).toContain(runApi.urn);
    expect(
      onAdmin()
        .map((r) => r.inputs.role)
        .sort(),
    ).toEqual(["roles/iam.serviceAccountTokenCreator", "roles/iam.serviceAccountUser", "roles/iam.serviceAccountUser"]);
  });

  it("may connect to the shared preview instance and nothing else", () => {
    expect(
      grantsOf(PROJECT_GRANT, ADMIN).map((r) => [
        r.inputs.project,
        r.inputs.role,
        (r.inputs.condition as any).expression,
      ]),
    ).toEqual([
      [PREVIEWS, "roles/cloudsql.client", `resource.name == "projects/${PREVIEWS}/instances/monitor-previews"`],
    ]);
  });

  it("has its init job deployed by the previews platform's deployer with Cloud Run's developer role, not its admin", () => {
    const roles = grantsOf(PROJECT_GRANT, emails.previews).map((r) => r.inputs.role);
    expect(roles).toContain("roles/run.developer");
    expect(roles).not.toContain("roles/run.admin");
  });
});

describe("grant bindings", () => {
  it("are named after the grantee, never a position: what each keeps across reorderings", () => {
    const names = (type: string) =>
      ofType(evaluation, type)
        .map((r) => r.name)
        .sort();
    expect(names(WIF_USER)).toEqual([
      "deployer-preview-wif-app",
      "deployer-previews-wif-infra",
      "deployer-prod-wif-app",
      "deployer-prod-wif-infra",
      "deployer-stage-wif-app",
      "deployer-stage-wif-infra",
      "previews-database-admin-act-as-preview",
      "previews-database-admin-act-as-previews",
      "previews-database-admin-token-creator-run-agent",
      "reviewer-prod-wif-drift",
      "reviewer-prod-wif-infra",
      "reviewer-wif-infra",
    ]);
    expect(names(REGISTRY_GRANT)).toEqual([
      "images-pull-deployer-prod",
      "images-pull-reviewer",
      "images-pull-reviewer-prod",
      `images-pull-run-agent-${PROD}`,
      "images-push-deployer-stage",
    ]);
    expect(names(BUCKET_GRANT)).toEqual([
      "state-reads-deployer-preview",
      "state-reads-deployer-previews",
      "state-reads-deployer-prod",
      "state-reads-deployer-stage",
      "state-reads-reviewer",
      "state-reads-reviewer-prod",
      "state-writes-deployer-preview",
      "state-writes-deployer-previews",
      "state-writes-deployer-prod",
      "state-writes-deployer-stage",
    ]);
    expect(names(KEY_GRANT)).toEqual([
      "state-preview-encrypt-decrypt-deployer-preview",
      "state-previews-decrypt-deployer-preview",
      "state-previews-decrypt-reviewer",
      "state-previews-encrypt-decrypt-deployer-previews",
      "state-prod-decrypt-reviewer-prod",
      "state-prod-encrypt-decrypt-deployer-prod",
      "state-stage-decrypt-reviewer",
      "state-stage-encrypt-decrypt-deployer-stage",
    ]);
  });
});

describe("state backend", () => {
  it("is a versioned, uniform-access, never-public bucket, protected, with a KMS key per environment", () => {
    const bucket = one(evaluation, "gcp:storage/bucket:Bucket");
    expect(bucket.inputs).toMatchObject({
      name: "moz-fx-monitor-pulumi-state",
      uniformBucketLevelAccess: true,
      publicAccessPrevention: "enforced",
      versioning: { enabled: true },
      forceDestroy: false,
    });
    expect(bucket.protect).toBe(true);
    expect(bucket.inputs.deletionPolicy).toBe("PREVENT");
    const keys = ofType(evaluation, "gcp:kms/cryptoKey:CryptoKey");
    expect(keys.map((k) => k.inputs.name).sort()).toEqual([
      "pulumi-pipeline",
      "pulumi-preview",
      "pulumi-previews",
      "pulumi-prod",
      "pulumi-stage",
    ]);
    expect(
      keys.every((k) => k.inputs.purpose === "ENCRYPT_DECRYPT" && k.protect && k.inputs.deletionPolicy === "PREVENT"),
    ).toBe(true);
    expect(evaluation.outputs.secretsProviders.value).toMatchObject({
      prod: `gcpkms://projects/${PROD}/locations/global/keyRings/pulumi/cryptoKeys/pulumi-prod`,
    });
    expect(evaluation.outputs.stateBackend.value).toBe("gs://moz-fx-monitor-pulumi-state");
  });

  it("lets each deployer write only its own stacks' objects", () => {
    const writes = (email: string) =>
      String(
        (
          grantsOf(BUCKET_GRANT, email).find((r) => r.inputs.role === "roles/storage.objectUser")!.inputs
            .condition as any
        ).expression,
      );
    const objects = "projects/_/buckets/moz-fx-monitor-pulumi-state/objects/.pulumi";
    expect(writes(emails.preview)).toContain(`"${objects}/stacks/monitor/pr-"`);
    expect(writes(emails.preview)).toContain(`"${objects}/locks/organization/monitor/pr-"`);
    expect(writes(emails.preview)).not.toMatch(/monitor\/(stage|prod|previews)/);
    expect(writes(emails.previews)).toContain(`"${objects}/stacks/monitor/previews.json"`);
    expect(writes(emails.previews)).not.toMatch(/monitor\/(pr-|stage|prod)/);
    // What a preview reads beside its own: the platform's outputs, and nothing of stage or prod.
    const reads = String(
      (
        grantsOf(BUCKET_GRANT, emails.preview).find((r) => r.inputs.role === "roles/storage.objectViewer")!.inputs
          .condition as any
      ).expression,
    );
    expect(reads).toContain(`"${objects}/stacks/monitor/previews.json"`);
    expect(reads).not.toMatch(/monitor\/(stage|prod)/);
    expect(writes(emails.stage)).toContain(`"${objects}/stacks/monitor/stage.json"`);
    expect(writes(emails.stage)).toContain(`"${objects}/history/monitor/stage/"`);
    expect(writes(emails.stage)).not.toMatch(/monitor\/(pr-|prod)/);
    expect(writes(emails.prod)).toContain(`"${objects}/backups/monitor/prod/"`);
    expect(writes(emails.prod)).not.toMatch(/monitor\/(pr-|stage)/);
    expect(grantsOf(BUCKET_GRANT, emails.review).map((r) => r.inputs.role)).toEqual(["roles/storage.objectViewer"]);
  });

  it("lets only prod's deployer and prod's review identity (behind reviewers, or the drift check) use prod's key", () => {
    const keyUsers = (key: string) =>
      ofType(evaluation, KEY_GRANT)
        .filter((r) => String(r.inputs.cryptoKeyId).endsWith(`/${key}`))
        .map((r) => [String(r.inputs.member).replace("serviceAccount:", ""), r.inputs.role]);
    expect(keyUsers("pulumi-prod")).toEqual([
      [emails.prod, "roles/cloudkms.cryptoKeyEncrypterDecrypter"],
      [emails.reviewProd, "roles/cloudkms.cryptoKeyDecrypter"],
    ]);
    // Stage's key: no identity a preview deploys with.
    expect(keyUsers("pulumi-stage").map(([who]) => who)).toEqual([emails.stage, emails.review]);
  });
});

describe("image registry", () => {
  const policies = () => one(evaluation, REGISTRY).inputs.cleanupPolicies as any[];

  it("is the Docker repository the deploys read, protected", () => {
    const registry = one(evaluation, REGISTRY);
    expect(registry.inputs).toMatchObject({
      project: NONPROD,
      location: "us",
      repositoryId: "monitor-nonprod",
      format: "DOCKER",
      cleanupPolicyDryRun: false,
    });
    expect(registry.protect).toBe(true);
    expect(registry.inputs.deletionPolicy).toBe("PREVENT");
    expect(evaluation.outputs.imageRepository.value).toBe(
      loadStackConfig(ROOT, "stage").config["monitor:imageRepository"],
    );
  });

  /**
   * What Artifact Registry's cleanup does with one version under these policies, as its docs say
   * (https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy): a version matching a KEEP is kept,
   * else one matching a DELETE is deleted, else kept; a condition's fields all hold (tag state, any tag prefix,
   * older than); `mostRecentVersions` keeps the newest `keepCount` versions of the package.
   */
  function verdict(version: { tags: string[]; ageDays: number; rank: number }): "keep" | "delete" {
    const matches = (p: any) => {
      if (p.mostRecentVersions) return version.rank < p.mostRecentVersions.keepCount;
      const c = p.condition ?? {};
      const tagged = version.tags.length > 0;
      if (c.tagState === "TAGGED" && !tagged) return false;
      if (c.tagState === "UNTAGGED" && tagged) return false;
      if (c.tagPrefixes && !version.tags.some((t) => c.tagPrefixes.some((prefix: string) => t.startsWith(prefix))))
        return false;
      if (c.olderThan && version.ageDays <= Number(/^(\d+)d$/.exec(c.olderThan)![1])) return false;
      return true;
    };
    if (policies().some((p) => p.action === "KEEP" && matches(p))) return "keep";
    return policies().some((p) => p.action === "DELETE" && matches(p)) ? "delete" : "keep";
  }

  it("keeps the recent stage builds, releases and what stage runs, and deletes older stage builds, old PR images and untagged ones", () => {
    expect(policies().length).toBeLessThanOrEqual(MAX_CLEANUP_POLICIES);
    // 60 stage builds, one a day, newest first; the 45th was released, the 50th is what stage runs (a rollback).
    const builds = Array.from({ length: 60 }, (_, day) => ({
      tags: [day.toString(16).padStart(7, "a")],
      ageDays: day + 0.5,
      rank: day,
    }));
    builds[45].tags.push("2024.09.01");
    builds[50].tags.push(runningTag("stage"));
    const fate = builds.map(verdict);
    expect(
      fate.slice(0, DEFAULT_RECENT_VERSIONS).every((f) => f === "keep"),
      "the most recent builds",
    ).toBe(true);
    expect(fate[45], "a released build").toBe("keep");
    expect(fate[50], "the build stage runs").toBe("keep");
    expect(
      fate.every((f, day) => day < DEFAULT_RECENT_VERSIONS || day === 45 || day === 50 || f === "delete"),
      "every other stage build goes (a KEEP on every hex prefix kept them all forever)",
    ).toBe(true);
    expect(verdict({ tags: ["2024.02.27.1"], ageDays: 400, rank: 500 })).toBe("keep");
    expect(verdict({ tags: ["pr-123"], ageDays: 15, rank: 100 })).toBe("delete");
    expect(verdict({ tags: ["pr-123"], ageDays: 13, rank: 100 })).toBe("keep");
    expect(verdict({ tags: [], ageDays: 30, rank: 100 })).toBe("delete");
    expect(verdict({ tags: ["3f9c2ab"], ageDays: 1, rank: 100 }), "a build a deploy may be resolving now").toBe("keep");
    expect(policies().find((p) => p.id === "delete-pr-images")).toEqual({
      id: "delete-pr-images",
      action: "DELETE",
      condition: { tagState: "TAGGED", tagPrefixes: ["pr-"], olderThan: "14d" },
    });
    // mostRecentVersions is allowed only on a KEEP (the docs), never beside a condition.
    for (const p of policies().filter((x) => x.mostRecentVersions)) {
      expect(p.action).toBe("KEEP");
      expect(p.condition).toBeUndefined();
    }
  });

  it("grants prod's Cloud Run service agent only after run.googleapis.com is on in prod's project (the agent exists from then)", () => {
    const grant = one(evaluation, REGISTRY_GRANT, `images-pull-run-agent-${PROD}`);
    const api = ofType(evaluation, "gcp:projects/service:Service").find(
      (r) => r.inputs.project === PROD && r.inputs.service === "run.googleapis.com",
    );
    expect(api, "the pipeline enables Cloud Run in prod's project").toBeDefined();
    expect(api!.inputs.disableOnDestroy).toBe(false);
    expect(grant.dependsOn).toContain(api!.urn);
  });

  it("is pushed to by stage only (previews push to their own), read by prod, its Cloud Run agent and the reviews", () => {
    const grants = ofType(evaluation, REGISTRY_GRANT).map(
      (r) => `${String(r.inputs.member).replace("serviceAccount:", "")} ${String(r.inputs.role)}`,
    );
    expect(grants.sort()).toEqual(
      [
        `${emails.stage} roles/artifactregistry.writer`,
        `${emails.prod} roles/artifactregistry.reader`,
        `${emails.review} roles/artifactregistry.reader`,
        `${emails.reviewProd} roles/artifactregistry.reader`,
        "service-514461819990@serverless-robot-prod.iam.gserviceaccount.com roles/artifactregistry.reader",
      ].sort(),
    );
  });
});

describe("GitHub", () => {
  const envs = (repository: string) =>
    ofType(evaluation, ENVIRONMENT).filter((r) => r.inputs.repository === repository);

  it("declares the app repository's environments and this one's (each PR's preview-<N> is GitHub's, on first use)", () => {
    expect(envs("blurts-server").map((r) => r.inputs.environment)).toEqual(["preview", "stage", "prod"]);
    expect(
      envs("monitor-delivery")
        .map((r) => String(r.inputs.environment))
        .sort(),
    ).toEqual(["drift", "previews", "prod", "review", "review-prod", "stage"]);
    // A pull request's prod preview waits for the prod reviewers, and its author may not approve it.
    expect(envs("monitor-delivery").find((r) => r.inputs.environment === "review-prod")!.inputs).toMatchObject({
      reviewers: [{ teams: [5432101] }],
      canAdminsBypass: false,
      preventSelfReview: true,
    });
  });

  it("puts prod behind its reviewers and deploys it only from main and release tags", () => {
    const prod = envs("blurts-server").find((r) => r.inputs.environment === "prod")!;
    expect(prod.inputs).toMatchObject({
      reviewers: [{ teams: [5432101] }],
      canAdminsBypass: false,
      preventSelfReview: true,
      deploymentBranchPolicy: { protectedBranches: false, customBranchPolicies: true },
    });
    const policies = ofType(evaluation, DEPLOYMENT_POLICY).filter(
      (r) => r.inputs.repository === "blurts-server" && r.inputs.environment === "prod",
    );
    expect(policies.map((r) => r.inputs.branchPattern ?? `tag ${String(r.inputs.tagPattern)}`)).toEqual([
      "main",
      "tag 20*",
    ]);
    // The sweeper's environment: main only (each PR's own preview-<N> has no policy, so its PR may deploy).
    const preview = envs("blurts-server").find((r) => r.inputs.environment === "preview")!;
    expect(preview.inputs.deploymentBranchPolicy).toEqual({ protectedBranches: false, customBranchPolicies: true });
  });

  it("gives each deploy environment the variables the workflows read", () => {
    const variables = (repository: string, environment: string) =>
      Object.fromEntries(
        ofType(evaluation, ENV_VARIABLE)
          .filter((r) => r.inputs.repository === repository && r.inputs.environment === environment)
          .map((r) => [r.inputs.variableName, r.inputs.value]),
      );
    for (const env of ["stage", "prod"]) {
      expect(
        Object.keys(variables("blurts-server", env))
          .filter((k) => k !== RELEASE_APP.idVariable)
          .sort(),
      ).toEqual(Object.values(ENVIRONMENT_VARIABLES).sort());
    }
    expect(variables("blurts-server", "stage")[RELEASE_APP.idVariable]).toBe("2345678");
    expect(variables("blurts-server", "preview")).toEqual({});
    expect(variables("blurts-server", "prod")).toMatchObject({
      GCP_PROJECT: PROD,
      GCP_SERVICE_ACCOUNT: emails.prod,
      GCP_WORKLOAD_IDENTITY_PROVIDER:
        "projects/514461819990/locations/global/workloadIdentityPools/github-actions/providers/github",
      PULUMI_BACKEND_URL: "gs://moz-fx-monitor-pulumi-state",
    });
    expect(variables("monitor-delivery", "review")).toMatchObject({ GCP_SERVICE_ACCOUNT: emails.review });
    expect(variables("monitor-delivery", "review").PULUMI_SECRETS_PROVIDER).toBeUndefined();
    const repoVariables = ofType(evaluation, "github:index/actionsVariable:ActionsVariable").map((r) => [
      r.inputs.variableName,
      r.inputs.value,
    ]);
    expect(Object.fromEntries(repoVariables)).toEqual({
      [REPOSITORY_VARIABLES.previewProject]: PREVIEWS,
      [REPOSITORY_VARIABLES.previewRegion]: "us-central1",
      [REPOSITORY_VARIABLES.previewWorkloadIdentityProvider]: `projects/${mockProjectNumber(PREVIEWS)}/locations/global/workloadIdentityPools/github-actions/providers/github`,
      [REPOSITORY_VARIABLES.previewServiceAccount]: emails.preview,
      [REPOSITORY_VARIABLES.previewBackendUrl]: "gs://moz-fx-monitor-pulumi-state",
      [REPOSITORY_VARIABLES.previewSecretsProvider]: `gcpkms://projects/${PROD}/locations/global/keyRings/pulumi/cryptoKeys/pulumi-preview`,
      [REPOSITORY_VARIABLES.previewImageRepository]: `us-docker.pkg.dev/${PREVIEWS}/monitor-previews/blurts-server`,
      [REPOSITORY_VARIABLES.previewTtlDays]: "7",
      [REPOSITORY_VARIABLES.previewCap]: "100",
      [REPOSITORY_VARIABLES.previewActiveCap]: "20",
    });
    // The same path the previews stack pushes to (Pulumi.yaml's project-level image repository).
    expect(`${loadStackConfig(ROOT, "previews").config["monitor:imageRepository"]}`).toBe(
      `us-docker.pkg.dev/${PREVIEWS}/monitor-previews/blurts-server`,
    );
  });

  it("requires checks and one approval on each default branch, code owners here, and lets only the App bypass", () => {
    const ruleset = (repository: string, name: string) =>
      ofType(evaluation, RULESET).find((r) => r.inputs.repository === repository && r.inputs.name === name)!
        .inputs as any;
    const app = ruleset("blurts-server", "default branch");
    expect(app.conditions.refName.includes).toEqual(["~DEFAULT_BRANCH"]);
    expect(app.rules.requiredStatusChecks.requiredChecks).toEqual(
      APP_REQUIRED_CHECKS.map((context) => ({ context, integrationId: 15368 })),
    );
    expect(app.rules.pullRequest).toMatchObject({ requiredApprovingReviewCount: 1, requireCodeOwnerReview: false });
    expect(app.bypassActors).toEqual([{ actorId: 1234567, actorType: "Integration", bypassMode: "always" }]);
    const infra = ruleset("monitor-delivery", "default branch");
    expect(infra.rules.requiredStatusChecks.requiredChecks.map((c: any) => c.context)).toEqual([
      ...INFRA_REQUIRED_CHECKS,
    ]);
    expect(infra.rules.pullRequest).toMatchObject({ requiredApprovingReviewCount: 1, requireCodeOwnerReview: true });
    expect(infra.bypassActors).toEqual([]);
  });

  it("lets only the release App (the pre-release's installation token) create or move calendar tags", () => {
    const tags = ofType(evaluation, RULESET).find((r) => r.inputs.target === "tag")!.inputs as any;
    expect(tags).toMatchObject({
      repository: "blurts-server",
      enforcement: "active",
      conditions: { refName: { includes: ["refs/tags/20*"], excludes: [] } },
      rules: { creation: true, update: true, deletion: true },
      // Never the GitHub Actions integration (15368): GitHub refuses it as a bypass actor.
      bypassActors: [{ actorId: 2345678, actorType: "Integration", bypassMode: "always" }],
    });
  });

  it("protects the release branches a stage-fix is cut from: reviewed pull requests only, never deleted or forced", () => {
    const branches = ofType(evaluation, RULESET).find((r) => r.inputs.name === "release branches")!.inputs as any;
    expect(branches).toMatchObject({
      repository: "blurts-server",
      target: "branch",
      conditions: { refName: { includes: ["refs/heads/release/*"], excludes: [] } },
      bypassActors: [],
      rules: { deletion: true, nonFastForward: true, pullRequest: { requiredApprovingReviewCount: 1 } },
    });
  });

  it("lets only the prod reviewer teams create a release branch, in a ruleset of its own: they bypass no review", () => {
    // A pull-request rule does not stop anyone with write access from creating release/<x> at an unreviewed commit
    // (alphagov/govuk-frontend#7077), which the pre-release would then release.
    const creation = ofType(evaluation, RULESET).find((r) => r.inputs.name === "release branch creation")!
      .inputs as any;
    expect(creation).toMatchObject({
      repository: "blurts-server",
      target: "branch",
      enforcement: "active",
      conditions: { refName: { includes: ["refs/heads/release/*"], excludes: [] } },
      rules: { creation: true },
      // The prod reviewer team of Pulumi.pipeline.yaml (monitor-sre).
      bypassActors: [{ actorId: 5432101, actorType: "Team", bypassMode: "always" }],
    });
    expect(Object.keys(creation.rules)).toEqual(["creation"]);
  });

  it("commits every caller to the app repository pinned to the infra commit, after the ruleset's bypass exists", () => {
    const files = ofType(evaluation, FILE);
    expect(files.map((f) => f.inputs.file)).toEqual([".github/workflows/preview.yml", ".github/release.yml"]);
    const preview = files[0];
    expect(preview.inputs).toMatchObject({ repository: "blurts-server", overwriteOnCreate: true });
    expect(preview.inputs.content).toContain(`uses: ${INFRA}/.github/workflows/preview-up.yml@${COMMIT}`);
    expect(preview.inputs.content).not.toContain(INFRA_COMMIT_PLACEHOLDER);
    expect(preview.inputs.commitMessage).toBe(`Deploy workflows from ${INFRA}@${COMMIT}`);
    const ruleset = ofType(evaluation, RULESET).find(
      (r) => r.inputs.repository === "blurts-server" && r.inputs.name === "default branch",
    )!;
    expect(preview.dependsOn).toContain(ruleset.urn);
    expect(evaluation.outputs.appFiles.value).toEqual(FIXTURES.map((f) => f.path));
  });

  it("stores no chat webhook unless one is configured, and then only as a secret", async () => {
    expect(ofType(evaluation, "github:index/actionsSecret:ActionsSecret")).toEqual([]);
    const url = "https://chat.example/hooks/abc123";
    const { evaluation: withHook } = await evaluatePipeline({ "monitor:chatWebhookUrl": url }, [
      "monitor:chatWebhookUrl",
    ]);
    const secret: Registration = one(withHook, "github:index/actionsSecret:ActionsSecret");
    expect(secret.inputs).toMatchObject({
      repository: "blurts-server",
      secretName: CHAT_WEBHOOK_SECRET,
      value: "[secret]",
    });
    expect(secret.secretPaths).toContain("value");
    expect(JSON.stringify(withHook.registrations.map((r) => r.inputs))).not.toContain(url);
  });
});

describe("the stack as committed", () => {
  it("reads the app's callers from workflows/app, walking subdirectories", () => {
    const dir = mkdtempSync(join(tmpdir(), "app-files-"));
    mkdirSync(join(dir, ".github", "workflows"), { recursive: true });
    writeFileSync(join(dir, ".github", "workflows", "b.yml"), "b");
    writeFileSync(join(dir, ".github", "release.yml"), "r");
    expect(readTree(dir)).toEqual([
      { path: ".github/release.yml", content: "r" },
      { path: ".github/workflows/b.yml", content: "b" },
    ]);
    expect(readTree(join(dir, "missing"))).toEqual([]);
    expect(
      pinWorkflowFiles(
        [{ path: "x", content: `a ${INFRA_REPOSITORY_PLACEHOLDER}@${INFRA_COMMIT_PLACEHOLDER}` }],
        {
          repository: INFRA_REPOSITORY_PLACEHOLDER,
          commit: INFRA_COMMIT_PLACEHOLDER,
        },
        { repository: "o/r", commit: COMMIT },
      ),
    ).toEqual([{ path: "x", content: `a o/r@${COMMIT}` }]);
  });

  it("passes every policy and commits exactly the files under workflows/app", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "pipeline", { "monitor:infraCommit": COMMIT });
    const committed = await evaluate("pipeline", { config, secretKeys });
    expect(runPolicies(committed)).toEqual([]);
    expect(ofType(committed, FILE).map((f) => f.inputs.file)).toEqual(
      readTree(join(ROOT, "workflows/app")).map((f) => f.path),
    );
  });
});

describe("drift reports", () => {
  it("have their label in the infra repository, where drift.yml files them (GitHub drops unknown labels)", () => {
    const labels = ofType(evaluation, "github:index/issueLabel:IssueLabel");
    expect(labels.map((l) => ({ parent: l.parent.split("::").pop(), name: l.inputs.name }))).toEqual([
      { parent: "infra-repository", name: "drift" },
    ]);
  });
});
