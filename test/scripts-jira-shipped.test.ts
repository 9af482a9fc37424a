import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { JIRA_SECRETS } from "../infra/pipeline-contract";
import { RefusedError, UsageError } from "../scripts/lib/cli";
import { main } from "../scripts/jira-shipped";
import { main as qaLedger } from "../scripts/qa-ledger";
import { TAG, recordedPullsFile } from "./release-api-fakes";
import { captureConsole, fakeFetch, tempFile, type Call } from "./scripts-fakes";

const TOKEN = "ATATT3xFfGF0-secret-token";
const EMAIL = "monitor-release@mozilla.com";
const RELEASE_URL = `https://github.com/mozilla/blurts-server/releases/tag/${TAG}`;

/** The release body as the deploy reads it: the ledger rendered from the recorded API answers, all checked. */
async function releaseBody(): Promise<string> {
  const body = tempFile("body.md");
  await qaLedger(["render"], {
    env: { PULLS_FILE: await recordedPullsFile(), BODY_FILE: body.path },
    log: () => undefined,
    warn: () => undefined,
  });
  return body.read().replace(/- \[ \]/g, "- [x]");
}

/** Jira Cloud's add-comment answers: 201 with the comment, or its error body. */
function jiraApi(refuse: Record<string, number> = {}) {
  return fakeFetch((call: Call) => {
    const m = /^\/rest\/api\/2\/issue\/([A-Z]+-[0-9]+)\/comment$/.exec(call.url.pathname);
    if (call.method !== "POST" || !m) return undefined;
    if (refuse[m[1]])
      return {
        status: refuse[m[1]],
        body: { errorMessages: ["Issue does not exist or you do not have permission to see it."], errors: {} },
      };
    return { status: 201, body: { id: "10001", body: (call.body as { body: string }).body } };
  });
}

async function ship(env: Record<string, string>, api = jiraApi()) {
  const body = tempFile("release-body.md");
  writeFileSync(body.path, await releaseBody());
  const output = tempFile("output");
  const summary = tempFile("summary");
  writeFileSync(output.path, "");
  writeFileSync(summary.path, "");
  const run = await captureConsole(() =>
    main(
      {
        BODY_FILE: body.path,
        TAG,
        RELEASE_URL,
        GITHUB_OUTPUT: output.path,
        GITHUB_STEP_SUMMARY: summary.path,
        ...env,
      },
      api.fetch,
    ).catch((e: unknown) => e),
  );
  return { ...run, output: output.read(), summary: summary.read(), calls: api.calls };
}

const SHIPPED = ["MNTOR-4448", "MNTOR-4449", "MNTOR-5299", "MNTOR-5317"];

describe("the Jira tickets a prod deploy shipped", () => {
  it("without a token: lists them in the output and the summary, says no comment was made, and succeeds", async () => {
    const { result, out, output, summary, calls } = await ship({});
    expect(result).toBe(0);
    expect(output).toBe(`tickets=${SHIPPED.join(" ")}\n`);
    expect(summary).toContain(`### Jira tickets shipped in ${TAG}`);
    expect(summary).toContain("- [MNTOR-5317](https://mozilla-hub.atlassian.net/browse/MNTOR-5317)\n");
    expect(out).toContain(
      `No Jira token configured (secrets ${JIRA_SECRETS.user} and ${JIRA_SECRETS.token} are empty)`,
    );
    expect(calls).toEqual([]);
  });

  it("with a token: comments on each ticket with the release, by basic auth, and never prints the token", async () => {
    const { result, out, summary, calls } = await ship({ JIRA_USER_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN });
    expect(result).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.url.href}`)).toEqual(
      SHIPPED.map((key) => `POST https://mozilla-hub.atlassian.net/rest/api/2/issue/${key}/comment`),
    );
    expect(calls[0].body).toEqual({ body: `Released to production in Monitor ${TAG}: ${RELEASE_URL}` });
    expect(calls[0].headers.authorization).toBe(`Basic ${Buffer.from(`${EMAIL}:${TOKEN}`).toString("base64")}`);
    expect(summary).toContain("- [MNTOR-4448](https://mozilla-hub.atlassian.net/browse/MNTOR-4448): commented on\n");
    expect(out).toContain("Commented on 4 ticket(s) with the release.");
    expect(out + summary).not.toContain(TOKEN);
  });

  it("comments on every ticket it can, then fails the step naming those it could not", async () => {
    const { result, summary, calls } = await ship(
      { JIRA_USER_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN, JIRA_API_URL: "https://jira.example.com/" },
      jiraApi({ "MNTOR-4449": 404 }),
    );
    expect(calls).toHaveLength(4);
    expect(calls[0].url.origin).toBe("https://jira.example.com");
    expect(result).toBeInstanceOf(RefusedError);
    expect((result as Error).message).toContain(
      "Could not comment on MNTOR-4449 (not commented on: Jira answered 404: Issue does not exist or you do not have permission to see it. (the account may not see or comment on it))",
    );
    expect(summary).toContain("- [MNTOR-5317](https://mozilla-hub.atlassian.net/browse/MNTOR-5317): commented on");
    expect((result as Error).message).not.toContain(TOKEN);
  });

  it("names the secrets on a 401, and says it could not reach Jira on a network error", async () => {
    const unauthorized = await ship({ JIRA_USER_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN }, jiraApi({ "MNTOR-4448": 401 }));
    expect((unauthorized.result as Error).message).toContain(
      `Jira answered 401: Issue does not exist or you do not have permission to see it. (check the ${JIRA_SECRETS.user} and ${JIRA_SECRETS.token} secrets)`,
    );
    const down = await ship(
      { JIRA_USER_EMAIL: EMAIL, JIRA_API_TOKEN: TOKEN },
      {
        calls: [],
        fetch: () => Promise.reject(Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } })),
      },
    );
    expect((down.result as Error).message).toContain("could not reach Jira (ECONNREFUSED)");
  });

  it("is called wrongly with half the credentials, before it writes or sends anything", async () => {
    for (const [given, missing, set] of [
      [{ JIRA_API_TOKEN: TOKEN }, JIRA_SECRETS.user, JIRA_SECRETS.token],
      [{ JIRA_USER_EMAIL: EMAIL }, JIRA_SECRETS.token, JIRA_SECRETS.user],
    ] as const) {
      const { result, output, summary, calls } = await ship(given);
      expect(result).toBeInstanceOf(UsageError);
      expect((result as Error).message).toBe(
        `${missing} is empty while ${set} is set. Fix: set both secrets (the Atlassian account's email and its API token), or neither.`,
      );
      expect([output, summary, calls]).toEqual(["", "", []]);
    }
  });

  it("lists no ticket for a release whose ledger links none", async () => {
    const body = tempFile("body.md");
    writeFileSync(body.path, "<!-- qa-ledger:start -->\n- [x] #1 docs by @a · no ticket\n<!-- qa-ledger:end -->\n");
    const output = tempFile("output");
    const summary = tempFile("summary");
    const { result } = await captureConsole(() =>
      main({ BODY_FILE: body.path, TAG, GITHUB_OUTPUT: output.path, GITHUB_STEP_SUMMARY: summary.path }),
    );
    expect(result).toBe(0);
    expect(output.read()).toBe("tickets=\n");
    expect(summary.read()).toContain("The release's QA ledger links no ticket.");
  });
});
