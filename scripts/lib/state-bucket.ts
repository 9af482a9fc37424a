/**
 * The previews in the Pulumi state bucket, found by listing object names, never by reading checkpoints.
 *
 * `pulumi stack ls` (and the Automation API's `workspace.listStacks()`) on a DIY backend reads every stack's
 * checkpoint of the project to summarise it, and the preview deployer may read only `pr-*` objects: the listing
 * fails with 403 on stage's or prod's. Listing names is what the deployer may do (its bucket-level condition,
 * components/state-backend.ts objectCondition), so the sweeper enumerates `pr-*` here and takes each preview's last
 * update from the checkpoint object's `updated` metadata.
 *
 * Layout (pulumi/pulumi pkg/backend/diy/store.go, ListReferences): checkpoints are
 * `<prefix>.pulumi/stacks/<project>/<stack>.json`, optionally `.gz` or `.zst` compressed; `.bak` files beside them are
 * backups and skipped, as Pulumi skips them. A stack being updated holds a lock object
 * `<prefix>.pulumi/locks/organization/<project>/<stack>/<uuid>.json`: the lock directory is the stack's fully
 * qualified name (pkg/backend/diy/lock.go `lockPath`: `stackLockDir(stackRef.FullyQualifiedName())`), which for a
 * project-scoped DIY stack is `organization/<project>/<stack>` (backend.go `diyBackendReference.FullyQualifiedName`).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { parseStackName } from "../../shared-rules/stack-name";
import { UsageError } from "./cli";
import type { Fetch } from "./github";

/** One object as the listing returns it: its name and when it was last written (RFC 3339). */
export interface BucketObject {
  readonly name: string;
  readonly updated: string;
}

/** Lists object names under a prefix; the real one is the GCS JSON API, tests pass a fake. */
export interface ObjectLister {
  list(prefix: string): Promise<BucketObject[]>;
}

/** A preview stack as the listing shows it. */
export interface ListedStack {
  readonly name: string;
  /** When its checkpoint was last written (the object's `updated`). */
  readonly lastUpdate: string;
  /** A lock object exists: an update, destroy or refresh is running (or died holding the lock). */
  readonly updateInProgress: boolean;
}

/**
 * The PR number of a preview stack, by its name (`pr-12`, or fully qualified `organization/monitor/pr-12`); undefined
 * for any other stack, known or not.
 */
export function previewNumber(name: string): number | undefined {
  try {
    const kind = parseStackName(name.slice(name.lastIndexOf("/") + 1));
    return kind.kind === "preview" ? Number(kind.pr) : undefined;
  } catch {
    return undefined;
  }
}

/** `gs://bucket[/path]` → the bucket and the object prefix the backend's `.pulumi/` lives under. */
export function parseBackendUrl(url: string): { bucket: string; prefix: string } {
  const m = /^gs:\/\/([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])(?:\/(.*?))?\/?$/.exec(url.trim());
  if (!m) {
    throw new UsageError(
      `PULUMI_BACKEND_URL "${url}" is not a gs:// URL. Fix: pass the environment's variable PULUMI_BACKEND_URL (gs://<bucket>).`,
    );
  }
  return { bucket: m[1], prefix: m[2] ? `${m[2]}/` : "" };
}

const CHECKPOINT = /^(.+)\.json(?:\.gz|\.zst)?$/;

/** DIY stacks' fully qualified names use this organization, always (backend.go `diyBackendReference.Organization`). */
const DIY_ORGANIZATION = "organization";

/** What `listStacks` lists: the checkpoints and the locks of the stacks whose names start with `stackPrefix`. */
export interface StackListing {
  readonly stacksDir: string;
  readonly locksDir: string;
  /** Object-name prefixes of the two listings. */
  readonly checkpoints: string;
  readonly locks: string;
}

export function stackListing(backend: { prefix: string; project: string }, stackPrefix: string): StackListing {
  const stacksDir = `${backend.prefix}.pulumi/stacks/${backend.project}/`;
  const locksDir = `${backend.prefix}.pulumi/locks/${DIY_ORGANIZATION}/${backend.project}/`;
  return { stacksDir, locksDir, checkpoints: `${stacksDir}${stackPrefix}`, locks: `${locksDir}${stackPrefix}` };
}

/** The stacks the two listings show: one per checkpoint, in progress when a lock object is under its lock dir. */
export function stacksFromListing(
  listing: StackListing,
  checkpoints: readonly BucketObject[],
  locks: readonly BucketObject[],
): ListedStack[] {
  const locked = new Set(
    locks
      .map((o) => o.name.slice(listing.locksDir.length).split("/"))
      .flatMap((parts) => (parts.length === 2 ? [parts[0]] : [])),
  );
  const latest = new Map<string, string>();
  for (const o of checkpoints) {
    const file = o.name.slice(listing.stacksDir.length);
    const m = file.includes("/") ? null : CHECKPOINT.exec(file);
    if (!m) continue;
    const previous = latest.get(m[1]);
    if (!previous || Date.parse(o.updated) > Date.parse(previous)) latest.set(m[1], o.updated);
  }
  return [...latest.entries()]
    .map(([name, lastUpdate]) => ({ name, lastUpdate, updateInProgress: locked.has(name) }))
    .sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
}

/** The stacks whose names start with `stackPrefix`, from their checkpoint and lock objects. */
export async function listStacks(
  lister: ObjectLister,
  backend: { prefix: string; project: string },
  stackPrefix: string,
): Promise<ListedStack[]> {
  const listing = stackListing(backend, stackPrefix);
  const [checkpoints, locks] = await Promise.all([lister.list(listing.checkpoints), lister.list(listing.locks)]);
  return stacksFromListing(listing, checkpoints, locks);
}

/**
 * The GCS JSON API's objects.list (https://cloud.google.com/storage/docs/json_api/v1/objects/list): needs
 * `storage.objects.list` on the bucket only, returns names and metadata (never contents), pages by `nextPageToken`.
 * `fields` asks for the two fields used.
 */
export function gcsLister(bucket: string, token: () => Promise<string>, fetchImpl: Fetch = fetch): ObjectLister {
  return {
    async list(prefix) {
      const objects: BucketObject[] = [];
      let pageToken: string | undefined;
      do {
        const url = new URL(`https://storage.googleapis.com/storage/v1/b/${encodeURIComponent(bucket)}/o`);
        url.searchParams.set("prefix", prefix);
        url.searchParams.set("fields", "nextPageToken,items(name,updated)");
        if (pageToken) url.searchParams.set("pageToken", pageToken);
        const response = await fetchImpl(url, { headers: { authorization: `Bearer ${await token()}` } });
        if (!response.ok) {
          const body = await response.text();
          throw new Error(
            `Listing gs://${bucket}/${prefix}* failed: ${response.status} ${body.slice(0, 300)}. ` +
              "The identity needs storage.objects.list on the bucket (the state bucket's grants in the pipeline stack).",
          );
        }
        const page = (await response.json()) as { items?: BucketObject[]; nextPageToken?: string };
        objects.push(...(page.items ?? []));
        pageToken = page.nextPageToken;
      } while (pageToken);
      return objects;
    },
  };
}

/**
 * A read-only access token from Application Default Credentials: in CI, the external-account file that
 * google-github-actions/auth writes (GOOGLE_APPLICATION_CREDENTIALS), which google-auth-library exchanges for the
 * deployer's token (its README, "Workload Identity Federation": "Accessing resources from an OIDC identity provider").
 */
export function adcToken(): () => Promise<string> {
  return async () => {
    const { GoogleAuth } = await import("google-auth-library");
    const auth = new GoogleAuth({ scopes: ["https://www.googleapis.com/auth/devstorage.read_only"] });
    const token = await auth.getAccessToken();
    if (!token) throw new Error("Application Default Credentials gave no access token.");
    return token;
  };
}

/** The Pulumi project's name, from Pulumi.yaml in `projectDir` (the state's `.pulumi/stacks/<project>/`). */
export function projectName(projectDir: string): string {
  const name = (parse(readFileSync(join(projectDir, "Pulumi.yaml"), "utf8")) as { name?: unknown }).name;
  if (typeof name !== "string" || name === "") throw new Error(`${projectDir}/Pulumi.yaml names no project`);
  return name;
}
