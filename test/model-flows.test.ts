import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { REUSABLE_WORKFLOWS } from "../infra/pipeline-contract";
import { ROOT } from "./harness";
import {
  ISSUE_ITEMS,
  type IssueItem,
  KNOWN_BROKEN,
  caseName,
  flowCases,
  flowTable,
  unexplained,
} from "./model/flow-cases";
import { type FlowResult, pullRequestReach, walkFlow } from "./model/flows";
import { IamModel } from "./model/gcp-iam";
import { jobModels } from "./model/workflows";
import { type Job, workflowFile } from "./workflow-files";
import { type World, loadWorld } from "./model/world";

// Each delivery flow, for each event that starts it, walked through the workflow files, GitHub's token, the
// workload identity providers, IAM and the state backend as the stacks register them (test/model/). A flow works
// when every job it runs passes every check and it gets to what it is for; KNOWN_BROKEN names the issue items the
// others wait for.

const CASES = flowCases();
/** Where the table is written for the README (which must show the same table). */
const TABLE_FILE = "docs/flows.md";
const START = "<!-- flow-table:start -->";
const END = "<!-- flow-table:end -->";
const MARKERS = new RegExp(`${START}\n([\\s\\S]*?)\n?${END}`);

let world: World;
const results = new Map<string, FlowResult>();
beforeAll(async () => {
  world = await loadWorld();
  for (const c of CASES) results.set(caseName(c), walkFlow(world, c));
});

describe.each(CASES.map((c) => [caseName(c), c] as const))("%s", (name, c) => {
  const broken: readonly IssueItem[] | undefined = KNOWN_BROKEN[name];
  if (broken === undefined) {
    it(c.goals.length === 0 ? "reaches no identity" : "works", () => {
      const result = results.get(name)!;
      expect(result.problems).toEqual([]);
      expect(result.works).toBe(true);
    });
  } else {
    it(`is broken only by ${broken.join(", ")}, each shown by a problem`, () => {
      const result = results.get(name)!;
      expect(result.works).toBe(false);
      expect(unexplained(result.problems, broken), "a problem no listed item explains").toEqual([]);
      for (const item of broken) {
        const shown = result.problems.some((p) => ISSUE_ITEMS[item].shows.test(p));
        expect(shown, `item ${item} no longer shows: remove it from KNOWN_BROKEN["${name}"]`).toBe(true);
      }
    });
  }
});

describe("only for whom it should", () => {
  it("no pull request reaches stage's or prod's deployer, or prod's state or secrets without a reviewer", () => {
    const files = [...Object.values(REUSABLE_WORKFLOWS), "config-preview.yml", "config-apply.yml"];
    const reach = pullRequestReach(world, files);
    // issue 14, "Only for whom it should": the review identity decrypts prod's state from any PR of this repository.
    const known = KNOWN_BROKEN["config preview › PR (branch of this repository)"]?.includes("only for whom");
    if (known) {
      expect(reach.length).toBeGreaterThan(0);
      for (const line of reach) expect(line).toMatch(/^mozilla\/monitor-delivery PR, environment review: /);
    } else {
      expect(reach).toEqual([]);
    }
  });

  it("each flow that deploys reaches exactly its own deployer", () => {
    const expected: Record<string, string[]> = {
      "preview up": ["preview"],
      "preview destroy": ["preview"],
      sweeper: ["preview"],
      stage: ["stage"],
      "pre-release": ["stage"],
      "config apply": ["previews", "stage", "prod"],
    };
    const deployers = (world.pipeline.outputs.deployers as { value: Record<string, string> }).value;
    for (const [name, result] of results) {
      const want = result.case.inputs?.environment ? [result.case.inputs.environment] : expected[result.case.flow];
      if (!want || result.case.goals.length === 0) continue;
      // A flow whose deploying job does not run yet (KNOWN_BROKEN) reaches nothing.
      if (KNOWN_BROKEN[name] && result.identities.length === 0) continue;
      expect(result.identities, name).toEqual(want.map((e) => deployers[e]));
    }
    const prod = results.get("prod deploy › by hand: prod, a calendar tag")!;
    expect(prod.identities).toEqual([deployers.prod]);
    expect(prod.jobs.find((j) => j.identity)?.reviewers, "prod's deploy waits for its reviewers").toBeGreaterThan(0);
  });

  it("each flow that only reads reaches the read-only identity of each stack, prod's behind reviewers on a PR", () => {
    const reviewers = (world.pipeline.outputs.reviewers as { value: { review: string; reviewProd: string } }).value;
    const byStack = (name: string) =>
      Object.fromEntries(
        results
          .get(name)!
          .jobs.filter((j) => j.identity)
          .map((j) => [/\((\w+),/.exec(j.name)![1], { identity: j.identity, reviewers: j.reviewers }]),
      );
    expect(byStack("config preview › PR (branch of this repository)")).toEqual({
      stage: { identity: reviewers.review, reviewers: 0 },
      previews: { identity: reviewers.review, reviewers: 0 },
      prod: { identity: reviewers.reviewProd, reviewers: expect.any(Number) },
    });
    const prodPreview = results
      .get("config preview › PR (branch of this repository)")!
      .jobs.find((j) => j.name.includes("(prod,"))!;
    expect(prodPreview.reviewers, "a PR's preview of prod waits for the prod reviewers").toBeGreaterThan(0);
    for (const event of ["schedule", "by hand"]) {
      expect(byStack(`drift › ${event}`)).toEqual({
        stage: { identity: reviewers.review, reviewers: 0 },
        previews: { identity: reviewers.review, reviewers: 0 },
        prod: { identity: reviewers.reviewProd, reviewers: 0 },
      });
    }
  });
});

describe("the walk fails a flow", () => {
  it("whose deployer may not write the stack's lock (locks live under organization/<project>/<stack>/)", () => {
    // The state grants as they were before the lock prefix named the fully qualified stack.
    const before = structuredClone(world.pipeline);
    for (const r of before.registrations) {
      const condition = (r.inputs as { condition?: { expression: string } }).condition;
      if (condition) condition.expression = condition.expression.replaceAll("locks/organization/", "locks/");
    }
    const stale: World = { ...world, iam: IamModel.fromEvaluations([before]) };
    const c = CASES.find((x) => caseName(x) === "prod deploy › by hand: stage, a short SHA")!;
    expect(walkFlow(stale, c).problems).toContainEqual(
      expect.stringMatching(
        / up: storage\.objects\.create on .*\/\.pulumi\/locks\/organization\/monitor\/stage\/.* denied/,
      ),
    );
  });

  // The workflows as they were before they used the pipeline's environments: prod read with the `review` identity.
  it.each([
    ["config preview › PR (branch of this repository)", "config-preview.yml", "preview"],
    ["drift › schedule", "drift.yml", "drift"],
  ])("%s, when prod runs in the review environment", (name, file, jobId) => {
    const job = workflowFile("infra", file).workflow.jobs[jobId] as { strategy?: Job["strategy"] };
    const strategy = job.strategy;
    job.strategy = { matrix: { stack: ["stage", "prod"], include: [{ environment: "review" }] } };
    try {
      const result = walkFlow(
        world,
        CASES.find((c) => caseName(c) === name)!,
      );
      expect(result.works).toBe(false);
      expect(result.problems.filter((p) => ISSUE_ITEMS.environments.shows.test(p))).not.toEqual([]);
    } finally {
      job.strategy = strategy;
    }
  });
});

describe("env", () => {
  it("every script step passes every variable its script requires; every needs.*.outputs.* exists", () => {
    const missing = jobModels().flatMap((j) => [
      ...j.envChecks
        .filter((e) => e.missing.length > 0)
        .map((e) => `${j.file.path}#${j.id} › ${e.step}: ${e.script} needs ${e.missing.join(", ")}`),
      ...j.needsRefs
        .filter((r) => !r.exists)
        .map((r) => `${j.file.path}#${j.id}: needs.${r.job}.outputs.${r.output} does not exist`),
    ]);
    expect(missing).toEqual([]);
  });
});

describe("the table", () => {
  it(`is printed, written to ${TABLE_FILE}, and is the README's`, () => {
    const table = flowTable(CASES.map((c) => results.get(caseName(c))!));
    console.log(`\nflow × event → identity, works?\n${table}\n`);
    const block = (text: string) => MARKERS.exec(text)?.[1];
    const page = readFileSync(join(ROOT, TABLE_FILE), "utf8");
    expect(block(page), `${TABLE_FILE} has the flow-table markers`).toBeDefined();
    writeFileSync(
      join(ROOT, TABLE_FILE),
      page.replace(MARKERS, () => `${START}\n${table}\n${END}`),
    );
    const readme = block(readFileSync(join(ROOT, "README.md"), "utf8"));
    expect(readme, "README.md has the flow-table markers").toBeDefined();
    expect(readme, `README's flow table differs: copy it from ${TABLE_FILE}`).toBe(table);
  });
});
