/**
 * The GitHub side the pipeline stack declares: each repository's environments (deployment branch and tag policies,
 * required reviewers), and the Actions variables a job reads as `vars.<NAME>`. Sources (github/docs):
 * - `content/actions/reference/workflows-and-actions/deployments-and-environments.md`: a job that references an
 *   environment must follow its protection rules before it runs; "Deployment branches and tags" (no restriction,
 *   protected branches only, or selected branches and tags by name pattern, where "wildcard characters will not match
 *   `/`"); an environment a workflow references that does not exist is created, unprotected, on first use;
 * - `content/actions/reference/workflows-and-actions/variables.md`: an environment's variables take precedence over
 *   the repository's, and a called workflow reads its caller's (`vars` context of the run's repository).
 * For a pull request the branch checked is the head branch (observed, github-actions-notes.md §5).
 */
import type { Evaluation } from "../../infra/engine/evaluate";
import { type RunContext, runRef } from "./github-claims";

export interface Environment {
  readonly repository: string;
  readonly name: string;
  /** Absent: no restriction. */
  readonly policy?: { readonly protectedBranches: boolean; readonly branches: string[]; readonly tags: string[] };
  readonly reviewers: number;
  readonly variables: Readonly<Record<string, string>>;
}

export interface GithubSettings {
  readonly environments: readonly Environment[];
  /** Repository-level Actions variables, by repository name. */
  readonly repositoryVariables: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** Reads the environments, their policies and variables the pipeline stack registers. */
export function githubSettings(pipeline: Evaluation): GithubSettings {
  const envs = new Map<
    string,
    {
      repository: string;
      name: string;
      policy?: Environment["policy"];
      reviewers: number;
      variables: Record<string, string>;
    }
  >();
  const key = (repository: string, name: string) => `${repository}/${name}`;
  const repositoryVariables: Record<string, Record<string, string>> = {};
  const inputsOf = (type: string) => pipeline.registrations.filter((r) => r.type === type).map((r) => r.inputs);
  for (const i of inputsOf("github:index/repositoryEnvironment:RepositoryEnvironment")) {
    const dbp = i.deploymentBranchPolicy as { protectedBranches: boolean; customBranchPolicies: boolean } | undefined;
    const reviewers = (i.reviewers as { users?: number[]; teams?: number[] }[] | undefined) ?? [];
    envs.set(key(String(i.repository), String(i.environment)), {
      repository: String(i.repository),
      name: String(i.environment),
      policy: dbp && { protectedBranches: dbp.protectedBranches, branches: [], tags: [] },
      reviewers: reviewers.reduce((n, r) => n + (r.users?.length ?? 0) + (r.teams?.length ?? 0), 0),
      variables: {},
    });
  }
  for (const i of inputsOf(
    "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy",
  )) {
    const env = envs.get(key(String(i.repository), String(i.environment)));
    if (!env?.policy)
      throw new Error(`a deployment policy for ${String(i.environment)} without custom branch policies`);
    if (typeof i.branchPattern === "string") env.policy.branches.push(i.branchPattern);
    if (typeof i.tagPattern === "string") env.policy.tags.push(i.tagPattern);
  }
  for (const i of inputsOf("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable")) {
    const env = envs.get(key(String(i.repository), String(i.environment)));
    if (!env)
      throw new Error(`variable ${String(i.variableName)} of an undeclared environment ${String(i.environment)}`);
    env.variables[String(i.variableName)] = String(i.value);
  }
  for (const i of inputsOf("github:index/actionsVariable:ActionsVariable")) {
    (repositoryVariables[String(i.repository)] ??= {})[String(i.variableName)] = String(i.value);
  }
  return { environments: [...envs.values()], repositoryVariables };
}

/** `owner/name` → the `name` the GitHub provider takes. */
const shortName = (fullName: string) => fullName.split("/").pop() ?? fullName;

export function environmentOf(settings: GithubSettings, repository: string, name: string): Environment | undefined {
  return settings.environments.find((e) => e.repository === shortName(repository) && e.name === name);
}

/** `vars` as a job sees them: its environment's over the repository's. */
export function variablesFor(
  settings: GithubSettings,
  repository: string,
  environment?: string,
): Record<string, string> {
  return {
    ...(settings.repositoryVariables[shortName(repository)] ?? {}),
    ...(environment ? (environmentOf(settings, repository, environment)?.variables ?? {}) : {}),
  };
}

/** fnmatch as GitHub applies it to branch and tag names: `*` and `?` never match `/`. */
export function patternMatches(pattern: string, name: string): boolean {
  if (/[[\]{}]/.test(pattern)) throw new Error(`the model does not implement the pattern ${pattern}`);
  const re = pattern
    .replace(/[.+^$()|\\]/g, "\\$&")
    .replace(/\*/g, "[^/]*")
    .replace(/\?/g, "[^/]");
  return new RegExp(`^${re}$`).test(name);
}

export type Deployment =
  | { readonly allowed: true; readonly reviewers: number; readonly created: boolean }
  | { readonly allowed: false; readonly why: string };

/** Whether GitHub lets a job of `run` use `environment`, and whether it waits for reviewers first. */
export function deployment(settings: GithubSettings, run: RunContext, environment: string): Deployment {
  const env = environmentOf(settings, run.repository.fullName, environment);
  // Created on first use, without protection.
  if (!env) return { allowed: true, reviewers: 0, created: true };
  if (!env.policy) return { allowed: true, reviewers: env.reviewers, created: false };
  const ref = run.trigger.event === "pull_request" ? `refs/heads/${run.trigger.headRef}` : runRef(run);
  const branch = ref.startsWith("refs/heads/") ? ref.slice(11) : undefined;
  const tag = ref.startsWith("refs/tags/") ? ref.slice(10) : undefined;
  const ok =
    (branch !== undefined && env.policy.branches.some((p) => patternMatches(p, branch))) ||
    (tag !== undefined && env.policy.tags.some((p) => patternMatches(p, tag)));
  if (ok) return { allowed: true, reviewers: env.reviewers, created: false };
  return {
    allowed: false,
    why: `${branch ? `branch "${branch}"` : `tag "${tag}"`} may not deploy to ${environment} (policy: ${[...env.policy.branches, ...env.policy.tags.map((t) => `tag ${t}`)].join(", ")})`,
  };
}
