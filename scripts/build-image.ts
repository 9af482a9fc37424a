/**
 * Builds and pushes the app's image for one commit, as the app's own build does, plus the record of which
 * migrations it carries. Stage's build (deploy-stage.yml) and the pre-release's build of a release-branch commit
 * (pre-release.yml) both run this, so every image stage or prod can run is built the same way.
 *
 * What the app's build passes (blurts-server `.github/workflows/docker_build_deploy.yml` and its `Dockerfile`, at
 * 3b6c89004050c9e5af9220c05d9ec74c700e643b): build args `SENTRY_RELEASE` (the commit) and `NEXT_PUBLIC_SENTRY_DSN`
 * (compiled into the client bundle: without it client-side Sentry is off), and the BuildKit secret
 * `SENTRY_AUTH_TOKEN`, mounted for the one `RUN --mount=type=secret,id=SENTRY_AUTH_TOKEN,env=SENTRY_AUTH_TOKEN ...
 * npm run build` that uploads source maps. A secret mount is in no layer and no history ("secret mounts ...
 * temporarily available inside the build container, for the duration of the build instruction",
 * docs.docker.com/build/building/secrets), and a mount is optional unless it says `required=true` (Dockerfile
 * reference, RUN --mount=type=secret), so a build without the token works and uploads nothing.
 * No value reaches the command line: `--build-arg NAME` without `=value` takes the value from the environment
 * (docs.docker.com/reference/cli/docker/buildx/build/#build-arg), `--secret id=X,env=X` reads the variable
 * (same page, #secret), and this script puts both in docker's environment only.
 *
 * The migration record: `npm run db:migrate` is `knex migrate:latest --knexfile src/db/knexfile.js` (blurts-server
 * package.json), whose config sets no `migrations.directory`; knex reads `./migrations` ("directory ... default
 * ./migrations", knexjs.org, Migration API) beside the knexfile, `src/db/migrations/`, in file-name order (names
 * start with a UTC timestamp: `20260622140000_add_unique_fxa_uid_index.js`). The newest name goes into a second
 * tag on the same digest (shared-rules/image-tags.ts migrationTag), read from git objects, not the work tree.
 *
 * env: APP_DIR (the app's checkout of COMMIT_SHA), COMMIT_SHA, IMAGE_REPOSITORY, VERSION (`version` of
 * /__version__: the branch or calendar tag), GITHUB_SERVER_URL, GITHUB_REPOSITORY, GITHUB_RUN_ID (set by Actions),
 * SENTRY_DSN and SENTRY_AUTH_TOKEN (optional: without them the image reports nothing to Sentry, with a warning).
 * Outputs `tag` (the short SHA), `migration_head`, `migration_tag`.
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { migrationTag } from "../shared-rules/image-tags";
import {
  FULL_SHA,
  REPOSITORY,
  RefusedError,
  consoleLog,
  requireEnv,
  optionalEnv,
  run,
  type Env,
  type Log,
} from "./lib/cli";
import { writeOutputs } from "./lib/github-files";

export const MIGRATIONS_DIR = "src/db/migrations";
/** knex's default `loadExtensions` (knex lib/migrations/common/MigrationsLoader.js). */
const MIGRATION_FILE = /\.(co|coffee|eg|iced|js|cjs|mjs|litcoffee|ls|ts|cts|mts)$/;

/** The newest migration among `git ls-tree --name-only` paths, or undefined when there is none. */
export function newestMigration(paths: readonly string[]): string | undefined {
  return paths
    .map((p) => p.slice(p.lastIndexOf("/") + 1))
    .filter((f) => MIGRATION_FILE.test(f) && !f.endsWith(".d.ts"))
    .sort()
    .at(-1);
}

/**
 * Runs a command, `env` added to the process's environment, and resolves to its stdout when `capture` is set;
 * otherwise its output goes to the job log (docker's progress). Rejects when it exits non-zero.
 */
export type Exec = (
  command: string,
  args: readonly string[],
  options?: { env?: Readonly<Record<string, string>>; capture?: boolean },
) => Promise<string>;
const realExec: Exec = (command, args, options = {}) =>
  new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, ...options.env },
      stdio: ["ignore", options.capture ? "pipe" : "inherit", "inherit"],
    });
    let out = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (out += chunk));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${command} ${args[0] ?? ""} exited with ${code}`)),
    );
  });

export interface BuildPlan {
  /** `<repository>:<short sha>` and `<repository>:<migration tag>`. */
  readonly tags: readonly string[];
  readonly migrationHead: string;
  readonly migrationTag: string;
  readonly dockerArgs: readonly string[];
  /** Only what docker reads from its environment: the values never appear in dockerArgs. */
  readonly dockerEnv: Readonly<Record<string, string>>;
  readonly warnings: readonly string[];
}

export function planBuild(input: {
  appDir: string;
  commit: string;
  repository: string;
  migrationPaths: readonly string[];
  sentryDsn?: string;
  sentryAuthToken?: string;
}): BuildPlan {
  const short = input.commit.slice(0, 7);
  const head = newestMigration(input.migrationPaths);
  if (!head) {
    throw new RefusedError(
      `Commit ${input.commit} has no migration under ${MIGRATIONS_DIR}/. ` +
        "Fix: if the app moved its migrations, update MIGRATIONS_DIR in scripts/build-image.ts.",
    );
  }
  const record = migrationTag(short, head);
  if (!record) {
    throw new RefusedError(
      `The migration file name "${head}" cannot be part of a Docker tag ([A-Za-z0-9_.-], 128 characters with the ` +
        "short SHA). Fix: rename the migration in the app to <UTC timestamp>_<words>.js.",
    );
  }
  const tags = [`${input.repository}:${short}`, `${input.repository}:${record}`];
  const dockerEnv: Record<string, string> = { SENTRY_RELEASE: input.commit };
  const buildArgs = ["--build-arg", "SENTRY_RELEASE"];
  const warnings: string[] = [];
  if (input.sentryDsn) {
    dockerEnv.NEXT_PUBLIC_SENTRY_DSN = input.sentryDsn;
    buildArgs.push("--build-arg", "NEXT_PUBLIC_SENTRY_DSN");
  } else {
    warnings.push(
      "SENTRY_DSN is not set: this image reports no client-side errors. Fix: set the app's SENTRY_DSN secret.",
    );
  }
  if (input.sentryAuthToken) {
    dockerEnv.SENTRY_AUTH_TOKEN = input.sentryAuthToken;
    buildArgs.push("--secret", "id=SENTRY_AUTH_TOKEN,env=SENTRY_AUTH_TOKEN");
  } else {
    warnings.push(
      "SENTRY_AUTH_TOKEN is not set: no source maps are uploaded. Fix: set the app's SENTRY_AUTH_TOKEN secret.",
    );
  }
  return {
    tags,
    migrationHead: head,
    migrationTag: record,
    dockerArgs: ["build", "--pull", ...tags.flatMap((t) => ["--tag", t]), ...buildArgs, input.appDir],
    dockerEnv,
    warnings,
  };
}

export async function main(env: Env = process.env, exec: Exec = realExec, log: Log = consoleLog(env)): Promise<number> {
  const appDir = requireEnv(env, "APP_DIR", { hint: "pass the path of the app's checkout." });
  const commit = requireEnv(env, "COMMIT_SHA", { pattern: FULL_SHA, expected: "a full commit SHA" });
  const repository = requireEnv(env, "IMAGE_REPOSITORY", {
    pattern: /^[a-z0-9-]+-docker\.pkg\.dev\/[a-z0-9-]+\/[a-z0-9-]+\/[a-z0-9._/-]+$/,
    expected: "an Artifact Registry image path <location>-docker.pkg.dev/<project>/<repository>/<image>",
    hint: "set vars.IMAGE_REPOSITORY of the environment (the pipeline stack writes it).",
  });
  const version = requireEnv(env, "VERSION", { hint: "pass the branch or calendar tag the image is built for." });
  const sourceRepository = requireEnv(env, "GITHUB_REPOSITORY", { pattern: REPOSITORY, expected: "owner/repo" });
  const serverUrl = requireEnv(env, "GITHUB_SERVER_URL");
  const build = requireEnv(env, "GITHUB_RUN_ID", { pattern: /^[0-9]+$/, expected: "a run id" });

  let listing: string;
  try {
    listing = await exec("git", ["-C", appDir, "ls-tree", "--name-only", commit, `${MIGRATIONS_DIR}/`], {
      capture: true,
    });
  } catch {
    throw new RefusedError(
      `COMMIT_SHA ${commit} is not in the app's checkout at APP_DIR ${appDir}. ` +
        "Fix: check out COMMIT_SHA into APP_DIR before this step.",
    );
  }
  const plan = planBuild({
    appDir,
    commit,
    repository,
    migrationPaths: listing.split("\n").filter(Boolean),
    sentryDsn: optionalEnv(env, "SENTRY_DSN"),
    sentryAuthToken: optionalEnv(env, "SENTRY_AUTH_TOKEN"),
  });
  for (const w of plan.warnings) log.warn(w);

  // /__version__ (Dockerflow) serves this file, baked into the image as the app's build does.
  const versionJson = { commit, version, source: `${serverUrl}/${sourceRepository}`, build };
  writeFileSync(join(appDir, "version.json"), `${JSON.stringify(versionJson)}\n`);
  await exec("docker", plan.dockerArgs, { env: plan.dockerEnv });
  // The second push only adds the tag: its layers are already in the registry.
  for (const tag of plan.tags) await exec("docker", ["push", tag]);

  writeOutputs(env, { tag: commit.slice(0, 7), migration_head: plan.migrationHead, migration_tag: plan.migrationTag });
  log.info(`Pushed ${plan.tags.join(" and ")} (newest migration ${plan.migrationHead}).`);
  return 0;
}

if (require.main === module) run(() => main());
