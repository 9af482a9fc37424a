import type { Evaluation, Registration } from "./evaluate";

/**
 * The pipeline stack as a reviewer reads it: who may mint which identity (pool conditions, principalSets), what each
 * identity is granted and under which condition, the GitHub environments with their protection and variables, the
 * rulesets, the files committed to the app repository, and the registry's cleanup policies. Full text, never
 * truncated: a condition is only reviewable whole. Reads redacted inputs only.
 */

export interface PipelineReport {
  identities: { provider: string; project: string; condition: string; mapping: Record<string, string> }[];
  impersonation: { account: string; member: string }[];
  grants: { member: string; role: string; on: string; condition?: string }[];
  environments: {
    repository: string;
    environment: string;
    reviewers: number[];
    branches: string[];
    tags: string[];
    variables: Record<string, string>;
  }[];
  repositoryVariables: { repository: string; name: string; value: string }[];
  secrets: { repository: string; name: string }[];
  rulesets: {
    repository: string;
    name: string;
    target: string;
    includes: string[];
    rules: Record<string, unknown>;
    bypass: unknown[];
  }[];
  files: { repository: string; path: string; commitMessage: string }[];
  registry: { repository: string; cleanupPolicies: CleanupPolicy[] }[];
}

// What the report reads of each resource's inputs, as the provider receives them (@pulumi/gcp, @pulumi/github).
interface CleanupPolicy {
  id: string;
  action: string;
  condition?: { tagState?: string; tagPrefixes?: string[]; olderThan?: string };
}
interface Grant {
  member: string;
  role: string;
  condition?: { expression?: string };
  project?: string;
  bucket?: string;
  cryptoKeyId?: string;
  repository?: string;
}
interface InEnvironment {
  repository: string;
  environment: string;
}
interface Inputs {
  "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": {
    workloadIdentityPoolId: string;
    workloadIdentityPoolProviderId: string;
    project: string;
    attributeCondition: string;
    attributeMapping: Record<string, string>;
  };
  "gcp:serviceaccount/iAMMember:IAMMember": { serviceAccountId: string; member: string };
  "github:index/repositoryEnvironment:RepositoryEnvironment": InEnvironment & { reviewers?: { teams?: number[] }[] };
  "github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy": InEnvironment & {
    branchPattern?: string;
    tagPattern?: string;
  };
  "github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable": InEnvironment & {
    variableName: string;
    value: string;
  };
  "github:index/actionsVariable:ActionsVariable": { repository: string; variableName: string; value: string };
  "github:index/actionsSecret:ActionsSecret": { repository: string; secretName: string };
  "github:index/repositoryRuleset:RepositoryRuleset": {
    repository: string;
    name: string;
    target: string;
    conditions?: { refName?: { includes?: string[] } };
    rules: Record<string, unknown>;
    bypassActors?: unknown[];
  };
  "github:index/repositoryFile:RepositoryFile": { repository: string; file: string; commitMessage: string };
  "gcp:artifactregistry/repository:Repository": {
    location: string;
    project: string;
    repositoryId: string;
    cleanupPolicies?: CleanupPolicy[];
  };
}

const GRANT_TARGETS: Record<string, (i: Grant) => string> = {
  "gcp:projects/iAMMember:IAMMember": (i) => `project ${i.project}`,
  "gcp:storage/bucketIAMMember:BucketIAMMember": (i) => `bucket ${i.bucket}`,
  "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember": (i) => `key ${String(i.cryptoKeyId).split("/").pop()}`,
  "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": (i) => `registry ${i.repository}`,
};

export function pipelineReport(evaluation: Evaluation): PipelineReport {
  const of = (type: string): Registration[] => evaluation.registrations.filter((r) => r.type === type);
  const inputs = <T extends keyof Inputs>(type: T): Inputs[T][] =>
    of(type).map((r) => r.inputs as unknown as Inputs[T]);
  const policies = inputs("github:index/repositoryEnvironmentDeploymentPolicy:RepositoryEnvironmentDeploymentPolicy");
  const envVariables = inputs("github:index/actionsEnvironmentVariable:ActionsEnvironmentVariable");
  return {
    identities: inputs("gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider").map((i) => ({
      provider: `${i.workloadIdentityPoolId}/${i.workloadIdentityPoolProviderId}`,
      project: i.project,
      condition: i.attributeCondition,
      mapping: i.attributeMapping,
    })),
    impersonation: inputs("gcp:serviceaccount/iAMMember:IAMMember").map((i) => ({
      account: String(i.serviceAccountId).split("/").pop()!,
      member: i.member,
    })),
    grants: evaluation.registrations
      .filter((r) => r.type in GRANT_TARGETS)
      .map((r) => {
        const grant = r.inputs as unknown as Grant;
        return {
          member: grant.member,
          role: grant.role,
          on: GRANT_TARGETS[r.type](grant),
          ...(grant.condition?.expression ? { condition: grant.condition.expression } : {}),
        };
      }),
    environments: inputs("github:index/repositoryEnvironment:RepositoryEnvironment").map((e) => {
      const mine = (x: InEnvironment) => x.repository === e.repository && x.environment === e.environment;
      return {
        repository: e.repository,
        environment: e.environment,
        reviewers: (e.reviewers ?? []).flatMap((r) => r.teams ?? []),
        branches: policies.filter((p) => mine(p) && p.branchPattern).map((p) => p.branchPattern!),
        tags: policies.filter((p) => mine(p) && p.tagPattern).map((p) => p.tagPattern!),
        variables: Object.fromEntries(envVariables.filter(mine).map((v) => [v.variableName, v.value])),
      };
    }),
    repositoryVariables: inputs("github:index/actionsVariable:ActionsVariable").map((v) => ({
      repository: v.repository,
      name: v.variableName,
      value: v.value,
    })),
    secrets: inputs("github:index/actionsSecret:ActionsSecret").map((s) => ({
      repository: s.repository,
      name: s.secretName,
    })),
    rulesets: inputs("github:index/repositoryRuleset:RepositoryRuleset").map((r) => ({
      repository: r.repository,
      name: r.name,
      target: r.target,
      includes: r.conditions?.refName?.includes ?? [],
      rules: r.rules,
      bypass: r.bypassActors ?? [],
    })),
    files: inputs("github:index/repositoryFile:RepositoryFile").map((f) => ({
      repository: f.repository,
      path: f.file,
      commitMessage: f.commitMessage,
    })),
    registry: inputs("gcp:artifactregistry/repository:Repository").map((r) => ({
      repository: `${r.location}-docker.pkg.dev/${r.project}/${r.repositoryId}`,
      cleanupPolicies: r.cleanupPolicies ?? [],
    })),
  };
}

export function renderPipelineReport(report: PipelineReport): string {
  const lines = ["Pipeline:", "", "Identities (who may mint a token):"];
  for (const id of report.identities) {
    lines.push(`  ${id.project} ${id.provider}`, `    condition: ${id.condition}`);
    for (const [key, cel] of Object.entries(id.mapping ?? {})) lines.push(`    ${key} = ${cel}`);
  }
  lines.push("  impersonation (roles/iam.workloadIdentityUser):");
  for (const i of report.impersonation) lines.push(`    ${i.account} <- ${i.member}`);

  lines.push("", "Grants:");
  for (const g of report.grants) {
    lines.push(
      `  ${g.member.replace(/^serviceAccount:/, "")}  ${g.role}  on ${g.on}${g.condition ? `\n      if ${g.condition}` : ""}`,
    );
  }

  lines.push("", "Environments:");
  for (const e of report.environments) {
    const gate = [
      e.reviewers.length > 0 ? `reviewers: teams ${e.reviewers.join(", ")}` : "no reviewers",
      e.branches.length + e.tags.length > 0
        ? `deploys from branches [${e.branches.join(", ")}] tags [${e.tags.join(", ")}]`
        : "any ref",
    ];
    lines.push(`  ${e.repository}/${e.environment}: ${gate.join("; ")}`);
    for (const [name, value] of Object.entries(e.variables)) lines.push(`    ${name} = ${value}`);
  }
  for (const v of report.repositoryVariables) lines.push(`  ${v.repository} variable ${v.name} = ${v.value}`);
  for (const s of report.secrets) lines.push(`  ${s.repository} secret ${s.name} = [secret]`);

  lines.push("", "Rulesets:");
  for (const r of report.rulesets) {
    lines.push(`  ${r.repository} "${r.name}" (${r.target} ${r.includes.join(", ")})`);
    lines.push(`    rules: ${JSON.stringify(r.rules)}`);
    lines.push(`    bypass: ${JSON.stringify(r.bypass)}`);
  }

  lines.push("", "Files:");
  if (report.files.length === 0) lines.push("  (none)");
  for (const f of report.files) lines.push(`  ${f.repository}: ${f.path}`);
  if (report.files[0]) lines.push(`  commit message: ${report.files[0].commitMessage}`);

  lines.push("", "Registry:");
  for (const r of report.registry) {
    lines.push(`  ${r.repository}`);
    for (const p of r.cleanupPolicies) {
      const c = p.condition ?? {};
      const what = [
        c.tagState,
        c.tagPrefixes && `tags ${c.tagPrefixes.join(",")}*`,
        c.olderThan && `older than ${c.olderThan}`,
      ];
      lines.push(`    ${p.action} ${p.id}: ${what.filter(Boolean).join(", ")}`);
    }
  }
  return lines.join("\n");
}
