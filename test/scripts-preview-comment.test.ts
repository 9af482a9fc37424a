import { describe, expect, it } from "vitest";
import {
  PREVIEW_COMMENT_MARKER,
  describeMigration,
  escapeMarkdown,
  link,
  main,
  renderComment,
} from "../scripts/preview-comment";
import { UsageError } from "../scripts/lib/cli";
import { tempFile } from "./scripts-fakes";

const DIGEST = `sha256:${"ab".repeat(32)}`;
const RUN = "https://github.com/mozilla/blurts-server/actions/runs/123";
const base = { prNumber: 42, runUrl: RUN };

describe("preview comment", () => {
  it("starts every state with the fixed marker line, so the sticky comment is found and replaced", () => {
    for (const state of ["deployed", "destroyed", "skipped", "failed"] as const) {
      const body = renderComment({ ...base, state, url: "https://pr-42.example", digest: DIGEST });
      expect(body.split("\n")[0]).toBe(PREVIEW_COMMENT_MARKER);
    }
  });

  it("deployed: the URL, the image digest, the migration result and the run", () => {
    const body = renderComment({
      ...base,
      state: "deployed",
      url: "https://monitor-pr-42-123.us-central1.run.app",
      digest: DIGEST,
      migration: "succeeded",
    });
    expect(body).toContain(
      "| URL | [https\\://monitor\\-pr\\-42\\-123\\.us\\-central1\\.run\\.app](https://monitor-pr-42-123.us-central1.run.app/) |",
    );
    expect(body).toContain(`| Image | \`${DIGEST}\` |`);
    expect(body).toContain("| Migration | succeeded |");
    expect(body).toContain(`| Run | [workflow run](${RUN}) |`);
  });

  it("destroyed: says the preview is gone", () => {
    expect(renderComment({ ...base, state: "destroyed" })).toContain("### Preview of #42 is gone");
  });

  it("skipped: says forks and bots get no credentials and how a maintainer gets a preview", () => {
    const body = renderComment({ ...base, state: "skipped" });
    expect(body).toContain("Pull requests from forks and from bots get no cloud credentials");
    expect(body).toContain("pushing the branch to this repository");
    expect(body).toContain("Re-running the workflow does not change that");
  });

  it("failed: names the step and links the run", () => {
    const body = renderComment({ ...base, state: "failed", failedStep: "pulumi up" });
    expect(body).toContain("The step **pulumi up** failed");
    expect(body).toContain(`[workflow run](${RUN})`);
  });
});

describe("untrusted text in the comment", () => {
  it("cannot add markup, links, HTML, mentions or lines", () => {
    const hostile = "ok](https://evil.example) <img src=x onerror=alert(1)> @mozilla/sre #1\n### Approved `x` | col";
    const safe = escapeMarkdown(hostile);
    expect(safe).not.toMatch(/<img/);
    expect(safe).not.toContain("\n");
    expect(safe).not.toMatch(/(^|[^\\])[[\]()`|#]/);
    expect(safe).toContain("@\u200bmozilla");
    expect(safe).toContain("&lt;img");
  });

  it("is cut to a bounded length", () => {
    expect(escapeMarkdown("a".repeat(500), 50)).toHaveLength(50);
  });

  it("links only https URLs without credentials, and keeps parentheses from ending the link", () => {
    expect(link("x", "javascript:alert(1)")).toBe("x");
    expect(link("x", "http://plain.example")).toBe("x");
    expect(link("x", "https://user:pw@host.example")).toBe("x");
    expect(link("x", "https://host.example/a(b)")).toBe("[x](https://host.example/a%28b%29)");
  });

  it("renders a hostile migration result and failed step as text", () => {
    const body = renderComment({
      ...base,
      state: "deployed",
      url: "https://pr.example",
      digest: DIGEST,
      migration: "done\n<script>x</script> [click](https://evil)",
    });
    expect(body).toContain("| Migration | done &lt;script&gt;x&lt;/script&gt; \\[click\\]\\(https\\://evil\\) |");
    const failed = renderComment({ ...base, state: "failed", failedStep: "**bold** @someone" });
    expect(failed).toContain("The step **\\*\\*bold\\*\\* @\u200bsomeone** failed");
  });

  it("does not show a digest that is not one", () => {
    expect(
      renderComment({ ...base, state: "deployed", url: "https://pr.example", digest: "latest`injected" }),
    ).toContain("| Image | (unknown digest) |");
  });
});

describe("preview-comment main", () => {
  it("writes the body file from the environment", async () => {
    const file = tempFile("body.md");
    const env = {
      STATE: "deployed",
      PR_NUMBER: "42",
      RUN_URL: RUN,
      URL: "https://pr.example",
      DIGEST,
      MIGRATION: "succeeded",
      BODY_FILE: file.path,
    };
    expect(await main(env)).toBe(0);
    expect(file.read()).toMatch(new RegExp(`^${PREVIEW_COMMENT_MARKER}\\n### Preview of #42 is up`));
  });

  it("refuses a body file in a directory that does not exist as called wrongly, naming BODY_FILE", async () => {
    const gone = `${tempFile().path}-gone/body.md`;
    const error = await main({ STATE: "destroyed", PR_NUMBER: "42", RUN_URL: RUN, BODY_FILE: gone }).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toMatch(
      /^BODY_FILE points to .* does not exist\. Fix: give a path in a directory that exists/,
    );
  });

  it("refuses an unknown state or a deployed comment without its URL and digest", async () => {
    const file = tempFile("body.md");
    await expect(main({ STATE: "gone", PR_NUMBER: "42", RUN_URL: RUN, BODY_FILE: file.path })).rejects.toThrow(
      "STATE must be one of deployed, destroyed, skipped, failed",
    );
    await expect(main({ STATE: "deployed", PR_NUMBER: "42", RUN_URL: RUN, BODY_FILE: file.path })).rejects.toThrow(
      "URL is not set. Fix: Pass the stack's url output.",
    );
    await expect(
      main({
        STATE: "deployed",
        PR_NUMBER: "42",
        RUN_URL: RUN,
        URL: "https://pr.example",
        DIGEST: "sha256:xyz",
        BODY_FILE: file.path,
      }),
    ).rejects.toThrow("DIGEST is not an image digest sha256:<64 hex>");
  });
});

describe("the migration result from the stack's output", () => {
  it("reads the JSON pulumi/actions passes for the object output, and keeps plain text as it is", () => {
    expect(
      describeMigration('{"runs":true,"reason":"npm run db:migrate runs for deploy 7-1 before traffic moves"}'),
    ).toBe("ran and succeeded: npm run db:migrate runs for deploy 7-1 before traffic moves");
    expect(describeMigration('{"runs":false,"reason":"the image is unchanged: no migration runs"}')).toBe(
      "did not run: the image is unchanged: no migration runs",
    );
    expect(describeMigration("succeeded")).toBe("succeeded");
    expect(describeMigration(undefined)).toBeUndefined();
  });
});
