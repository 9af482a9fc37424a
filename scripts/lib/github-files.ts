import { appendFileSync, readFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { UsageError, type Env } from "./cli";

/**
 * The files the runner gives a step: $GITHUB_OUTPUT (step outputs) and $GITHUB_STEP_SUMMARY (the run's summary
 * page). Formatting is pure; only append touches the disk.
 */

const OUTPUT_NAME = /^[A-Za-z_][A-Za-z0-9_-]*$/;

/**
 * Step outputs in the runner's file format. One-line values are `name=value`; a multi-line value uses the
 * heredoc form with a random delimiter, so no value can end it early and set another output.
 */
export function formatOutputs(
  outputs: Readonly<Record<string, string>>,
  delimiter = `ghadelim_${randomBytes(12).toString("hex")}`,
): string {
  let text = "";
  for (const [name, value] of Object.entries(outputs)) {
    if (!OUTPUT_NAME.test(name)) throw new Error(`"${name}" is not a valid step output name`);
    if (/[\r\n]/.test(value)) {
      if (value.includes(delimiter)) throw new Error(`the value of output ${name} contains the delimiter`);
      text += `${name}<<${delimiter}\n${value}\n${delimiter}\n`;
    } else {
      text += `${name}=${value}\n`;
    }
  }
  return text;
}

/** Appends step outputs to $GITHUB_OUTPUT (required: the workflow reads them). */
export function writeOutputs(env: Env, outputs: Readonly<Record<string, string>>): void {
  const file = env.GITHUB_OUTPUT;
  if (!file) {
    throw new UsageError(
      "GITHUB_OUTPUT is not set. Fix: run this script as a step of a GitHub Actions job (the runner sets it).",
    );
  }
  appendFileSync(file, formatOutputs(outputs));
}

/** Appends markdown to $GITHUB_STEP_SUMMARY; returns false (and writes nothing) outside Actions. */
export function appendSummary(env: Env, markdown: string): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  appendFileSync(file, markdown.endsWith("\n") ? markdown : `${markdown}\n`);
  return true;
}

/** Reads a file a previous step wrote, naming the variable that pointed to it when it cannot be read. */
export function readInputFile(variable: string, path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(
      `${variable} points to ${JSON.stringify(path)}, which cannot be read (${(err as NodeJS.ErrnoException).code ?? String(err)}). Fix: write the file in an earlier step of the same job.`,
    );
  }
}
