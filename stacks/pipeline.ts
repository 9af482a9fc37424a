import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { join, relative, resolve, sep } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import {
  DATABASE_ADMIN_ACT_AS,
  Deployer,
  type ProjectGrant,
  environmentGrants,
  previewGrants,
  previewsPlatformGrants,
  reviewGrants,
} from "../components/deployer";
import {
  GithubRepository,
  type RepositoryFileSpec,
  githubProvider,
  pinWorkflowFiles,
} from "../components/github-repository";
import { ImageRegistry } from "../components/image-registry";
import { grantCloudSqlConnect } from "../components/postgres-instance";
import { PIPELINE_SERVICES, ProjectServices, RUN_AGENT_SERVICE } from "../components/project-services";
import { RuntimeIdentity } from "../components/runtime-identity";
import { StateBackend } from "../components/state-backend";
import { WorkloadIdentity } from "../components/workload-identity";
import { PREVIEW_PLATFORM_NAMES } from "../infra/naming";
import {
  APP_FILES_DIR,
  APP_REQUIRED_CHECKS,
  CHAT_WEBHOOK_SECRET,
  DATABASE_ADMIN_ACCOUNT_ID,
  DEPLOYER_ACCOUNT_IDS,
  DRIFT_LABEL,
  ENVIRONMENT_VARIABLES,
  INFRA_COMMIT_PLACEHOLDER,
  INFRA_REPOSITORY_PLACEHOLDER,
  INFRA_REQUIRED_CHECKS,
  PREVIEW_ENVIRONMENT_PREFIX,
  RELEASE_APP,
  RELEASE_BRANCH_PATTERN,
  RELEASE_TAG_PATTERN,
  REPOSITORY_VARIABLES,
  REUSABLE_WORKFLOWS,
  REVIEWER_ACCOUNT_IDS,
  STATE_KEYS,
} from "../infra/pipeline-contract";
import { PREVIEW_PLATFORM_STACK } from "../infra/platform";
import type { PipelineSpec, RepositoryRef } from "../infra/pipeline-spec";

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
 * GCP: one workload identity pool per deploy project (previews, stage, prod), a deployer per environment (and one
 * for the previews platform), the read-only review identities, the state bucket and its keys, the image registry.
 * GitHub: both repositories' environments, variables, rulesets, and the app's workflow callers pinned to this
 * repository's commit.
 */
export function pipelineStack(
  spec: PipelineSpec,
  appFiles: RepositoryFileSpec[] = readTree(join(ROOT, APP_FILES_DIR)),
) {
  const { appRepository: app, infraRepository: infra } = spec;
  const { preview: previewsProject, stage: stageProject, prod: prodProject } = spec.projects;
  // Where each identity's service account lives: the previews' in another project than the previews', whose
  // service accounts are one per open preview (100 by default); the rest in the project they deploy or read.
  const identityProject = spec.previewIdentityProject;
  // Every GCP resource uses the provider of the project it lives in, which waits for that project's APIs.
  const everyProject = [
    ...new Set([
      previewsProject,
      stageProject,
      prodProject,
      identityProject,
      spec.state.project,
      spec.registry.project,
    ]),
  ];
  // Cloud Run's service agent (service-<n>@serverless-robot-prod) exists only once run.googleapis.com is enabled in
  // its project ("Service agents are created when the API is enabled", https://cloud.google.com/iam/docs/service-agents),
  // and IAM refuses a binding to an account that does not exist. The pipeline is applied before the environment
  // stack (which enables the API too) ever ran, so where it grants the agent it enables the API itself.
  // Not gcp.projects.ServiceIdentity: its docs (@pulumi/gcp 9.37 projects/serviceIdentity.d.ts) call it a beta
  // resource that works only for "the APIs that Google has configured with a Service Identity", to be checked with
  // `gcloud beta services identity create`, which run.googleapis.com is not documented to support.
  const runAgentProjects = [...new Set([stageProject, prodProject])].filter((p) => p !== spec.registry.project);
  const runAgentApiProjects = [...new Set([...runAgentProjects, previewsProject])];
  const apis = Object.fromEntries(
    everyProject.map((project) => [
      project,
      new ProjectServices(`apis-${project}`, {
        project,
        region: spec.region,
        services: runAgentApiProjects.includes(project) ? [...PIPELINE_SERVICES, RUN_AGENT_SERVICE] : PIPELINE_SERVICES,
      }),
    ]),
  );
  const inProject = (project: string) => ({ provider: apis[project].provider });
  const projectNumber = (project: string) =>
    gcp.organizations.getProjectOutput({ projectId: project }, inProject(project)).number;
  /** The project's Cloud Run service agent: what pulls images and mints a job's token in that project. */
  const runServiceAgent = (project: string) =>
    pulumi.interpolate`serviceAccount:service-${projectNumber(project)}@serverless-robot-prod.iam.gserviceaccount.com`;

  // --- Who may mint credentials: one pool per deploy project, admitting only the pinned workflows and, in each,
  // only the GitHub environments whose identities that project's pool is bound to.
  const pinnedWorkflowRefs = Object.values(REUSABLE_WORKFLOWS).map(
    (file) => `${infra.fullName}/.github/workflows/${file}@${spec.infraCommit}`,
  );
  const poolSettings: Record<string, { environments: string[]; pullRequest: string[]; prefixes: string[] }> = {
    [previewsProject]: {
      environments: ["preview", "previews"],
      pullRequest: [],
      prefixes: [PREVIEW_ENVIRONMENT_PREFIX],
    },
    [stageProject]: { environments: ["stage", "review"], pullRequest: ["review"], prefixes: [] },
    [prodProject]: { environments: ["prod", "review-prod", "drift"], pullRequest: ["review-prod"], prefixes: [] },
  };
  const pools = Object.fromEntries(
    Object.entries(poolSettings).map(([project, settings]) => [
      project,
      new WorkloadIdentity(
        `wif-${project}`,
        {
          project,
          trusted: {
            repositoryIds: [app.id, infra.id],
            ownerIds: [app.ownerId, infra.ownerId],
            pinnedWorkflowRefs,
            infra: { repositoryId: infra.id, fullName: infra.fullName },
            pullRequestEnvironments: settings.pullRequest,
            environments: settings.environments,
            environmentPrefixes: settings.prefixes,
          },
        },
        inProject(project),
      ),
    ]),
  );
  const onMain = (project: string, repo: RepositoryRef, environment: string) => ({
    key: repo === app ? "app" : "infra",
    member: pools[project].principalSet("repository_environment_ref", `${repo.id}|${environment}|${MAIN}`),
  });

  // --- The identities. A PR's token carries ref refs/pull/<N>/merge, so it never matches a `...|refs/heads/main`
  // set; the only ones a PR reaches are the previews' (app repository, pinned workflows) and the review identities.
  const identity = (name: string, project: string, accountId: string, description: string, grants: ProjectGrant[]) =>
    new Deployer(name, { project, accountId, description, grants }, inProject(project));
  const deployers = {
    preview: identity(
      "deployer-preview",
      identityProject,
      DEPLOYER_ACCOUNT_IDS.preview,
      "Monitor previews: deploys and destroys pr-<N> stacks in the previews project (from the app's pull requests)",
      previewGrants(previewsProject, projectNumber(previewsProject)),
    ),
    previews: identity(
      "deployer-previews",
      identityProject,
      DEPLOYER_ACCOUNT_IDS.previews,
      "Monitor previews platform: applies the previews stack from main",
      previewsPlatformGrants(previewsProject),
    ),
    stage: identity(
      "deployer-stage",
      stageProject,
      DEPLOYER_ACCOUNT_IDS.stage,
      "Monitor stage: deploys the stage stack from main",
      environmentGrants(stageProject),
    ),
    prod: identity(
      "deployer-prod",
      prodProject,
      DEPLOYER_ACCOUNT_IDS.prod,
      "Monitor prod: deploys the prod stack from main, behind the prod environment's reviewers",
      environmentGrants(prodProject),
    ),
  };
  const reviewer = identity(
    "reviewer",
    stageProject,
    REVIEWER_ACCOUNT_IDS.review,
    "Monitor review: pulumi preview (pull requests) and the drift check of stage and the previews platform; reads only",
    [...reviewGrants(stageProject), ...reviewGrants(previewsProject)],
  );
  const prodReviewer = identity(
    "reviewer-prod",
    prodProject,
    REVIEWER_ACCOUNT_IDS.reviewProd,
    "Monitor prod review: pulumi preview (after the prod reviewers) and the drift check of prod; reads only",
    reviewGrants(prodProject),
  );
  // --- The previews' database admin (components/preview-database-admin.ts): the account the previews platform's
  // psql jobs run as. It lives here beside the previews' deployers, not in the previews project, whose service
  // accounts are one per open preview; Cloud Run there runs jobs as it through its service agent. Only the deployers
  // of those jobs may act as it (DATABASE_ADMIN_ACT_AS), and it may connect to the shared instance alone.
  const databaseAdmin = new RuntimeIdentity(
    "previews-database-admin",
    {
      project: identityProject,
      accountId: DATABASE_ADMIN_ACCOUNT_ID,
      description: "Monitor previews: the platform's database admin jobs on the shared preview instance",
      deployers: Object.fromEntries(
        (Object.keys(DATABASE_ADMIN_ACT_AS) as (keyof typeof DATABASE_ADMIN_ACT_AS)[]).map((d) => [
          d,
          deployers[d].member,
        ]),
      ),
    },
    inProject(identityProject),
  );
  databaseAdmin.grantCrossProjectUse({ key: "run-agent", member: runServiceAgent(previewsProject) }, [
    apis[previewsProject],
  ]);
  const sharedInstance = PREVIEW_PLATFORM_NAMES.instance;
  grantCloudSqlConnect(
    "previews-instance",
    {
      project: previewsProject,
      instanceName: sharedInstance,
      connectionName: `${previewsProject}:${spec.region}:${sharedInstance}`,
    },
    databaseAdmin,
    inProject(previewsProject),
  );

  deployers.preview.grantImpersonation({
    key: "app",
    member: pools[previewsProject].principalSet("repository_environment", `${app.id}|preview`),
  });
  deployers.previews.grantImpersonation(onMain(previewsProject, infra, "previews"));
  for (const environment of ["stage", "prod"] as const) {
    for (const repo of [app, infra]) {
      deployers[environment].grantImpersonation(onMain(spec.projects[environment], repo, environment));
    }
  }
  reviewer.grantImpersonation({
    key: "infra",
    member: pools[stageProject].principalSet("repository_environment", `${infra.id}|review`),
  });
  prodReviewer.grantImpersonation({
    key: "infra",
    member: pools[prodProject].principalSet("repository_environment", `${infra.id}|review-prod`),
  });
  prodReviewer.grantImpersonation({ ...onMain(prodProject, infra, "drift"), key: "drift" });

  // --- State and the keys of each stack's secrets. The conditions' descriptions name who they are for.
  const state = new StateBackend(
    "state",
    {
      project: spec.state.project,
      bucket: spec.state.bucket,
      region: spec.state.location,
      keyRing: spec.state.keyRing,
      keyRegion: spec.state.keyLocation,
      keys: [...STATE_KEYS],
      labels: spec.labels,
    },
    inProject(spec.state.project),
  );
  // A preview reads the platform's outputs (a StackReference: the checkpoint and the platform's key) and nothing
  // of stage or prod.
  state.grantStateAccess(deployers.preview, {
    label: "preview",
    writes: [{ prefix: "pr-" }],
    reads: [{ name: PREVIEW_PLATFORM_STACK }],
    encrypts: ["preview"],
    decrypts: ["previews"],
  });
  state.grantStateAccess(deployers.previews, {
    label: "previews",
    writes: [{ name: PREVIEW_PLATFORM_STACK }],
    encrypts: ["previews"],
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
    reads: [{ name: "stage" }, { name: PREVIEW_PLATFORM_STACK }],
    decrypts: ["stage", "previews"],
  });
  state.grantStateAccess(prodReviewer, { label: "review-prod", reads: [{ name: "prod" }], decrypts: ["prod"] });

  // --- Images: stage builds into the registry prod deploys from (previews push to their own, the previews stack's).
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
  registry.grantPush(deployers.stage);
  registry.grantPull(deployers.prod);
  registry.grantPull(reviewer);
  registry.grantPull(prodReviewer);
  for (const project of runAgentProjects) {
    registry.grantPull(
      {
        key: `run-agent-${project}`,
        member: runServiceAgent(project),
      },
      apis[project].services,
    );
  }

  // --- GitHub: what each environment's jobs read, who may deploy, and the app's callers.
  const variablesFor = (
    who: Deployer,
    poolProject: string,
    project: string,
    secretsProvider?: pulumi.Input<string>,
  ) => ({
    [ENVIRONMENT_VARIABLES.project]: project,
    [ENVIRONMENT_VARIABLES.region]: spec.region,
    [ENVIRONMENT_VARIABLES.workloadIdentityProvider]: pools[poolProject].providerName,
    [ENVIRONMENT_VARIABLES.serviceAccount]: who.email,
    [ENVIRONMENT_VARIABLES.backendUrl]: state.url,
    // The review identities create no stack, so they have no key to create one with.
    ...(secretsProvider ? { [ENVIRONMENT_VARIABLES.secretsProvider]: secretsProvider } : {}),
    [ENVIRONMENT_VARIABLES.imageRepository]: spec.registry.imagePath,
  });
  const deployVariables = (e: "stage" | "prod") =>
    variablesFor(deployers[e], spec.projects[e], spec.projects[e], state.secretsProviders[e]);
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
        // The sweeper's; each PR's own `preview-<N>` is created by GitHub on first use, with no variables.
        { name: "preview", branches: ["main"] },
        {
          name: "stage",
          branches: ["main"],
          variables: { ...deployVariables("stage"), [RELEASE_APP.idVariable]: String(spec.releaseAppId) },
        },
        { name: "prod", ...prod, tags: [RELEASE_TAG_PATTERN], variables: deployVariables("prod") },
      ],
      variables: {
        [REPOSITORY_VARIABLES.previewProject]: previewsProject,
        [REPOSITORY_VARIABLES.previewRegion]: spec.region,
        [REPOSITORY_VARIABLES.previewWorkloadIdentityProvider]: pools[previewsProject].providerName,
        [REPOSITORY_VARIABLES.previewServiceAccount]: deployers.preview.email,
        [REPOSITORY_VARIABLES.previewBackendUrl]: state.url,
        [REPOSITORY_VARIABLES.previewSecretsProvider]: state.secretsProviders.preview,
        [REPOSITORY_VARIABLES.previewImageRepository]: previewImagePath(spec),
        [REPOSITORY_VARIABLES.previewTtlDays]: String(spec.previews.ttlDays),
        [REPOSITORY_VARIABLES.previewCap]: String(spec.previews.cap),
        [REPOSITORY_VARIABLES.previewActiveCap]: String(spec.previews.activeCap),
      },
      secrets: spec.chatWebhookUrl === undefined ? {} : { [CHAT_WEBHOOK_SECRET]: pulumi.secret(spec.chatWebhookUrl) },
      defaultBranch: { requiredChecks: APP_REQUIRED_CHECKS, bypassAppId: spec.githubAppId },
      releaseTags: { pattern: RELEASE_TAG_PATTERN, bypassAppId: spec.releaseAppId },
      protectedBranches: [RELEASE_BRANCH_PATTERN],
      // Who approves a prod deploy cuts the branch a stage-fix is released from; its commits then come by review.
      protectedBranchCreators: spec.prodReviewerTeams,
      files: callers,
      commitMessage: `Deploy workflows from ${infra.fullName}@${spec.infraCommit}`,
    },
    { provider: providerFor(app.owner) },
  );
  const review = variablesFor(reviewer, stageProject, stageProject);
  const reviewProd = variablesFor(prodReviewer, prodProject, prodProject);
  new GithubRepository(
    "infra-repository",
    {
      repository: infra.name,
      environments: [
        { name: "review", variables: review },
        // A pull request's prod preview waits for the prod reviewers: its token decrypts prod's state.
        { name: "review-prod", reviewerTeams: spec.prodReviewerTeams, variables: reviewProd },
        { name: "drift", branches: ["main"], variables: reviewProd },
        {
          name: "previews",
          branches: ["main"],
          variables: variablesFor(
            deployers.previews,
            previewsProject,
            previewsProject,
            state.secretsProviders.previews,
          ),
        },
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
    /** Who deploys what: the environment stacks and the previews stack grant each what it acts on. */
    deployers: pulumi.all({
      preview: deployers.preview.email,
      previews: deployers.previews.email,
      stage: deployers.stage.email,
      prod: deployers.prod.email,
    }),
    reviewers: pulumi.all({ review: reviewer.email, reviewProd: prodReviewer.email }),
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

/** Where previews push (the previews stack's registry): the main registry's host, in the previews project. */
export function previewImagePath(spec: PipelineSpec): string {
  const image = spec.registry.imagePath.split("/").pop();
  return `${spec.registry.location}-docker.pkg.dev/${spec.projects.preview}/${PREVIEW_PLATFORM_NAMES.registry}/${image}`;
}
