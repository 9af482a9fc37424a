import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { HOSTNAME } from "../shared-rules/hostname";
import { waitsFor } from "./options";

export interface UptimeAlertArgs {
  readonly project: pulumi.Input<string>;
  /** Names the check and the policy, e.g. `Monitor prod`. */
  readonly displayName: string;
  /** A hostname such as `monitor.mozilla.org`: no scheme, port or path. */
  readonly host: string;
  /** Notification channel resource names (`projects/<p>/notificationChannels/<id>`); none just records incidents. */
  readonly notificationChannels: readonly pulumi.Input<string>[];
  readonly labels: Readonly<Record<string, string>>;
}

export const HEARTBEAT_PATH = "/__heartbeat__";

/** `host` trimmed, lower-cased and without a trailing dot; refuses anything that is not a bare hostname. */
export function checkedHost(host: string): string {
  const candidate = host.trim().toLowerCase().replace(/\.$/, "");
  if (HOSTNAME.test(candidate)) return candidate;
  let hint = "";
  try {
    const { hostname } = new URL(candidate);
    if (HOSTNAME.test(hostname)) hint = `; pass "${hostname}"`;
  } catch {
    // Not a URL either: the message alone says what is expected.
  }
  throw new Error(
    `host must be a hostname such as "monitor.mozilla.org", not a URL or host:port; got "${host}"${hint}`,
  );
}

/**
 * Watches the app from outside: an HTTPS uptime check on the Dockerflow heartbeat every minute from every checker
 * region, and an alert when more than one region sees it fail. `/__heartbeat__` answers 200
 * `{"success":true,...}` without touching the database, so a failure means the app is not serving at all (no
 * healthy revision, a broken domain or certificate), not that a dependency is slow. One region failing alone is
 * usually the network between that checker and Google, so it does not page. Cloud Armor's rate limit applies only
 * to the HIBP webhook, so the checkers are never throttled.
 */
export class UptimeAlert extends pulumi.ComponentResource {
  readonly uptimeCheckId: pulumi.Output<string>;
  /** `projects/<project>/alertPolicies/<id>`. */
  readonly alertPolicyName: pulumi.Output<string>;

  constructor(name: string, args: UptimeAlertArgs, opts?: pulumi.ComponentResourceOptions) {
    let host: string;
    try {
      host = checkedHost(args.host);
    } catch (error) {
      throw new Error(`UptimeAlert "${name}": ${(error as Error).message}`, { cause: error });
    }
    super("monitor:components:UptimeAlert", name, {}, opts);

    const check = new gcp.monitoring.UptimeCheckConfig(
      name,
      {
        project: args.project,
        displayName: `${args.displayName} heartbeat`,
        monitoredResource: { type: "uptime_url", labels: { project_id: args.project, host } },
        httpCheck: {
          requestMethod: "GET",
          path: HEARTBEAT_PATH,
          port: 443,
          useSsl: true,
          validateSsl: true,
          acceptedResponseStatusCodes: [{ statusValue: 200 }],
        },
        // A regex rather than a fixed string, so that a change in JSON spacing is not an outage.
        contentMatchers: [{ content: '"success"\\s*:\\s*true', matcher: "MATCHES_REGEX" }],
        period: "60s",
        timeout: "10s",
        logCheckFailures: true,
        userLabels: args.labels,
      },
      // The policy waits for the check, so the component's dependsOn (say, the load balancer) holds for both.
      waitsFor(this, opts),
    );

    const policy = new gcp.monitoring.AlertPolicy(
      `${name}-alert`,
      {
        project: args.project,
        displayName: `${args.displayName} is down`,
        combiner: "OR",
        conditions: [
          {
            displayName: `${HEARTBEAT_PATH} failing from more than one region`,
            conditionThreshold: {
              filter: pulumi.interpolate`metric.type="monitoring.googleapis.com/uptime_check/check_passed" AND resource.type="uptime_url" AND metric.label.check_id="${check.uptimeCheckId}"`,
              // Each region's latest result, then the number of regions where it failed...
              aggregations: [
                {
                  alignmentPeriod: "300s",
                  perSeriesAligner: "ALIGN_NEXT_OLDER",
                  crossSeriesReducer: "REDUCE_COUNT_FALSE",
                  groupByFields: ["resource.label.host"],
                },
              ],
              // ...above one (two regions or more), for two consecutive checks.
              comparison: "COMPARISON_GT",
              thresholdValue: 1,
              duration: "120s",
              trigger: { count: 1 },
            },
          },
        ],
        notificationChannels: [...args.notificationChannels],
        documentation: {
          mimeType: "text/markdown",
          subject: `${args.displayName}: https://${host}${HEARTBEAT_PATH} is failing`,
          content:
            `https://${host}${HEARTBEAT_PATH} has failed from at least two checker regions for two minutes. ` +
            "The heartbeat does not touch the database, so the app itself is not answering: look at the Cloud Run " +
            "service's latest revision (a revision that failed to start, a failed migration), then the load " +
            "balancer: its certificate in Certificate Manager, its forwarding rules, and Cloud Armor's decisions in " +
            "its request logs. The uptime check's logs hold each failed probe's response.",
        },
        userLabels: args.labels,
      },
      { parent: this },
    );

    this.uptimeCheckId = check.uptimeCheckId;
    this.alertPolicyName = policy.name;
    this.registerOutputs({ uptimeCheckId: this.uptimeCheckId, alertPolicyName: this.alertPolicyName });
  }
}
