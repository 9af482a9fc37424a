import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import {
  UsageError,
  boolEnv,
  consoleLog,
  exitCodeFor,
  intEnv,
  optionalEnv,
  requireEnv,
  RefusedError,
} from "../scripts/lib/cli";
import { createGitHub } from "../scripts/lib/github";
import { appendSummary, formatOutputs, writeFileNamedBy, writeOutputs } from "../scripts/lib/github-files";
import { fakeFetch, tempFile } from "./scripts-fakes";

describe("reading inputs from the environment", () => {
  it("names the variable and the fix, without echoing a malformed value", () => {
    expect(() => requireEnv({}, "STACK", { hint: "Pass pr-<N>." })).toThrow(
      new UsageError("STACK is not set. Fix: Pass pr-<N>."),
    );
    expect(() => requireEnv({ STACK: "   " }, "STACK")).toThrow("STACK is not set.");
    expect(() =>
      requireEnv({ HOOK: "secret value" }, "HOOK", { pattern: /^https:/, expected: "an https URL" }),
    ).toThrow(/^HOOK is not an https URL\. Fix: pass HOOK as an https URL\.$/);
    expect(optionalEnv({ X: "" }, "X")).toBeUndefined();
  });

  it("bounds numbers and reads booleans as Actions renders them", () => {
    expect(intEnv({ N: "7" }, "N", { min: 1, max: 10 })).toBe(7);
    expect(intEnv({}, "N", { min: 1, max: 10, default: 3 })).toBe(3);
    expect(() => intEnv({ N: "-1" }, "N", { min: 0, max: 10 })).toThrow(
      'N must be a whole number from 0 to 10, got "-1".',
    );
    expect(() => intEnv({ N: "1e3" }, "N", { min: 0, max: 10000 })).toThrow("whole number");
    expect(boolEnv({ D: "true" }, "D", false)).toBe(true);
    expect(boolEnv({}, "D", false)).toBe(false);
  });

  it("maps usage errors to exit 2 and refusals or failures to exit 1", () => {
    expect(exitCodeFor(new UsageError("x"))).toBe(2);
    expect(exitCodeFor(new RefusedError("x"))).toBe(1);
    expect(exitCodeFor(new Error("x"))).toBe(1);
  });

  it("keeps a multi-line message one annotation in Actions", () => {
    const lines: string[] = [];
    const error = console.error;
    console.error = (l: string) => void lines.push(l);
    try {
      consoleLog({ GITHUB_ACTIONS: "true" }).error("first\nsecond 100%");
    } finally {
      console.error = error;
    }
    expect(lines).toEqual(["::error::first%0Asecond 100%25"]);
  });
});

describe("step outputs", () => {
  it("writes one-line values as name=value and multi-line values with a delimiter no value can forge", () => {
    expect(formatOutputs({ tag: "2024.09.01", notes_base: "" })).toBe("tag=2024.09.01\nnotes_base=\n");
    expect(formatOutputs({ body: "a\nb=c" }, "DELIM")).toBe("body<<DELIM\na\nb=c\nDELIM\n");
    expect(() => formatOutputs({ body: "a\nDELIM\nx=y" }, "DELIM")).toThrow("contains the delimiter");
    expect(() => formatOutputs({ "bad name": "x" })).toThrow('"bad name" is not a valid step output name');
  });

  it("appends to $GITHUB_OUTPUT, and says to run inside Actions without it", () => {
    const out = tempFile("output");
    writeOutputs({ GITHUB_OUTPUT: out.path }, { a: "1" });
    writeOutputs({ GITHUB_OUTPUT: out.path }, { b: "2" });
    expect(out.read()).toBe("a=1\nb=2\n");
    expect(() => writeOutputs({}, { a: "1" })).toThrow(
      "GITHUB_OUTPUT is not set. Fix: run this script as a step of a GitHub Actions job",
    );
  });
});

describe("files a script writes", () => {
  it("refuses a path whose directory does not exist with exit 2, naming the variable and the fix, not ENOENT", () => {
    const missing = `${tempFile().path}-gone/body.md`;
    const attempt = () => writeFileNamedBy("BODY_FILE", missing, "x", { hint: "give a path under $RUNNER_TEMP" });
    expect(attempt).toThrow(UsageError);
    expect(attempt).toThrow(
      /^BODY_FILE points to ".*-gone\/body\.md", which cannot be written: its directory ".*-gone" does not exist\. Fix: give a path under \$RUNNER_TEMP\.$/,
    );
    expect(exitCodeFor(catchError(attempt))).toBe(2);
  });

  it("refuses a directory, or a path through a file, as called wrongly too", () => {
    const file = tempFile("plain");
    writeFileNamedBy("GITHUB_OUTPUT", file.path, "a=1\n", { append: true, hint: "h" });
    expect(() => writeFileNamedBy("X_FILE", `${file.path}/inside`, "x", { hint: "h" })).toThrow(
      /X_FILE points to .*: a part of ".*plain" is a file, not a directory\. Fix: h\./,
    );
    expect(() => writeFileNamedBy("X_FILE", tmpdir(), "x", { hint: "h" })).toThrow(/: it is a directory\. Fix: h\./);
    expect(file.read()).toBe("a=1\n");
  });

  it("goes through the same check for $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY", () => {
    const gone = `${tempFile().path}-gone/file`;
    expect(() => writeOutputs({ GITHUB_OUTPUT: gone }, { a: "1" })).toThrow(
      /^GITHUB_OUTPUT points to .* does not exist/,
    );
    expect(() => appendSummary({ GITHUB_STEP_SUMMARY: gone }, "# x")).toThrow(
      /^GITHUB_STEP_SUMMARY points to .* does not exist/,
    );
  });
});

function catchError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error("expected a throw");
}

describe("GitHub client", () => {
  it("follows Link rel=next pages and sends the token and API version", async () => {
    const { fetch, calls } = fakeFetch((call) =>
      call.url.searchParams.get("page") === "2"
        ? { body: [{ n: 3 }] }
        : {
            body: [{ n: 1 }, { n: 2 }],
            headers: {
              link: '<https://api.github.com/repos/o/r/issues?page=2&per_page=100>; rel="next", <https://api.github.com/repos/o/r/issues?page=2>; rel="last"',
            },
          },
    );
    const gh = createGitHub({ token: "tok", repository: "o/r", fetch });
    expect(await gh.paginate("/repos/{owner}/{repo}/issues", { state: "open" }, (p) => p)).toEqual([
      { n: 1 },
      { n: 2 },
      { n: 3 },
    ]);
    expect(calls[0].url.href).toBe("https://api.github.com/repos/o/r/issues?per_page=100&state=open");
    expect(calls[0].headers).toMatchObject({ authorization: "Bearer tok", "x-github-api-version": "2022-11-28" });
  });

  it("says which endpoint failed, GitHub's message and the likely missing permission", async () => {
    const { fetch } = fakeFetch(() => ({ status: 403, body: { message: "Resource not accessible by integration" } }));
    const gh = createGitHub({ token: "tok", repository: "o/r", fetch });
    await expect(gh.request("POST", "/repos/{owner}/{repo}/issues", { body: {} })).rejects.toThrow(
      "GitHub answered 403 to POST /repos/o/r/issues: Resource not accessible by integration. The token lacks a permission this call needs: check the job's `permissions:` block.",
    );
  });
});
