import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { ConfigError } from "./config-error";
import { type ConfigYaml, readConfigYaml } from "./config-yaml";
import { LONG_LIVED_STACKS, stackFileOf } from "./kinds";
import { type ConfigSources, PROJECT_FILE } from "./origins";

/**
 * Reads the config files as the Pulumi CLI assembles them: project-level `config:` in Pulumi.yaml, overridden key by
 * key by `Pulumi.<stack>.yaml`. Values reach the program as text (structured values as JSON). A `secure:` value
 * cannot be decrypted here: it becomes a marked placeholder. The program reads the files too (infra/program.ts), to
 * say which file a value came from and to compare environments, so `pulumi preview` refuses what `npm run plan` does.
 */

/** This repository, whose files a caller that passes a config alone means. */
export const REPOSITORY_ROOT = resolve(__dirname, "..", "..");

const DECLARATION_FIELDS = new Set(["type", "description", "secret", "default", "value", "items"]);

export function qualify(key: string, project: string): string {
  return key.includes(":") ? key : `${project}:${key}`;
}

/** A project-level entry is a plain value or a declaration (`type`, `default`, `value`, ...). */
function projectValue(entry: unknown): unknown {
  if (typeof entry === "object" && entry !== null && !Array.isArray(entry)) {
    const keys = Object.keys(entry);
    if (keys.length > 0 && keys.every((k) => DECLARATION_FIELDS.has(k))) {
      const decl = entry as { value?: unknown; default?: unknown };
      return decl.value ?? decl.default;
    }
  }
  return entry;
}

export function offlineSecretPlaceholder(key: string): string {
  return `offline-placeholder-for-${key}`;
}

/** A `{secure: <ciphertext>}` leaf of a stack file. */
export function isSecure(value: object): value is { secure: unknown } {
  return !Array.isArray(value) && Object.keys(value).length === 1 && "secure" in value;
}

/** Replaces `{secure: ...}` leaves; reports whether there was one. */
function replaceSecure(value: unknown, key: string): { value: unknown; secret: boolean } {
  if (typeof value !== "object" || value === null) return { value, secret: false };
  if (isSecure(value)) {
    return { value: offlineSecretPlaceholder(key), secret: true };
  }
  let secret = false;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [] : {};
  for (const [k, v] of Object.entries(value)) {
    const inner = replaceSecure(v, key);
    secret ||= inner.secret;
    (copy as Record<string, unknown>)[k] = inner.value;
  }
  return { value: copy, secret };
}

function asText(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** What is read of Pulumi.yaml and Pulumi.<stack>.yaml. */
interface ProjectFile {
  name: string;
  config?: Record<string, unknown>;
}

/** Parsed files by content: the suites load the same few files thousands of times. */
const parsed = new Map<string, ConfigYaml>();

/** A config file's content; its YAML problems, each with the file and line, go to `problems`. */
function readConfigFile<T>(path: string, file: string, problems: string[]): Partial<T> {
  const text = readFileSync(path, "utf8");
  let result = parsed.get(text);
  if (!result) {
    result = readConfigYaml(text);
    parsed.set(text, result);
  }
  for (const p of result.problems) {
    problems.push(
      `${file} line ${p.line}${p.path ? `, ${p.path.replace(/^config\./, "")}` : ""}: ${p.problem}. Fix: ${p.fix}`,
    );
  }
  return result.value ?? {};
}

interface FileConfig {
  config: Record<string, string>;
  secretKeys: string[];
}

/** A stack file's `config:`, flat, with `secure:` values replaced by placeholders. */
function stackFileConfig(entries: Record<string, unknown>, project: string): FileConfig {
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, raw] of Object.entries(entries)) {
    const fullKey = qualify(key, project);
    const { value, secret } = replaceSecure(raw, fullKey);
    config[fullKey] = asText(value);
    if (secret) secretKeys.push(fullKey);
  }
  return { config, secretKeys };
}

/**
 * Reads Pulumi.yaml, `stack`'s file and the long-lived stacks' files (which the checks that compare environments
 * read), refusing any YAML problem in them with the file and line. Also what the program itself reads, so that
 * `pulumi preview` refuses what `npm run plan` does.
 */
export function readConfigSources(root: string, stack: string): ReadSources {
  const problems: string[] = [];
  const project = readConfigFile<ProjectFile>(join(root, PROJECT_FILE), PROJECT_FILE, problems);
  const name = project.name ?? "";
  const projectConfig: Record<string, string> = {};
  for (const [key, entry] of Object.entries(project.config ?? {})) {
    const value = projectValue(entry);
    if (value !== undefined) projectConfig[qualify(key, name)] = asText(value);
  }
  const stacks: Record<string, Record<string, string>> = {};
  let secretKeys: string[] = [];
  for (const each of new Set([stack, ...LONG_LIVED_STACKS])) {
    const path = join(root, stackFileOf(each));
    if (!existsSync(path)) continue;
    const own = stackFileConfig(readConfigFile<ProjectFile>(path, stackFileOf(each), problems).config ?? {}, name);
    stacks[each] = own.config;
    if (each === stack) secretKeys = own.secretKeys;
  }
  if (problems.length > 0) throw new ConfigError(stack, problems);
  return { name, project: projectConfig, stacks, secretKeys };
}

export interface ReadSources extends ConfigSources {
  /** The project's name, which qualifies a key written without its namespace. */
  readonly name: string;
  /** Keys of `stack`'s own file holding a secret (a `secure:` value anywhere inside). */
  readonly secretKeys: string[];
}
