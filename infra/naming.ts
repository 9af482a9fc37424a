import { NAME_LIMITS } from "../shared-rules/name-limits";
import { SHARED_PREVIEW_INSTANCE } from "../shared-rules/preview-database";
import type { StackKind } from "../shared-rules/stack-name";

/**
 * Every physical name the program gives, derived from the stack alone so that two evaluations of one stack name
 * the same things, and checked against GCP's limits before anything is created.
 */
export interface Names {
  /** `pr-123`, `stage`, `prod`: the environment part of every name. */
  environment: string;
  service: string;
  migrationJob: string;
  /** Previews: the job that gives the preview's user its own database on the shared instance, and no other. */
  databaseAccessJob: string;
  runtimeServiceAccount: string;
  database: string;
  databaseUser: string;
  /** Secret Manager id of a variable's secret in this environment. */
  secretId(variable: string): string;
  /** Stage and prod: the environment's own Cloud SQL instance. */
  instance: string;
  /** Stage and prod: the identity Cloud Scheduler triggers jobs as. */
  schedulerServiceAccount: string;
  /** Stage and prod: a scheduled Cloud Run job running `npm run cron:<command>`. */
  cronJob(command: string): string;
  /** Stage and prod: the always-on breach-alerts consumer, and the identity it runs as. */
  worker: string;
  workerServiceAccount: string;
}

/** The command SRE runs to add a secret's value (on standard input, never in a shell history). */
export function addVersionCommand(project: string, secretId: string): string {
  return `gcloud secrets versions add ${secretId} --project ${project} --data-file=-`;
}

/** An env variable as it appears inside GCP ids and logical names: `NEXTAUTH_SECRET` → `nextauth-secret`. */
export function slugOf(variable: string): string {
  return variable.toLowerCase().replace(/_/g, "-");
}

/** Names of what the previews stack owns: one place, read by that stack, the pipeline and the offline engine. */
export const PREVIEW_PLATFORM_NAMES = {
  instance: SHARED_PREVIEW_INSTANCE,
  sandboxSecretId: (variable: string) => `monitor-preview-${slugOf(variable)}`,
  topic: "monitor-preview-hibp-breaches",
  /** The Artifact Registry repository previews push to, in the previews project. */
  registry: "monitor-previews",
  /** The custom role that lets the preview deployer grant the topic and the sandbox secrets (3-64 of [A-Za-z0-9_.]). */
  grantorRole: "monitorPreviewGrantor",
  /** The database admin on the shared instance, its password's secret, and its init job (its identity: pipeline-contract.ts). */
  databaseAdminUser: "monitor_previews_admin",
  databaseAdminSecretId: "monitor-previews-db-admin-password",
  databaseInitJob: "monitor-previews-db-init",
} as const;

/** The app's Pub/Sub names (monitor-app.md): the same in every environment's own project. */
export const PUBSUB_NAMES = { topic: "hibp-breaches", subscription: "hibp-breaches-alerts" } as const;

export function namesFor(stack: StackKind): Names {
  const environment = stack.kind === "preview" ? `pr-${stack.pr}` : stack.kind;
  const base = `monitor-${environment}`;
  const sqlBase = base.replace(/-/g, "_");
  return {
    environment,
    service: base,
    migrationJob: `${base}-migrate`,
    databaseAccessJob: `${base}-db-access`,
    runtimeServiceAccount: `${base}-run`,
    database: sqlBase,
    databaseUser: `${sqlBase}_app`,
    secretId: (variable) => `${base}-${slugOf(variable)}`,
    instance: base,
    schedulerServiceAccount: `${base}-scheduler`,
    cronJob: (command) => `${base}-${command}`,
    worker: `${base}-breach-alerts`,
    workerServiceAccount: `${base}-worker`,
  };
}

/** The names that break a limit, as `what "name" is N characters; GCP allows at most M`. */
export function nameLimitViolations(names: Names, secretVariables: readonly string[]): string[] {
  const checks: Array<[string, string, number]> = [
    ["Cloud Run service name", names.service, NAME_LIMITS.service],
    ["Cloud Run job name", names.migrationJob, NAME_LIMITS.migrationJob],
    ["Cloud Run job name", names.databaseAccessJob, NAME_LIMITS.migrationJob],
    ["service account id", names.runtimeServiceAccount, NAME_LIMITS.runtimeServiceAccount],
    ["service account id", names.schedulerServiceAccount, NAME_LIMITS.runtimeServiceAccount],
    ["service account id", names.workerServiceAccount, NAME_LIMITS.runtimeServiceAccount],
    ["database name", names.database, NAME_LIMITS.database],
    ["database user", names.databaseUser, NAME_LIMITS.databaseUser],
    ...secretVariables.map((v): [string, string, number] => [
      `secret id for ${v}`,
      names.secretId(v),
      NAME_LIMITS.secret,
    ]),
  ];
  return checks
    .filter(([, name, limit]) => name.length > limit)
    .map(([what, name, limit]) => `${what} "${name}" is ${name.length} characters; GCP allows at most ${limit}`);
}

export type Labels = Record<string, string>;

/** Labels for everything that takes them: what it belongs to, which environment, and for a preview which PR. */
export function labelsFor(stack: StackKind): Labels {
  const labels: Labels = {
    app: "monitor",
    environment: stack.kind === "preview" || stack.kind === "previews" ? "preview" : stack.kind,
    stack: stack.stack,
    "managed-by": "pulumi",
  };
  if (stack.kind === "preview") labels.pr = stack.pr;
  return labels;
}
