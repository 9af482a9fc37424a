import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { isSecure, qualify, readConfigSources } from "../config/files";
import { stackFileOf } from "../config/kinds";
import { type ConfigSources, PROJECT_FILE } from "../config/origins";

/**
 * Reads a stack's configuration the way the Pulumi CLI assembles it: the files (infra/config/files.ts), then
 * `--config` flags over them.
 */

export interface StackConfig {
  /** `namespace:key` → text, as the program receives it. */
  config: Record<string, string>;
  /** Keys holding a secret (a `secure:` value anywhere inside). */
  secretKeys: string[];
  /** The files that contributed, for messages. */
  files: string[];
  /** What each file holds, for messages that name the file a value came from. */
  sources: ConfigSources;
}

/**
 * A YAML (or JSON) file's top-level mapping; `T` names the fields the caller reads. The default stays loose for
 * the suites that check files of any shape (package.json, JSON schemas) field by field.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
export function readYaml<T = any>(path: string): T {
  return (parse(readFileSync(path, "utf8")) ?? {}) as T;
}

export function loadStackConfig(root: string, stack: string, overrides: Record<string, string> = {}): StackConfig {
  const sources = readConfigSources(root, stack);
  const files = [join(root, PROJECT_FILE)];
  const stackFile = join(root, stackFileOf(stack));
  if (existsSync(stackFile)) files.push(stackFile);
  const config: Record<string, string> = { ...sources.project, ...sources.stacks[stack] };
  for (const [key, value] of Object.entries(overrides)) config[qualify(key, sources.name)] = value;
  const { project, stacks } = sources;
  return { config, secretKeys: sources.secretKeys, files, sources: { project, stacks } };
}

/**
 * Every `secure:` value of a stack's file (the only file secrets are read from), by the key and path it sets
 * (`monitor:secretValues.SMTP_URL`), with the ciphertext: `--diff` compares ciphertexts to say which secret a change
 * sets, and prints only the key (a value set again, even to the same text, reads as changed).
 */
export function secureValues(root: string, stack: string): Record<string, { file: string; ciphertext: string }> {
  const found: Record<string, { file: string; ciphertext: string }> = {};
  const file = stackFileOf(stack);
  if (!existsSync(join(root, file))) return found;
  const walk = (value: unknown, path: string) => {
    if (typeof value !== "object" || value === null) return;
    if (isSecure(value)) {
      found[path] = { file, ciphertext: String(value.secure) };
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, Array.isArray(value) ? `${path}[${k}]` : `${path}.${k}`);
  };
  const { name } = readYaml<{ name: string }>(join(root, PROJECT_FILE));
  const config = readYaml<{ config?: Record<string, unknown> }>(join(root, file)).config ?? {};
  for (const [key, raw] of Object.entries(config)) walk(raw, qualify(key, name));
  return found;
}
