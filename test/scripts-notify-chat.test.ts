import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chatMessage, main } from "../scripts/notify-chat";
import { captureConsole, fakeFetch, tempFile } from "./scripts-fakes";

const HOOK = "https://hooks.slack.example/services/T000/B000/SECRETPART";
const ENV = {
  CHAT_WEBHOOK_URL: HOOK,
  STATUS: "succeeded",
  ENVIRONMENT: "prod",
  TAG: "2024.09.01",
  RUN_URL: "https://github.com/x/actions/runs/1",
};

describe("chat notification", () => {
  it("is a no-op that says so when no webhook is configured", async () => {
    const { fetch, calls } = fakeFetch(() => undefined);
    const { result, out } = await captureConsole(() => main({ ...ENV, CHAT_WEBHOOK_URL: "" }, fetch));
    expect(result).toBe(0);
    expect(out).toBe("No chat webhook configured (secret CHAT_WEBHOOK_URL is empty): no message sent.");
    expect(calls).toHaveLength(0);
  });

  it("posts a JSON {text} with status, environment, tag and run link", async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: "ok" }));
    const { out } = await captureConsole(() => main(ENV, fetch));
    expect(calls[0]).toMatchObject({
      method: "POST",
      body: {
        text: ":white_check_mark: Monitor 2024.09.01 to prod: deployed (<https://github.com/x/actions/runs/1|run>)",
      },
    });
    expect(calls[0].headers["content-type"]).toBe("application/json");
    expect(out).not.toContain("SECRETPART");
  });

  it("never prints the webhook URL, also when the post fails", async () => {
    const { fetch } = fakeFetch(() => ({ status: 404, body: "no_service" }));
    const err = await main(ENV, fetch).catch((e) => e);
    expect(err.message).toBe(
      "The chat webhook answered 404; check the CHAT_WEBHOOK_URL secret is a current webhook URL.",
    );
    const broken = await main({ ...ENV, CHAT_WEBHOOK_URL: "http://hooks.example/SECRETPART" }, fetch).catch((e) => e);
    expect(broken.message).not.toContain("SECRETPART");
    const unreachable = await main(ENV, () =>
      Promise.reject(
        Object.assign(new TypeError("fetch failed"), {
          cause: { code: "ENOTFOUND", message: `getaddrinfo ENOTFOUND ${HOOK}` },
        }),
      ),
    ).catch((e) => e);
    expect(unreachable.message).toBe("Posting to the chat webhook failed (ENOTFOUND).");
  });

  it("escapes the characters chat markup gives meaning to", () => {
    expect(chatMessage({ status: "failed", environment: "prod", tag: "<!channel>&" }).text).toBe(
      ":x: Monitor &lt;!channel&gt;&amp; to prod: deploy FAILED",
    );
  });

  it("includes the release notes when given, and still posts when the notes file is missing", async () => {
    const notes = tempFile("notes.md");
    writeFileSync(notes.path, "## What's Changed\n* Fix <b> by @someone in #12\n");
    const { fetch, calls } = fakeFetch(() => ({ body: "ok" }));
    await captureConsole(() => main({ ...ENV, NOTES_FILE: notes.path }, fetch));
    expect((calls[0].body as { text: string }).text).toMatch(
      /: deployed \(<[^>]+\|run>\)\n## What's Changed\n\* Fix &lt;b&gt; by @someone in #12$/,
    );
    const { err } = await captureConsole(() => main({ ...ENV, NOTES_FILE: "/nonexistent/notes.md" }, fetch));
    expect(err).toContain("posting without release notes");
    expect(calls).toHaveLength(2);
  });

  it("lists the Jira tickets that shipped as links, says when QA was overridden, and leaves the ledger out of the notes", async () => {
    const notes = tempFile("notes.md");
    writeFileSync(
      notes.path,
      "<!-- qa-ledger:start -->\n- [x] #12 Fix by @someone · no ticket\n<!-- qa-ledger:end -->\n\n## What's Changed\n* Fix by @someone in #12\n",
    );
    const { fetch, calls } = fakeFetch(() => ({ body: "ok" }));
    await captureConsole(() =>
      main(
        {
          ...ENV,
          NOTES_FILE: notes.path,
          JIRA_TICKETS: "MNTOR-4448 MNTOR-5317",
          QA_OVERRIDE: "hotfix <!channel> for MNTOR-5400",
        },
        fetch,
      ),
    );
    expect((calls[0].body as { text: string }).text).toBe(
      ":white_check_mark: Monitor 2024.09.01 to prod: deployed (<https://github.com/x/actions/runs/1|run>)\n" +
        "QA override: hotfix &lt;!channel&gt; for MNTOR-5400\n" +
        "Jira tickets shipped: <https://mozilla-hub.atlassian.net/browse/MNTOR-4448|MNTOR-4448>, " +
        "<https://mozilla-hub.atlassian.net/browse/MNTOR-5317|MNTOR-5317>\n" +
        "## What's Changed\n* Fix by @someone in #12",
    );
  });

  it("refuses JIRA_TICKETS that are not ticket keys of the configured projects, before posting", async () => {
    const { fetch, calls } = fakeFetch(() => ({ body: "ok" }));
    const err = await main({ ...ENV, JIRA_TICKETS: "MNTOR-1 <https://evil|x>" }, fetch).catch((e) => e);
    expect(err.message).toBe(
      "JIRA_TICKETS is not a list of MNTOR ticket keys. Fix: pass the jira-shipped step's tickets output.",
    );
    expect(calls).toEqual([]);
  });
});
