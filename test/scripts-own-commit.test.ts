import { describe, expect, it } from "vitest";
import { UsageError, exitCodeFor } from "../scripts/lib/cli";
import { DEFAULT_AUDIENCE, decodeClaims, main, ownCommitFromClaims, requestToken } from "../scripts/own-commit";
import { fakeFetch, tempFile } from "./scripts-fakes";

const SHA = "8e5e406f4007fca908480587cb9893c07090f58d";
const jwt = (claims: object) =>
  [{ alg: "RS256", typ: "JWT" }, claims].map((p) => Buffer.from(JSON.stringify(p)).toString("base64url")).join(".") +
  ".c2lnbmF0dXJl";

const CLAIMS = {
  repository: "mozilla/blurts-server", // the caller's repository
  workflow_ref: "mozilla/blurts-server/.github/workflows/preview.yml@refs/pull/12/merge",
  job_workflow_ref: "mozilla/monitor-delivery/.github/workflows/preview-up.yml@refs/heads/main",
  job_workflow_sha: SHA,
};

describe("own commit from the OIDC claims", () => {
  it("takes the reusable workflow's repository and commit, not the caller's", () => {
    expect(ownCommitFromClaims(decodeClaims(jwt(CLAIMS)))).toEqual({
      repository: "mozilla/monitor-delivery",
      sha: SHA,
      ref: "refs/heads/main",
    });
  });

  it("keeps a ref that is itself a SHA or a tag", () => {
    const own = ownCommitFromClaims({
      ...CLAIMS,
      job_workflow_ref: `mozilla/monitor-delivery/.github/workflows/deploy.yaml@${SHA}`,
    });
    expect(own).toMatchObject({ repository: "mozilla/monitor-delivery", ref: SHA });
  });

  it("refuses a token without the claims or with malformed ones", () => {
    expect(() => ownCommitFromClaims({ repository: "x/y" })).toThrow("no job_workflow_ref/job_workflow_sha claims");
    expect(() =>
      ownCommitFromClaims({ ...CLAIMS, job_workflow_ref: "mozilla/monitor-delivery@refs/heads/main" }),
    ).toThrow("is not owner/repo/.github/workflows/<file>@<ref>");
    expect(() => ownCommitFromClaims({ ...CLAIMS, job_workflow_sha: "abc" })).toThrow(
      'job_workflow_sha claim "abc" is not a 40-hex',
    );
    expect(() => decodeClaims("not-a-jwt")).toThrow("not a JWT");
    expect(() => decodeClaims("a.bm90IGpzb24.c")).toThrow("payload is not a JSON object");
  });
});

describe("requesting the token", () => {
  it("refuses without the runner's request variables, saying the job needs id-token: write and forks get none", async () => {
    const err = await requestToken({}).catch((e) => e);
    // Called wrongly: exit 2, as the README's table of script exit codes says for a missing variable.
    expect(err).toBeInstanceOf(UsageError);
    expect(exitCodeFor(err)).toBe(2);
    expect(err.message).toContain("permissions: id-token: write");
    expect(err.message).toContain("forks");
  });

  it("asks the runner's URL for the audience with the bearer token, and writes sha and repository outputs", async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: { value: jwt(CLAIMS) } }));
    const out = tempFile("output");
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/abc?api-version=2.0",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "request-token",
      GITHUB_OUTPUT: out.path,
    };
    await main(env, fetch);
    expect(calls[0].url.searchParams.get("audience")).toBe(DEFAULT_AUDIENCE);
    expect(calls[0].url.searchParams.get("api-version")).toBe("2.0");
    expect(calls[0].headers.authorization).toBe("Bearer request-token");
    expect(out.read()).toBe(`sha=${SHA}\nrepository=mozilla/monitor-delivery\nref=refs/heads/main\n`);
  });

  it("refuses when the token service says no", async () => {
    const { fetch } = fakeFetch(() => ({ status: 403, body: {} }));
    const env = {
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example/abc",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t",
    };
    await expect(requestToken(env, fetch)).rejects.toThrow("answered 403 to the OIDC token request");
  });
});
