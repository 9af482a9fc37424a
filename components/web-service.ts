import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import type * as inputs from "@pulumi/gcp/types/input";
import type { ServiceSizing } from "../shared-rules/sizing";
import { type AppRuntime, cloudSqlVolume, containerEnvs } from "./app-runtime";
import { type Retention, retains, waitsFor } from "./options";

/** A container that runs beside the app in every instance and that the app reaches on localhost. */
export interface SidecarContainer {
  readonly name: string;
  readonly image: string;
  readonly envs: { name: string; value: string }[];
  readonly resources: inputs.cloudrunv2.ServiceTemplateContainerResources;
  /** Required: the app container waits until this passes (Cloud Run's container dependencies). */
  readonly startupProbe: inputs.cloudrunv2.ServiceTemplateContainerStartupProbe;
  /** @default none */
  readonly livenessProbe?: inputs.cloudrunv2.ServiceTemplateContainerLivenessProbe;
}

/** The app's own container, named so that sidecars and logs can tell them apart. */
export const APP_CONTAINER = "app";

export interface WebServiceArgs extends Retention, ServiceSizing {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  readonly region: string;
  readonly serviceName: string;
  readonly runtime: AppRuntime;
  /** Anyone on the internet may invoke it (the app does its own sign-in). @default true */
  readonly public?: boolean;
  /**
   * Where requests may come from. `INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER` when a load balancer fronts the service:
   * its run.app URL then refuses the internet, so nothing bypasses Cloud Armor.
   * @default "INGRESS_TRAFFIC_ALL"
   */
  readonly ingress?: "INGRESS_TRAFFIC_ALL" | "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER";
  /** Started, and healthy, before the app; only the app has ports. @default none */
  readonly sidecar?: SidecarContainer;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * The Monitor web app on Cloud Run v2, health-checked on its Dockerflow endpoints:
 * - startup waits for `/__heartbeat__`, the app's own readiness, before a revision takes traffic;
 * - liveness polls `/__lbheartbeat__`, which checks no backing service, so a database outage never makes Cloud
 *   Run restart healthy containers in a loop.
 */
export class WebService extends pulumi.ComponentResource {
  readonly serviceName: pulumi.Output<string>;
  readonly uri: pulumi.Output<string>;

  constructor(name: string, args: WebServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:WebService", name, {}, opts);
    const { volumes, volumeMounts } = cloudSqlVolume(args.runtime);
    const retain = retains(args);
    const inProject = args.project !== undefined ? { project: args.project } : {};
    const service = new gcp.cloudrunv2.Service(
      name,
      {
        ...inProject,
        name: args.serviceName,
        location: args.region,
        labels: args.labels,
        deletionProtection: retain,
        ingress: args.ingress ?? "INGRESS_TRAFFIC_ALL",
        template: {
          serviceAccount: args.runtime.serviceAccountEmail,
          scaling: { minInstanceCount: args.minInstances, maxInstanceCount: args.maxInstances },
          maxInstanceRequestConcurrency: args.concurrency,
          volumes,
          containers: [
            {
              name: APP_CONTAINER,
              image: args.runtime.image,
              ports: { containerPort: 8080 },
              ...(args.sidecar && { dependsOns: [args.sidecar.name] }),
              envs: containerEnvs(args.runtime),
              volumeMounts,
              resources: {
                limits: { cpu: args.cpu, memory: args.memory },
                // Next.js compiles routes on first hit: a start-up boost shortens cold starts at no idle cost.
                startupCpuBoost: true,
                cpuIdle: true,
              },
              startupProbe: {
                httpGet: { path: "/__heartbeat__", port: 8080 },
                periodSeconds: 5,
                timeoutSeconds: 3,
                failureThreshold: 24,
              },
              livenessProbe: {
                httpGet: { path: "/__lbheartbeat__", port: 8080 },
                periodSeconds: 30,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
            },
            ...(args.sidecar ? [args.sidecar] : []),
          ],
        },
      },
      waitsFor(this, opts, { protect: retain }),
    );
    if (args.public ?? true) {
      new gcp.cloudrunv2.ServiceIamMember(
        `${name}-public-invoker`,
        { ...inProject, name: service.name, location: args.region, role: "roles/run.invoker", member: "allUsers" },
        { parent: this },
      );
    }
    this.serviceName = service.name;
    this.uri = service.uri;
    this.registerOutputs({ serviceName: this.serviceName, uri: this.uri });
  }
}
