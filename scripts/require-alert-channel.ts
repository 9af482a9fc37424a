/**
 * Refuses a deploy to prod while prod's uptime alert would page nobody. The program requires
 * `monitor:alerts.notificationChannels` for prod (infra/spec.ts), but the committed `Pulumi.prod.yaml` can only carry
 * a placeholder until SRE names the on-call channel (shared-rules/notification-channels.ts): it keeps the offline
 * plan running, and the policy pack's advisory says so on every plan. The offline engine cannot tell a plan from a
 * deploy (it evaluates with the SDK's dryRun false), so the line is drawn here, in the workflows that change prod,
 * before anything does.
 *
 * env: STACK_FILE (the stack file of the stack to deploy, in this repository's checkout). A stack file of another
 * stack than prod is accepted as it is: stage's alert channel is optional.
 */
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { parse } from "yaml";
import { isPlaceholderChannel } from "../shared-rules/notification-channels";
import { RefusedError, UsageError, requireEnv, run, type Env } from "./lib/cli";

const KEY = "monitor:alerts.notificationChannels";

/** Why `file` (a stack file's text) would page nobody, or undefined when it names a real channel or is not prod's. */
export function alertProblem(fileName: string, text: string): string | undefined {
  if (fileName !== "Pulumi.prod.yaml") return undefined;
  const config = (parse(text) as { config?: Record<string, unknown> } | null)?.config ?? {};
  const alerts = config["monitor:alerts"] as { notificationChannels?: unknown } | undefined;
  const channels = Array.isArray(alerts?.notificationChannels) ? alerts.notificationChannels.map(String) : [];
  const real = channels.filter((c) => !isPlaceholderChannel(c));
  if (real.length > 0) return undefined;
  return (
    `STACK_FILE ${fileName}: ${KEY} ${channels.length === 0 ? "is empty" : "holds only the placeholder channel"}: prod's ` +
    "uptime alert would page nobody. Fix: put the on-call channel in its place in a reviewed PR " +
    "(projects/moz-fx-monitor-prod/notificationChannels/<id>; gcloud beta monitoring channels list --project " +
    "moz-fx-monitor-prod), then deploy again."
  );
}

// eslint-disable-next-line @typescript-eslint/require-await -- every script's main is async, so that a refusal reaches run() and the tests as a rejection, never a synchronous throw
export async function main(env: Env): Promise<number> {
  const path = requireEnv(env, "STACK_FILE", {
    hint: "pass the stack file of the stack to deploy, e.g. Pulumi.prod.yaml.",
  });
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch {
    throw new UsageError(`STACK_FILE ${path} cannot be read. Fix: run this in this repository's checkout.`);
  }
  const problem = alertProblem(basename(path), text);
  if (problem) throw new RefusedError(problem);
  console.log(`${basename(path)}: its uptime alert pages someone, or its stack does not require it.`);
  return 0;
}

if (require.main === module) run(() => main(process.env));
