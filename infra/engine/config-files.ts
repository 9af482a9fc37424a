import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

/**
 * Reads a stack's configuration the way the Pulumi CLI assembles it: project-level `config:` in Pulumi.yaml,
 * overridden key by key by `Pulumi.<stack>.yaml`, then by `--config` flags. Values reach the program as text
 * (structured values as JSON). A `secure:` value cannot be decrypted offline: it becomes a marked placeholder.
 */

export interface StackConfig {
  /** `namespace:key` → text, as the program receives it. */
  config: Record<string, string>;
  /** Keys holding a secret (a `secure:` value anywhere inside). */
  secretKeys: string[];
  /** The files that contributed, for messages. */
  files: string[];
}

const DECLARATION_FIELDS = new Set(["type", "description", "secret", "default", "value", "items"]);

function qualify(key: string, project: string): string {
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
function isSecure(value: object): value is { secure: unknown } {
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

/**
 * A YAML (or JSON) file's top-level mapping; `T` names the fields the caller reads. The default stays loose for
 * the suites that check files of any shape (package.json, JSON schemas) field by field.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export function readYaml<T = any>(path: string): T {
  return (parse(readFileSync(path, "utf8")) ?? {}) as T;
}

/** What the engine reads of Pulumi.yaml and Pulumi.<stack>.yaml. */
interface ProjectFile {
  name: string;
  config?: Record<string, unknown>;
}

export function loadStackConfig(root: string, stack: string, overrides: Record<string, string> = {}): StackConfig {
  const projectFile = join(root, "Pulumi.yaml");
  const project = readYaml<ProjectFile>(projectFile);
  const name = project.name;
  const config: Record<string, string> = {};
  const secretKeys = new Set<string>();
  const files = [projectFile];

  for (const [key, entry] of Object.entries(project.config ?? {})) {
    const value = projectValue(entry);
    if (value !== undefined) config[qualify(key, name)] = asText(value);
  }

  const stackFile = join(root, `Pulumi.${stack}.yaml`);
  if (existsSync(stackFile)) {
    files.push(stackFile);
    for (const [key, raw] of Object.entries(readYaml<Partial<ProjectFile>>(stackFile).config ?? {})) {
      const fullKey = qualify(key, name);
      const { value, secret } = replaceSecure(raw, fullKey);
      config[fullKey] = asText(value);
      if (secret) secretKeys.add(fullKey);
    }
  }

  for (const [key, value] of Object.entries(overrides)) config[qualify(key, name)] = value;
  return { config, secretKeys: [...secretKeys], files };
}

/**
 * Every `secure:` value of a stack's file (the only file loadStackConfig reads them from), by the key and path it
 * sets (`monitor:secretValues.SMTP_URL`), with the ciphertext: `--diff` compares ciphertexts to say which secret a
 * change sets, and prints only the key (a value set again, even to the same text, reads as changed).
 */
export function secureValues(root: string, stack: string): Record<string, { file: string; ciphertext: string }> {
  const found: Record<string, { file: string; ciphertext: string }> = {};
  const walk = (value: unknown, path: string, file: string) => {
    if (typeof value !== "object" || value === null) return;
    if (isSecure(value)) {
      found[path] = { file, ciphertext: String(value.secure) };
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`, file);
  };
  const file = `Pulumi.${stack}.yaml`;
  if (!existsSync(join(root, file))) return found;
  const name = readYaml<ProjectFile>(join(root, "Pulumi.yaml")).name;
  const config = readYaml<Partial<ProjectFile>>(join(root, file)).config ?? {};
  for (const [key, raw] of Object.entries(config)) walk(raw, qualify(key, name), file);
  return found;
}
