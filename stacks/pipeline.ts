import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { Deployer, type ProjectGrant, environmentGrants, previewGrants, reviewGrants } from "../components/deployer";
import {
  GithubRepository,
  type RepositoryFileSpec,
  githubProvider,
  pinWorkflowFiles,
} from "../components/github-repository";
import { ImageRegistry } from "../components/image-registry";
import { PIPELINE_SERVICES, ProjectServices } from "../components/project-services";
import { StateBackend } from "../components/state-backend";
import { WorkloadIdentity } from "../components/workload-identity";
import {
  APP_FILES_DIR,
  APP_REQUIRED_CHECKS,
  CHAT_WEBHOOK_SECRET,
  DEPLOYER_ACCOUNT_IDS,
  DRIFT_LABEL,
  DEPLOY_ENVIRONMENTS,
  type DeployEnvironment,
  ENVIRONMENT_VARIABLES,
  INFRA_COMMIT_PLACEHOLDER,
  INFRA_REPOSITORY_PLACEHOLDER,
  INFRA_REQUIRED_CHECKS,
  RELEASE_TAG_PATTERN,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
  REVIEWER_ACCOUNT_ID,
} from "../infra/pipeline-contract";
import type { PipelineSpec } from "../infra/spec";

/** This repository's root, where `workflows/app/` lives. */
const ROOT = resolve(__dirname, "..");
const MAIN = "refs/heads/main";

/** Every file under `dir`, by its `/`-separated path relative to it; none when the directory is missing. */
export function readTree(dir: string): RepositoryFileSpec[] {
  if (!existsSync(dir)) return [];
  const walk = (d: string): string[] =>
    readdirSync(d)
      .sort()
      .flatMap((entry) => (statSync(join(d, entry)).isDirectory() ? walk(join(d, entry)) : [join(d, entry)]));
  return walk(dir).map((file) => ({
    path: relative(dir, file).split(sep).join("/"),
    content: readFileSync(file, "utf8"),
  }));
}

/**
 * `pipeline`: what the deploy workflows stand on. Applied by administrators, never by the identities it creates.
 * GCP: one workload identity pool per project, a deployer per environment plus the read-only review identity, the
 * state bucket and keys, the image registry. GitHub: both repositories' environments, variables, rulesets, and the
 * app's workflow callers pinned to this repository's commit.
 */
export function pipelineStack(
  spec: PipelineSpec,
  appFiles: RepositoryFileSpec[] = readTree(join(ROOT, APP_FILES_DIR)),
) {
  const { appRepository: app, infraRepository: infra } = spec;
  const reviewProject = spec.projects.stage;
  // Every GCP resource uses the provider of the project it lives in, which waits for that project's APIs.
  const everyProject = [...new Set([...Object.values(spec.projects), spec.state.project, spec.registry.project])];
  const apis = Object.fromEntries(
    everyProject.map((project) => [
      project,
      new ProjectServices(`apis-${project}`, { project, region: spec.region, services: PIPELINE_SERVICES }),
    ]),
  );
  const inProject = (project: string) => ({ provider: apis[project].provider });
  const projectNumber = (project: string) =>
    gcp.organizations.getProjectOutput({ projectId: project }, inProject(project)).number;

  // --- Who may mint credentials: one pool per project, admitting only the pinned workflows.
  const pinnedWorkflowRefs = Object.values(REUSABLE_WORKFLOWS).map(
    (file) => `${infra.fullName}/.github/workflows/${file}@${spec.infraCommit}`,
  );
  const projects = [...new Set([...DEPLOY_ENVIRONMENTS.map((e) => spec.projects[e]), reviewProject])];
  const pools = Object.fromEntries(
    projects.map((project) => {
      const environments: string[] = DEPLOY_ENVIRONMENTS.filter((e) => spec.projects[e] === project);
      const review = project === reviewProject ? ["review"] : [];
      const pool = new WorkloadIdentity(
        `wif-${project}`,
        {
          project,
          trusted: {
            repositoryIds: [app.id, infra.id],
            ownerIds: [app.ownerId, infra.ownerId],
            pinnedWorkflowRefs,
            infra: { repositoryId: infra.id, fullName: infra.fullName },
            pullRequestEnvironments: review,
            environments: [...environments, ...review],
          },
        },
        inProject(project),
      );
      return [project, pool];
    }),
  );

  // --- The identities. A PR's token carries ref refs/pull/<N>/merge, so it never matches stage's or prod's sets.
  const deployer = (environment: DeployEnvironment, description: string, grants: ProjectGrant[]) =>
    new Deployer(
      `deployer-${environment}`,
      {
        project: spec.projects[environment],
        accountId: DEPLOYER_ACCOUNT_IDS[environment],
        description,
        grants,
      },
      inProject(spec.projects[environment]),
    );
  const deployers: Record<DeployEnvironment, Deployer> = {
    preview: deployer(
      "preview",
      "Monitor previews: deploys and destroys pr-<N> stacks (from the app's pull requests)",
      previewGrants(spec.projects.preview, projectNumber(spec.projects.preview)),
    ),
    stage: deployer(
      "stage",
      "Monitor stage: deploys the stage stack from main",
      environmentGrants(spec.projects.stage),
    ),
    prod: deployer(
      "prod",
      "Monitor prod: deploys the prod stack from main, behind the prod environment's reviewers",
      environmentGrants(spec.projects.prod),
    ),
  };
  const reviewer = new Deployer(
    "reviewer",
    {
      project: reviewProject,
      accountId: REVIEWER_ACCOUNT_ID,
      description: "Monitor review: pulumi preview of stage and prod on pull requests; reads only",
      grants: [...new Set([spec.projects.stage, spec.projects.prod])].flatMap(reviewGrants),
    },
    inProject(reviewProject),
  );
  // Who may impersonate each: principalSets of its project's pool, each named after the repository it admits.
  deployers.preview.grantImpersonation({
    key: "app",
    member: pools[spec.projects.preview].principalSet("repository_environment", `${app.id}|preview`),
  });
  for (const environment of ["stage", "prod"] as const) {
    for (const [key, repo] of [
      ["app", app],
      ["infra", infra],
    ] as const) {
      deployers[environment].grantImpersonation({
        key,
        member: pools[spec.projects[environment]].principalSet(
          "repository_environment_ref",
          `${repo.id}|${environment}|${MAIN}`,
        ),
      });
    }
  }
  reviewer.grantImpersonation({
    key: "infra",
    member: pools[reviewProject].principalSet("repository_environment", `${infra.id}|review`),
  });

  // --- State and the keys of each environment's secrets. The conditions' descriptions name the environment.
  const state = new StateBackend(
    "state",
    {
      project: spec.state.project,
      bucket: spec.state.bucket,
      region: spec.state.location,
      keyRing: spec.state.keyRing,
      keyRegion: spec.state.keyLocation,
      keys: [...DEPLOY_ENVIRONMENTS, "pipeline"],
      labels: spec.labels,
    },
    inProject(spec.state.project),
  );
  // A preview reads stage's outputs (the preview platform) through a StackReference.
  state.grantStateAccess(deployers.preview, {
    label: "preview",
    writes: [{ prefix: "pr-" }],
    reads: [{ name: "stage" }],
    encrypts: ["preview"],
    decrypts: ["stage"],
  });
  for (const environment of ["stage", "prod"] as const) {
    state.grantStateAccess(deployers[environment], {
      label: environment,
      writes: [{ name: environment }],
      encrypts: [environment],
    });
  }
  state.grantStateAccess(reviewer, {
    label: "review",
    reads: [{ name: "stage" }, { name: "prod" }],
    decrypts: ["stage", "prod"],
  });

  // --- Images: pushed by previews and stage, read by prod (and by prod's Cloud Run when it pulls from another project).
  const registry = new ImageRegistry(
    "images",
    {
      project: spec.registry.project,
      region: spec.registry.location,
      repositoryId: spec.registry.repositoryId,
      prImageTtlDays: spec.registry.prImageTtlDays,
      untaggedTtlDays: spec.registry.untaggedTtlDays,
      labels: spec.labels,
    },
    inProject(spec.registry.project),
  );
  registry.grantPush(deployers.preview);
  registry.grantPush(deployers.stage);
  registry.grantPull(deployers.prod);
  registry.grantPull(reviewer);
  for (const project of new Set(DEPLOY_ENVIRONMENTS.map((e) => spec.projects[e]))) {
    if (project === spec.registry.project) continue;
    // Cloud Run's service agent (service-<n>@serverless-robot-prod) exists only once run.googleapis.com is enabled
    // in its project ("Service agents are created when the API is enabled", https://cloud.google.com/iam/docs/service-agents),
    // and IAM refuses a binding to an account that does not exist. The pipeline is applied before the environment
    // stack (which enables the API too) ever ran, so it enables the API itself and the grant waits for it.
    // Not gcp.projects.ServiceIdentity: its docs (@pulumi/gcp 9.37 projects/serviceIdentity.d.ts) call it a beta
    // resource that works only for "the APIs that Google has configured with a Service Identity", to be checked with
    // `gcloud beta services identity create`, which run.googleapis.com is not documented to support.
    const runApi = new gcp.projects.Service(
      `run-api-${project}`,
      { project, service: "run.googleapis.com", disableOnDestroy: false, disableDependentServices: false },
      inProject(project),
    );
    registry.grantPull(
      {
        key: `run-agent-${project}`,
        member: pulumi.interpolate`serviceAccount:service-${projectNumber(project)}@serverless-robot-prod.iam.gserviceaccount.com`,
      },
      [runApi],
    );
  }

  // --- GitHub: what each environment's jobs read, who may deploy, and the app's callers.
  const variablesFor = (identity: Deployer, project: string, secretsProvider?: pulumi.Input<string>) => ({
    [ENVIRONMENT_VARIABLES.project]: project,
    [ENVIRONMENT_VARIABLES.region]: spec.region,
    [ENVIRONMENT_VARIABLES.workloadIdentityProvider]: pools[project].providerName,
    [ENVIRONMENT_VARIABLES.serviceAccount]: identity.email,
    [ENVIRONMENT_VARIABLES.backendUrl]: state.url,
    // The review identity creates no stack, so it has no key to create one with.
    ...(secretsProvider ? { [ENVIRONMENT_VARIABLES.secretsProvider]: secretsProvider } : {}),
    [ENVIRONMENT_VARIABLES.imageRepository]: spec.registry.imagePath,
  });
  const deployVariables = (e: DeployEnvironment) =>
    variablesFor(deployers[e], spec.projects[e], state.secretsProviders[e]);
  const prod = { reviewerTeams: spec.prodReviewerTeams, branches: ["main"] };
  const providers: Record<string, ReturnType<typeof githubProvider>> = {};
  const providerFor = (owner: string) => (providers[owner] ??= githubProvider(owner));

  const callers = pinWorkflowFiles(
    appFiles,
    { repository: INFRA_REPOSITORY_PLACEHOLDER, commit: INFRA_COMMIT_PLACEHOLDER },
    { repository: infra.fullName, commit: spec.infraCommit },
  );
  new GithubRepository(
    "app-repository",
    {
      repository: app.name,
      environments: [
        { name: "preview", variables: deployVariables("preview") },
        { name: "stage", branches: ["main"], variables: deployVariables("stage") },
        { name: "prod", ...prod, tags: [RELEASE_TAG_PATTERN], variables: deployVariables("prod") },
      ],
      variables: {
        [REPOSITORY_VARIABLES.previewTtlDays]: String(spec.previews.ttlDays),
        [REPOSITORY_VARIABLES.previewCap]: String(spec.previews.cap),
      },
      secrets: spec.chatWebhookUrl === undefined ? {} : { [CHAT_WEBHOOK_SECRET]: pulumi.secret(spec.chatWebhookUrl) },
      defaultBranch: { requiredChecks: APP_REQUIRED_CHECKS, bypassAppId: spec.githubAppId },
      releaseTagPattern: RELEASE_TAG_PATTERN,
      files: callers,
      commitMessage: `Deploy workflows from ${infra.fullName}@${spec.infraCommit}`,
    },
    { provider: providerFor(app.owner) },
  );
  new GithubRepository(
    "infra-repository",
    {
      repository: infra.name,
      environments: [
        { name: "review", variables: variablesFor(reviewer, reviewProject) },
        { name: "stage", branches: ["main"], variables: deployVariables("stage") },
        { name: "prod", ...prod, variables: deployVariables("prod") },
      ],
      defaultBranch: { requiredChecks: INFRA_REQUIRED_CHECKS, requireCodeOwnerReview: true },
      // scripts/drift-issue.ts files one issue per drifted stack under this label.
      issueLabels: [
        { name: DRIFT_LABEL, color: "d93f0b", description: "A stack differs from what its code declares (drift.yml)" },
      ],
    },
    { provider: providerFor(infra.owner) },
  );

  return {
    /** Environment → deployer email: the environment stacks grant each actAs on the accounts they create. */
    deployers: pulumi.all({
      preview: deployers.preview.email,
      stage: deployers.stage.email,
      prod: deployers.prod.email,
    }),
    reviewer: reviewer.email,
    /** GCP project → `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`. */
    workloadIdentityProviders: pulumi.all(
      Object.fromEntries(Object.entries(pools).map(([p, pool]) => [p, pool.providerName])),
    ),
    stateBackend: state.url,
    secretsProviders: pulumi.all(state.secretsProviders),
    imageRepository: spec.registry.imagePath,
    infraCommit: spec.infraCommit,
    appFiles: callers.map((f) => f.path),
  };
}
