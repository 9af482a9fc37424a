import * as pulumi from "@pulumi/pulumi";
import * as github from "@pulumi/github";
import { GITHUB_ACTIONS_INTEGRATION_ID } from "../infra/pipeline-contract";

/**
 * What one GitHub repository must be for the deploy workflows to be safe: its environments (who may deploy, from
 * which refs, with which variables), Actions variables and secrets, the default branch's ruleset, an optional tag
 * ruleset, and files committed from this repository (the app's thin workflow callers).
 */

export interface EnvironmentSettings {
  readonly name: string;
  /** Teams (numeric ids) that must approve a deployment. @default none: no approval */
  readonly reviewerTeams?: readonly number[];
  /**
   * Branches (fnmatch patterns) that may deploy to it; with neither branches nor tags, any ref may, e.g. a PR's
   * preview. @default none
   */
  readonly branches?: readonly string[];
  /** Tags (fnmatch patterns) that may deploy to it. @default none */
  readonly tags?: readonly string[];
  /** Actions environment variables (`vars.<NAME>`); never secrets. @default none */
  readonly variables?: Readonly<Record<string, pulumi.Input<string>>>;
}

export interface RepositoryFileSpec {
  /** Path in the repository, `/`-separated. */
  readonly path: string;
  readonly content: string;
}

export interface GithubRepositoryArgs {
  /** The repository's name (the provider's owner is the owner). */
  readonly repository: string;
  /** @default none */
  readonly environments?: readonly EnvironmentSettings[];
  /** Repository-level Actions variables. @default none */
  readonly variables?: Readonly<Record<string, pulumi.Input<string>>>;
  /** Actions secrets; each value is stored as a Pulumi secret. @default none */
  readonly secrets?: Readonly<Record<string, pulumi.Input<string>>>;
  readonly defaultBranch: {
    /** Check (job) names that must pass, reported by GitHub Actions. */
    readonly requiredChecks: readonly string[];
    /** @default false */
    readonly requireCodeOwnerReview?: boolean;
    /** A GitHub App that may push directly (it commits `files`). @default none: nobody bypasses */
    readonly bypassAppId?: number;
  };
  /**
   * Tags (fnmatch, e.g. `20*`) that only one GitHub App may create, move or delete: the release workflow's, through
   * a short-lived installation token. (GitHub refuses the GitHub Actions integration, i.e. GITHUB_TOKEN, as a
   * bypass actor: "Actor GitHub Actions integration must be part of the ruleset source or owner organization",
   * liquibase/liquibase#7985.) @default none: no tag ruleset
   */
  readonly releaseTags?: { readonly pattern: string; readonly bypassAppId: number };
  /**
   * Branches besides the default one (fnmatch, e.g. `release/*`) that only reviewed pull requests may change and
   * nobody may delete or force-push: what a release may be cut from. @default none
   */
  readonly protectedBranches?: readonly string[];
  /**
   * Teams (numeric ids) that alone may create a branch of `protectedBranches`. A pull-request rule does not stop
   * anyone with write access from creating a matching branch at any commit, unreviewed ones included
   * (alphagov/govuk-frontend#7077); a ruleset's `creation` rule does ("Only allow users with bypass permission to
   * create matching refs"). @default none: anyone with write access may create one
   */
  readonly protectedBranchCreators?: readonly number[];
  /** Files committed to the default branch (past its ruleset, as `bypassAppId`). @default none */
  readonly files?: readonly RepositoryFileSpec[];
  /** Issue labels the workflows apply (GitHub silently drops a label that does not exist). @default none */
  readonly issueLabels?: readonly { readonly name: string; readonly color: string; readonly description: string }[];
  /** @default "Update from the pipeline stack" */
  readonly commitMessage?: string;
}

/** `a/b.c-d` → `a-b-c-d`: a file's path as part of a logical name. */
/** A pull request with one approval that a later push dismisses, the push's author not counting as its approver. */
const reviewedPullRequest = (requireCodeOwnerReview: boolean) => ({
  requiredApprovingReviewCount: 1,
  dismissStaleReviewsOnPush: true,
  requireCodeOwnerReview,
  requireLastPushApproval: true,
});

const slug = (text: string) => text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");

export class GithubRepository extends pulumi.ComponentResource {
  /** Path → the commit that last wrote it. */
  readonly files: Record<string, pulumi.Output<string>>;

  constructor(name: string, args: GithubRepositoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:GithubRepository", name, {}, opts);
    const repository = args.repository;
    const child = { parent: this };

    for (const env of args.environments ?? []) {
      const restricted = (env.branches?.length ?? 0) + (env.tags?.length ?? 0) > 0;
      const environment = new github.RepositoryEnvironment(
        `${name}-env-${env.name}`,
        {
          repository,
          environment: env.name,
          reviewers: env.reviewerTeams?.length ? [{ teams: [...env.reviewerTeams] }] : undefined,
          // With reviewers, nobody skips them: not admins, not the person who started the deploy.
          canAdminsBypass: env.reviewerTeams?.length ? false : undefined,
          preventSelfReview: env.reviewerTeams?.length ? true : undefined,
          // Omitted: any ref may deploy (GitHub's REST schema: exactly one of the two may be true).
          deploymentBranchPolicy: restricted ? { protectedBranches: false, customBranchPolicies: true } : undefined,
        },
        child,
      );
      const policy = (kind: "branch" | "tag", pattern: string) =>
        new github.RepositoryEnvironmentDeploymentPolicy(
          `${name}-env-${env.name}-${kind}-${slug(pattern) || "all"}`,
          {
            repository,
            environment: environment.environment,
            ...(kind === "branch" ? { branchPattern: pattern } : { tagPattern: pattern }),
          },
          child,
        );
      for (const pattern of env.branches ?? []) policy("branch", pattern);
      for (const pattern of env.tags ?? []) policy("tag", pattern);
      for (const [variableName, value] of Object.entries(env.variables ?? {})) {
        new github.ActionsEnvironmentVariable(
          `${name}-env-${env.name}-${slug(variableName)}`,
          { repository, environment: environment.environment, variableName, value },
          child,
        );
      }
    }

    for (const [variableName, value] of Object.entries(args.variables ?? {})) {
      new github.ActionsVariable(`${name}-var-${slug(variableName)}`, { repository, variableName, value }, child);
    }
    for (const label of args.issueLabels ?? []) {
      new github.IssueLabel(`${name}-label-${slug(label.name)}`, { repository, ...label }, child);
    }
    for (const [secretName, value] of Object.entries(args.secrets ?? {})) {
      new github.ActionsSecret(
        `${name}-secret-${slug(secretName)}`,
        { repository, secretName, value: pulumi.secret(value) },
        child,
      );
    }

    const ruleset = new github.RepositoryRuleset(
      `${name}-default-branch`,
      {
        repository,
        name: "default branch",
        target: "branch",
        enforcement: "active",
        conditions: { refName: { includes: ["~DEFAULT_BRANCH"], excludes: [] } },
        bypassActors:
          args.defaultBranch.bypassAppId === undefined
            ? []
            : [{ actorId: args.defaultBranch.bypassAppId, actorType: "Integration", bypassMode: "always" }],
        rules: {
          deletion: true,
          nonFastForward: true,
          pullRequest: reviewedPullRequest(args.defaultBranch.requireCodeOwnerReview ?? false),
          requiredStatusChecks: {
            requiredChecks: args.defaultBranch.requiredChecks.map((context) => ({
              context,
              integrationId: GITHUB_ACTIONS_INTEGRATION_ID,
            })),
            strictRequiredStatusChecksPolicy: false,
          },
        },
      },
      child,
    );

    if (args.releaseTags) {
      new github.RepositoryRuleset(
        `${name}-release-tags`,
        {
          repository,
          name: "release tags",
          target: "tag",
          enforcement: "active",
          conditions: { refName: { includes: [`refs/tags/${args.releaseTags.pattern}`], excludes: [] } },
          bypassActors: [{ actorId: args.releaseTags.bypassAppId, actorType: "Integration", bypassMode: "always" }],
          rules: { creation: true, update: true, deletion: true, nonFastForward: true },
        },
        child,
      );
    }

    if (args.protectedBranches?.length) {
      new github.RepositoryRuleset(
        `${name}-protected-branches`,
        {
          repository,
          name: "release branches",
          target: "branch",
          enforcement: "active",
          conditions: {
            refName: { includes: args.protectedBranches.map((b) => `refs/heads/${b}`), excludes: [] },
          },
          bypassActors: [],
          rules: {
            deletion: true,
            nonFastForward: true,
            pullRequest: reviewedPullRequest(false),
          },
        },
        child,
      );
    }

    if (args.protectedBranches?.length && args.protectedBranchCreators?.length) {
      // A ruleset of its own: bypass is per ruleset, and these teams may create branches, not skip their reviews.
      new github.RepositoryRuleset(
        `${name}-protected-branch-creation`,
        {
          repository,
          name: "release branch creation",
          target: "branch",
          enforcement: "active",
          conditions: {
            refName: { includes: args.protectedBranches.map((b) => `refs/heads/${b}`), excludes: [] },
          },
          bypassActors: args.protectedBranchCreators.map((actorId) => ({
            actorId,
            actorType: "Team",
            bypassMode: "always",
          })),
          rules: { creation: true },
        },
        child,
      );
    }

    this.files = {};
    for (const file of args.files ?? []) {
      const written = new github.RepositoryFile(
        `${name}-file-${slug(file.path)}`,
        {
          repository,
          file: file.path,
          content: file.content,
          commitMessage: args.commitMessage ?? "Update from the pipeline stack",
          // The file may already exist (a hand-written workflow being taken over): replace it.
          overwriteOnCreate: true,
        },
        // A direct commit needs the ruleset's bypass in place first.
        { ...child, dependsOn: [ruleset] },
      );
      this.files[file.path] = written.commitSha;
    }
    this.registerOutputs({ files: this.files });
  }
}

/**
 * Replaces the placeholders a caller in `workflows/app/` carries with this repository and the commit the pipeline
 * stack is applied from: `uses: <repository>/.github/workflows/<file>@<commit>`.
 */
export function pinWorkflowFiles(
  files: readonly RepositoryFileSpec[],
  placeholders: { repository: string; commit: string },
  pinned: { repository: string; commit: string },
): RepositoryFileSpec[] {
  return files.map((f) => ({
    path: f.path,
    content: f.content
      .split(placeholders.repository)
      .join(pinned.repository)
      .split(placeholders.commit)
      .join(pinned.commit),
  }));
}

/**
 * The provider for one owner, authenticated as the GitHub App in GITHUB_APP_ID / GITHUB_APP_INSTALLATION_ID /
 * GITHUB_APP_PEM_FILE (the PEM's content) when they are set, else as GITHUB_TOKEN. Credentials are not config: they
 * belong to whoever applies the stack, and the PEM is kept as a secret.
 */
export function githubProvider(owner: string, env: NodeJS.ProcessEnv = process.env): github.Provider {
  const { GITHUB_APP_ID: id, GITHUB_APP_INSTALLATION_ID: installationId, GITHUB_APP_PEM_FILE: pem } = env;
  return new github.Provider(`github-${owner}`, {
    owner,
    appAuth: id && installationId && pem ? { id, installationId, pemFile: pulumi.secret(pem) } : undefined,
  });
}
