import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { RefusedError, UsageError, exitCodeFor } from "../scripts/lib/cli";
import { main } from "../scripts/require-alert-channel";
import { ROOT } from "./harness";
import { captureConsole } from "./scripts-fakes";

// Prod's uptime alert must page someone before a deploy changes prod (issue 14, item 13): the program requires a
// channel, the committed file carries a placeholder so the offline plan runs, and this step refuses the placeholder.

const committed = (stack: string) => readFileSync(join(ROOT, `Pulumi.${stack}.yaml`), "utf8");

/** A stack file named like the real one, in a directory of its own, with `edit` applied to the committed text. */
function stackFile(stack: string, edit: (text: string) => string = (t) => t): string {
  const path = join(mkdtempSync(join(tmpdir(), "alert-channel-")), `Pulumi.${stack}.yaml`);
  writeFileSync(path, edit(committed(stack)));
  return path;
}

const PLACEHOLDER = "projects/moz-fx-monitor-prod/notificationChannels/0000000000000000000";
const ON_CALL = "projects/moz-fx-monitor-prod/notificationChannels/1234567890123456789";

describe("scripts/require-alert-channel.ts", () => {
  it("refuses the committed Pulumi.prod.yaml while it holds only the placeholder, naming the key and the fix", async () => {
    expect(committed("prod")).toContain(PLACEHOLDER);
    const refusal = main({ STACK_FILE: stackFile("prod") });
    await expect(refusal).rejects.toThrow(RefusedError);
    await expect(refusal).rejects.toThrow(
      /^STACK_FILE Pulumi\.prod\.yaml: monitor:alerts\.notificationChannels holds only the placeholder channel: prod's uptime alert would page nobody\. Fix: put the on-call channel in its place/,
    );
  });

  it("refuses prod with no channel at all", async () => {
    const path = stackFile("prod", (t) =>
      t.replace(`      - ${PLACEHOLDER}\n`, "").replace("notificationChannels:", "notificationChannels: []"),
    );
    await expect(main({ STACK_FILE: path })).rejects.toThrow(
      /Pulumi\.prod\.yaml: monitor:alerts\.notificationChannels is empty/,
    );
  });

  it("lets prod deploy once a real channel is named, beside the placeholder or in its place", async () => {
    for (const replacement of [ON_CALL, `${ON_CALL}\n      - ${PLACEHOLDER}`]) {
      const path = stackFile("prod", (t) => t.replace(PLACEHOLDER, replacement));
      const { result, out } = await captureConsole(() => main({ STACK_FILE: path }));
      expect(result).toBe(0);
      expect(out).toContain("Pulumi.prod.yaml: its uptime alert pages someone");
    }
  });

  it("does not require a channel of stage", async () => {
    expect((await captureConsole(() => main({ STACK_FILE: stackFile("stage") }))).result).toBe(0);
  });

  it("is a usage error (exit 2) without STACK_FILE or with a file it cannot read", async () => {
    for (const env of [{}, { STACK_FILE: join(tmpdir(), "no-such-dir", "Pulumi.prod.yaml") }]) {
      const error = await main(env).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(UsageError);
      expect(exitCodeFor(error)).toBe(2);
    }
  });
});
