import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../infra/engine/evaluate";
import { PROJECT, ofType, one, evaluateComponent } from "./harness";
import type { AppRuntime } from "../components/app-runtime";
import { BreachAlertsWorker, type BreachAlertsWorkerArgs } from "../components/breach-alerts-worker";
import { ScheduledJob, type ScheduledJobArgs } from "../components/scheduled-job";
import { cronProblem } from "../shared-rules/cron";

const IMAGE = `us-docker.pkg.dev/${PROJECT}/monitor-nonprod/blurts-server@sha256:${"ab".repeat(32)}`;
const RUNTIME_SA = `monitor-stage-run@${PROJECT}.iam.gserviceaccount.com`;
const SCHEDULER_SA = `monitor-stage-scheduler@${PROJECT}.iam.gserviceaccount.com`;
const CONNECTION = `${PROJECT}:us-central1:monitor-stage`;

const CLOUD_RUN_JOB = "gcp:cloudrunv2/job:Job";
const INVOKER = "gcp:cloudrunv2/jobIamMember:JobIamMember";
const SCHEDULER_JOB = "gcp:cloudscheduler/job:Job";
const WORKER_POOL = "gcp:cloudrunv2/workerPool:WorkerPool";

/** Built inside each program: Outputs belong to the runtime that evaluates them. */
function runtime(): AppRuntime {
  return {
    image: IMAGE,
    serviceAccountEmail: RUNTIME_SA,
    env: {
      APP_ENV: "cloudrun",
      PG_HOST: `/cloudsql/${CONNECTION}`,
      GCP_PUBSUB_PROJECT_ID: PROJECT,
      GCP_PUBSUB_SUBSCRIPTION_NAME: "monitor-stage-breach-alerts",
    },
    secrets: {
      DATABASE_URL: {
        secret: pulumi.output(`projects/${PROJECT}/secrets/monitor-stage-database-url`),
        version: pulumi.output("4"),
      },
    },
    cloudSqlConnection: CONNECTION,
  };
}

function jobArgs(overrides: Partial<ScheduledJobArgs> = {}): ScheduledJobArgs {
  return {
    project: PROJECT,
    region: "us-central1",
    jobName: "monitor-stage-db-pull-breaches",
    script: "cron:db-pull-breaches",
    schedule: "*/10 * * * *",
    runtime: runtime(),
    scheduler: { key: "scheduler", email: SCHEDULER_SA, member: `serviceAccount:${SCHEDULER_SA}` },
    labels: { app: "monitor", environment: "stage" },
    timeoutSeconds: 900,
    maxRetries: 2,
    ...overrides,
  };
}

function planJob(overrides: () => Partial<ScheduledJobArgs> = () => ({})): Promise<Evaluation> {
  return evaluateComponent(() => {
    const job = new ScheduledJob("pull-breaches", jobArgs(overrides()));
    return { jobName: job.jobName, schedulerJobName: job.schedulerJobName };
  });
}

function planWorker(overrides: () => Partial<BreachAlertsWorkerArgs> = () => ({})): Promise<Evaluation> {
  return evaluateComponent(() => {
    const worker = new BreachAlertsWorker("breach-alerts", {
      region: "us-central1",
      name: "monitor-stage-breach-alerts",
      runtime: runtime(),
      cpu: "1",
      memory: "1Gi",
      labels: { app: "monitor" },
      ...overrides(),
    });
    return { name: worker.name };
  });
}

const envsByName = (container: any) => Object.fromEntries(container.envs.map((e: any) => [e.name, e]));

describe("ScheduledJob", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await planJob();
  });

  it("runs the npm script in a Cloud Run job with the app's image, env, secrets and Cloud SQL socket", () => {
    const job = one(ev, CLOUD_RUN_JOB).inputs as any;
    const task = job.template.template;
    const container = task.containers[0];
    expect(job).toMatchObject({ name: "monitor-stage-db-pull-breaches", location: "us-central1", project: PROJECT });
    expect(job.template.taskCount).toBe(1);
    expect(container.image).toBe(IMAGE);
    expect([...container.commands, ...container.args]).toEqual(["npm", "run", "cron:db-pull-breaches"]);
    expect(task.serviceAccount).toBe(RUNTIME_SA);
    expect(envsByName(container).APP_ENV.value).toBe("cloudrun");
    expect(envsByName(container).DATABASE_URL.valueSource.secretKeyRef).toEqual({
      secret: `projects/${PROJECT}/secrets/monitor-stage-database-url`,
      version: "4",
    });
    expect(task.volumes).toEqual([{ name: "cloudsql", cloudSqlInstance: { instances: [CONNECTION] } }]);
    expect(container.volumeMounts).toEqual([{ name: "cloudsql", mountPath: "/cloudsql" }]);
  });

  it("bounds each attempt and its retries, and carries labels and both protections by default", () => {
    const job = one(ev, CLOUD_RUN_JOB);
    const inputs = job.inputs as any;
    expect(inputs.template.template).toMatchObject({ timeout: "900s", maxRetries: 2 });
    expect(inputs.labels).toEqual({ app: "monitor", environment: "stage" });
    expect(inputs.deletionProtection).toBe(true);
    expect(job.protect).toBe(true);
    expect(one(ev, SCHEDULER_JOB).protect).toBe(true);
    expect((one(ev, SCHEDULER_JOB).inputs as any).deletionPolicy).toBe("PREVENT");
  });

  it("runs each attempt for up to 30 minutes and retries once, unless told otherwise", async () => {
    const defaults = await planJob(() => ({ timeoutSeconds: undefined, maxRetries: undefined }));
    expect((one(defaults, CLOUD_RUN_JOB).inputs as any).template.template).toMatchObject({
      timeout: "1800s",
      maxRetries: 1,
    });
  });

  it("is started by Cloud Scheduler through the Cloud Run Admin API, as the scheduler's identity, in UTC", () => {
    const trigger = one(ev, SCHEDULER_JOB).inputs as any;
    expect(trigger).toMatchObject({
      project: PROJECT,
      region: "us-central1",
      schedule: "*/10 * * * *",
      timeZone: "Etc/UTC",
    });
    expect(trigger.httpTarget).toEqual({
      httpMethod: "POST",
      uri: `https://run.googleapis.com/v2/projects/${PROJECT}/locations/us-central1/jobs/monitor-stage-db-pull-breaches:run`,
      oauthToken: { serviceAccountEmail: SCHEDULER_SA, scope: "https://www.googleapis.com/auth/cloud-platform" },
    });
  });

  it("lets the scheduler's identity invoke exactly this job, and nothing else", () => {
    const grants = ev.registrations.filter((r) => /iam(member|binding|policy)/i.test(r.type));
    expect(grants.map((r) => r.type)).toEqual([INVOKER]);
    expect(grants[0].name).toBe("pull-breaches-invoker-scheduler");
    expect(grants[0].inputs).toEqual({
      project: PROJECT,
      location: "us-central1",
      name: "monitor-stage-db-pull-breaches",
      role: "roles/run.invoker",
      member: `serviceAccount:${SCHEDULER_SA}`,
    });
    expect(grants[0].dependsOn).toContain(one(ev, CLOUD_RUN_JOB).urn);
  });

  it("creates the trigger only after the grant, so that the first tick is not refused", () => {
    expect(one(ev, SCHEDULER_JOB).dependsOn).toContain(one(ev, INVOKER).urn);
  });

  it("outputs the Cloud Run job's and the scheduler job's names", () => {
    expect(ev.outputs.jobName.value).toBe("monitor-stage-db-pull-breaches");
    expect(ev.outputs.schedulerJobName.value).toBe("monitor-stage-db-pull-breaches");
  });

  it("is deletable, by Pulumi and by the provider, when not retained", async () => {
    const unprotected = await planJob(() => ({ retain: false }));
    expect(one(unprotected, CLOUD_RUN_JOB).protect).toBe(false);
    expect(one(unprotected, SCHEDULER_JOB).protect).toBe(false);
    expect((one(unprotected, CLOUD_RUN_JOB).inputs as any).deletionProtection).toBe(false);
    expect((one(unprotected, SCHEDULER_JOB).inputs as any).deletionPolicy).toBe("DELETE");
  });

  it("refuses a schedule that is not five-field cron, naming the problem", async () => {
    await expect(planJob(() => ({ schedule: "every 10 minutes" }))).rejects.toThrow(
      /ScheduledJob "pull-breaches": a cron schedule has 5 fields .* "every 10 minutes" has 3/,
    );
    await expect(planJob(() => ({ schedule: "0 24 * * *" }))).rejects.toThrow(
      /the hour field "24" of "0 24 \* \* \*" is not valid \(values 0-23\)/,
    );
  });

  it("refuses a script name that is not an npm script", async () => {
    await expect(planJob(() => ({ script: "cron:a; rm -rf /" }))).rejects.toThrow(/is not an npm script name/);
  });
});

describe("cronProblem", () => {
  it.each(["*/10 * * * *", "0 3 * * *", "0 * * * *", "30 0 1,15 * MON-FRI", "0 8 * jan-jun 1", "5-55/10 */2 * * 0,7"])(
    "accepts %s",
    (schedule) => {
      expect(cronProblem(schedule)).toBeUndefined();
    },
  );

  it.each([
    ["", /has 1/],
    ["* * * *", /has 4/],
    ["0 0 * * * *", /has 6/],
    ["60 * * * *", /minute field "60"/],
    ["0 0 0 * *", /day of month field "0"/],
    ["0 0 * 13 *", /month field "13"/],
    ["0 0 * * 8", /day of week field "8"/],
    ["*/0 * * * *", /minute field "\*\/0"/],
    ["0 0 * * FUNDAY", /day of week field "FUNDAY"/],
    ["@daily * * * *", /minute field "@daily"/],
  ])("refuses %j", (schedule, message) => {
    expect(cronProblem(schedule)).toMatch(message);
  });
});

describe("BreachAlertsWorker", () => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await planWorker();
  });

  it("runs npm run cron:breach-alerts in a Cloud Run worker pool with the app's runtime", () => {
    const pool = one(ev, WORKER_POOL).inputs as any;
    const container = pool.template.containers[0];
    expect(pool).toMatchObject({
      name: "monitor-stage-breach-alerts",
      location: "us-central1",
      deletionProtection: true,
    });
    expect([...container.commands, ...container.args]).toEqual(["npm", "run", "cron:breach-alerts"]);
    expect(container.image).toBe(IMAGE);
    expect(container.resources.limits).toEqual({ cpu: "1", memory: "1Gi" });
    expect(pool.template.serviceAccount).toBe(RUNTIME_SA);
    expect(envsByName(container).GCP_PUBSUB_SUBSCRIPTION_NAME.value).toBe("monitor-stage-breach-alerts");
    expect(envsByName(container).DATABASE_URL.valueSource.secretKeyRef.version).toBe("4");
    expect(pool.template.volumes).toEqual([{ name: "cloudsql", cloudSqlInstance: { instances: [CONNECTION] } }]);
  });

  it("is retained by default, in Pulumi and at Cloud Run, and deletable when not", async () => {
    expect(one(ev, WORKER_POOL).protect).toBe(true);
    const disposable = await planWorker(() => ({ retain: false }));
    expect(one(disposable, WORKER_POOL).protect).toBe(false);
    expect((one(disposable, WORKER_POOL).inputs as any).deletionProtection).toBe(false);
  });

  it("keeps one instance always running by default", () => {
    expect((one(ev, WORKER_POOL).inputs as any).scaling).toEqual({ scalingMode: "MANUAL", manualInstanceCount: 1 });
  });

  it("has no HTTP surface: no service, no ingress, no port, no invoker", () => {
    const pool = one(ev, WORKER_POOL).inputs as any;
    expect(ofType(ev, "gcp:cloudrunv2/service:Service")).toEqual([]);
    expect(ev.registrations.filter((r) => /iam/i.test(r.type))).toEqual([]);
    expect(pool.ingress).toBeUndefined();
    expect(pool.template.containers[0].ports).toBeUndefined();
  });

  it("runs as many instances as asked", async () => {
    const two = await planWorker(() => ({ instances: 2 }));
    expect((one(two, WORKER_POOL).inputs as any).scaling.manualInstanceCount).toBe(2);
    expect(two.outputs.name.value).toBe("monitor-stage-breach-alerts");
  });

  it("refuses zero instances: the consumer must always be on", async () => {
    await expect(planWorker(() => ({ instances: 0 }))).rejects.toThrow(
      /BreachAlertsWorker "breach-alerts": instances must be an integer of at least 1/,
    );
  });

  it("refuses a runtime that does not name the subscription, which the consumer needs to start", async () => {
    await expect(
      planWorker(() => {
        const env = { ...runtime().env };
        delete env.GCP_PUBSUB_SUBSCRIPTION_NAME;
        return { runtime: { ...runtime(), env } };
      }),
    ).rejects.toThrow(/runtime\.env lacks GCP_PUBSUB_SUBSCRIPTION_NAME/);
  });
});
