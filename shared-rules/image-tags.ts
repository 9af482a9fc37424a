/**
 * The image tags this project deploys, as mozilla/blurts-server's workflows make them: a short commit SHA on every
 * push to main for stage (.github/workflows/docker_build_deploy.yml, `type=sha,format=short`), and a calendar tag
 * `YYYY.MM.DD`, `.N` for a second release on one day, which release_retag.yaml puts on that image (prod). The
 * config, the release scripts and the engine's mocks read tags with these, so there is one idea of what a release
 * is; and the digest every tag resolves to, which is all a container may run by (the config, the image resolver,
 * the pack).
 */

import { unanchored } from "./patterns";

export const SHORT_SHA = /^[0-9a-f]{7,40}$/;

/** An image digest as registries report it. */
export const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** `<repository>@sha256:<64 hex>`: an image pinned by digest, the only form a container may run (a tag can move). */
export const PINNED_IMAGE = new RegExp(`^[^@\\s]+@${unanchored(DIGEST)}$`);
const CALENDAR_TAG = /^(\d{4})\.(\d{2})\.(\d{2})(?:\.([1-9][0-9]*))?$/;

export interface CalendarTag {
  /** `YYYY.MM.DD`. */
  date: string;
  year: number;
  month: number;
  day: number;
  /** 0 for the bare date, N for `.N`. */
  suffix: number;
}

/** The parts of a calendar tag, or undefined when `tag` is not one (including a date that does not exist). */
export function parseCalendarTag(tag: string): CalendarTag | undefined {
  const match = CALENDAR_TAG.exec(tag);
  if (!match) return undefined;
  const [year, month, day] = match.slice(1, 4).map(Number);
  const real = new Date(Date.UTC(year, month - 1, day));
  if (real.getUTCFullYear() !== year || real.getUTCMonth() !== month - 1 || real.getUTCDate() !== day) return undefined;
  return { date: `${match[1]}.${match[2]}.${match[3]}`, year, month, day, suffix: match[4] ? Number(match[4]) : 0 };
}

/** The tag forms each long-lived environment deploys. */
export const TAG_RULES: Record<"stage" | "prod", { valid: (tag: string) => boolean; expected: string }> = {
  stage: { valid: (t) => SHORT_SHA.test(t), expected: "a short commit SHA (7-40 lowercase hex), e.g. 3f9c2ab" },
  prod: {
    valid: (t) => parseCalendarTag(t) !== undefined,
    expected: "a calendar tag YYYY.MM.DD or YYYY.MM.DD.N, e.g. 2024.09.01 or 2024.02.27.1",
  },
};

/**
 * A Docker tag (distribution/reference regexp.go: `tag = [\w][\w.-]{0,127}`), what a registry accepts after `:`.
 */
const DOCKER_TAG = /^[\w][\w.-]{0,127}$/;

/**
 * Which knex migrations an image carries, recorded by its build as a second tag on the same digest:
 * `<short sha>-db-<newest migration file>`, e.g. `3f9c2ab-db-20260622140000_add_unique_fxa_uid_index.js`. The
 * registry lists every tag of an image, so a deploy that resolves any of its tags (the short SHA, a calendar tag)
 * learns the image's migration set without pulling it. Knex applies migrations in file-name order and refuses a
 * directory that lacks one the database has applied, so the newest file name says whether an image may migrate a
 * database (components/migration-job.ts decideMigration).
 */
const MIGRATION_TAG = /^[0-9a-f]{7,40}-db-(.+)$/;

/** The migration tag of a build, or undefined when the file name cannot be part of a Docker tag. */
export function migrationTag(shortSha: string, migrationFile: string): string | undefined {
  const tag = `${shortSha}-db-${migrationFile}`;
  return SHORT_SHA.test(shortSha) && DOCKER_TAG.test(tag) ? tag : undefined;
}

/** The newest migration an image carries, from all its tags; undefined for an image built without the record. */
export function migrationHeadOf(tags: readonly string[]): string | undefined {
  const heads = tags.flatMap((t) => MIGRATION_TAG.exec(t)?.[1] ?? []);
  return heads.sort().at(-1);
}
