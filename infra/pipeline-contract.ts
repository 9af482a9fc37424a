/**
 * The names the `pipeline` stack and the workflow files must agree on: which GitHub environments exist, which
 * variables each one carries for the workflows, which reusable workflows may mint deploy credentials, and which
 * checks the rulesets require. The stack declares them from here; the workflow tests read the YAML and check it
 * against here, so neither side can rename one alone.
 */

/**
 * GitHub environments in the app repository, one deployer service account each. A preview's deploy and destroy
 * run in an environment of their own, `preview-<N>` (PREVIEW_ENVIRONMENT_PREFIX), so that each PR keeps its own
 * active deployment (GitHub marks every earlier deployment of one environment inactive); GitHub creates each on
 * first use. `preview` itself is the sweeper's.
 */
export const DEPLOY_ENVIRONMENTS = ["preview", "stage", "prod"] as const;
export type DeployEnvironment = (typeof DEPLOY_ENVIRONMENTS)[number];
export const PREVIEW_ENVIRONMENT_PREFIX = "preview-";

/**
 * GitHub environments in this (infra) repository:
 * - `stage`, `prod`: apply config changes with the same deployers as the app repository's (from main).
 * - `previews`: applies the previews platform stack with its own deployer (from main).
 * - `review`: the read-only identity that runs `pulumi preview` of stage and the previews platform on pull requests
 *   (no branch policy, so PR jobs may use it; it reads state and decrypts stage's and the platform's, never writes).
 * - `review-prod`: the read-only identity of prod, which decrypts prod's state: a pull request's job waits for the
 *   prod reviewers first (a PR can rewrite its own workflow, so only environment protection makes its token safe).
 * - `drift`: the same read-only prod identity for the scheduled drift check, from main only.
 */
export const INFRA_ENVIRONMENTS = ["review", "review-prod", "drift", "previews", "stage", "prod"] as const;
export type InfraEnvironment = (typeof INFRA_ENVIRONMENTS)[number];

/**
 * Variables every deploy environment carries (GitHub Actions environment variables, `vars.<NAME>` in workflows).
 * None is a secret: workload identity federation needs no key, and state is encrypted by KMS.
 */
export const ENVIRONMENT_VARIABLES = {
  /** GCP project the environment's stacks live in. */
  project: "GCP_PROJECT",
  region: "GCP_REGION",
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>`. */
  workloadIdentityProvider: "GCP_WORKLOAD_IDENTITY_PROVIDER",
  /** The deployer service account the job impersonates. */
  serviceAccount: "GCP_SERVICE_ACCOUNT",
  /** `gs://<bucket>`: the Pulumi state backend. */
  backendUrl: "PULUMI_BACKEND_URL",
  /** `gcpkms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`: the stacks' secrets provider. */
  secretsProvider: "PULUMI_SECRETS_PROVIDER",
  /** Registry path of the app image, without tag. */
  imageRepository: "IMAGE_REPOSITORY",
} as const;

/**
 * Repository-level Actions variables of the app repository. The previews' deploy variables live here, not on an
 * environment: each PR's `preview-<N>` environment is created on first use and carries none.
 */
export const REPOSITORY_VARIABLES = {
  previewProject: "PREVIEW_GCP_PROJECT",
  previewRegion: "PREVIEW_GCP_REGION",
  previewWorkloadIdentityProvider: "PREVIEW_GCP_WORKLOAD_IDENTITY_PROVIDER",
  previewServiceAccount: "PREVIEW_GCP_SERVICE_ACCOUNT",
  previewBackendUrl: "PREVIEW_PULUMI_BACKEND_URL",
  /** The key a new `pr-<N>` stack is created with (`pulumi stack init --secrets-provider`). */
  previewSecretsProvider: "PREVIEW_PULUMI_SECRETS_PROVIDER",
  previewImageRepository: "PREVIEW_IMAGE_REPOSITORY",
  /** A preview older than this many days (since its stack was last updated) is destroyed. */
  previewTtlDays: "PREVIEW_TTL_DAYS",
  /** At most this many previews at once (monitor:preview.maxOpen); the oldest beyond it are destroyed. */
  previewCap: "PREVIEW_CAP",
  /**
   * At most this many previews holding database connections at once (monitor:preview.maxActive): a preview's deploy
   * waits for a place (scripts/preview-admission.ts).
   */
  previewActiveCap: "PREVIEW_ACTIVE_CAP",
} as const;

/**
 * The GitHub App that creates release tags (the pre-release), the only actor the tag ruleset lets create them:
 * GitHub refuses the GitHub Actions integration as a ruleset bypass actor ("Actor GitHub Actions integration must be
 * part of the ruleset source or owner organization", liquibase/liquibase#7985). Its id is a variable of the app
 * repository's `stage` environment; its private key a secret of that environment, added by an administrator.
 */
export const RELEASE_APP = { idVariable: "RELEASE_APP_ID", privateKeySecret: "RELEASE_APP_PRIVATE_KEY" } as const;

/** App-repository branches a release may be cut from, besides main: protected by a ruleset of their own. */
export const RELEASE_BRANCH_PATTERN = "release/*";

/** Actions secret (app repository) holding the team chat webhook URL; optional: no secret, no message. */
export const CHAT_WEBHOOK_SECRET = "CHAT_WEBHOOK_URL";

/**
 * Actions secrets (app repository) of the Atlassian account that comments on each Jira ticket a prod deploy shipped;
 * optional: without them the deploy lists the tickets and says so. Set by hand (`gh secret set`), see the README.
 */
export const JIRA_SECRETS = { user: "JIRA_USER_EMAIL", token: "JIRA_API_TOKEN" } as const;

/**
 * Actions secrets of the app repository the image builds read (scripts/build-image.ts), as the app's own build
 * does: the Sentry DSN compiled into the client and the token that uploads source maps. Repository secrets: the
 * caller job that passes them runs in no environment (a caller cannot pass environment secrets, docs.github.com,
 * "Reuse workflows": "Environment secrets cannot be passed from the caller workflow"). Set by hand, not by the
 * pipeline stack: they are Sentry's, not this program's.
 */
export const APP_BUILD_SECRETS = ["SENTRY_DSN", "SENTRY_AUTH_TOKEN"] as const;

/**
 * Reusable workflows (`on: workflow_call`) of this repository, by what they do. Only jobs running one of these, at
 * the commit the pipeline stack was applied from or on this repository's main, get deploy credentials (the
 * workload identity condition pins the OIDC `job_workflow_ref` claim to them).
 */
export const REUSABLE_WORKFLOWS = {
  previewUp: "preview-up.yml",
  previewDestroy: "preview-destroy.yml",
  stage: "deploy-stage.yml",
  preRelease: "pre-release.yml",
  deploy: "deploy.yml",
  sweeper: "sweep-previews.yml",
  drift: "drift.yml",
} as const;

/**
 * What the program and its stacks are made of, as a workflow's `paths` filter and git's `:(glob)` pathspec both read
 * them: a change to any on main is what config apply applies (its `on.push.paths`), and what an app deploy pinned to
 * an older commit would undo (scripts/require-current-infra.ts refuses such a deploy until the pin moves).
 */
export const PROGRAM_PATHS = [
  "Pulumi*.yaml",
  "infra/**",
  "stacks/**",
  "components/**",
  "shared-rules/**",
  "policies/**",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
] as const;

/** Directory, under this repository, whose tree the pipeline stack commits to the app repository as it is. */
export const APP_FILES_DIR = "workflows/app";

/**
 * What a thin caller in `workflows/app/` writes where the pipeline stack puts the pinned commit of this repository:
 * `uses: <INFRA_REPOSITORY_PLACEHOLDER>/.github/workflows/<file>@<INFRA_COMMIT_PLACEHOLDER>`. Both are valid as
 * written, so actionlint checks the callers before substitution.
 */
export const INFRA_REPOSITORY_PLACEHOLDER = "mozilla/monitor-delivery";
export const INFRA_COMMIT_PLACEHOLDER = "0000000000000000000000000000000000000000";

/** The Pulumi CLI version every workflow installs (pulumi/actions `pulumi-version`); the dev dependency's. */
export const PULUMI_CLI_VERSION = "3.265.0";

/** The plain job of the app's preview.yml that reports whether the PR's preview deployed (or had none to). */
export const PREVIEW_CHECK = "Deploy Previews";
/**
 * Check names the app repository's default branch requires before a merge. A check is named by its job's `name:`,
 * else its id, never the workflow's name: mozilla/blurts-server's `.github/workflows/` at
 * 3b6c89004050c9e5af9220c05d9ec74c700e643b report "Lint" as `npm-lint` (lint.yaml), "Build" as `npm-build`
 * (build.yaml), "Unit Tests" as `unit-tests` (unittests.yaml) and E2E as `functional-tests`
 * (functional_tests_pr.yml, on pull requests to main), each on every pull request. Plus the preview.
 */
export const APP_REQUIRED_CHECKS = ["npm-lint", "npm-build", "unit-tests", "functional-tests", PREVIEW_CHECK] as const;
/** Check names this repository's default branch requires (jobs of its own CI). */
export const INFRA_REQUIRED_CHECKS = ["npm test"] as const;

/**
 * Service account ids (6-30 characters) of the deployers, one per deploy environment, and of the read-only `review`
 * identity. The environment stacks grant `roles/iam.serviceAccountUser` on the accounts they create to their
 * deployer: the email follows from the id and the environment's project, so they need no StackReference to the
 * pipeline stack (whose state they may not read).
 */
export const DEPLOYER_ACCOUNT_IDS: Record<DeployEnvironment | "previews", string> = {
  preview: "monitor-deploy-preview",
  /** Applies the previews platform stack. */
  previews: "monitor-previews-platform",
  stage: "monitor-deploy-stage",
  prod: "monitor-deploy-prod",
};
/** The read-only identities: stage's and the previews platform's (PR-reachable), and prod's (behind reviewers). */
export const REVIEWER_ACCOUNT_IDS = { review: "monitor-review", reviewProd: "monitor-review-prod" } as const;

/**
 * `monitor-deploy-stage@moz-fx-monitor-nonprod.iam.gserviceaccount.com`: the deployer of `environment`, living in
 * `project` (stage's and prod's in their own; the previews' in monitor:preview.identityProject).
 */
export function deployerEmail(environment: DeployEnvironment | "previews", project: string): string {
  return `${DEPLOYER_ACCOUNT_IDS[environment]}@${project}.iam.gserviceaccount.com`;
}

/**
 * The account the previews' database admin jobs run as (components/preview-database-admin.ts), which the pipeline
 * stack creates in monitor:preview.identityProject beside the previews' deployers: in the previews project it would
 * take one of the 100 service accounts that are one per open preview. The previews stack names it by this email.
 */
export const DATABASE_ADMIN_ACCOUNT_ID = "monitor-previews-db-admin";

export function databaseAdminEmail(identityProject: string): string {
  return `${DATABASE_ADMIN_ACCOUNT_ID}@${identityProject}.iam.gserviceaccount.com`;
}

/**
 * The state backend's KMS keys, one per stack kind whose secrets another identity must not read: each preview
 * encrypts with `preview`, the previews platform with `previews`, and so on (components/state-backend.ts).
 */
export const STATE_KEYS = ["preview", "previews", "stage", "prod", "pipeline"] as const;

/** Tags of the app repository's releases (`YYYY.MM.DD[.N]`), as ruleset and deployment-policy patterns match them. */
export const RELEASE_TAG_PATTERN = "20*";
/** The GitHub Actions app: what reports the workflows' check runs (a required check's integration). */
export const GITHUB_ACTIONS_INTEGRATION_ID = 15368;

/** The issue label of drift reports: scripts/drift-issue.ts files under it, the pipeline stack creates it. */
export const DRIFT_LABEL = "drift";
