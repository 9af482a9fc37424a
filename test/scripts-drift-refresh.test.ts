import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  EXIT_NO_CHANGES_EXPECTED,
  SECRET_VERSION_GLOB,
  classifyRefresh,
  main,
  refreshArgs,
  type RefreshRun,
} from "../scripts/drift-refresh";
import { DRIFT_STACKS } from "../scripts/drift-issue";
import { ROOT } from "./harness";
import { captureConsole, tempFile } from "./scripts-fakes";

/** What the CLI prints on drift: the diff, then its error line (pulumi/pulumi backenderr.NoChangesExpectedError). */
const DRIFT: RefreshRun = {
  exitCode: EXIT_NO_CHANGES_EXPECTED,
  output:
    "Previewing refresh (stage):\n~ gcp:cloudrunv2/service:Service web update [diff: ~template]\nResources:\n    ~ 1 to update\n" +
    "error: no changes were expected for refresh but changes were proposed\n",
};
const AUTH: RefreshRun = {
  exitCode: 1,
  output:
    'Previewing refresh (stage):\nerror: failed to load checkpoint: blob (key ".pulumi/stacks/monitor/stage.json") (code=Unknown): ' +
    'oauth2: "invalid_grant" "ID Token issued at 1725962400 is stale to sign-in."\n',
};
const FORBIDDEN: RefreshRun = {
  exitCode: 1,
  output:
    "  gcp:secretmanager:SecretVersion secrets-database-url refreshing error: Error reading SecretVersion: googleapi: Error 403: " +
    "Permission 'secretmanager.versions.access' denied\nerror: preview failed\n",
};

/** Pulumi's `--exclude` glob, as deploy.UrnTargets.getMatcher compiles it (pkg/resource/deploy/deployment.go). */
function globMatcher(glob: string): RegExp {
  const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return new RegExp(
    `^${glob
      .split("**")
      .map((seg) => seg.split("*").map(quote).join("[^:]*"))
      .join(".*")}$`,
  );
}

describe("drift check: drift, no drift and failure told apart by Pulumi's own exit (issue 14, item 6)", () => {
  it("exit 0 is no drift; exit 7 with Pulumi's message is drift, with the output as details", () => {
    expect(classifyRefresh({ exitCode: 0, output: "Resources:\n    42 unchanged\n" })).toEqual({ kind: "clean" });
    expect(classifyRefresh(DRIFT)).toEqual({ kind: "drift", details: DRIFT.output });
  });

  it("expired credentials, a 403 or any other error is a failed check, never drift", () => {
    for (const failed of [
      AUTH,
      FORBIDDEN,
      { exitCode: 7, output: "error: something else\n" },
      { exitCode: 255, output: "" },
    ]) {
      expect(classifyRefresh(failed).kind, failed.output).toBe("error");
    }
    const auth = classifyRefresh(AUTH);
    expect(auth.kind === "error" && auth.message).toContain(
      "pulumi refresh exited 1: error: failed to load checkpoint",
    );
  });

  it("a failure exits 1 with Pulumi's error and writes neither details nor the drifted output (the issue step never runs)", async () => {
    const details = tempFile("drift.txt");
    const out = tempFile("output");
    const err = await main({ STACK: "stage", DETAILS_FILE: details.path, GITHUB_OUTPUT: out.path }, () =>
      Promise.resolve(FORBIDDEN),
    ).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toContain("The drift check of stage failed");
    expect((err as Error).message).toContain("error: preview failed");
    expect(() => out.read()).toThrow();
  });

  it("drift and no drift each write drifted for the issue step, and the details on drift", async () => {
    for (const [run, drifted] of [
      [DRIFT, "true"],
      [{ exitCode: 0, output: "no changes\n" }, "false"],
    ] as const) {
      const details = tempFile("drift.txt");
      const out = tempFile("output");
      const { result } = await captureConsole(() =>
        main({ STACK: "prod", DETAILS_FILE: details.path, GITHUB_OUTPUT: out.path }, () => Promise.resolve(run)),
      );
      expect(result).toBe(0);
      expect(out.read()).toContain(`drifted=${drifted}`);
      expect(details.read()).toBe(drifted === "true" ? DRIFT.output : "");
    }
  });

  it("refuses a preview or the pipeline stack before running anything", async () => {
    let ran = false;
    const refresh = () => ((ran = true), Promise.resolve(DRIFT));
    await expect(main({ STACK: "pr-5", DETAILS_FILE: "/tmp/x" }, refresh)).rejects.toThrow(
      "only stage, previews, prod are",
    );
    expect(ran).toBe(false);
  });
});

describe("the refresh never reads a secret's value", () => {
  it("excludes every Secret Manager version of each stack checked, and nothing else, by Pulumi's glob semantics", () => {
    const args = refreshArgs("prod");
    expect(args.slice(args.indexOf("--exclude"), args.indexOf("--exclude") + 2)).toEqual([
      "--exclude",
      SECRET_VERSION_GLOB,
    ]);
    const match = globMatcher(SECRET_VERSION_GLOB);
    for (const stack of DRIFT_STACKS) {
      const urns = readFileSync(join(ROOT, "test/urns", `${stack}.txt`), "utf8")
        .split("\n")
        .filter(Boolean);
      const excluded = urns.filter((u) => match.test(u));
      // The previews platform manages no version (its sandbox secrets' values are added by hand).
      if (stack !== "previews") expect(excluded.length, stack).toBeGreaterThan(0);
      expect(
        excluded.every((u) => u.includes("$gcp:secretmanager/secretVersion:SecretVersion::")),
        stack,
      ).toBe(true);
      expect(
        urns.filter((u) => /gcp:secretmanager\/secretVersion:SecretVersion::/.test(u)).every((u) => match.test(u)),
        stack,
      ).toBe(true);
    }
  });
});
