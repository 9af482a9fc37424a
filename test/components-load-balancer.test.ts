import { beforeAll, describe, expect, it } from "vitest";
import {
  HIBP_WEBHOOK_PATH,
  LoadBalancer,
  type LoadBalancerArgs,
  PRIORITIES,
  WAF_RULES,
  loadBalancerProblems,
} from "../components/load-balancer";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { mockAddress } from "../infra/engine/mocks";
import { PROJECT, REGION, SERVICE, deletedBefore, evaluateComponent, evaluateStack, ofType, one } from "./harness";

const T = {
  address: "gcp:compute/globalAddress:GlobalAddress",
  neg: "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup",
  armor: "gcp:compute/securityPolicy:SecurityPolicy",
  backend: "gcp:compute/backendService:BackendService",
  urlMap: "gcp:compute/uRLMap:URLMap",
  httpsProxy: "gcp:compute/targetHttpsProxy:TargetHttpsProxy",
  httpProxy: "gcp:compute/targetHttpProxy:TargetHttpProxy",
  rule: "gcp:compute/globalForwardingRule:GlobalForwardingRule",
  tls: "gcp:compute/sSLPolicy:SSLPolicy",
  auth: "gcp:certificatemanager/dnsAuthorization:DnsAuthorization",
  cert: "gcp:certificatemanager/certificate:Certificate",
  map: "gcp:certificatemanager/certificateMap:CertificateMap",
  entry: "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry",
};

const ARGS: LoadBalancerArgs = {
  namePrefix: "monitor-prod",
  region: REGION,
  serviceName: "monitor-prod",
  domain: "monitor.mozilla.org",
  labels: { app: "monitor", environment: "prod" },
};

function plan(args: LoadBalancerArgs): Promise<{ ev: Evaluation; outputs: Record<string, unknown> }> {
  return evaluateComponent(() => {
    const lb = new LoadBalancer("lb", args);
    return { ip: lb.ipAddress, dns: lb.dnsAuthorizationRecord };
  }).then((ev) => ({ ev, outputs: Object.fromEntries(Object.entries(ev.outputs).map(([k, o]) => [k, o.value])) }));
}

const inputs = (r: Registration) => r.inputs as any;
const byName = (ev: Evaluation, type: string, name: string) => ofType(ev, type).find((r) => r.inputs.name === name)!;
const path = (type: string, collection: string, name: string) =>
  type === "regional"
    ? `projects/${PROJECT}/regions/${REGION}/${collection}/${name}`
    : `projects/${PROJECT}/global/${collection}/${name}`;

describe("LoadBalancer", () => {
  let ev: Evaluation;
  let outputs: Record<string, unknown>;
  beforeAll(async () => {
    ({ ev, outputs } = await plan(ARGS));
  });

  it("sends HTTPS to the Cloud Run service through a serverless NEG in its region", () => {
    expect(inputs(one(ev, T.neg))).toEqual({
      name: "monitor-prod-neg",
      region: REGION,
      networkEndpointType: "SERVERLESS",
      cloudRun: { service: "monitor-prod" },
    });
    const backend = inputs(one(ev, T.backend));
    expect(backend).toMatchObject({
      name: "monitor-prod-backend",
      loadBalancingScheme: "EXTERNAL_MANAGED",
      backends: [{ group: path("regional", "networkEndpointGroups", "monitor-prod-neg") }],
      securityPolicy: `https://www.googleapis.com/compute/v1/${path("global", "securityPolicies", "monitor-prod-armor")}`,
      logConfig: { enable: true },
    });
    // Serverless NEGs refuse these.
    for (const field of ["healthChecks", "timeoutSec", "portName"]) expect(backend[field], field).toBeUndefined();
    expect(backend.backends[0].balancingMode).toBeUndefined();
    const urlMap = byName(ev, T.urlMap, "monitor-prod-urlmap");
    expect(inputs(urlMap).defaultService).toBe(path("global", "backendServices", "monitor-prod-backend"));
  });

  it("terminates TLS 1.2+ on port 443 of the reserved address with a Certificate Manager certificate for the domain", () => {
    expect(inputs(one(ev, T.address))).toMatchObject({
      name: "monitor-prod-ip",
      addressType: "EXTERNAL",
      ipVersion: "IPV4",
    });
    expect(inputs(one(ev, T.auth))).toMatchObject({ domain: "monitor.mozilla.org", type: "FIXED_RECORD" });
    expect(inputs(one(ev, T.cert))).toMatchObject({
      scope: "DEFAULT",
      managed: {
        domains: ["monitor.mozilla.org"],
        dnsAuthorizations: [`projects/${PROJECT}/locations/global/dnsAuthorizations/monitor-prod-dns-auth`],
      },
    });
    expect(inputs(one(ev, T.entry))).toMatchObject({
      map: "monitor-prod-certmap",
      hostname: "monitor.mozilla.org",
      certificates: [`projects/${PROJECT}/locations/global/certificates/monitor-prod-cert`],
    });
    const proxy = one(ev, T.httpsProxy);
    expect(inputs(proxy)).toMatchObject({
      urlMap: path("global", "urlMaps", "monitor-prod-urlmap"),
      // The only form the API accepts for an EXTERNAL_MANAGED proxy (targetHttpsProxy.d.ts).
      certificateMap: `//certificatemanager.googleapis.com/projects/${PROJECT}/locations/global/certificateMaps/monitor-prod-certmap`,
    });
    expect(inputs(proxy).sslCertificates).toBeUndefined();
    expect(proxy.dependsOn).toContain(one(ev, T.entry).urn);
    expect(inputs(one(ev, T.tls))).toMatchObject({ profile: "MODERN", minTlsVersion: "TLS_1_2" });
    expect(inputs(proxy).sslPolicy).toContain("/sslPolicies/monitor-prod-tls");

    const https = byName(ev, T.rule, "monitor-prod-https");
    expect(inputs(https)).toMatchObject({
      ipAddress: mockAddress("monitor-prod-ip"),
      portRange: "443",
      ipProtocol: "TCP",
      loadBalancingScheme: "EXTERNAL_MANAGED",
      target: path("global", "targetHttpsProxies", "monitor-prod-https-proxy"),
    });
  });

  it("answers plain HTTP on the same address with a permanent redirect to HTTPS that keeps the query", () => {
    const redirect = byName(ev, T.urlMap, "monitor-prod-redirect");
    expect(inputs(redirect).defaultUrlRedirect).toEqual({
      httpsRedirect: true,
      stripQuery: false,
      redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
    });
    expect(inputs(redirect).defaultService).toBeUndefined();
    expect(inputs(one(ev, T.httpProxy)).urlMap).toBe(path("global", "urlMaps", "monitor-prod-redirect"));
    const http = byName(ev, T.rule, "monitor-prod-http");
    expect(inputs(http)).toMatchObject({
      ipAddress: mockAddress("monitor-prod-ip"),
      portRange: "80",
      loadBalancingScheme: "EXTERNAL_MANAGED",
      target: path("global", "targetHttpProxies", "monitor-prod-http-proxy"),
    });
    expect(ofType(ev, T.rule)).toHaveLength(2);
  });

  it("runs the OWASP rules, then rate-limits the HIBP webhook per IP, then allows the rest", () => {
    const policy = inputs(one(ev, T.armor));
    expect(policy.type).toBe("CLOUD_ARMOR");
    expect(policy.advancedOptionsConfig.jsonParsing).toBe("STANDARD");
    const rules: any[] = [...policy.rules].sort((a, b) => a.priority - b.priority);
    const waf = rules.filter((r) => r.match.expr?.expression.startsWith("evaluatePreconfiguredWaf"));
    expect(waf.map((r) => r.match.expr.expression)).toEqual(
      WAF_RULES.map((name) => `evaluatePreconfiguredWaf('${name}', {'sensitivity': 1})`),
    );
    expect(WAF_RULES).toEqual(expect.arrayContaining(["sqli-v33-stable", "xss-v33-stable"]));
    for (const r of waf) expect(r.action).toBe("deny(403)");

    const throttle = rules.find((r) => r.action === "throttle");
    expect(throttle).toMatchObject({
      priority: PRIORITIES.rateLimit,
      match: { expr: { expression: `request.path.startsWith('${HIBP_WEBHOOK_PATH}')` } },
      rateLimitOptions: {
        conformAction: "allow",
        exceedAction: "deny(429)",
        enforceOnKey: "IP",
        rateLimitThreshold: { count: 30, intervalSec: 60 },
      },
    });
    // A conforming request is allowed at once, so the OWASP rules must come first to see the webhook's requests.
    expect(Math.max(...waf.map((r) => r.priority))).toBeLessThan(throttle.priority);

    expect(rules.at(-1)).toEqual({
      priority: 2147483647,
      action: "allow",
      description: "default rule",
      match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
    });
    const priorities = rules.map((r) => r.priority);
    expect(new Set(priorities).size).toBe(priorities.length);
    for (const p of priorities) expect(Number.isInteger(p) && p >= 0 && p <= 2147483647).toBe(true);
  });

  it("names everything within GCP's limits (RFC 1035, at most 63)", () => {
    const names = ev.registrations.filter((r) => r.custom).map((r) => String(r.inputs.name));
    expect(names).toHaveLength(Object.keys(T).length + 2); // two URL maps, two forwarding rules
    for (const name of names) expect(name, name).toMatch(/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });

  it("retains only what DNS points at by default, and exports it", () => {
    expect(
      ev.registrations
        .filter((r) => r.protect)
        .map((r) => r.type)
        .sort(),
    ).toEqual([T.auth, T.address].sort());
    expect(outputs.ip).toBe(mockAddress("monitor-prod-ip"));
    expect(outputs.dns).toEqual({
      name: "_acme-challenge.monitor.mozilla.org.",
      type: "CNAME",
      data: expect.stringMatching(/\.authorize\.certificatemanager\.goog\.$/),
    });
  });

  it("takes another rate limit and sensitivity", async () => {
    const { ev: other } = await plan({
      ...ARGS,
      retain: false,
      rateLimit: { count: 5, intervalSec: 10 },
      wafSensitivity: 2,
    });
    const rules: any[] = inputs(one(other, T.armor)).rules;
    expect(rules.find((r) => r.action === "throttle").rateLimitOptions.rateLimitThreshold).toEqual({
      count: 5,
      intervalSec: 10,
    });
    expect(rules[0].match.expr.expression).toContain("{'sensitivity': 2}");
    expect(other.registrations.filter((r) => r.protect)).toEqual([]);
  });

  it("refuses names, rate limits and sensitivities GCP would refuse, before creating anything", async () => {
    expect(loadBalancerProblems(ARGS)).toEqual([]);
    expect(loadBalancerProblems({ ...ARGS, namePrefix: "Monitor_Prod" })[0]).toMatch(
      /namePrefix "Monitor_Prod" must be lowercase/,
    );
    expect(loadBalancerProblems({ ...ARGS, namePrefix: `m${"x".repeat(51)}` })[0]).toMatch(/at most 51 characters/);
    expect(loadBalancerProblems({ ...ARGS, rateLimit: { count: 10, intervalSec: 45 } })[0]).toMatch(
      /intervalSec of 10, 30, 60/,
    );
    expect(loadBalancerProblems({ ...ARGS, wafSensitivity: 0 })[0]).toMatch(/wafSensitivity must be 1, 2, 3 or 4/);
    let error: Error | undefined;
    const refused = await evaluateComponent(() => {
      try {
        new LoadBalancer("lb", { ...ARGS, namePrefix: "-bad" });
      } catch (err) {
        error = err as Error;
      }
      return {};
    });
    expect(error?.message).toMatch(/^LoadBalancer "lb": namePrefix "-bad"/);
    expect(refused.registrations).toEqual([]);
  });
});

describe.each(["stage", "prod"] as const)("%s behind its load balancer", (stack) => {
  const domain = stack === "stage" ? "monitor-stage.allizom.org" : "monitor.mozilla.org";
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evaluateStack(stack, stack === "stage" ? { "monitor:imageTag": "abc1234" } : {});
  });

  it("fronts the web service with a certificate for its domain, and exports the IP DNS must point at", () => {
    expect(inputs(one(ev, T.neg)).cloudRun).toEqual({ service: `monitor-${stack}` });
    expect(inputs(one(ev, T.cert)).managed.domains).toEqual([domain]);
    expect(ev.outputs.loadBalancerIp).toEqual({ value: mockAddress(`monitor-${stack}-ip`), secret: false });
    expect(ev.outputs.dnsAuthorization.value).toMatchObject({ name: `_acme-challenge.${domain}.`, type: "CNAME" });
    // The NEG names the service, which must exist first.
    expect(deletedBefore(ev, one(ev, T.neg), one(ev, SERVICE))).toBe(true);
  });

  it("keeps the uptime check on the domain, started once the load balancer is there", () => {
    const check = one(ev, "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig");
    expect((check.inputs as any).monitoredResource.labels.host).toBe(domain);
    // Waiting on the component means waiting on each of its resources: the HTTPS rule and the certificate above all.
    expect(check.dependsOn).toEqual(
      expect.arrayContaining([byName(ev, T.rule, `monitor-${stack}-https`).urn, one(ev, T.cert).urn]),
    );
  });
});
