import { writeFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { RELEASE_BRANCH_PATTERN } from "../infra/pipeline-contract";
import { RefusedError, UsageError } from "../scripts/lib/cli";
import { main, nextCalendarTag, notesBase, releaseTargetRef, validateTag } from "../scripts/release-tag";
import { tempFile } from "./scripts-fakes";

const at = (iso: string) => new Date(iso);

describe("next calendar tag", () => {
  it("is today's UTC date when the date is free", () => {
    expect(nextCalendarTag(["2024.08.30", "v1.0.0"], at("2024-09-02T10:00:00Z"))).toBe("2024.09.02");
  });

  it("adds .1 when today's tag exists, and one past the highest suffix after that", () => {
    expect(nextCalendarTag(["2024.09.02"], at("2024-09-02T10:00:00Z"))).toBe("2024.09.02.1");
    expect(nextCalendarTag(["2024.09.02", "2024.09.02.1", "2024.09.02.2"], at("2024-09-02T10:00:00Z"))).toBe(
      "2024.09.02.3",
    );
  });

  it("goes past a gap rather than filling it, so one day's tags sort in the order they were cut", () => {
    expect(nextCalendarTag(["2024.09.02", "2024.09.02.3"], at("2024-09-02T10:00:00Z"))).toBe("2024.09.02.4");
    // Only suffixed tags left (the bare date deleted): still after them.
    expect(nextCalendarTag(["2024.09.02.1"], at("2024-09-02T10:00:00Z"))).toBe("2024.09.02.2");
  });

  it("ignores tags that only look alike (other dates, prefixes, leading-zero suffixes)", () => {
    expect(
      nextCalendarTag(
        ["2024.09.01.7", "prod-2024.09.02", "2024.09.02.01", "2024.09.02-rc"],
        at("2024-09-02T10:00:00Z"),
      ),
    ).toBe("2024.09.02");
  });

  it("uses the UTC date: just after midnight UTC on Monday is Monday, whatever Friday released", () => {
    const tags = ["2024.08.26", "2024.08.30", "2024.08.30.1"]; // Monday's release, Friday's pre-releases
    expect(nextCalendarTag(tags, at("2024-09-02T00:05:00Z"))).toBe("2024.09.02");
    // Sunday evening in California is already Monday in UTC.
    expect(nextCalendarTag(tags, at("2024-09-01T17:05:00-07:00"))).toBe("2024.09.02");
  });

  it("gives a release branch today's date and the next free suffix, not the branch's date", async () => {
    const out = tempFile("output");
    await main(["next"], {
      env: { TARGET_REF: "release/2024.09.01", GITHUB_OUTPUT: out.path, LATEST_RELEASE: "2024.09.01" },
      now: at("2024-09-04T09:00:00Z"),
      tags: () => ["2024.09.01", "2024.09.04"],
      log: () => undefined,
    });
    expect(out.read()).toBe("tag=2024.09.04.1\nnotes_base=2024.09.01\n");
  });
});

describe("release-tag next refuses inputs it cannot use, before it writes an output", () => {
  const io = (env: Record<string, string>, tags: string[] = ["2024.09.01"]) => {
    const out = tempFile("output");
    writeFileSync(out.path, "");
    return {
      out,
      io: {
        env: { GITHUB_OUTPUT: out.path, ...env },
        now: at("2024-09-04T09:00:00Z"),
        tags: () => tags,
        log: () => undefined,
      },
    };
  };

  it("a latest release the checkout has no tag for: the tags were not fetched, and the next tag could repeat one", async () => {
    // Without fetched tags, today's 2024.09.04 is missing as well: the tag made would be one that exists.
    const { out, io: run } = io({ LATEST_RELEASE: "2024.09.01" }, []);
    const error = await main(["next"], run).catch((e) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect(error.message).toBe(
      'LATEST_RELEASE "2024.09.01" is not among the checkout\'s 0 tags, so its tags were not fetched and the next tag ' +
        "could repeat one. Fix: check the app out with fetch-depth: 0 (or fetch-tags: true).",
    );
    expect(out.read()).toBe("");
  });

  it("a latest release or target ref that is no ref name: an option, a range, shell text", async () => {
    for (const [name, value] of [
      ["LATEST_RELEASE", "2024.09.01; echo"],
      ["TARGET_REF", "--upload-pack=x"],
      ["TARGET_REF", "main..release"],
    ]) {
      const { out, io: run } = io({ [name]: value });
      const error = await main(["next"], run).catch((e) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(error.message).toMatch(new RegExp(`^${name} is not a (release's tag|branch, tag or commit)`));
      expect(error.message).not.toContain(value);
      expect(out.read()).toBe("");
    }
  });

  it("an argument after the command, which it would otherwise ignore", async () => {
    const { out, io: run } = io({});
    await expect(main(["next", "2024.09.05"], run)).rejects.toThrow(
      'release-tag.ts next takes no arguments, got ["2024.09.05"]. Fix: pass its inputs through env:',
    );
    expect(out.read()).toBe("");
  });
});

describe("notes base", () => {
  const tags = ["2024.08.26", "2024.08.27", "2024.08.28", "2024.08.29", "2024.08.30", "2024.08.30.1"];

  it("is the release marked latest, so Monday's notes cover everything since prod's release, not since Friday", () => {
    expect(notesBase(tags, "2024.08.26")).toBe("2024.08.26");
  });

  it("falls back to the newest calendar tag when the latest release is unknown or its tag is gone", () => {
    expect(notesBase(tags, undefined)).toBe("2024.08.30.1");
    expect(notesBase(tags, "2024.01.01")).toBe("2024.08.30.1");
    expect(notesBase(["2024.08.30.2", "2024.08.30", "2024.08.30.10"], undefined)).toBe("2024.08.30.10");
  });

  it("is undefined for the first release", () => {
    expect(notesBase([], undefined)).toBeUndefined();
  });
});

describe("tag validation (TAG_RULES from shared-rules/image-tags.ts)", () => {
  it("accepts a short SHA for stage and a real calendar date for prod", () => {
    expect(() => validateTag("stage", "3f9c2ab")).not.toThrow();
    expect(() => validateTag("prod", "2024.09.01")).not.toThrow();
    expect(() => validateTag("prod", "2024.02.27.1")).not.toThrow();
  });

  it("refuses the wrong form, naming the environment and what it expects", () => {
    expect(() => validateTag("prod", "3f9c2ab")).toThrow(
      'TAG "3f9c2ab" cannot be deployed to prod: expected a calendar tag YYYY.MM.DD',
    );
    expect(() => validateTag("prod", "2024.02.30")).toThrow("cannot be deployed to prod");
    expect(() => validateTag("stage", "2024.09.01")).toThrow("expected a short commit SHA");
  });

  it("refuses an environment it has no rule for", () => {
    expect(() => validateTag("dev", "3f9c2ab")).toThrow(
      'ENVIRONMENT "dev" is not one this workflow deploys. Fix: choose one of: stage, prod.',
    );
    expect(() => validateTag("constructor", "3f9c2ab")).toThrow("is not one this workflow deploys");
  });

  it("writes the validated tag as a step output", async () => {
    const out = tempFile("output");
    await main(["validate"], {
      env: { ENVIRONMENT: "prod", TAG: "2024.09.01", GITHUB_OUTPUT: out.path },
      now: new Date(),
      tags: () => [],
      log: () => undefined,
    });
    expect(out.read()).toBe("tag=2024.09.01\n");
  });

  it("is a usage error without a subcommand or a required variable", async () => {
    const io = { env: {}, now: new Date(), tags: () => [], log: () => undefined };
    await expect(main([], io)).rejects.toBeInstanceOf(UsageError);
    await expect(main(["validate"], io)).rejects.toThrow("ENVIRONMENT is not set.");
  });
});

describe("release target (what the pre-release may cut a release from)", () => {
  const target = async (TARGET_REF?: string) => {
    const out = tempFile("output");
    await main(["target"], {
      env: { TARGET_REF, GITHUB_OUTPUT: out.path },
      now: new Date(),
      tags: () => [],
      log: () => undefined,
    });
    return out.read();
  };

  it("is main or a release branch, fully qualified so that a tag of the same name is never checked out instead", () => {
    expect(releaseTargetRef("main")).toBe("refs/heads/main");
    expect(releaseTargetRef("release/2024.09.01")).toBe("refs/heads/release/2024.09.01");
    expect(releaseTargetRef("refs/heads/release/stage-fix_2")).toBe("refs/heads/release/stage-fix_2");
    expect(releaseTargetRef("refs/heads/main")).toBe("refs/heads/main");
  });

  it("is exactly what the app repository's ruleset protects (release/*, one level: * matches no /)", () => {
    expect(RELEASE_BRANCH_PATTERN).toBe("release/*");
    for (const unprotected of ["release/a/b", "release/", "release/.hidden", "releases/x", "xrelease/x", "release"])
      expect(() => releaseTargetRef(unprotected), unprotected).toThrow(RefusedError);
  });

  it("refuses other branches, commits, tags and pull-request refs, saying what may be released and how", () => {
    for (const ref of [
      "feature/x",
      "8e5e406f4007fca908480587cb9893c07090f58d",
      "2024.09.01",
      "refs/tags/release/x",
      "refs/pull/12/head",
      "mainline",
    ]) {
      expect(() => releaseTargetRef(ref), ref).toThrow(
        `TARGET_REF "${ref}" is not a branch a release may be cut from: only main and the release branches (release/*`,
      );
    }
    expect(() => releaseTargetRef("feature/x")).toThrow(
      "Fix: cut a release/<name> branch from the released commit, merge the fix into it through a pull request",
    );
  });

  it("outputs the qualified ref, or nothing when there is no target (the commit stage runs)", async () => {
    expect(await target("release/2024.09.01")).toBe("ref=refs/heads/release/2024.09.01\n");
    expect(await target(undefined)).toBe("ref=\n");
    expect(await target("")).toBe("ref=\n");
  });

  it("refuses before writing anything; shell text is a usage error", async () => {
    await expect(target("feature/x")).rejects.toBeInstanceOf(RefusedError);
    await expect(target("main; rm -rf /")).rejects.toBeInstanceOf(UsageError);
  });
});
