import type * as pulumi from "@pulumi/pulumi";
import type * as inputs from "@pulumi/gcp/types/input";
import * as gcp from "../infra/gcp";
import { type AppRuntime, npmScriptTemplate } from "./app-runtime";
import { type Retention, retains } from "./options";

/** What the migration job and the scheduled jobs are both told: where they run, their name, what they run with. */
export interface AppJobCommon extends Retention {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  readonly region: string;
  readonly jobName: string;
  readonly runtime: AppRuntime;
  readonly labels: Readonly<Record<string, string>>;
}

/** One job: the common part, one npm script, and its bounds. */
export interface AppJobArgs extends AppJobCommon {
  /** The app's npm script, e.g. `db:migrate`. */
  readonly script: string;
  /** How long one attempt may run. */
  readonly timeoutSeconds: number;
  /** Attempts after a failed one, per execution. */
  readonly maxRetries: number;
  /** Runs an execution named after it when it changes and waits for it (MigrationJob). @default none */
  readonly runExecutionToken?: pulumi.Input<string>;
}

/** One Cloud Run job of one task and one container: what the app's jobs and the database admin's jobs share. */
export interface SingleTaskJobArgs extends Retention {
  /** @default the provider's project */
  readonly project?: pulumi.Input<string>;
  readonly region: string;
  readonly jobName: pulumi.Input<string>;
  readonly labels: Readonly<Record<string, string>>;
  readonly serviceAccount: pulumi.Input<string>;
  /** How long one attempt may run, and attempts after a failed one, per execution. */
  readonly timeoutSeconds: number;
  readonly maxRetries: number;
  /** Runs an execution named after it when it changes and waits for it. @default none */
  readonly runExecutionToken?: pulumi.Input<string>;
  readonly volumes: pulumi.Input<inputs.cloudrunv2.JobTemplateTemplateVolume>[];
  readonly container: pulumi.Input<inputs.cloudrunv2.JobTemplateTemplateContainer>;
}

/** `retain` sets both Pulumi's protect and Cloud Run's deletion protection. */
export function singleTaskJob(
  name: string,
  args: SingleTaskJobArgs,
  opts: pulumi.CustomResourceOptions,
): gcp.cloudrunv2.Job {
  const retain = retains(args);
  return new gcp.cloudrunv2.Job(
    name,
    {
      ...(args.project !== undefined && { project: args.project }),
      name: args.jobName,
      location: args.region,
      labels: args.labels,
      deletionProtection: retain,
      ...(args.runExecutionToken !== undefined && { runExecutionToken: args.runExecutionToken }),
      template: {
        taskCount: 1,
        template: {
          serviceAccount: args.serviceAccount,
          maxRetries: args.maxRetries,
          timeout: `${args.timeoutSeconds}s`,
          volumes: args.volumes,
          containers: [args.container],
        },
      },
    },
    { ...opts, protect: retain },
  );
}

/**
 * How long `pulumi up` waits for a job's `runExecutionToken` execution: the provider waits 20 minutes by default, and
 * every attempt must fit, plus the time an execution takes to start. For the job's `customTimeouts`.
 */
export function executionWait(timeoutSeconds: number, maxRetries: number): string {
  return `${Math.ceil((timeoutSeconds * (maxRetries + 1) + 300) / 60)}m`;
}

/**
 * The Cloud Run job that runs `npm run <script>` with the app's runtime: one task, the same image, env, secrets and
 * Cloud SQL socket as the web service. `retain` sets both Pulumi's protect and Cloud Run's deletion protection.
 */
export function appJob(name: string, args: AppJobArgs, opts: pulumi.CustomResourceOptions): gcp.cloudrunv2.Job {
  const { volumes, container } = npmScriptTemplate(args.runtime, args.script);
  return singleTaskJob(name, { ...args, serviceAccount: args.runtime.serviceAccountEmail, volumes, container }, opts);
}
