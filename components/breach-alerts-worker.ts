import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import type { WorkerSizing } from "../shared-rules/sizing";
import { type AppRuntime, npmScriptTemplate } from "./app-runtime";
import { type Retention, retains, waitsFor } from "./options";

export interface BreachAlertsWorkerArgs extends Retention, Omit<WorkerSizing, "instances"> {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  readonly region: string;
  /** Worker pool name. */
  readonly name: string;
  /** Its env must name the subscription (`GCP_PUBSUB_SUBSCRIPTION_NAME`) and project (`GCP_PUBSUB_PROJECT_ID`). */
  readonly runtime: AppRuntime;
  /** Always-on consumers; each takes up to 10 messages at a time. @default 1 */
  readonly instances?: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** The consumer throws at start without these, which would only show as a crash loop after the deploy. */
const REQUIRED_ENV = ["GCP_PUBSUB_PROJECT_ID", "GCP_PUBSUB_SUBSCRIPTION_NAME"];

/**
 * `npm run cron:breach-alerts`: the long-running Pub/Sub consumer that emails breach alerts. It pulls (streaming
 * pull) and serves no HTTP, so it runs as a Cloud Run worker pool, not a service: a service would fail its start-up
 * port check, and would have a URL and an invoker policy it does not need. A worker pool has no endpoint at all,
 * scales only by the instance count set here, and stops instances with SIGTERM, on which the consumer stops pulling;
 * whatever it has not acknowledged is delivered again.
 */
export class BreachAlertsWorker extends pulumi.ComponentResource {
  readonly name: pulumi.Output<string>;

  constructor(name: string, args: BreachAlertsWorkerArgs, opts?: pulumi.ComponentResourceOptions) {
    const instances = args.instances ?? 1;
    const missing = REQUIRED_ENV.filter((variable) => !(variable in args.runtime.env));
    if (missing.length > 0) {
      throw new Error(
        `BreachAlertsWorker "${name}": runtime.env lacks ${missing.join(", ")}, which the consumer needs to start`,
      );
    }
    if (!Number.isInteger(instances) || instances < 1) {
      throw new Error(
        `BreachAlertsWorker "${name}": instances must be an integer of at least 1 (always on), got ${instances}`,
      );
    }
    const { volumes, container } = npmScriptTemplate(args.runtime, "cron:breach-alerts");
    super("monitor:components:BreachAlertsWorker", name, {}, opts);

    const retain = retains(args);
    const pool = new gcp.cloudrunv2.WorkerPool(
      name,
      {
        ...(args.project !== undefined && { project: args.project }),
        name: args.name,
        location: args.region,
        labels: args.labels,
        deletionProtection: retain,
        scaling: { scalingMode: "MANUAL", manualInstanceCount: instances },
        template: {
          serviceAccount: args.runtime.serviceAccountEmail,
          volumes,
          containers: [{ ...container, resources: { limits: { cpu: args.cpu, memory: args.memory } } }],
        },
      },
      waitsFor(this, opts, { protect: retain }),
    );
    this.name = pool.name;
    this.registerOutputs({ name: this.name });
  }
}
