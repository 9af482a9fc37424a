/**
 * Whether this merge's stage deploy should still run. Every merge builds its image (outside any concurrency group),
 * and deploys queue in `pulumi-stage`, where GitHub keeps one running and one pending job and cancels an older
 * pending one when a newer arrives ("any previously pending job or workflow in the concurrency group will be
 * canceled", docs.github.com, "Control the concurrency of workflows and jobs"). Builds finish in any order, so a
 * deploy can reach the group after a newer merge's deploy already ran: it would roll stage back. So the deploy asks
 * GitHub how its commit relates to the one stage runs (stage's `imageTag` output, a short SHA):
 * `GET /repos/{owner}/{repo}/compare/{deployed}...{commit}` answers `status` "ahead", "behind", "identical" or
 * "diverged" (docs.github.com REST, "Compare two commits"). "behind": stage already runs a newer commit that
 * contains this one, and this deploy is skipped; anything else deploys (a re-run is "identical"; "diverged" is stage
 * running a release-branch stage-fix, which the next merge replaces).
 *
 * env: COMMIT_SHA (this run's commit), DEPLOYED (stage's imageTag output; empty before stage's first deploy),
 *      GITHUB_TOKEN (`contents: read`), GITHUB_REPOSITORY. Outputs `deploy` (true | false).
 */
import { FULL_SHA, optionalEnv, requireEnv, run, type Env } from "./lib/cli";
import { gitHubFromEnv, type Fetch, type GitHub } from "./lib/github";
import { writeOutputs } from "./lib/github-files";

export async function shouldDeploy(
  github: GitHub,
  commit: string,
  deployed: string | undefined,
): Promise<{ deploy: boolean; why: string }> {
  if (!deployed) return { deploy: true, why: "stage has no image yet" };
  const { status } = await github.request<{ status: string }>(
    "GET",
    `/repos/{owner}/{repo}/compare/${deployed}...${commit}`,
  );
  if (status === "behind") {
    return {
      deploy: false,
      why: `stage already runs ${deployed}, which contains ${commit.slice(0, 7)}: a newer merge deployed first`,
    };
  }
  return { deploy: true, why: `${commit.slice(0, 7)} is ${status} of what stage runs (${deployed})` };
}

export async function main(env: Env = process.env, fetchImpl?: Fetch): Promise<number> {
  const commit = requireEnv(env, "COMMIT_SHA", { pattern: FULL_SHA, expected: "a full commit SHA" });
  const deployed = optionalEnv(env, "DEPLOYED", {
    pattern: /^[0-9a-f]{7,40}$/,
    expected: "a short commit SHA",
    hint: "pass stage's imageTag output",
  });
  const decision = await shouldDeploy(gitHubFromEnv(env, fetchImpl), commit, deployed);
  writeOutputs(env, { deploy: String(decision.deploy) });
  console.log(`${decision.deploy ? "Deploying" : "Skipping the deploy"}: ${decision.why}.`);
  return 0;
}

if (require.main === module) run(() => main());
