import type { StackKind } from "../../shared-rules/stack-name";
import { KINDS, stackFileOf } from "./kinds";

/**
 * Where each value of a stack's config came from, so that a refusal names the file to edit. The CLI hands the
 * program one merged map (Pulumi.yaml's project-level config, overridden key by key by the stack's file, into
 * which `--config` writes); the files themselves say which layer a value is from.
 */

/** The config files as read (`namespace:key` → text, as the program receives values). */
export interface ConfigSources {
  /** Pulumi.yaml's `config:`. */
  readonly project: Readonly<Record<string, string>>;
  /** Each stack file read, by stack name (`stage` → Pulumi.stage.yaml). */
  readonly stacks: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

export const PROJECT_FILE = "Pulumi.yaml";
/** A value in no file: passed on the command line (the CLI writes it to the stack file; `npm run plan` does not). */
export const COMMAND_LINE = "--config";
/** How a preview's messages name Pulumi.yaml, since a preview has no file of its own to look for. */
const PREVIEW_PROJECT_FILE = `${PROJECT_FILE} (project-level config: previews have no stack file)`;

export class Origins {
  private readonly ownFile?: string;

  constructor(
    private readonly stack: StackKind,
    private readonly config: Readonly<Record<string, string | undefined>>,
    private readonly sources: ConfigSources,
  ) {
    this.ownFile = KINDS[stack.kind].stack ? stackFileOf(stack.stack) : undefined;
  }

  /**
   * The file the value of `key` came from: the stack's own file where it sets the key, or where its value differs
   * from Pulumi.yaml's (`--config` writes there); Pulumi.yaml where the stack inherits it; `--config` for a preview's
   * value that Pulumi.yaml does not give (previews have no file). A key not set at all belongs in the stack's file
   * (a preview's: Pulumi.yaml).
   */
  of(key: string): string {
    const value = this.config[key];
    if (this.ownFile !== undefined && this.sources.stacks[this.stack.stack]?.[key] !== undefined) return this.ownFile;
    if (value === undefined) return this.ownFile ?? PROJECT_FILE;
    if (this.sources.project[key] === value) return PROJECT_FILE;
    return this.ownFile ?? COMMAND_LINE;
  }

  /** Whether this stack sets `key` itself (its file or the command line), rather than inheriting it from Pulumi.yaml. */
  isOwn(key: string): boolean {
    return this.of(key) !== PROJECT_FILE;
  }

  /** `path` with where its value came from, as a problem starts: `monitor:cirrus.channel in Pulumi.prod.yaml`. */
  at(path: string): string {
    const origin = this.of(path.split(".")[0]);
    if (origin === COMMAND_LINE) return `${path} (from --config)`;
    return `${path} in ${origin === PROJECT_FILE && this.stack.kind === "preview" ? PREVIEW_PROJECT_FILE : origin}`;
  }

  /** The fix for a value its file must change, or that the command line must pass differently. */
  correct(path: string): string {
    const key = path.split(".")[0];
    const origin = this.of(key);
    return origin === COMMAND_LINE ? `pass a valid value with --config ${key}=<value>` : `correct ${path} in ${origin}`;
  }
}
