import { describe, expect, it } from "vitest";
import { compile, extractTemplate, isTrue, requestTime } from "./model/cel";

describe("extract(): Google's definition (conditions-attribute-reference, Extract values from attributes)", () => {
  // The page's own table, for the Cloud Storage object name it uses.
  const name = "projects/_/buckets/acme-orders-aaa/objects/data_lake/orders/order_date=2019-11-03/aef87g87ae0876";
  it.each([
    ["/order_date={date}/", "2019-11-03"],
    ["buckets/{name}/", "acme-orders-aaa"],
    ["/orders/{empty}order_date", ""],
    ["{start}/objects/data_lake", "projects/_/buckets/acme-orders-aaa"],
    ["orders/{end}", "order_date=2019-11-03/aef87g87ae0876"],
    ["{all}", name],
    ["/orders/{none}/order_date=", ""],
    ["/orders/order_date=2019-11-03/{id}/data_lake", ""],
  ])("%s → %j", (template, expected) => {
    expect(extractTemplate(name, template)).toBe(expected);
    // The same through CEL, as a method on resource.name.
    const result = compile("iam", `resource.name.extract(${JSON.stringify(template)})`).evaluate({
      resource: { name },
    });
    expect(result).toEqual({ ok: true, value: expected });
  });

  it("takes the first prefix, then the first suffix after it", () => {
    expect(extractTemplate("a/x/b/y/b", "a/{v}/b")).toBe("x");
    expect(extractTemplate("serviceAccounts/monitor-pr-7-run@p.iam", "serviceAccounts/{account}@")).toBe(
      "monitor-pr-7-run",
    );
    // The suffix only before the prefix.
    expect(extractTemplate("@x serviceAccounts/abc", "serviceAccounts/{account}@")).toBe("");
  });

  it("refuses a template that is not prefix{identifier}suffix", () => {
    expect(() => extractTemplate("x", "no-braces")).toThrow(/prefix\{identifier\}suffix/);
    expect(() => extractTemplate("x", "{a}{b}")).toThrow();
    expect(() => extractTemplate("x", "{a-b}")).toThrow();
  });
});

describe("the workload identity dialects", () => {
  const claims = { repository_id: "74", ref: "refs/heads/main", event_name: "push" };

  it("maps with assertion only, and conditions see assertion and attribute", () => {
    expect(
      compile("wif-mapping", "assertion.repository_id + '|' + assertion.ref").evaluate({ assertion: claims }),
    ).toEqual({
      ok: true,
      value: "74|refs/heads/main",
    });
    const condition = compile("wif-condition", "attribute.repo == '74' && assertion.event_name == 'push'");
    expect(isTrue(condition.evaluate({ assertion: claims, attribute: { repo: "74" }, google: {} }))).toBe(true);
    expect(isTrue(condition.evaluate({ assertion: claims, attribute: { repo: "75" }, google: {} }))).toBe(false);
  });

  it("a mapping may not read attribute (it is what the mapping makes)", () => {
    expect(() => compile("wif-mapping", "attribute.x")).toThrow(/binds assertion; the expression names attribute/);
  });

  it("an absent claim errors, has() tests it, and || absorbs the error when the other side is true", () => {
    const absent = compile("wif-condition", "assertion.environment == 'prod'");
    expect(absent.evaluate({ assertion: claims, attribute: {}, google: {} }).ok).toBe(false);
    expect(isTrue(absent.evaluate({ assertion: claims, attribute: {}, google: {} }))).toBe(false);
    const guarded = compile("wif-mapping", "has(assertion.environment) ? assertion.environment : 'none'");
    expect(guarded.evaluate({ assertion: claims })).toEqual({ ok: true, value: "none" });
    const either = compile("wif-condition", "assertion.environment == 'prod' || assertion.ref == 'refs/heads/main'");
    expect(isTrue(either.evaluate({ assertion: claims, attribute: {}, google: {} }))).toBe(true);
  });

  it("the strings extension and extract are there; an unknown function throws before evaluation", () => {
    expect(compile("wif-mapping", "assertion.ref.lowerAscii()").evaluate({ assertion: { ref: "A" } })).toEqual({
      ok: true,
      value: "a",
    });
    expect(
      compile("wif-mapping", "assertion.arn.extract('assumed-role/{role}/')").evaluate({
        assertion: { arn: "x:assumed-role/r/s" },
      }),
    ).toEqual({
      ok: true,
      value: "r",
    });
    // Even on a branch the evaluation would never reach.
    expect(() => compile("wif-condition", "true || assertion.ref.sha256() == ''")).toThrow(/does not offer sha256/);
    // IAM's own functions are not the provider's.
    expect(() => compile("wif-condition", "[assertion.ref].hasOnly(['x'])")).toThrow(/does not offer hasOnly/);
  });

  it("a syntax error throws with the expression", () => {
    expect(() => compile("wif-condition", "assertion.ref ==")).toThrow(/does not parse/);
  });
});

describe("the IAM Conditions dialect", () => {
  it("resource.name, resource.type, startsWith and endsWith", () => {
    const c = compile(
      "iam",
      `resource.type == "storage.googleapis.com/Object" && resource.name.startsWith("projects/_/buckets/b/objects/a/") && resource.name.endsWith(".json")`,
    );
    const object = (name: string) => ({
      resource: { name, type: "storage.googleapis.com/Object", service: "storage.googleapis.com" },
    });
    expect(isTrue(c.evaluate(object("projects/_/buckets/b/objects/a/x.json")))).toBe(true);
    expect(isTrue(c.evaluate(object("projects/_/buckets/b/objects/b/x.json")))).toBe(false);
  });

  it("a part over an attribute the resource does not provide never grants (Support for inherited conditions)", () => {
    // Google's own example: the name check never grants on resources that provide no name (IAM resources).
    const byName = compile("iam", `resource.name.endsWith("devResource")`);
    expect(isTrue(byName.evaluate({ resource: {} }))).toBe(false);
    // Google's recommended form grants for other types that do provide resource.type...
    const scoped = compile(
      "iam",
      `resource.type != "compute.googleapis.com/Disk" || resource.name.endsWith("devResource")`,
    );
    expect(
      isTrue(scoped.evaluate({ resource: { type: "storage.googleapis.com/Bucket", name: "projects/_/buckets/x" } })),
    ).toBe(true);
    // ...and nothing on a resource that provides neither.
    expect(isTrue(scoped.evaluate({ resource: {} }))).toBe(false);
  });

  it("api.getAttribute(...).hasOnly(...) as the doc's table shows it", () => {
    const c = compile(
      "iam",
      `api.getAttribute('iam.googleapis.com/modifiedGrantsByRole', []).hasOnly(['roles/pubsub.editor', 'roles/pubsub.publisher'])`,
    );
    const granting = (roles?: string[]) =>
      isTrue(c.evaluate({ api: roles ? { "iam.googleapis.com/modifiedGrantsByRole": roles } : {} }));
    expect(granting()).toBe(true);
    expect(granting(["roles/pubsub.editor"])).toBe(true);
    expect(granting(["roles/pubsub.editor", "roles/pubsub.publisher"])).toBe(true);
    expect(granting(["roles/billing.admin"])).toBe(false);
    expect(granting(["roles/billing.admin", "roles/pubsub.editor"])).toBe(false);
  });

  it("request.time with timestamp(), date() and duration()", () => {
    const c = compile("iam", `request.time < timestamp("2030-01-01T00:00:00Z") && request.time >= date("2026-01-01")`);
    expect(isTrue(c.evaluate({ request: { time: requestTime(new Date("2026-06-01T00:00:00Z")) } }))).toBe(true);
    expect(isTrue(c.evaluate({ request: { time: requestTime(new Date("2025-06-01T00:00:00Z")) } }))).toBe(false);
    const window = compile("iam", `request.time - duration("3600s") < timestamp("2026-01-01T00:00:00Z")`);
    expect(isTrue(window.evaluate({ request: { time: requestTime(new Date("2026-01-01T00:30:00Z")) } }))).toBe(true);
  });

  it("tags and other attributes the model does not provide throw", () => {
    expect(() => compile("iam", `resource.matchTag('123/env', 'prod')`)).toThrow(/does not offer matchTag/);
    expect(() => compile("iam", `assertion.ref == 'x'`)).toThrow(/names assertion/);
  });
});
