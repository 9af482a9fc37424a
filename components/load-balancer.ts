import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { RFC1035_MAX_LENGTH, RFC1035_NAME as RFC1035 } from "../shared-rules/name-limits";
import { type Retention, retains, waitsFor } from "./options";

export interface RateLimit {
  /** Requests allowed per client IP in each interval. */
  readonly count: number;
  /** Seconds; Cloud Armor accepts 10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700 or 3600. */
  readonly intervalSec: number;
}

export interface LoadBalancerArgs extends Retention {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  /** Prefix of every name, e.g. `monitor-prod`: lowercase RFC 1035, short enough for the longest suffix. */
  readonly namePrefix: string;
  readonly region: string;
  /** The Cloud Run service to send traffic to (same project and region). */
  readonly serviceName: pulumi.Input<string>;
  /** The public hostname the certificate is issued for. */
  readonly domain: string;
  readonly labels: Readonly<Record<string, string>>;
  /**
   * Path whose requests are rate-limited per client IP (the app's HIBP webhook, which publishes to Pub/Sub).
   * @default "/api/v1/hibp/notify"
   */
  readonly rateLimitedPath?: string;
  /** @default { count: 30, intervalSec: 60 } */
  readonly rateLimit?: RateLimit;
  /**
   * Sensitivity of the preconfigured WAF rules, 1 (fewest false positives) to 4.
   * @default 1
   */
  readonly wafSensitivity?: number;
}

export const HIBP_WEBHOOK_PATH = "/api/v1/hibp/notify";

/** Cloud Armor's preconfigured rules (OWASP CRS 3.3) that apply to a Node.js web app. */
export const WAF_RULES = [
  "sqli-v33-stable",
  "xss-v33-stable",
  "lfi-v33-stable",
  "rfi-v33-stable",
  "rce-v33-stable",
  "scannerdetection-v33-stable",
  "protocolattack-v33-stable",
  "sessionfixation-v33-stable",
  "nodejs-v33-stable",
] as const;

/** Priorities: lower runs first; the default rule must sit at the largest one. */
export const PRIORITIES = { waf: 1000, rateLimit: 2000, default: 2147483647 } as const;

const RATE_LIMIT_INTERVALS = [10, 30, 60, 120, 180, 240, 300, 600, 900, 1200, 1800, 2700, 3600];
const LONGEST_SUFFIX = "-https-proxy".length;

/** What is wrong with the component's arguments, as sentences; empty when they are fine. */
export function loadBalancerProblems(args: LoadBalancerArgs): string[] {
  const problems: string[] = [];
  if (!RFC1035.test(args.namePrefix) || args.namePrefix.length + LONGEST_SUFFIX > RFC1035_MAX_LENGTH) {
    problems.push(
      `namePrefix "${args.namePrefix}" must be lowercase letters, digits and '-', start with a letter and be at ` +
        `most ${RFC1035_MAX_LENGTH - LONGEST_SUFFIX} characters (GCP names are RFC 1035, at most 63)`,
    );
  }
  const limit = args.rateLimit;
  if (
    limit &&
    (!Number.isInteger(limit.count) || limit.count < 1 || !RATE_LIMIT_INTERVALS.includes(limit.intervalSec))
  ) {
    problems.push(`rateLimit needs a positive count and an intervalSec of ${RATE_LIMIT_INTERVALS.join(", ")}`);
  }
  const sensitivity = args.wafSensitivity;
  if (sensitivity !== undefined && (!Number.isInteger(sensitivity) || sensitivity < 1 || sensitivity > 4)) {
    problems.push("wafSensitivity must be 1, 2, 3 or 4 (0 would enable no signature)");
  }
  return problems;
}

/**
 * The public entry of stage and prod: a global external Application Load Balancer in front of the Cloud Run web
 * service (which then accepts load-balancer traffic only).
 *
 * - HTTPS on a reserved IPv4 address, with a Google-managed certificate from Certificate Manager, authorized
 *   through DNS: the certificate is issued as soon as the `_acme-challenge` CNAME exists, before the domain's A
 *   record moves to this address, so moving a domain that already serves users has no window without a valid
 *   certificate (a classic managed SSL certificate is only issued once the domain resolves to the load balancer).
 *   The TLS policy refuses anything older than TLS 1.2.
 * - Cloud Armor: OWASP rules first, then a per-IP rate limit on the HIBP webhook, whose every request publishes to
 *   Pub/Sub; everything else is allowed.
 * - HTTP on the same address answers only with a permanent redirect to HTTPS, keeping the query.
 */
export class LoadBalancer extends pulumi.ComponentResource {
  /** The IPv4 address the domain's A record must point at. */
  readonly ipAddress: pulumi.Output<string>;
  /** The CNAME that lets Certificate Manager issue the certificate: `{name, type, data}`. */
  readonly dnsAuthorizationRecord: pulumi.Output<{ name: string; type: string; data: string }>;
  readonly securityPolicyName: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    const problems = loadBalancerProblems(args);
    if (problems.length > 0) throw new Error(`LoadBalancer "${name}": ${problems.join("; ")}`);
    super("monitor:components:LoadBalancer", name, {}, opts);
    const prefix = args.namePrefix;
    const child = { parent: this };
    // Retained: what DNS points at (the address and the DNS authorization), since recreating either means a DNS
    // change. Neither has a provider-side deletion guard, so Pulumi's protect is the whole of it.
    const kept = { parent: this, protect: retains(args) };
    const inProject = args.project !== undefined ? { project: args.project } : {};

    const address = new gcp.compute.GlobalAddress(
      `${name}-ip`,
      { ...inProject, name: `${prefix}-ip`, addressType: "EXTERNAL", ipVersion: "IPV4", labels: args.labels },
      kept,
    );

    const neg = new gcp.compute.RegionNetworkEndpointGroup(
      `${name}-neg`,
      {
        ...inProject,
        name: `${prefix}-neg`,
        region: args.region,
        networkEndpointType: "SERVERLESS",
        cloudRun: { service: args.serviceName },
      },
      // The service must exist before a NEG can name it.
      waitsFor(this, opts),
    );

    const sensitivity = args.wafSensitivity ?? 1;
    const limit = args.rateLimit ?? { count: 30, intervalSec: 60 };
    const path = args.rateLimitedPath ?? HIBP_WEBHOOK_PATH;
    const armor = new gcp.compute.SecurityPolicy(
      `${name}-armor`,
      {
        ...inProject,
        name: `${prefix}-armor`,
        description: `Monitor ${prefix}: OWASP rules and the HIBP webhook's rate limit`,
        type: "CLOUD_ARMOR",
        // Parse JSON bodies (the API and the webhook), so the rules see values, not JSON syntax that looks like SQL.
        advancedOptionsConfig: { jsonParsing: "STANDARD", logLevel: "NORMAL" },
        labels: args.labels,
        rules: [
          ...WAF_RULES.map((rule, i) => ({
            priority: PRIORITIES.waf + i,
            action: "deny(403)",
            description: `OWASP ${rule}`,
            match: { expr: { expression: `evaluatePreconfiguredWaf('${rule}', {'sensitivity': ${sensitivity}})` } },
          })),
          {
            priority: PRIORITIES.rateLimit,
            action: "throttle",
            description: `Rate limit ${path} per client IP`,
            match: { expr: { expression: `request.path.startsWith('${path}')` } },
            rateLimitOptions: {
              conformAction: "allow",
              exceedAction: "deny(429)",
              enforceOnKey: "IP",
              rateLimitThreshold: { count: limit.count, intervalSec: limit.intervalSec },
            },
          },
          {
            priority: PRIORITIES.default,
            action: "allow",
            description: "default rule",
            match: { versionedExpr: "SRC_IPS_V1", config: { srcIpRanges: ["*"] } },
          },
        ],
      },
      child,
    );

    // No health check, timeout, port name or balancing mode: serverless NEGs refuse them (Cloud Run does its own).
    const backend = new gcp.compute.BackendService(
      `${name}-backend`,
      {
        ...inProject,
        name: `${prefix}-backend`,
        loadBalancingScheme: "EXTERNAL_MANAGED",
        protocol: "HTTPS",
        backends: [{ group: neg.id }],
        securityPolicy: armor.selfLink,
        logConfig: { enable: true, sampleRate: 1 },
      },
      child,
    );
    const urlMap = new gcp.compute.URLMap(
      `${name}-urlmap`,
      { ...inProject, name: `${prefix}-urlmap`, defaultService: backend.id },
      child,
    );

    const authorization = new gcp.certificatemanager.DnsAuthorization(
      `${name}-dns-auth`,
      { ...inProject, name: `${prefix}-dns-auth`, domain: args.domain, type: "FIXED_RECORD", labels: args.labels },
      kept,
    );
    const certificate = new gcp.certificatemanager.Certificate(
      `${name}-cert`,
      {
        ...inProject,
        name: `${prefix}-cert`,
        scope: "DEFAULT",
        managed: { domains: [args.domain], dnsAuthorizations: [authorization.id] },
        labels: args.labels,
      },
      child,
    );
    const certificateMap = new gcp.certificatemanager.CertificateMap(
      `${name}-certmap`,
      { ...inProject, name: `${prefix}-certmap`, labels: args.labels },
      child,
    );
    const entry = new gcp.certificatemanager.CertificateMapEntry(
      `${name}-certmap-entry`,
      {
        ...inProject,
        name: `${prefix}-certmap-entry`,
        map: certificateMap.name,
        hostname: args.domain,
        certificates: [certificate.id],
        labels: args.labels,
      },
      child,
    );
    const tlsPolicy = new gcp.compute.SSLPolicy(
      `${name}-tls`,
      { ...inProject, name: `${prefix}-tls`, profile: "MODERN", minTlsVersion: "TLS_1_2" },
      child,
    );

    const httpsProxy = new gcp.compute.TargetHttpsProxy(
      `${name}-https-proxy`,
      {
        ...inProject,
        name: `${prefix}-https-proxy`,
        urlMap: urlMap.id,
        certificateMap: pulumi.interpolate`//certificatemanager.googleapis.com/${certificateMap.id}`,
        sslPolicy: tlsPolicy.selfLink,
      },
      // The map serves nothing for the domain until its entry exists.
      { parent: this, dependsOn: [entry] },
    );
    new gcp.compute.GlobalForwardingRule(
      `${name}-https`,
      {
        ...inProject,
        name: `${prefix}-https`,
        ipAddress: address.address,
        ipProtocol: "TCP",
        portRange: "443",
        loadBalancingScheme: "EXTERNAL_MANAGED",
        target: httpsProxy.id,
        labels: args.labels,
      },
      child,
    );

    const redirect = new gcp.compute.URLMap(
      `${name}-redirect`,
      {
        ...inProject,
        name: `${prefix}-redirect`,
        defaultUrlRedirect: {
          httpsRedirect: true,
          stripQuery: false,
          redirectResponseCode: "MOVED_PERMANENTLY_DEFAULT",
        },
      },
      child,
    );
    const httpProxy = new gcp.compute.TargetHttpProxy(
      `${name}-http-proxy`,
      { ...inProject, name: `${prefix}-http-proxy`, urlMap: redirect.id },
      child,
    );
    new gcp.compute.GlobalForwardingRule(
      `${name}-http`,
      {
        ...inProject,
        name: `${prefix}-http`,
        ipAddress: address.address,
        ipProtocol: "TCP",
        portRange: "80",
        loadBalancingScheme: "EXTERNAL_MANAGED",
        target: httpProxy.id,
        labels: args.labels,
      },
      child,
    );

    this.ipAddress = address.address;
    this.dnsAuthorizationRecord = authorization.dnsResourceRecords.apply((records) => {
      const { name: recordName, type, data } = records[0];
      return { name: recordName, type, data };
    });
    this.securityPolicyName = armor.name;
    this.registerOutputs({ ipAddress: this.ipAddress, dnsAuthorizationRecord: this.dnsAuthorizationRecord });
  }
}
