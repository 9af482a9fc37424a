import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { type Retention, retains, deletionPolicyFor } from "./options";

/**
 * GitHub Actions' OIDC tokens, as Google's workload identity federation sees them: one pool and one GitHub provider
 * per GCP project (never per preview: a deleted pool's id stays reserved for 30 days). The provider admits only
 * tokens from the named repositories running the named workflows; which identity a token may impersonate is decided
 * by the principalSets the deployers bind, on the attributes mapped here.
 */

export const GITHUB_ISSUER = "https://token.actions.githubusercontent.com";

/**
 * A piece of a mapped attribute: a claim (`?` when a job may lack it), a literal separator, or the job's
 * environment as a principalSet names it: each PR's own `preview-<N>` environment reads as `preview`, so that one
 * principalSet admits every preview's deploy while each PR keeps a deployment of its own.
 */
type Part = { claim: string; optional?: boolean } | { literal: string } | { environmentKind: true };

/** What `environment` maps to when the job names no GitHub environment (the claim is then absent). */
export const NO_ENVIRONMENT = "none";
/** Environments named `<prefix><anything>` map to `<prefix>` without its dash: `preview-123` → `preview`. */
export const ENVIRONMENT_KIND_PREFIX = "preview-";
const ENVIRONMENT_KIND = ENVIRONMENT_KIND_PREFIX.replace(/-$/, "");

/**
 * The attributes the provider maps (keys `[a-z0-9_]`), from the token's claims. principalSets name one attribute
 * each, so the two composites carry the claims a binding must see together.
 */
export const GITHUB_ATTRIBUTES: Readonly<Record<string, readonly Part[]>> = {
  repository_id: [{ claim: "repository_id" }],
  repository_owner_id: [{ claim: "repository_owner_id" }],
  ref: [{ claim: "ref" }],
  job_workflow_ref: [{ claim: "job_workflow_ref" }],
  environment: [{ claim: "environment", optional: true }],
  /** `<repository id>|<environment kind>`: previews (any PR, `preview-<N>` → `preview`) and the review identities. */
  repository_environment: [{ claim: "repository_id" }, { literal: "|" }, { environmentKind: true }],
  /** `<repository id>|<environment kind>|<ref>`: what only `refs/heads/main` may reach (stage, prod, platform, drift). */
  repository_environment_ref: [
    { claim: "repository_id" },
    { literal: "|" },
    { environmentKind: true },
    { literal: "|" },
    { claim: "ref" },
  ],
};

/**
 * google.subject is bounded by construction (Google refuses more than 127 bytes): ids and run numbers only, yet it
 * names the exact run in Cloud Audit Logs.
 */
const SUBJECT: readonly Part[] = [
  { claim: "repository_id" },
  { literal: ":" },
  { claim: "run_id" },
  { literal: ":" },
  { claim: "run_attempt" },
];

function celOf(parts: readonly Part[]): string {
  return parts
    .map((p) =>
      "literal" in p
        ? `'${p.literal}'`
        : "environmentKind" in p
          ? `(has(assertion.environment) ? (assertion.environment.startsWith('${ENVIRONMENT_KIND_PREFIX}') ? ` +
            `'${ENVIRONMENT_KIND}' : assertion.environment) : '${NO_ENVIRONMENT}')`
          : p.optional
            ? `(has(assertion.${p.claim}) ? assertion.${p.claim} : '${NO_ENVIRONMENT}')`
            : `assertion.${p.claim}`,
    )
    .join(" + ");
}

/** The provider's attributeMapping: CEL over `assertion` (the token's claims). */
export function githubAttributeMapping(): Record<string, string> {
  return {
    "google.subject": celOf(SUBJECT),
    ...Object.fromEntries(
      Object.entries(GITHUB_ATTRIBUTES).map(([name, parts]) => [`attribute.${name}`, celOf(parts)]),
    ),
  };
}

/** The value `attribute` takes for a token with these claims: what the mapping's CEL computes. */
export function attributeValue(attribute: string, claims: Readonly<Record<string, string>>): string {
  const parts = GITHUB_ATTRIBUTES[attribute];
  if (!parts) throw new Error(`no attribute ${attribute} is mapped`);
  const kindOf = (environment: string | undefined) =>
    environment === undefined
      ? NO_ENVIRONMENT
      : environment.startsWith(ENVIRONMENT_KIND_PREFIX)
        ? ENVIRONMENT_KIND
        : environment;
  return parts
    .map((p) =>
      "literal" in p
        ? p.literal
        : "environmentKind" in p
          ? kindOf(claims.environment)
          : (claims[p.claim] ?? (p.optional ? NO_ENVIRONMENT : "")),
    )
    .join("");
}

export interface TrustedWorkflows {
  /** Repositories (numeric ids, as text) whose tokens are admitted, and their owners'. */
  readonly repositoryIds: readonly string[];
  readonly ownerIds: readonly string[];
  /**
   * Exact `job_workflow_ref` values admitted from any of those repositories: the infra repository's reusable
   * workflows at the commit the pipeline was applied from (`<owner>/<repo>/.github/workflows/<file>@<sha>`).
   */
  readonly pinnedWorkflowRefs: readonly string[];
  /** The infra repository's own workflows, admitted when they run on its main branch. */
  readonly infra: { readonly repositoryId: string; readonly fullName: string };
  /** Infra-repository environments whose jobs are admitted from pull requests too (the read-only review). */
  readonly pullRequestEnvironments: readonly string[];
  /** The GitHub environments this pool's identities are bound to; a token from any other job is refused. */
  readonly environments: readonly string[];
  /** Environments admitted by name prefix too (each PR's `preview-<N>`). @default none */
  readonly environmentPrefixes?: readonly string[];
}

const list = (values: readonly string[]) => `[${values.map((v) => `'${v}'`).join(", ")}]`;

/**
 * The provider's attributeCondition. Every clause compares a claim with a literal from config; none trusts `sub`,
 * whose format GitHub changes for new and renamed repositories.
 */
export function githubAttributeCondition(t: TrustedWorkflows): string {
  const infraWorkflows = `assertion.job_workflow_ref.startsWith('${t.infra.fullName}/.github/workflows/')`;
  const fromInfra = `assertion.repository_id == '${t.infra.repositoryId}' && ${infraWorkflows}`;
  const workflow = [
    `assertion.job_workflow_ref in ${list(t.pinnedWorkflowRefs)}`,
    `(${fromInfra} && assertion.ref == 'refs/heads/main' && assertion.job_workflow_ref.endsWith('@refs/heads/main'))`,
    ...(t.pullRequestEnvironments.length > 0
      ? [
          `(${fromInfra} && assertion.event_name == 'pull_request' && assertion.environment in ${list(t.pullRequestEnvironments)})`,
        ]
      : []),
  ];
  const prefixes = (t.environmentPrefixes ?? []).map((p) => `assertion.environment.startsWith('${p}')`);
  const environment = [`assertion.environment in ${list(t.environments)}`, ...prefixes].join(" || ");
  return [
    `assertion.repository_owner_id in ${list([...new Set(t.ownerIds)])}`,
    `assertion.repository_id in ${list(t.repositoryIds)}`,
    `has(assertion.environment) && (${environment})`,
    `(${workflow.join(" || ")})`,
  ].join(" && ");
}

export interface WorkloadIdentityArgs extends Retention {
  /** The GCP project the pool lives in (pools are global: no region). */
  readonly project: string;
  /** 4-32 characters; the same id may be used in each project. @default "github-actions" */
  readonly poolId?: string;
  /** @default "github" */
  readonly providerId?: string;
  /** Which repositories, workflows and environments the provider admits tokens from. */
  readonly trusted: TrustedWorkflows;
}

export class WorkloadIdentity extends pulumi.ComponentResource {
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>` */
  readonly poolName: pulumi.Output<string>;
  /** `.../providers/<provider>`: what google-github-actions/auth takes as workload_identity_provider. */
  readonly providerName: pulumi.Output<string>;

  constructor(name: string, args: WorkloadIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:WorkloadIdentity", name, {}, opts);
    // A deleted pool's id stays reserved for 30 days, and every principalSet names it: the pool is what is retained.
    const retain = retains(args);
    const pool = new gcp.iam.WorkloadIdentityPool(
      `${name}-pool`,
      {
        project: args.project,
        workloadIdentityPoolId: args.poolId ?? "github-actions",
        displayName: "GitHub Actions",
        description: "Monitor's deploy workflows (managed by the pipeline stack)",
        deletionPolicy: deletionPolicyFor(retain),
      },
      { parent: this, protect: retain },
    );
    const provider = new gcp.iam.WorkloadIdentityPoolProvider(
      `${name}-provider`,
      {
        project: args.project,
        workloadIdentityPoolId: pool.workloadIdentityPoolId,
        workloadIdentityPoolProviderId: args.providerId ?? "github",
        displayName: "GitHub",
        attributeMapping: githubAttributeMapping(),
        attributeCondition: githubAttributeCondition(args.trusted),
        // Audience: the provider's own resource name (the auth action's default), so no other audience is accepted.
        oidc: { issuerUri: GITHUB_ISSUER },
      },
      { parent: this },
    );
    this.poolName = pool.name;
    this.providerName = provider.name;
    this.registerOutputs({ poolName: this.poolName, providerName: this.providerName });
  }

  /** The IAM member for every token whose `attribute` is `value`. */
  principalSet(attribute: keyof typeof GITHUB_ATTRIBUTES, value: string): pulumi.Output<string> {
    if (!(attribute in GITHUB_ATTRIBUTES)) throw new Error(`no attribute ${String(attribute)} is mapped`);
    return pulumi.interpolate`principalSet://iam.googleapis.com/${this.poolName}/attribute.${String(attribute)}/${value}`;
  }
}
