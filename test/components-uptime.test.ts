import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../infra/engine/evaluate";
import { PROJECT, one, evaluateComponent } from "./harness";
import { UptimeAlert, type UptimeAlertArgs, checkedHost } from "../components/uptime-alert";

const CHANNEL = `projects/${PROJECT}/notificationChannels/1234567890`;
const CHECK = "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig";
const POLICY = "gcp:monitoring/alertPolicy:AlertPolicy";
/** What the app's `/__heartbeat__` answers when it is up. */
const HEALTHY_BODY = '{"success":true,"message":"OK"}';

function planAlert(host: string): Promise<Evaluation> {
  const args: UptimeAlertArgs = {
    project: PROJECT,
    displayName: "Monitor stage",
    host,
    notificationChannels: [CHANNEL],
    labels: { app: "monitor", environment: "stage" },
  };
  return evaluateComponent(() => {
    new UptimeAlert("uptime", args);
    return {};
  });
}

describe("UptimeAlert", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    // Given with stray case, spacing and a trailing dot, all of which are stripped.
    ev = await planAlert(" Monitor-Stage.allizom.org. ");
  });

  it("GETs https://<host>/__heartbeat__ every minute and expects 200", () => {
    const check = one(ev, CHECK).inputs as any;
    expect(check.monitoredResource).toEqual({
      type: "uptime_url",
      labels: { project_id: PROJECT, host: "monitor-stage.allizom.org" },
    });
    expect(check.httpCheck).toMatchObject({
      requestMethod: "GET",
      path: "/__heartbeat__",
      port: 443,
      useSsl: true,
      validateSsl: true,
      acceptedResponseStatusCodes: [{ statusValue: 200 }],
    });
    expect(check.period).toBe("60s");
    expect(check.userLabels).toEqual({ app: "monitor", environment: "stage" });
  });

  it("requires the heartbeat's success flag in the body, matching what the app answers", () => {
    const [matcher] = (one(ev, CHECK).inputs as any).contentMatchers;
    expect(matcher.matcher).toBe("MATCHES_REGEX");
    const pattern = new RegExp(matcher.content);
    expect(pattern.test(HEALTHY_BODY)).toBe(true);
    expect(pattern.test('{ "success" : true }')).toBe(true);
    expect(pattern.test('{"success":false,"message":"down"}')).toBe(false);
  });

  it("alerts on the check's failures from more than one region, to the given channels", () => {
    const policy = one(ev, POLICY).inputs as any;
    const [condition] = policy.conditions;
    const threshold = condition.conditionThreshold;
    expect(threshold.filter).toContain('metric.type="monitoring.googleapis.com/uptime_check/check_passed"');
    expect(threshold.filter).toContain('resource.type="uptime_url"');
    expect(threshold.aggregations).toEqual([
      {
        alignmentPeriod: "300s",
        perSeriesAligner: "ALIGN_NEXT_OLDER",
        crossSeriesReducer: "REDUCE_COUNT_FALSE",
        groupByFields: ["resource.label.host"],
      },
    ]);
    expect(threshold).toMatchObject({ comparison: "COMPARISON_GT", thresholdValue: 1 });
    expect(policy.notificationChannels).toEqual([CHANNEL]);
    expect(policy.userLabels).toEqual({ app: "monitor", environment: "stage" });
  });

  it("tells whoever is paged which URL failed", () => {
    const policy = one(ev, POLICY).inputs as any;
    expect(policy.documentation.subject).toContain("https://monitor-stage.allizom.org/__heartbeat__");
    expect(policy.documentation.content).toContain("https://monitor-stage.allizom.org/__heartbeat__");
  });

  it("refuses a URL in place of the hostname, and says which hostname to pass", async () => {
    await expect(planAlert("https://monitor.mozilla.org/")).rejects.toThrow(
      /UptimeAlert "uptime": host must be a hostname .*got "https:\/\/monitor.mozilla.org\/"; pass "monitor.mozilla.org"/,
    );
  });
});

describe("checkedHost", () => {
  it.each([
    ["monitor.mozilla.org", "monitor.mozilla.org"],
    ["MONITOR.mozilla.org.", "monitor.mozilla.org"],
    [" monitor-stage.allizom.org\n", "monitor-stage.allizom.org"],
  ])("takes %j as %s", (given, host) => {
    expect(checkedHost(given)).toBe(host);
  });

  it.each([
    "monitor.mozilla.org:443",
    "monitor.mozilla.org/__heartbeat__",
    "http://localhost",
    "localhost",
    "",
    "bad_host.org",
  ])("refuses %j", (given) => {
    expect(() => checkedHost(given)).toThrow(/host must be a hostname/);
  });
});
