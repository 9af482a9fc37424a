import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { cronProblem } from "../shared-rules/cron";
import { type AppRuntime, npmScriptTemplate } from "./app-runtime";

export interface ScheduledJobArgs {
  project: pulumi.Input<string>;
  /** Region of both the Cloud Run job and its Cloud Scheduler trigger. */
  location: string;
  jobName: string;
  /** The app's npm script, e.g. `cron:db-pull-breaches`. */
  script: string;
  /** Five-field unix cron, read in UTC: `*\/10 * * * *`. */
  schedule: string;
  runtime: AppRuntime;
  /** The identity Cloud Scheduler calls the Cloud Run Admin API as; it may run this job and nothing else. */
  schedulerServiceAccountEmail: pulumi.Input<string>;
  labels: Record<string, string>;
  deletionProtection: boolean;
  /** Pulumi `protect` on the job and its trigger. Default false. */
  protect?: boolean;
  /** How long one attempt may run. */
  timeoutSeconds: number;
  /** Attempts after a failed one, per execution. */
  maxRetries: number;
}

/**
 * Runs one of the app's npm scripts as a Cloud Run job on a schedule. Cloud Scheduler starts an execution through
 * the Cloud Run Admin API (`jobs/<job>:run`) with an OAuth token for its own service account, which holds
 * `roles/run.invoker` on this job only. Executions run as the app's runtime identity, not the scheduler's.
 */
export class ScheduledJob extends pulumi.ComponentResource {
  readonly jobName: pulumi.Output<string>;
  readonly schedulerJobName: pulumi.Output<string>;

  constructor(name: string, args: ScheduledJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const problem = cronProblem(args.schedule);
    if (problem) throw new Error(`ScheduledJob "${name}": ${problem}`);
    const { volumes, container } = npmScriptTemplate(args.runtime, args.script);
    super("monitor:components:ScheduledJob", name, {}, opts);
    const protect = args.protect ?? false;

    const job = new gcp.cloudrunv2.Job(
      name,
      {
        project: args.project,
        name: args.jobName,
        location: args.location,
        labels: args.labels,
        deletionProtection: args.deletionProtection,
        template: {
          taskCount: 1,
          template: {
            serviceAccount: args.runtime.serviceAccountEmail,
            maxRetries: args.maxRetries,
            timeout: `${args.timeoutSeconds}s`,
            volumes,
            containers: [container],
          },
        },
      },
      // A component's dependsOn does not reach its children: the resource that must wait says so itself.
      { parent: this, protect, dependsOn: opts?.dependsOn },
    );

    const invoker = new gcp.cloudrunv2.JobIamMember(
      `${name}-scheduler-invoker`,
      {
        project: args.project,
        location: args.location,
        name: job.name,
        role: "roles/run.invoker",
        member: pulumi.interpolate`serviceAccount:${args.schedulerServiceAccountEmail}`,
      },
      { parent: this },
    );

    const trigger = new gcp.cloudscheduler.Job(
      `${name}-trigger`,
      {
        project: args.project,
        region: args.location,
        name: args.jobName,
        description: `Runs npm run ${args.script} (Cloud Run job ${args.jobName})`,
        schedule: args.schedule,
        // Explicit, so that a schedule never shifts with daylight saving time.
        timeZone: "Etc/UTC",
        httpTarget: {
          httpMethod: "POST",
          uri: pulumi.interpolate`https://run.googleapis.com/v2/projects/${args.project}/locations/${args.location}/jobs/${job.name}:run`,
          // A Google API takes an OAuth access token (an OIDC token is for calling the service's own URL).
          oauthToken: {
            serviceAccountEmail: args.schedulerServiceAccountEmail,
            scope: "https://www.googleapis.com/auth/cloud-platform",
          },
        },
      },
      // The first tick must not race the grant that lets it start the job.
      { parent: this, protect, dependsOn: [invoker] },
    );

    this.jobName = job.name;
    this.schedulerJobName = trigger.name;
    this.registerOutputs({ jobName: this.jobName, schedulerJobName: this.schedulerJobName });
  }
}
