import { readFileSync, writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RefusedError, UsageError, exitCodeFor } from "../scripts/lib/cli";
import { DEFAULT_JIRA_BROWSE_URL } from "../scripts/lib/jira";
import { LEDGER_END, LEDGER_START, ledgerTickets, main, parseBody, withoutLedger } from "../scripts/qa-ledger";
import { TWO_PAGE_COMMIT, fixture, recordedPullsFile } from "./release-api-fakes";
import { tempFile } from "./scripts-fakes";

const JIRA = { projectKeys: ["MNTOR"], browseUrl: DEFAULT_JIRA_BROWSE_URL };
const link = (key: string) => `[${key}](${DEFAULT_JIRA_BROWSE_URL}${key})`;

/** What GitHub's generated notes say below the ledger (they repeat each title verbatim). */
const GENERATED_NOTES = [
  "## What's Changed",
  "* feat: add unique index on fxa_uid in subscribers table to prevent duplicates by @mansaj in https://github.com/mozilla/blurts-server/pull/6740",
  "* Mntor 5299 by @codemist in https://github.com/mozilla/blurts-server/pull/6753",
  "",
  "**Full Changelog**: https://github.com/mozilla/blurts-server/compare/2026.07.27...2026.08.04",
].join("\n");

/** The release's pull requests as scripts/release-pulls.ts writes them from the recorded API answers. */
const recordedPulls = async () => readFileSync(await recordedPullsFile(), "utf8");

/** A merged pull request in the API's shape, from a recorded one with some fields replaced (no ticket by default). */
function pull(number: number, fields: Record<string, any> = {}) {
  return { ...fixture("commit-pulls.json")[TWO_PAGE_COMMIT][0], head: { ref: "topic" }, body: null, number, ...fields };
}

async function render(pulls: string | object[], previous?: string, env: Record<string, string> = {}) {
  const pullsFile = tempFile("pulls.json");
  writeFileSync(pullsFile.path, typeof pulls === "string" ? pulls : JSON.stringify(pulls));
  const body = tempFile("body.md");
  const previousFile = tempFile("previous.md");
  if (previous !== undefined) writeFileSync(previousFile.path, previous);
  const logs: string[] = [];
  await main(["render"], {
    env: {
      PULLS_FILE: pullsFile.path,
      BODY_FILE: body.path,
      ...(previous === undefined ? {} : { PREVIOUS_BODY_FILE: previousFile.path }),
      ...env,
    },
    log: (l) => logs.push(l),
    warn: (l) => logs.push(l),
  });
  return { body: body.read(), logs };
}

async function check(body: string, env: Record<string, string> = {}) {
  const bodyFile = tempFile("body.md");
  writeFileSync(bodyFile.path, body);
  const output = tempFile("output");
  writeFileSync(output.path, "");
  const logs: string[] = [];
  const warnings: string[] = [];
  const result: unknown = await main(["check"], {
    env: { BODY_FILE: bodyFile.path, GITHUB_OUTPUT: output.path, ...env },
    log: (l) => logs.push(l),
    warn: (l) => warnings.push(l),
  }).catch((e: unknown) => e);
  return { result, logs, warnings, output: output.read() };
}

/** The ledger's task lines. */
const tasks = (body: string) => body.split("\n").filter((l) => /^- \[[ x]\] /.test(l));
const tick = (body: string, number: number) => body.replace(`- [ ] #${number} `, `- [x] #${number} `);

describe("render: the ledger of the release's pull requests", () => {
  it("lists each pull request as a task line with its author and tickets from title, branch and body", async () => {
    const { body, logs } = await render(await recordedPulls());
    expect(tasks(body)).toEqual([
      `- [ ] #6740 feat: add unique index on fxa\\_uid in subscribers table to prevent duplicates by @mansaj · ${link("MNTOR-4448")}, ${link("MNTOR-4449")}`,
      "- [x] #6746 Import translations from l10n repository \\(2026-07-27\\) by @mozilla-l10n-automation-bot · no ticket · QA not needed (label qa-not-needed)",
      `- [ ] #6753 Mntor 5299 by @codemist · ${link("MNTOR-5299")}`,
      `- [ ] #6771 fix: rehydrate breach dates so alert emails render by @flozia · ${link("MNTOR-5317")}`,
      "- [ ] #6804 chore\\(deps\\): bump fast-uri from 3.1.4 to 3.1.5 by @dependabot[bot] · no ticket",
    ]);
    expect(body.startsWith(`${LEDGER_START}\n### QA ledger\n`)).toBe(true);
    expect(body.endsWith(`\n\n${LEDGER_END}\n`)).toBe(true);
    expect(logs[0]).toBe("QA ledger: 5 pull request(s), 1 checked (0 kept from the release body).");
  });

  it("reads branch names in any case but titles and bodies only in upper case, and never the template's bare MNTOR-", async () => {
    const { body } = await render([
      pull(1, {
        title: "Mntor 5299 and mntor-12",
        head: { ref: "feature/Mntor-77_fix" },
        body: "Jira: MNTOR-\nXMNTOR-5",
      }),
      pull(2, { title: "MNTOR-0 MNTOR-12345678 (not tickets)", head: { ref: "main" }, body: null }),
    ]);
    expect(tasks(body)[0]).toMatch(/ · \[MNTOR-77\]\([^)]+\)$/);
    expect(tasks(body)[1]).toMatch(/ · no ticket$/);
  });

  it("takes the project keys, browse URL and QA-not-needed labels from the environment", async () => {
    const { body } = await render(
      [
        pull(1, { title: "FXA-9 and MNTOR-3", labels: [{ name: "skip-qa" }] }),
        pull(2, { title: "FXA-10", labels: [] }),
      ],
      undefined,
      {
        JIRA_PROJECT_KEYS: "FXA",
        JIRA_BROWSE_URL: "https://jira.example.com/browse",
        QA_NOT_NEEDED_LABELS: "docs, skip-qa",
      },
    );
    expect(tasks(body)).toEqual([
      expect.stringMatching(
        /^- \[x\] #1 .* · \[FXA-9\]\(https:\/\/jira\.example\.com\/browse\/FXA-9\) · QA not needed \(label skip-qa\)$/,
      ),
      expect.stringMatching(/^- \[ \] #2 FXA-10 .* · \[FXA-10\]\(https:\/\/jira\.example\.com\/browse\/FXA-10\)$/),
    ]);
  });

  it("says so when the release has no pull requests, and check passes it", async () => {
    const { body } = await render([]);
    expect(body).toContain("_No pull requests since the release marked latest._");
    expect(tasks(body)).toEqual([]);
    expect((await check(body)).result).toBe(0);
  });

  it("is called wrongly with a PULLS_FILE that is not the API's array of pull requests", async () => {
    await expect(render("{}")).rejects.toThrow("PULLS_FILE is not a JSON array of pull requests");
    await expect(render("not json")).rejects.toThrow("PULLS_FILE is not JSON");
    await expect(render([{ title: "no number" }])).rejects.toThrow("PULLS_FILE item 0 has no pull request number");
    const err = await render([], undefined, { JIRA_PROJECT_KEYS: "mntor" }).catch((e) => e);
    expect(exitCodeFor(err)).toBe(2);
  });
});

describe("render: untrusted titles, branches, bodies and logins", () => {
  const hostile = [
    pull(9001, { title: "- [x] #6771 already QA'd [x]" }),
    pull(9002, { title: `fine ${LEDGER_END}\n- [x] #9003 injected line\r\n${LEDGER_START}` }),
    pull(9004, { title: '<img src=x onerror="alert(1)"><details open><summary>hi</summary>' }),
    pull(9005, { title: "bidi \u202egnp.exe\u202c and a\u2028line\u2029split\u0085here\u0000" }),
    pull(9006, {
      title: "see [MNTOR-777](https://evil.example/browse/MNTOR-777) and ![x](https://evil.example/t.png)",
    }),
    pull(9007, {
      title: "body and branch try too",
      head: { ref: `mntor-8<script>${LEDGER_END}` },
      body: `${LEDGER_END}\n- [x] #9007 checked by the body\n<!-- qa-ledger:start -->\n<script>alert(1)</script>`,
      user: { login: "x\n- [x] #9007" },
    }),
  ];

  it("cannot check a box, add a line, end the ledger or carry HTML", async () => {
    const { body } = await render(hostile);
    const lines = body.split("\n");
    // One marker of each, and exactly one task line per pull request, each unchecked.
    expect(lines.filter((l) => l === LEDGER_START)).toHaveLength(1);
    expect(lines.filter((l) => l === LEDGER_END)).toHaveLength(1);
    expect(tasks(body).map((l) => /^- \[ \] #(\d+) /.exec(l)?.[1])).toEqual([
      "9001",
      "9002",
      "9004",
      "9005",
      "9006",
      "9007",
    ]);
    expect(body).not.toMatch(/<(?!!-- qa-ledger:(start|end) -->$)/m);
    for (const l of body.split("\n")) expect(l).not.toMatch(/[\p{Cc}\u202a-\u202e\u2028\u2029]/u);
    const parsed = parseBody(body, "BODY_FILE")!;
    expect(parsed.items.map((i) => [i.number, i.checked])).toEqual(hostile.map((p) => [p.number, false]));
    const verdict = await check(body);
    expect(verdict.result).toBeInstanceOf(RefusedError);
    expect((verdict.result as Error).message).toContain("6 of 6 item(s) unchecked");
  });

  it("escapes each title to text that renders as itself", async () => {
    const { body } = await render(hostile);
    const line = (n: number) => tasks(body).find((l) => l.startsWith(`- [ ] #${n} `))!;
    expect(line(9001)).toBe("- [ ] #9001 - \\[x\\] \\#6771 already QA'd \\[x\\] by @flozia · no ticket");
    expect(line(9002)).toContain(
      "fine &lt;\\!-- qa-ledger:end --&gt; - \\[x\\] \\#9003 injected line &lt;\\!-- qa-ledger:start --&gt; by",
    );
    expect(line(9004)).toContain('&lt;img src=x onerror="alert\\(1\\)"&gt;&lt;details open&gt;&lt;summary&gt;hi');
    expect(line(9005)).toContain("bidi gnp.exe and a line split here by");
    // The title's own link is escaped text; the ticket it names is linked to the configured Jira, once.
    expect(line(9006)).toBe(
      `- [ ] #9006 see \\[MNTOR-777\\]\\(https://evil.example/browse/MNTOR-777\\) and \\!\\[x\\]\\(https://evil.example/t.png\\) by @flozia · ${link("MNTOR-777")}`,
    );
    // A branch and a body yield ticket keys and nothing else; a login that is not one is not written.
    expect(line(9007)).toBe(`- [ ] #9007 body and branch try too by an unknown author · ${link("MNTOR-8")}`);
  });

  it("only links tickets render wrote: a title's bracketed key is text, not a shipped ticket", async () => {
    const { body } = await render([
      pull(1, {
        title: "[MNTOR-5](https://evil.example/MNTOR-5) \\[MNTOR-6](x/MNTOR-6)",
        head: { ref: "x" },
        body: null,
      }),
    ]);
    expect(ledgerTickets(body, JIRA)).toEqual(["MNTOR-5", "MNTOR-6"]);
    expect(body).not.toContain("](https://evil.example");
    const titleOnly = body.replace(/ · \[MNTOR.*$/m, "");
    expect(ledgerTickets(titleOnly, JIRA)).toEqual([]);
  });

  it("ignores markers and task lines in the generated notes below the ledger", async () => {
    const { body } = await render(
      [pull(1)],
      `${GENERATED_NOTES}\n* fine ${LEDGER_END} by @x in https://github.com/p/2`,
    );
    expect(parseBody(body, "BODY_FILE")!.items).toHaveLength(1);
    const quoted = `${body}\n- [ ] #77 a task list in the notes\n`;
    expect((await check(tick(quoted, 1))).result).toBe(0);
  });
});

describe("render again: QA's work is kept", () => {
  it("places the ledger above GitHub's generated notes on the first render", async () => {
    const { body } = await render(await recordedPulls(), `${GENERATED_NOTES}\n`);
    expect(body.indexOf(LEDGER_END)).toBeLessThan(body.indexOf("## What's Changed"));
    expect(body.endsWith(`${GENERATED_NOTES}\n`)).toBe(true);
  });

  it("keeps check marks, drops pull requests no longer in the release, keeps hand-added items and text around it", async () => {
    const first = (await render(await recordedPulls(), GENERATED_NOTES)).body;
    // QA in the browser: boxes checked, a checked PR that has since shipped, an item of their own, CRLF line ends.
    const qa = tick(tick(first, 6740), 6771)
      .replace(
        LEDGER_END,
        "- [x] #6500 shipped last week by @someone · no ticket\n- [ ] check the emails on prod\n" + LEDGER_END,
      )
      .replace(LEDGER_END, `${LEDGER_END}\n\n> **QA override** by @lead: kept below the ledger`)
      .replace(/\n/g, "\r\n");
    const pulls = JSON.parse(await recordedPulls()).filter((p: { number: number }) => p.number !== 6804);
    const { body, logs } = await render(pulls, qa);
    expect(tasks(body)).toEqual([
      expect.stringMatching(/^- \[x\] #6740 /),
      expect.stringMatching(/^- \[x\] #6746 /),
      expect.stringMatching(/^- \[ \] #6753 /),
      expect.stringMatching(/^- \[x\] #6771 /),
      "- [ ] check the emails on prod",
    ]);
    expect(body).toContain("> **QA override** by @lead: kept below the ledger");
    expect(body.endsWith(`${GENERATED_NOTES}\n`)).toBe(true);
    expect(body).not.toContain("\r");
    expect(logs).toEqual([
      "QA ledger: 4 pull request(s), 3 checked (3 kept from the release body).",
      "Dropped, no longer in the release: #6500.",
    ]);
  });

  it("is stable: rendering what it rendered changes nothing", async () => {
    const pulls = await recordedPulls();
    const once = (await render(pulls, GENERATED_NOTES)).body;
    const twice = (await render(pulls, tick(once, 6753))).body;
    expect(twice).toBe(tick(once, 6753));
  });

  it("refuses a previous body whose markers were edited into an ambiguous state", async () => {
    const first = (await render([pull(1)])).body;
    const err = await render([pull(1)], `${first}\n${first}`).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toMatch(/PREVIOUS_BODY_FILE has a broken QA ledger \(2 .* and 2 .* lines/);
  });
});

describe("check: the deploy's gate", () => {
  it("passes when every item is checked, from a body as the GitHub web editor saves it (CRLF)", async () => {
    const { body } = await render([pull(1), pull(2, { labels: [{ name: "qa-not-needed" }] })], GENERATED_NOTES);
    const { result, logs, output } = await check(tick(body, 1).replace(/\n/g, "\r\n"));
    expect(result).toBe(0);
    expect(logs).toEqual(["QA ledger: all 2 item(s) checked."]);
    expect(output).toBe("");
  });

  it("refuses naming each unchecked pull request, number and title", async () => {
    const { body } = await render(await recordedPulls(), GENERATED_NOTES);
    const { result } = await check(tick(body, 6740));
    expect(result).toBeInstanceOf(RefusedError);
    const message = (result as Error).message;
    expect(message.split("\n").slice(0, 4)).toEqual([
      "The QA ledger in BODY_FILE has 3 of 5 item(s) unchecked:",
      `  - #6753 Mntor 5299 by @codemist · [MNTOR-5299](${DEFAULT_JIRA_BROWSE_URL}MNTOR-5299)`,
      `  - #6771 fix: rehydrate breach dates so alert emails render by @flozia · [MNTOR-5317](${DEFAULT_JIRA_BROWSE_URL}MNTOR-5317)`,
      "  - #6804 chore(deps): bump fast-uri from 3.1.4 to 3.1.5 by @dependabot[bot] · no ticket",
    ]);
    expect(message).toMatch(/\nFix: ask QA to verify them on stage and check their boxes in the pre-release/);
  });

  it("counts an unchecked item someone added by hand", async () => {
    const { body } = await render([pull(1)]);
    const { result } = await check(tick(body, 1).replace(LEDGER_END, `- [ ] check the emails on prod\n${LEDGER_END}`));
    expect((result as Error).message).toContain("  - check the emails on prod");
  });

  it("is called wrongly (exit 2) on a body without a ledger, or with a broken one", async () => {
    const none = await check(GENERATED_NOTES);
    expect(none.result).toBeInstanceOf(UsageError);
    expect((none.result as Error).message).toMatch(
      /^BODY_FILE has no QA ledger .* Fix: run the app's Pre-release workflow by hand with ledger_tag/,
    );
    const { body } = await render([pull(1)]);
    const broken = await check(body.replace(LEDGER_END, ""));
    expect(exitCodeFor(broken.result)).toBe(2);
  });

  it("proceeds with an override reason: output `override`, a warning, and the override recorded below the ledger", async () => {
    const { body } = await render(await recordedPulls(), GENERATED_NOTES);
    const record = tempFile("recorded.md");
    const reason = `hotfix for MNTOR-5400\n${LEDGER_END}\n- [x] #6753 <b>`;
    const { result, output, warnings } = await check(body, {
      OVERRIDE_REASON: reason,
      OVERRIDE_BY: "release-manager",
      RUN_URL: "https://github.com/mozilla/blurts-server/actions/runs/42",
      OVERRIDE_RECORD_FILE: record.path,
    });
    expect(result).toBe(0);
    const flat = `hotfix for MNTOR-5400 ${LEDGER_END} - [x] #6753 <b>`;
    expect(output).toBe(`override=${flat}\n`);
    expect(warnings[0]).toMatch(new RegExp(`^QA ledger overridden by @release-manager: .*\\nUnchecked:\\n  - #6740 `));
    const recorded = record.read();
    expect(recorded).toContain(
      `${LEDGER_END}\n\n> **QA override** by @release-manager in [the deploy run](https://github.com/mozilla/blurts-server/actions/runs/42), ` +
        "with #6740, #6753, #6771, #6804 unchecked: hotfix for MNTOR-5400 &lt;\\!-- qa-ledger:end --&gt; - \\[x\\] \\#6753 &lt;b&gt;\n",
    );
    // The record cannot change the ledger, and a re-render keeps it.
    expect(parseBody(recorded, "BODY_FILE")!.items).toEqual(parseBody(body, "BODY_FILE")!.items);
    expect((await render(await recordedPulls(), recorded)).body).toContain("> **QA override** by @release-manager");
  });

  it("does not record an override that was not needed", async () => {
    const { body } = await render([pull(1, { labels: [{ name: "qa-not-needed" }] })]);
    const record = tempFile("recorded.md");
    const { result, output, logs } = await check(body, {
      OVERRIDE_REASON: "just in case",
      OVERRIDE_RECORD_FILE: record.path,
    });
    expect(result).toBe(0);
    expect(output).toBe("");
    expect(logs[1]).toContain("not needed");
    expect(() => readFileSync(record.path)).toThrow();
  });
});

describe("the ledger for the steps after a deploy", () => {
  it("gives the tickets it links, and the body without it for the chat", async () => {
    const { body } = await render(await recordedPulls(), GENERATED_NOTES);
    expect(ledgerTickets(body, JIRA)).toEqual(["MNTOR-4448", "MNTOR-4449", "MNTOR-5299", "MNTOR-5317"]);
    expect(ledgerTickets(body, { ...JIRA, projectKeys: ["FXA"] })).toEqual([]);
    expect(withoutLedger(body)).toBe(GENERATED_NOTES);
    expect(withoutLedger(GENERATED_NOTES)).toBe(GENERATED_NOTES);
  });

  it("takes no command but render and check", async () => {
    const err = await main(["approve"], { env: {}, log: () => undefined, warn: () => undefined }).catch((e) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.message).toBe('qa-ledger.ts was given "approve". Fix: call it as qa-ledger.ts render|check.');
  });
});
