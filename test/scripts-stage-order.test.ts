import { describe, expect, it } from "vitest";
import { main } from "../scripts/stage-order";
import { captureConsole, fakeFetch, tempFile, type Call } from "./scripts-fakes";

const COMMIT = "3f9c2ab0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6";

/** The app repository's compare API, answering `status` for base...head. */
function compareApi(status: string) {
  return fakeFetch((call: Call) => {
    if (call.url.pathname === `/repos/mozilla/blurts-server/compare/aaaaaaa...${COMMIT}`) return { body: { status } };
    return undefined;
  });
}

async function decide(status: string, deployed = "aaaaaaa") {
  const out = tempFile("output");
  const { fetch, calls } = compareApi(status);
  const env = {
    COMMIT_SHA: COMMIT,
    DEPLOYED: deployed,
    GITHUB_TOKEN: "gh-token",
    GITHUB_REPOSITORY: "mozilla/blurts-server",
    GITHUB_OUTPUT: out.path,
  };
  const { result, out: log } = await captureConsole(() => main(env, fetch));
  return { result, output: out.read(), log, calls };
}

describe("stage deploys in merge order (scripts/stage-order.ts, issue 14, item 9)", () => {
  it("skips a deploy whose commit stage already runs a descendant of: a newer merge deployed first", async () => {
    const { result, output, log } = await decide("behind");
    expect(result).toBe(0);
    expect(output).toBe("deploy=false\n");
    expect(log).toContain("stage already runs aaaaaaa, which contains 3f9c2ab");
  });

  it("deploys a newer commit, a re-run of the same one, and over a release-branch fix", async () => {
    for (const status of ["ahead", "identical", "diverged"])
      expect((await decide(status)).output).toBe("deploy=true\n");
  });

  it("deploys without asking when stage runs nothing yet", async () => {
    const { output, calls } = await decide("ahead", "");
    expect(output).toBe("deploy=true\n");
    expect(calls).toEqual([]);
  });

  it("fails the step when GitHub cannot compare (no silent skip, no silent rollback)", async () => {
    await expect(decide("ahead", "bbbbbbb")).rejects.toThrow();
  });
});
