/**
 * Which commit of which repository this job's workflow file comes from, for a reusable workflow to check out its
 * own scripts. In a called workflow `github.sha` and `github.repository` are the caller's; the OIDC token's
 * `job_workflow_ref`/`job_workflow_sha` claims name the reusable workflow itself.
 *
 * The token is decoded, not verified: it only chooses what to check out, and whatever runs from that checkout
 * gets cloud credentials only if the workload identity provider (which verifies the token) accepts the same claims.
 *
 * env: ACTIONS_ID_TOKEN_REQUEST_URL, ACTIONS_ID_TOKEN_REQUEST_TOKEN (set by the runner with `id-token: write`),
 *      AUDIENCE (optional), GITHUB_OUTPUT. Outputs: sha, repository, ref.
 */
import { FULL_SHA, RefusedError, UsageError, run, type Env } from "./lib/cli";
import { writeOutputs } from "./lib/github-files";
import type { Fetch } from "./lib/github";

/** Any audience does: the token never leaves this step. A distinct one keeps it useless to anything else. */
export const DEFAULT_AUDIENCE = "monitor-delivery:own-commit";

export interface OwnCommit {
  /** `owner/repo` of the reusable workflow. */
  readonly repository: string;
  /** Commit of the workflow file, 40 hex. */
  readonly sha: string;
  /** The ref the caller named after `@` (a branch, tag or SHA). */
  readonly ref: string;
}

/** The claims of a JWT, without verifying its signature. */
export function decodeClaims(jwt: string): Record<string, unknown> {
  const parts = jwt.split(".");
  if (parts.length !== 3) throw new RefusedError("The OIDC token is not a JWT (expected three dot-separated parts).");
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8"));
    if (typeof claims !== "object" || claims === null || Array.isArray(claims)) throw new Error("not an object");
    return claims as Record<string, unknown>;
  } catch {
    throw new RefusedError("The OIDC token's payload is not a JSON object.");
  }
}

/** `owner/repo/.github/workflows/file.yml@ref` plus the SHA claim → the repository and commit to check out. */
export function ownCommitFromClaims(claims: Record<string, unknown>): OwnCommit {
  const workflowRef = claims.job_workflow_ref;
  const sha = claims.job_workflow_sha;
  if (typeof workflowRef !== "string" || typeof sha !== "string") {
    throw new RefusedError(
      "The OIDC token has no job_workflow_ref/job_workflow_sha claims; GitHub sets them on every job's token, so the token is not from GitHub Actions.",
    );
  }
  const match = /^([A-Za-z0-9-]+\/[A-Za-z0-9._-]+)\/\.github\/workflows\/[^@]+\.ya?ml@(.+)$/.exec(workflowRef);
  if (!match) {
    throw new RefusedError(
      `The job_workflow_ref claim "${workflowRef}" is not owner/repo/.github/workflows/<file>@<ref>.`,
    );
  }
  if (!FULL_SHA.test(sha)) throw new RefusedError(`The job_workflow_sha claim "${sha}" is not a 40-hex commit SHA.`);
  return { repository: match[1], sha, ref: match[2] };
}

const MISSING_TOKEN =
  "ACTIONS_ID_TOKEN_REQUEST_URL/ACTIONS_ID_TOKEN_REQUEST_TOKEN are not set, so this job cannot get an OIDC token. " +
  "Fix: give the job `permissions: id-token: write` (and the calling job too, for a reusable workflow). " +
  "Pull requests from forks and bots never get a token: such runs must skip the steps that need one.";

/** Asks the runner's token service for this job's OIDC token. */
export async function requestToken(env: Env, fetchImpl: Fetch = fetch): Promise<string> {
  const requestUrl = env.ACTIONS_ID_TOKEN_REQUEST_URL;
  const requestToken = env.ACTIONS_ID_TOKEN_REQUEST_TOKEN;
  // Called wrongly (exit 2): the runner sets both only for a job with `id-token: write`
  // (https://docs.github.com/en/actions/security-for-github-actions/security-hardening-your-deployments/about-security-hardening-with-openid-connect#adding-permissions-settings).
  if (!requestUrl || !requestToken) throw new UsageError(MISSING_TOKEN);
  let url: URL;
  try {
    url = new URL(requestUrl);
  } catch {
    throw new UsageError("ACTIONS_ID_TOKEN_REQUEST_URL is not a URL; it is the runner's to set, do not override it.");
  }
  url.searchParams.set("audience", env.AUDIENCE || DEFAULT_AUDIENCE);
  const response = await fetchImpl(url, {
    headers: { authorization: `Bearer ${requestToken}`, accept: "application/json" },
    signal: AbortSignal.timeout(30_000),
  });
  if (!response.ok) {
    throw new RefusedError(
      `The runner's token service answered ${response.status} to the OIDC token request; re-run the job, and check it has permissions: id-token: write.`,
    );
  }
  const body = (await response.json()) as { value?: unknown };
  if (typeof body.value !== "string")
    throw new RefusedError("The runner's token service answered without a token (no `value`).");
  return body.value;
}

export async function main(env: Env = process.env, fetchImpl: Fetch = fetch): Promise<number> {
  const own = ownCommitFromClaims(decodeClaims(await requestToken(env, fetchImpl)));
  writeOutputs(env, { sha: own.sha, repository: own.repository, ref: own.ref });
  console.log(`This job's workflow is ${own.repository}@${own.sha} (${own.ref}).`);
  return 0;
}

if (require.main === module) run(() => main());
