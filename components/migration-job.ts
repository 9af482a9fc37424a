import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { EXECUTION_TOKEN_LENGTH } from "../shared-rules/name-limits";
import { type AppJobCommon, appJob, executionWait } from "./app-job";
import { waitsFor } from "./options";

export interface MigrationJobArgs extends AppJobCommon {
  /**
   * Names the execution this deploy waits for (`<job>-<token>`): a new token runs the migration once, and the
   * update completes only when that execution has succeeded; the same token runs nothing. See decideMigration.
   */
  readonly executionToken: pulumi.Input<string>;
  /** How long one attempt may run. @default 600 */
  readonly timeoutSeconds?: number;
}

/** knex runs each migration in a transaction: a retry starts clean, and a second failure is real. */
const MAX_RETRIES = 1;

/**
 * Runs `npm run db:migrate` as a Cloud Run Job before traffic moves. `runExecutionToken` makes the deploy wait for
 * the migration to succeed, so a failed migration fails the deploy while the old revision keeps serving; the app
 * never migrates at container start.
 */
export class MigrationJob extends pulumi.ComponentResource {
  readonly jobName: pulumi.Output<string>;

  constructor(name: string, args: MigrationJobArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:MigrationJob", name, {}, opts);
    const timeoutSeconds = args.timeoutSeconds ?? 600;
    const wait = executionWait(timeoutSeconds, MAX_RETRIES);
    const job = appJob(
      name,
      {
        ...args,
        script: "db:migrate",
        timeoutSeconds,
        maxRetries: MAX_RETRIES,
        runExecutionToken: args.executionToken,
      },
      waitsFor(this, opts, { customTimeouts: { create: wait, update: wait } }),
    );
    this.jobName = job.name;
    this.registerOutputs({ jobName: this.jobName });
  }
}

/** Whether this deploy migrates, under which execution token, and why: shown in the plan as `migration`. */
export interface MigrationDecision {
  readonly token: string;
  readonly runs: boolean;
  readonly reason: string;
}

export interface MigrationInputs {
  readonly digest: string;
  /** @default unknown: no rollback can be recognised */
  readonly buildTime?: string;
  /** `monitor:deployId`: the CI run and attempt. @default undefined, a manual deploy */
  readonly deployId?: string;
  /** True when no new tag was given and the stack keeps what it runs. */
  readonly keep: boolean;
  /** What the stack deployed last. @default undefined: its first deploy (and always for previews) */
  readonly previous?: { readonly digest?: string; readonly buildTime?: string; readonly migrationToken?: string };
}

/** A short lowercase token per (image, deploy): Cloud Run execution names allow `[a-z0-9-]`. */
export function executionToken(digest: string, deployId: string | undefined): string {
  return createHash("sha256")
    .update(`${digest}|${deployId ?? "manual"}`)
    .digest("hex")
    .slice(0, EXECUTION_TOKEN_LENGTH);
}

/**
 * A token names an execution, and Cloud Run keeps executions for 7 days: a token derived from the digest alone
 * collides with an earlier execution of that digest (a rollback, a retried migration, an execution started by
 * hand), and the deploy fails with "already exists". So every deploy that means to migrate gets a token from the
 * digest and its deploy id (a re-run of the same deploy reuses it and runs nothing new), and a deploy that must
 * not migrate keeps the token it has: an unchanged image, or a rollback, which must not run older code's idea of
 * the schema over newer migrations (they stay applied; knex has no down-migrations in this path).
 */
export function decideMigration(m: MigrationInputs): MigrationDecision {
  const previousToken = m.previous?.migrationToken;
  if (m.keep && previousToken) {
    return { token: previousToken, runs: false, reason: "the image is unchanged: no migration runs" };
  }
  const older = m.previous?.buildTime && m.buildTime && m.buildTime < m.previous.buildTime;
  if (previousToken && m.previous?.digest !== m.digest && older) {
    return {
      token: previousToken,
      runs: false,
      reason:
        `rollback: this image was built ${m.buildTime}, before the running one (${m.previous.buildTime}); ` +
        "no migration runs and newer migrations stay applied",
    };
  }
  const token = executionToken(m.digest, m.deployId);
  if (previousToken === token) {
    return { token, runs: false, reason: `deploy ${m.deployId ?? "manual"} already ran this migration` };
  }
  const id = m.deployId ? `deploy ${m.deployId}` : "a manual deploy (no monitor:deployId: a retry must pass one)";
  return { token, runs: true, reason: `npm run db:migrate runs for ${id} before traffic moves` };
}
