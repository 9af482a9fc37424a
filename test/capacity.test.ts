import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { previewTables } from "../bench/cost";
import {
  type CapacityInputs,
  PRINCIPALS_PER_POLICY,
  SERVICE_ACCOUNTS_PER_PROJECT,
  capacityRefusal,
  countCapacity,
} from "../infra/engine/capacity";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { loadStackConfig } from "../infra/engine/config-files";
import { mockProjectNumber } from "../infra/engine/mocks";
import { plan } from "../infra/plan-cli";
import type { PreviewsSpec } from "../infra/spec";
import { previewConnections, tierFor } from "../shared-rules/connection-budget";
import { ROOT, handMadeEvaluation, handMadeRegistration, refusedStack } from "./harness";

const PREVIEWS = "moz-fx-monitor-previews";
const committedPreview = () => plan({ stack: "previews", json: true, fresh: false, overrides: {} }, ROOT);
/** The committed monitor:preview with some fields changed, as a --config override. */
const previewConfig = (change: Record<string, unknown>) => ({
  "monitor:preview": JSON.stringify({
    ...JSON.parse(loadStackConfig(ROOT, "previews").config["monitor:preview"]),
    ...change,
  }),
});

describe("the shared instance's connection budget", () => {
  it("counts every active preview busy (its instances and migration at full pools) against the tier's default", () => {
    // 20 x (1 + 1) x 10 + 10 = 410 of db-custom-4-16384's 500 (16 GiB: the 15-30 GiB row).
    expect(previewConnections("db-custom-4-16384", 20, 1, 10)).toEqual({
      used: 410,
      limit: 500,
      perPreview: 20,
      fits: 24,
    });
    // The stage-era sizing: 10 x (2 + 1) x 10 + 10 = 310 against db-custom-1-3840's 100, which holds 3.
    expect(previewConnections("db-custom-1-3840", 10, 2, 10)).toEqual({
      used: 310,
      limit: 100,
      perPreview: 30,
      fits: 3,
    });
    expect(previewConnections("db-custom-1-2048", 20, 1, 10).limit).toBeUndefined();
  });

  it("suggests the smallest tier whose default holds a budget", () => {
    expect(tierFor(410)).toBe("db-custom-4-16384");
    expect(tierFor(510)).toBe("db-custom-8-32768");
    expect(tierFor(5000)).toBeUndefined();
  });

  it("refuses a previews config whose busy previews exceed the tier's default, before anything is registered", async () => {
    const { error, registrations } = await refusedStack("previews", previewConfig({ maxActive: 25 }));
    expect(registrations).toEqual([]);
    // Given with --config, the value is the stack file's (the CLI writes it there), so the message names that file.
    expect(error.message).toContain(
      "monitor:preview.maxActive in Pulumi.previews.yaml: 25 active previews need 510 connections on the shared preview " +
        "instance (25 x (1 instance + 1 migration task) x pool 10 + 10 reserved), over the 500 that db-custom-4-16384 " +
        "is sized for",
    );
    expect(error.message).toContain(
      "Fix: lower monitor:preview.maxActive to at most 24, or set monitor:preview.instanceTier to db-custom-8-32768",
    );
  });

  it("refuses a tier whose default it does not know, since the budget could not be checked", async () => {
    // A tier whose name does not say its memory: the tier rules let such names through (other machine series'
    // lists grow, and the API names them at create time), but no documented default is known for it here.
    const { error } = await refusedStack("previews", previewConfig({ instanceTier: "db-example-standard-4" }));
    expect(error.message).toMatch(
      /monitor:preview\.instanceTier in Pulumi\.previews\.yaml: db-example-standard-4 is not a tier whose default max_connections is known here .*Fix: set monitor:preview\.instanceTier to a db-custom-<vCPUs>-<MiB> tier of at least 3840 MiB, e\.g\. db-custom-4-16384/,
    );
  });
});

describe("npm run plan -- previews: the capacity of the committed config", () => {
  it("has a top-level capacity object: open and active previews, and every limit counted with its source", async () => {
    const { text, refused } = await committedPreview();
    expect(refused).toBe(false);
    const { capacity } = JSON.parse(text);
    expect(capacity.openPreviews).toBe(100);
    expect(capacity.activePreviews).toBe(20);
    expect(capacity.warnings).toEqual([]);
    const figures = capacity.limits.map((l: any) => [l.kind, l.on, l.used, l.limit, l.key, l.fitsUpTo, l.source]);
    expect(figures).toEqual([
      [
        "connections",
        `${PREVIEWS}:us-central1:monitor-previews`,
        410,
        500,
        "monitor:preview.maxActive",
        24,
        "https://cloud.google.com/sql/docs/postgres/quotas",
      ],
      // pr-1 has one service account in the project; the CI identities live in identityProject.
      [
        "service accounts",
        `projects/${PREVIEWS}`,
        100,
        100,
        "monitor:preview.maxOpen",
        100,
        SERVICE_ACCOUNTS_PER_PROJECT.source,
      ],
      // pr-1's cloudsql.client binding, and the pipeline's grants there: to the two deployers (the preview
      // deployer's admission and database roles among them), the reviewer, and the platform's database admin's
      // cloudsql.client (its account lives in identityProject).
      ["principals", `projects/${PREVIEWS}`, 127, 1500, "monitor:preview.maxOpen", 1473, PRINCIPALS_PER_POLICY.source],
      // Publisher and viewer per preview, and the preview deployer's grantor binding.
      [
        "principals",
        `projects/${PREVIEWS}/topics/monitor-preview-hibp-breaches`,
        201,
        1500,
        "monitor:preview.maxOpen",
        749,
        PRINCIPALS_PER_POLICY.source,
      ],
      ...["oauth-client-secret", "hibp-kanon-api-token"].map((secret) => [
        "principals",
        `projects/${PREVIEWS}/secrets/monitor-preview-${secret}`,
        101,
        1500,
        "monitor:preview.maxOpen",
        1499,
        PRINCIPALS_PER_POLICY.source,
      ]),
    ]);
    expect(capacity.limits[0].counted).toBe(
      "20 active previews x (1 instance + 1 migration task) x pool 10 + 10 reserved, against db-custom-4-16384's " +
        "default max_connections (the instance's flag: 500)",
    );
    expect(capacity.limits[1].counted).toBe(
      "100 open previews x 1 (pr-1's) + 0 (the previews stack's) + 0 (the pipeline stack's)",
    );
  });

  it("prints the same as a table in the text plan, with no warning; other stacks print no capacity", async () => {
    const { text } = await plan({ stack: "previews", json: false, fresh: false, overrides: {} }, ROOT);
    const table = text.slice(text.indexOf("\nPreview capacity: "));
    expect(table).toMatch(/^\nPreview capacity: 100 open previews \(monitor:preview\.maxOpen\), 20 active/);
    expect(table).toMatch(/\n {2}limit +used +of +fits +counted\n/);
    expect(table).toMatch(
      /\n {2}connections on moz-fx-monitor-previews:us-central1:monitor-previews +410 +500 +maxActive <= 24 +20 active previews/,
    );
    expect(table).toMatch(/\n {2}service accounts on projects\/moz-fx-monitor-previews +100 +100 +maxOpen <= 100 /);
    expect(table).toMatch(/\/topics\/monitor-preview-hibp-breaches +201 +1500 +maxOpen <= 749 /);
    expect(text).not.toMatch(/warning:/);
    const stage = await plan({ stack: "stage", json: false, fresh: false, overrides: {} }, ROOT);
    expect(stage.text).not.toMatch(/Preview capacity/);
  });

  it("counts from the program: one more sandbox secret is one more shared policy, with pr-1 reading it", async () => {
    const overrides = previewConfig({
      sandboxSecrets: ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN", "HIBP_API_TOKEN"],
    });
    const { capacity } = JSON.parse(
      (await plan({ stack: "previews", json: true, fresh: false, overrides }, ROOT)).text,
    );
    expect(capacity.limits.map((l: any) => l.on)).toContain(
      `projects/${PREVIEWS}/secrets/monitor-preview-hibp-api-token`,
    );
    expect(capacity.limits.find((l: any) => l.on.endsWith("hibp-api-token")).used).toBe(101);
  });

  it("refuses more open previews than the project has service accounts for, naming the stack, key and fix", async () => {
    const refusal = await plan(
      { stack: "previews", json: false, fresh: false, overrides: previewConfig({ maxOpen: 101 }) },
      ROOT,
    ).then(
      () => undefined,
      (err: Error) => err,
    );
    expect(refusal?.message).toBe(
      'Stack "previews" does not fit the previews project:\n' +
        // Named where the value came from, as config refusals name it (an override lands in the stack's file).
        `  - monitor:preview.maxOpen in Pulumi.previews.yaml: needs 101 service accounts on projects/${PREVIEWS} (101 open ` +
        "previews x 1 (pr-1's) + 0 (the previews stack's) + 0 (the pipeline stack's)), over the 100 allowed " +
        "(https://cloud.google.com/iam/quotas). Fix: lower monitor:preview.maxOpen to at most 100",
    );
  });

  it("warns one active preview before the line: at 24, the most db-custom-4-16384 holds", async () => {
    const { text } = await plan(
      { stack: "previews", json: false, fresh: false, overrides: previewConfig({ maxActive: 24 }) },
      ROOT,
    );
    expect(text).toContain(
      "warning: monitor:preview.maxActive 24 is the most db-custom-4-16384 holds (490 of 500 connections): one more " +
        "active preview needs 20 more and is refused; db-custom-8-32768 would hold it.",
    );
  });
});

describe("countCapacity", () => {
  const spec = {
    kind: "previews",
    stack: "previews",
    project: PREVIEWS,
    region: "us-central1",
    labels: {},
    image: { repository: "" },
    preview: {
      sandboxSecrets: ["OAUTH_CLIENT_SECRET"],
      maxOpen: 100,
      maxActive: 20,
      ttlDays: 7,
      maxInstances: 1,
      instanceTier: "db-custom-4-16384",
      connectionPool: 10,
    },
  } as unknown as PreviewsSpec;
  let n = 0;
  const r = (type: string, inputs: Record<string, unknown>, extra: Partial<Registration> = {}): Registration => ({
    ...handMadeRegistration(type, inputs, { name: `r${++n}` }),
    ...extra,
  });
  const evaluation = (registrations: Registration[]): Evaluation => handMadeEvaluation(registrations, "x");
  const ACCOUNT = "gcp:serviceaccount/account:Account";
  const TOPIC_MEMBER = "gcp:pubsub/topicIAMMember:TopicIAMMember";
  const inputs = (
    previewRegs: Registration[],
    platform: Registration[] = [],
    ci: Registration[] = [],
  ): CapacityInputs => ({
    spec,
    preview: evaluation(previewRegs),
    previews: evaluation(platform),
    pipeline: evaluation(ci),
  });

  it("counts accounts in the previews project only, by their project or their explicit provider's", () => {
    const provider = r("pulumi:providers:gcp", { project: PREVIEWS });
    const c = countCapacity(
      inputs(
        [provider, r(ACCOUNT, {}, { provider: provider.urn }), r(ACCOUNT, { project: "moz-fx-monitor-nonprod" })],
        [r(ACCOUNT, { project: PREVIEWS })],
      ),
    );
    const accounts = c.limits.find((l) => l.kind === "service accounts")!;
    expect([accounts.used, accounts.fitsUpTo]).toEqual([101, 99]);
  });

  it("counts every occurrence of a principal on a shared policy, whatever form names its resource", () => {
    const number = mockProjectNumber(PREVIEWS);
    const secret = "monitor-preview-oauth-client-secret";
    const c = countCapacity(
      inputs(
        [
          r(TOPIC_MEMBER, { project: PREVIEWS, topic: "monitor-preview-hibp-breaches", member: "a" }),
          r(TOPIC_MEMBER, { topic: `projects/${PREVIEWS}/topics/monitor-preview-hibp-breaches`, member: "a" }),
          r("gcp:secretmanager/secretIamMember:SecretIamMember", { secretId: `projects/${number}/secrets/${secret}` }),
          // Another preview's own secret is not shared: not counted on the sandbox secret's policy.
          r("gcp:secretmanager/secretIamMember:SecretIamMember", {
            secretId: `projects/${number}/secrets/monitor-pr-1-x`,
          }),
        ],
        [
          r("gcp:secretmanager/secretIamBinding:SecretIamBinding", {
            secretId: `${PREVIEWS}/${secret}`,
            members: ["a", "b"],
          }),
        ],
      ),
    );
    const on = (suffix: string) => c.limits.find((l) => l.on.endsWith(suffix))!;
    expect(on("/topics/monitor-preview-hibp-breaches").used).toBe(200);
    expect(on(`/secrets/${secret}`).used).toBe(102);
  });

  it("refuses every limit exceeded, each with the largest value that fits", () => {
    // Eight topic members per preview: 100 x 8 = 800 fits; 200 x 8 = 1,600 does not.
    const eight = Array.from({ length: 8 }, () =>
      r(TOPIC_MEMBER, { project: PREVIEWS, topic: "monitor-preview-hibp-breaches" }),
    );
    expect(capacityRefusal("previews", countCapacity(inputs(eight)))).toBeUndefined();
    const wide = { ...spec, preview: { ...spec.preview, maxOpen: 200 } } as PreviewsSpec;
    const refusal = capacityRefusal("previews", countCapacity({ ...inputs(eight), spec: wide }));
    expect(refusal?.message).toMatch(
      /^Stack "previews" does not fit the previews project:\n {2}- monitor:preview\.maxOpen in Pulumi\.yaml: needs 1600 principals on projects\/moz-fx-monitor-previews\/topics\/monitor-preview-hibp-breaches .* Fix: lower monitor:preview\.maxOpen to at most 187$/,
    );
  });
});

describe("docs/previews.md's capacity and cost tables", () => {
  it("are the committed config's (regenerate them with `npx ts-node --transpile-only bench/cost.ts`)", async () => {
    const page = readFileSync(join(ROOT, "docs/previews.md"), "utf8");
    const section = /<!-- preview-capacity:start -->\n([^]*?)\n<!-- preview-capacity:end -->/.exec(page);
    expect(section, "docs/previews.md has the preview-capacity markers").not.toBeNull();
    expect(section![1]).toBe(await previewTables(ROOT));
  });
});
