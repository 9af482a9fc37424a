import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { cronProblem } from "../shared-rules/cron";
import { checkScript } from "./app-runtime";
import { type AppJobCommon, appJob } from "./app-job";
import { type Grantee, retains, waitsFor, deletionPolicyFor } from "./options";

export interface ScheduledJobArgs extends AppJobCommon {
  /** Both the job's and its trigger's: the trigger's URL names it. */
  readonly project: pulumi.Input<string>;
  /** The app's npm script, e.g. `cron:db-pull-breaches`. */
  readonly script: string;
  /** Five-field unix cron, read in UTC: `*\/10 * * * *`. */
  readonly schedule: string;
  /**
   * The identity Cloud Scheduler calls the Cloud Run Admin API as; it may run this job and nothing else. A
   * RuntimeIdentity: the grant is named after its key, the trigger's token is minted for its email.
   */
  readonly scheduler: Grantee & { readonly email: pulumi.Input<string> };
  /** How long one attempt may run. @default 1800 */
  readonly timeoutSeconds?: number;
  /** Attempts after a failed one, per execution. @default 1 */
  readonly maxRetries?: number;
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
    checkScript(args.script);
    super("monitor:components:ScheduledJob", name, {}, opts);
    const retain = retains(args);

    const job = appJob(
      name,
      { ...args, timeoutSeconds: args.timeoutSeconds ?? 1800, maxRetries: args.maxRetries ?? 1 },
      waitsFor(this, opts),
    );

    const invoker = new gcp.cloudrunv2.JobIamMember(
      `${name}-invoker-${args.scheduler.key}`,
      {
        project: args.project,
        location: args.region,
        name: job.name,
        role: "roles/run.invoker",
        member: args.scheduler.member,
      },
      { parent: this },
    );

    const trigger = new gcp.cloudscheduler.Job(
      `${name}-trigger`,
      {
        project: args.project,
        region: args.region,
        name: args.jobName,
        description: `Runs npm run ${args.script} (Cloud Run job ${args.jobName})`,
        schedule: args.schedule,
        // The provider's guard beside Pulumi's protect: a retained trigger is refused deletion by both.
        deletionPolicy: deletionPolicyFor(retain),
        // Explicit, so that a schedule never shifts with daylight saving time.
        timeZone: "Etc/UTC",
        httpTarget: {
          httpMethod: "POST",
          uri: pulumi.interpolate`https://run.googleapis.com/v2/projects/${args.project}/locations/${args.region}/jobs/${job.name}:run`,
          // A Google API takes an OAuth access token (an OIDC token is for calling the service's own URL).
          oauthToken: {
            serviceAccountEmail: args.scheduler.email,
            scope: "https://www.googleapis.com/auth/cloud-platform",
          },
        },
      },
      // The first tick must not race the grant that lets it start the job.
      { parent: this, protect: retain, dependsOn: [invoker] },
    );

    this.jobName = job.name;
    this.schedulerJobName = trigger.name;
    this.registerOutputs({ jobName: this.jobName, schedulerJobName: this.schedulerJobName });
  }
}
