import type * as pulumi from "@pulumi/pulumi";
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

/**
 * The Cloud Run job that runs `npm run <script>` with the app's runtime: one task, the same image, env, secrets and
 * Cloud SQL socket as the web service. `retain` sets both Pulumi's protect and Cloud Run's deletion protection.
 */
export function appJob(name: string, args: AppJobArgs, opts: pulumi.CustomResourceOptions): gcp.cloudrunv2.Job {
  const { volumes, container } = npmScriptTemplate(args.runtime, args.script);
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
          serviceAccount: args.runtime.serviceAccountEmail,
          maxRetries: args.maxRetries,
          timeout: `${args.timeoutSeconds}s`,
          volumes,
          containers: [container],
        },
      },
    },
    { ...opts, protect: retain },
  );
}
