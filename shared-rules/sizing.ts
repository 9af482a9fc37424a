/**
 * How big the app's Cloud Run workloads are: one vocabulary for the stack spec (what config asks for), the web
 * service and the breach-alerts worker (what they run with). Kept here, with no imports, so that infra/spec.ts can
 * use it without importing components/.
 */

/** One container's CPU and memory, as Cloud Run takes them (`"1"`, `"512Mi"`; see cloud-run-limits.ts). */
export interface ContainerSizing {
  readonly cpu: string;
  readonly memory: string;
}

/** A request-serving Cloud Run service: it scales between two bounds by load. */
export interface ServiceSizing extends ContainerSizing {
  readonly minInstances: number;
  readonly maxInstances: number;
  /** Concurrent requests per instance. */
  readonly concurrency: number;
}

/** An always-on Cloud Run worker pool: a fixed instance count, no requests. */
export interface WorkerSizing extends ContainerSizing {
  /** Always-on instances, at least 1. */
  readonly instances: number;
}
