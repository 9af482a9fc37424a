import * as pulumi from "@pulumi/pulumi";
import * as gcp from "@pulumi/gcp";
import { type AppRuntime, npmScriptTemplate } from "./app-runtime";

export interface MigrationJobArgs {
  location: string;
  jobName: string;
  runtime: AppRuntime;
  /**
   * Changes whenever the image does (a short digest prefix): each change runs the migration once, and the update
   * only completes when that execution has succeeded.
   */
  executionToken: pulumi.Input<string>;
  labels: Record<string, string>;
  deletionProtection: boolean;
  /** Default 10 minutes. */
  timeoutSeconds?: number;
}

/**
 * Runs `npm run db:migrate` as a Cloud Run Job before traffic moves. `runExecutionToken` makes the deploy wait for
 * the migration to succeed, so a failed migration fails the deploy while the old revision keeps serving; the app
 * never migrates at container start.
 */
export class MigrationJob extends pulumi.ComponentResource {
  readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: MigrationJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:MigrationJob", name, {}, opts);
    const { volumes, container } = npmScriptTemplate(args.runtime, "db:migrate");
    const job = new gcp.cloudrunv2.Job(
      name,
      {
        name: args.jobName,
        location: args.location,
        labels: args.labels,
        deletionProtection: args.deletionProtection,
        runExecutionToken: args.executionToken,
        template: {
          taskCount: 1,
          template: {
            serviceAccount: args.runtime.serviceAccountEmail,
            // knex runs each migration in a transaction: a retry starts clean, and a second failure is real.
            maxRetries: 1,
            timeout: `${args.timeoutSeconds ?? 600}s`,
            volumes,
            containers: [container],
          },
        },
      },
      // A component's dependsOn does not reach its children: the resource that must wait says so itself.
      { parent: this, dependsOn: opts?.dependsOn },
    );
    this.jobName = job.name;
    this.registerOutputs({ jobName: this.jobName });
  }
}
