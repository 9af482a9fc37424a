/**
 * Admits a pull request's preview before `pulumi up`, or refuses it while the previews are full: a deploy past the
 * shared instance's budget would not fail, it would fail requests at run time with "too many connections" in
 * whichever preview lost the race. On a refusal it writes the sticky comment (why, the counts, which previews hold
 * connections, when it is retried) to BODY_FILE, sets the step output `refused=true`, and exits 1.
 *
 * Two caps, each counted on what is really there, and each admitting a preview it already counts:
 * - open previews: `pr-<N>` stacks in the state backend, found by listing the bucket's object names as the sweeper
 *   does (scripts/lib/state-bucket.ts: never `pulumi stack ls`, which reads every checkpoint, stage's and prod's
 *   too), at most PREVIEW_CAP (monitor:preview.maxOpen). A preview whose stack exists is always within it.
 * - active previews: preview databases on the shared instance holding connections now, at most PREVIEW_ACTIVE_CAP
 *   (monitor:preview.maxActive, what the instance is sized for). A cold preview (scaled to zero) holds none; one
 *   already holding connections is always within it. A preview that is open but idle is not: its deploy runs the
 *   migration and starts the service, which makes it active.
 *
 * What it cannot see: the metric trails by up to four and a half minutes (below), and two pull requests admitted in
 * that window, or at once, can both take the last place. The budget's reserve and its worst-case count (every
 * instance at a full pool, with a migration running) absorb one such overshoot.
 *
 * env: PR_NUMBER, PREVIEW_CAP, PREVIEW_ACTIVE_CAP (repository variables the pipeline stack writes from
 *      monitor:preview), GCP_PROJECT (the previews project), GOOGLE_OAUTH_ACCESS_TOKEN (the auth step's
 *      access_token: the preview deployer, which holds monitoring.timeSeries.list in the previews project and
 *      storage.objects.list on the state bucket), PULUMI_BACKEND_URL (gs://<bucket>, listed here), BODY_FILE (the
 *      sticky comment's body, written on a refusal), RUN_URL, GITHUB_OUTPUT.
 */
import { writeFileSync } from "node:fs";
import { PREVIEW_PLATFORM_NAMES, namesFor } from "../infra/naming";
import { REPOSITORY_VARIABLES } from "../infra/pipeline-contract";
import { GCP_PROJECT_ID } from "../shared-rules/gcp-ids";
import { parseStackName } from "../shared-rules/stack-name";
import { resolve } from "node:path";
import { RefusedError, intEnv, requireEnv, run, type Env } from "./lib/cli";
import { writeOutputs } from "./lib/github-files";
import {
  type ObjectLister,
  gcsLister,
  listStacks,
  parseBackendUrl,
  previewNumber,
  projectName,
} from "./lib/state-bucket";
import { PREVIEW_COMMENT_MARKER, link } from "./preview-comment";

/**
 * Connections per database: "The number of connections to the Cloud SQL PostgreSQL instance", a GAUGE (INT64) with
 * the label `database`, on the monitored resource `cloudsql_database` whose `database_id` is
 * `<project>:<instance>`. "Sampled every 60 seconds. After sampling, data is not visible for up to 210 seconds."
 * (https://cloud.google.com/monitoring/api/metrics_gcp#gcp-cloudsql, `database/postgresql/num_backends`;
 * https://cloud.google.com/monitoring/api/resources#tag_cloudsql_database).
 */
export const NUM_BACKENDS = "cloudsql.googleapis.com/database/postgresql/num_backends";
/** Long enough to hold the newest visible sample (60 s apart, up to 210 s late), short enough to be "now". */
export const LOOKBACK_MS = 5 * 60_000;
export const MONITORING_API = "https://monitoring.googleapis.com";
/** More pages than the shared instance has databases for (one series per database, 100 per page by default). */
const MAX_PAGES = 20;

/** One series of timeSeries.list as its REST reference shapes it (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TimeSeries). */
interface TimeSeries {
  metric?: { labels?: Record<string, string> };
  points?: { interval?: { endTime?: string }; value?: { int64Value?: string | number; doubleValue?: number } }[];
}
interface ListResponse {
  timeSeries?: TimeSeries[];
  nextPageToken?: string;
}

/** The PR number whose preview owns `database`, or undefined for any other database (postgres, cloudsqladmin). */
export function previewOfDatabase(database: string): number | undefined {
  const pr = /^monitor_pr_([1-9][0-9]{0,9})$/.exec(database)?.[1];
  // Checked against the program's own naming, so that a rename there cannot make every preview look idle.
  return pr !== undefined && namesFor(parseStackName(`pr-${pr}`)).database === database ? Number(pr) : undefined;
}

/** A series' newest value, whatever order its points come in. */
function newestValue(series: TimeSeries): number {
  const newest = [...(series.points ?? [])].sort((a, b) =>
    String(b.interval?.endTime ?? "").localeCompare(String(a.interval?.endTime ?? "")),
  )[0];
  // JSON carries an int64 as a string (proto3's JSON mapping).
  return Number(newest?.value?.int64Value ?? newest?.value?.doubleValue ?? 0);
}

/** Google APIs answer an error as `{"error": {"code", "message", "status"}}`; anything else is shown flattened. */
function googleErrorMessage(body: string): string {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {
    // Not JSON: the text itself.
  }
  return body.replace(/\s+/g, " ").trim();
}

export interface MonitoringClient {
  /** The API's root; tests point it at a local server. @default MONITORING_API */
  readonly url?: string;
  readonly token: string;
  readonly fetch?: typeof fetch;
}

/** PR number → connections its database holds now, for the previews holding any, on the shared instance. */
export async function activePreviews(
  client: MonitoringClient,
  project: string,
  now: Date,
): Promise<Map<number, number>> {
  const doFetch = client.fetch ?? fetch;
  const filter =
    `metric.type = "${NUM_BACKENDS}" AND resource.type = "cloudsql_database" AND ` +
    `resource.labels.database_id = "${project}:${PREVIEW_PLATFORM_NAMES.instance}"`;
  const active = new Map<number, number>();
  let pageToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    // projects.timeSeries.list (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.timeSeries/list).
    const url = new URL(`${client.url ?? MONITORING_API}/v3/projects/${encodeURIComponent(project)}/timeSeries`);
    url.searchParams.set("filter", filter);
    url.searchParams.set("interval.startTime", new Date(now.getTime() - LOOKBACK_MS).toISOString());
    url.searchParams.set("interval.endTime", now.toISOString());
    if (pageToken) url.searchParams.set("pageToken", pageToken);
    const response = await doFetch(url, {
      headers: { authorization: `Bearer ${client.token}` },
      signal: AbortSignal.timeout(30_000),
    });
    if (!response.ok) {
      const detail = googleErrorMessage(await response.text().catch(() => ""));
      throw new RefusedError(
        `Could not count the previews holding connections: Cloud Monitoring answered ${response.status} to ` +
          `timeSeries.list in ${project}${detail ? `: ${detail.slice(0, 300)}` : ""}. Fix: ` +
          (response.status === 401 || response.status === 403
            ? "the preview deployer needs monitoring.timeSeries.list in the previews project (components/deployer.ts " +
              "previewGrants, applied by the pipeline stack); pass the auth step's access_token as GOOGLE_OAUTH_ACCESS_TOKEN"
            : "run the job again; the next push retries it too"),
      );
    }
    const body = (await response.json()) as ListResponse;
    for (const series of body.timeSeries ?? []) {
      const pr = previewOfDatabase(series.metric?.labels?.database ?? "");
      const connections = newestValue(series);
      if (pr !== undefined && connections > 0) active.set(pr, (active.get(pr) ?? 0) + connections);
    }
    pageToken = body.nextPageToken || undefined;
    if (!pageToken) return active;
  }
  throw new RefusedError(
    `Could not count the previews holding connections: timeSeries.list returned more than ${MAX_PAGES} pages. Fix: ` +
      "run the job again; if it repeats, the shared instance holds far more databases than previews may open",
  );
}

export interface Fleet {
  /** PR numbers with a preview stack. */
  readonly open: readonly number[];
  /** PR number → connections, for the previews holding any. */
  readonly active: ReadonlyMap<number, number>;
}

export interface Caps {
  readonly open: number;
  readonly active: number;
}

export type Admission =
  { readonly admitted: true; readonly why: string } | { readonly admitted: false; readonly reasons: readonly string[] };

export function decideAdmission(pr: number, fleet: Fleet, caps: Caps): Admission {
  const isOpen = fleet.open.includes(pr);
  const isActive = fleet.active.has(pr);
  const reasons: string[] = [];
  if (!isOpen && fleet.open.length >= caps.open) {
    reasons.push(`${fleet.open.length} previews are open, and at most ${caps.open} may be (monitor:preview.maxOpen)`);
  }
  if (!isActive && fleet.active.size >= caps.active) {
    reasons.push(
      `${fleet.active.size} previews hold database connections on the shared instance, and at most ${caps.active} may ` +
        "(monitor:preview.maxActive, what the instance is sized for)",
    );
  }
  if (reasons.length > 0) return { admitted: false, reasons };
  return {
    admitted: true,
    why:
      `#${pr}: ${isOpen ? "its preview is open" : `${fleet.open.length} of ${caps.open} open`}, ` +
      `${isActive ? "and already holds connections" : `${fleet.active.size} of ${caps.active} holding connections`}`,
  };
}

/** The sticky comment of a refused preview: why, the counts, who holds connections, and when it is retried. */
export function renderRefusal(
  pr: number,
  fleet: Fleet,
  caps: Caps,
  reasons: readonly string[],
  runUrl: string,
): string {
  const holders = [...fleet.active.entries()]
    .sort(([a], [b]) => a - b)
    .map(([n, connections]) => `#${n} (${connections})`);
  return [
    PREVIEW_COMMENT_MARKER,
    `### No preview for #${pr} yet: the previews are full`,
    "",
    `This push was not deployed, because ${reasons.join("; and ")}.`,
    "",
    "| | now | at most |",
    "|---|---|---|",
    `| Open previews | ${fleet.open.length} | ${caps.open} |`,
    `| Previews holding connections | ${fleet.active.size} | ${caps.active} |`,
    "",
    `Holding connections now (pull request, connections): ${holders.length > 0 ? holders.join(", ") : "none"}.`,
    "",
    "It is retried on the next push to this pull request. A place frees up when a preview goes idle (it scales to " +
      "zero and drops its connections), its pull request is closed, or the hourly sweeper removes a preview past " +
      `its TTL; re-running the failed job then deploys it without a push (${link("workflow run", runUrl)}).`,
    "",
  ].join("\n");
}

export interface AdmissionDeps {
  /** Lists the state bucket's object names; the GCS JSON API with the deployer's token unless a test gives its own. */
  readonly lister?: ObjectLister;
  readonly monitoringUrl?: string;
  readonly fetch?: typeof fetch;
  readonly now?: Date;
}

export async function main(env: Env = process.env, deps: AdmissionDeps = {}): Promise<number> {
  const hint = (name: string) =>
    `Set it from the repository variable ${name} (the pipeline stack writes it from monitor:preview).`;
  const pr = Number(requireEnv(env, "PR_NUMBER", { pattern: /^[1-9][0-9]{0,9}$/, expected: "a pull request number" }));
  const caps = {
    open: intEnv(env, "PREVIEW_CAP", { min: 1, max: 1000 }, hint(REPOSITORY_VARIABLES.previewCap)),
    active: intEnv(env, "PREVIEW_ACTIVE_CAP", { min: 1, max: 1000 }, hint(REPOSITORY_VARIABLES.previewActiveCap)),
  };
  const project = requireEnv(env, "GCP_PROJECT", {
    pattern: GCP_PROJECT_ID,
    expected: "a GCP project id",
    hint: "Pass the previews project: ${{ vars.PREVIEW_GCP_PROJECT }}.",
  });
  const token = requireEnv(env, "GOOGLE_OAUTH_ACCESS_TOKEN", {
    hint: "Give the auth step token_format: access_token and pass ${{ steps.auth.outputs.access_token }}.",
  });
  const { bucket, prefix } = parseBackendUrl(
    requireEnv(env, "PULUMI_BACKEND_URL", {
      hint: "Pass the environment's variable PULUMI_BACKEND_URL (gs://<bucket>).",
    }),
  );
  const bodyFile = requireEnv(env, "BODY_FILE", { hint: "Give the path the sticky comment step posts." });
  const runUrl = requireEnv(env, "RUN_URL", { pattern: /^https:\/\/\S+$/, expected: "an https URL" });
  requireEnv(env, "GITHUB_OUTPUT", { hint: "Run this script as a step of a GitHub Actions job (the runner sets it)." });

  // The auth step's access token carries the cloud-platform scope (google-github-actions/auth action.yml,
  // access_token_scopes: "default: 'https://www.googleapis.com/auth/cloud-platform'"), which covers the GCS listing
  // as well as Cloud Monitoring: one token for both.
  const lister = deps.lister ?? gcsLister(bucket, () => Promise.resolve(token), deps.fetch);
  // Pulumi.yaml names the project whose stacks the bucket holds; it sits at the repository root, above scripts/.
  // Nothing here runs Pulumi: the sweeper's destroy functions stay out of this script's imports.
  const stacks = await listStacks(lister, { prefix, project: projectName(resolve(__dirname, "..")) }, "pr-");
  const open = stacks.map((s) => previewNumber(s.name)).filter((n): n is number => n !== undefined);
  const active = await activePreviews(
    { url: deps.monitoringUrl, token, fetch: deps.fetch },
    project,
    deps.now ?? new Date(),
  );
  const fleet = { open, active };
  const admission = decideAdmission(pr, fleet, caps);
  if (admission.admitted) {
    console.log(`Admitted ${admission.why}.`);
    return 0;
  }
  writeFileSync(bodyFile, renderRefusal(pr, fleet, caps, admission.reasons, runUrl));
  writeOutputs(env, { refused: "true" });
  throw new RefusedError(
    `No preview for #${pr} yet: ${admission.reasons.join("; and ")}. Fix: push again, or re-run this job once a ` +
      "preview frees up (the pull request's comment lists the previews holding connections).",
  );
}

if (require.main === module) run(() => main());
