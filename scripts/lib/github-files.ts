import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { dirname } from "node:path";
import { RefusedError, UsageError, type Env } from "./cli";

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
  writeFileNamedBy("GITHUB_OUTPUT", file, formatOutputs(outputs), {
    append: true,
    hint: "leave GITHUB_OUTPUT as the runner sets it",
  });
}

/** Appends markdown to $GITHUB_STEP_SUMMARY; returns false (and writes nothing) outside Actions. */
export function appendSummary(env: Env, markdown: string): boolean {
  const file = env.GITHUB_STEP_SUMMARY;
  if (!file) return false;
  writeFileNamedBy("GITHUB_STEP_SUMMARY", file, markdown.endsWith("\n") ? markdown : `${markdown}\n`, {
    append: true,
    hint: "leave GITHUB_STEP_SUMMARY as the runner sets it",
  });
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

/** Why a file could not be written, for the codes a wrong path gives (Node's fs errors carry the errno code). */
const PATH_PROBLEMS: Readonly<Record<string, (path: string) => string>> = {
  ENOENT: (path) => `its directory ${JSON.stringify(dirname(path))} does not exist`,
  ENOTDIR: (path) => `a part of ${JSON.stringify(dirname(path))} is a file, not a directory`,
  EISDIR: () => "it is a directory",
  EACCES: () => "this job may not write there",
};

/**
 * Writes (or appends) `text` to the file the variable `variable` names: every file a script writes goes through
 * here. A path that cannot be written is the workflow's mistake (exit 2), told with the variable and the fix, never
 * as a raw ENOENT; any other failure (a full disk) is refused (exit 1) with the variable named as well.
 */
export function writeFileNamedBy(
  variable: string,
  path: string,
  text: string,
  { append = false, hint }: { append?: boolean; hint: string },
): void {
  try {
    if (append) appendFileSync(path, text);
    else writeFileSync(path, text);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    const problem = PATH_PROBLEMS[code];
    const where = `${variable} points to ${JSON.stringify(path)}, which cannot be written`;
    if (problem) throw new UsageError(`${where}: ${problem(path)}. Fix: ${hint}.`);
    throw new RefusedError(`${where} (${code || (err as Error).message}). Fix: ${hint}, and re-run the job.`);
  }
}
