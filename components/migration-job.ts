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
  /**
   * The newest migration the database has once this deploy is done (a stack output, `migrationHead`): the greater
   * of what it had and what this image carries, since migrations stay applied when older code runs.
   * Undefined while neither is known.
   */
  readonly databaseHead?: string;
}

export interface MigrationInputs {
  readonly digest: string;
  /** @default unknown: no rollback can be recognised by build time */
  readonly buildTime?: string;
  /** The newest migration the image carries (its migration tag). @default unknown: an image built without one */
  readonly migrationHead?: string;
  /** `monitor:deployId`: the CI run and attempt. @default undefined, a manual deploy */
  readonly deployId?: string;
  /** True when no new tag was given and the stack keeps what it runs. */
  readonly keep: boolean;
  /** What the stack deployed last. @default undefined: its first deploy (and always for previews) */
  readonly previous?: {
    readonly digest?: string;
    readonly buildTime?: string;
    readonly migrationToken?: string;
    /** The newest migration the database has had applied. */
    readonly migrationHead?: string;
  };
}

/** A short lowercase token per (image, deploy): Cloud Run execution names allow `[a-z0-9-]`. */
export function executionToken(digest: string, deployId: string | undefined): string {
  return createHash("sha256")
    .update(`${digest}|${deployId ?? "manual"}`)
    .digest("hex")
    .slice(0, EXECUTION_TOKEN_LENGTH);
}

const newest = (a?: string, b?: string) => (a === undefined ? b : b === undefined ? a : a > b ? a : b);

/**
 * A token names an execution, and Cloud Run keeps executions for 7 days: a token derived from the digest alone
 * collides with an earlier execution of that digest (a rollback, a retried migration, an execution started by
 * hand), and the deploy fails with "already exists". So every deploy that means to migrate gets a token from the
 * digest and its deploy id (a re-run of the same deploy reuses it and runs nothing new), and a deploy that must
 * not migrate keeps the token it has: an unchanged image, or an image that lacks migrations the database has.
 *
 * That last one is decided by migration set, not build time: knex refuses to migrate when the database has
 * applied a migration the image does not carry ("The migration directory is corrupt, the following files are
 * missing: ...", knex lib/migrations/migrate/Migrator.js `validateMigrationList`). A rollback is such an image,
 * and so is a fix built later from a release branch, which lacks what main has applied since (a build-time rule
 * took it for newer and failed the deploy). Knex applies in file-name order, so an image whose newest migration
 * sorts before the database's lacks at least that one. Only for images built without a migration tag (before it
 * existed) does the build time still decide.
 */
export function decideMigration(m: MigrationInputs): MigrationDecision {
  const previousToken = m.previous?.migrationToken;
  const databaseHead = newest(m.previous?.migrationHead, m.migrationHead);
  if (m.keep && previousToken) {
    return { token: previousToken, runs: false, reason: "the image is unchanged: no migration runs", databaseHead };
  }
  const applied = m.previous?.migrationHead;
  if (previousToken && m.migrationHead !== undefined && applied !== undefined && m.migrationHead < applied) {
    return {
      token: previousToken,
      runs: false,
      reason:
        `this image's newest migration (${m.migrationHead}) is older than the database's (${applied}): a rollback ` +
        "or a release-branch fix. No migration runs (knex would refuse the missing files); newer migrations stay applied",
      databaseHead,
    };
  }
  const unrecorded = m.migrationHead === undefined || applied === undefined;
  const older = unrecorded && m.previous?.buildTime && m.buildTime && m.buildTime < m.previous.buildTime;
  if (previousToken && m.previous?.digest !== m.digest && older) {
    return {
      token: previousToken,
      runs: false,
      reason:
        `rollback: this image was built ${m.buildTime}, before the running one (${m.previous.buildTime}), and ` +
        "records no migration set; no migration runs and newer migrations stay applied",
      databaseHead,
    };
  }
  const token = executionToken(m.digest, m.deployId);
  if (previousToken === token) {
    return { token, runs: false, reason: `deploy ${m.deployId ?? "manual"} already ran this migration`, databaseHead };
  }
  const id = m.deployId ? `deploy ${m.deployId}` : "a manual deploy (no monitor:deployId: a retry must pass one)";
  return { token, runs: true, reason: `npm run db:migrate runs for ${id} before traffic moves`, databaseHead };
}
