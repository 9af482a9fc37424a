import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as iam from "@pulumi/gcp/iam";
import * as serviceaccount from "@pulumi/gcp/serviceaccount";

/** The pipeline's identities: which tokens CI's identities trust, and which roles they hold. */

const LITERAL = String.raw`(?:"[^"]+"|'[^']+')`;

/**
 * True when a CEL condition compares a claim (a pattern) with a non-empty literal: `claim == "x"`, `"x" == claim`
 * or `claim in ["x", …]`. An inequality, an empty literal or a longer claim name does not count.
 */
function comparesClaim(condition: string, claim: string): boolean {
  const whole = String.raw`${claim}(?![\w])`;
  return new RegExp(String.raw`${whole}\s*(?:==\s*${LITERAL}|in\s*\[\s*${LITERAL})|${LITERAL}\s*==\s*${whole}`).test(
    condition,
  );
}

/** True when a CEL condition compares the repository claim (name or id) with a non-empty literal. */
export function namesRepository(condition: string): boolean {
  return comparesClaim(condition, String.raw`(?:assertion|attribute)\.repository(?:_id)?`);
}

/** True when a CEL condition compares `job_workflow_ref` with a non-empty literal (or a list of them). */
export function pinsWorkflow(condition: string): boolean {
  return comparesClaim(condition, String.raw`assertion\.job_workflow_ref`);
}

/** Refuses a workload identity provider whose attributeCondition fails `holds`, with `refusal`'s message. */
function providerCondition(
  holds: (condition: string) => boolean,
  refusal: (name: string, condition?: string) => string,
) {
  return validateResourceOfType(iam.WorkloadIdentityPoolProvider, (provider, args, reportViolation) => {
    if (!holds(provider.attributeCondition ?? "")) reportViolation(refusal(args.name, provider.attributeCondition));
  });
}

export const workloadIdentityScoped: ResourceValidationPolicy = {
  name: "workload-identity-names-repository",
  description: "Workload identity providers only trust tokens from a named repository.",
  // Mandatory: without it, any GitHub repository's workflow could impersonate the deployers.
  enforcementLevel: "mandatory",
  validateResource: providerCondition(
    namesRepository,
    (name, condition) =>
      `${name} has attributeCondition ${JSON.stringify(condition ?? null)}: compare ` +
      `assertion.repository with the repository, e.g. assertion.repository == "mozilla/blurts-server"`,
  ),
};

export const noServiceAccountKeys: ResourceValidationPolicy = {
  name: "no-service-account-keys",
  description: "No long-lived service account keys; CI uses workload identity federation.",
  // Mandatory: a key is a credential that never expires and works from anywhere once it leaks.
  enforcementLevel: "mandatory",
  validateResource: validateResourceOfType(serviceaccount.Key, (_key, args, reportViolation) => {
    reportViolation(`${args.name} creates a service account key: use workload identity federation instead`);
  }),
};

const BASIC_ROLES = ["roles/owner", "roles/editor"];

export const noBasicRoles: ResourceValidationPolicy = {
  name: "no-basic-roles",
  description: "No IAM grant gives roles/owner or roles/editor; every identity gets predefined roles for what it does.",
  // Mandatory: a deployer with editor or owner can change anything in its project, including who may deploy prod.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const role: unknown = args.props.role;
    if (typeof role !== "string" || !/IAM(Member|Binding)|Iam(Member|Binding)/.test(args.type)) {
      return args.notApplicable("not an IAM grant");
    }
    if (BASIC_ROLES.includes(role)) {
      reportViolation(`${args.name} grants ${role}: grant the predefined roles the identity needs instead`);
    }
  },
};

export const workloadIdentityPinsWorkflow: ResourceValidationPolicy = {
  name: "workload-identity-pins-workflow",
  description: "Workload identity providers only trust jobs running named workflows (the job_workflow_ref claim).",
  // Mandatory: without it, editing a workflow in the trusted repository is enough to mint deploy credentials.
  enforcementLevel: "mandatory",
  validateResource: providerCondition(
    pinsWorkflow,
    (name) =>
      `${name} does not pin the workflow: compare assertion.job_workflow_ref with the reusable workflows at a ` +
      "commit, e.g. assertion.job_workflow_ref in ['<owner>/<repo>/.github/workflows/deploy.yml@<sha>']",
  ),
};
