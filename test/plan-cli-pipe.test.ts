import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness";

/**
 * `npm run plan -- <stack> --json | jq`: stdout is a pipe, which Node writes asynchronously. Runs the CLI with
 * its stdout piped into a consumer that reads it to the end, as jq would, and returns what arrived.
 */
function planThroughPipe(stack: string): Promise<{ code: number | null; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("npm", ["run", "--silent", "plan", "--", stack, "--json"], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "inherit"],
    });
    const chunks: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout: Buffer.concat(chunks).toString("utf8") }));
  });
}

describe("npm run plan --json through a pipe", () => {
  it("writes all of the largest stacks' JSON before exiting", async () => {
    // stage (the preview platform on top of an environment) and prod are the largest plans, each well over the
    // 64 KiB a pipe buffers: an exit before the write drains cut them there.
    for (const stack of ["stage", "prod"]) {
      const { code, stdout } = await planThroughPipe(stack);
      expect(code).toBe(0);
      expect(Buffer.byteLength(stdout)).toBeGreaterThan(64 * 1024);
      const plan = JSON.parse(stdout);
      expect(plan.stack).toBe(stack);
      expect(plan.resources.length).toBeGreaterThan(50);
      // Only prod's known advisory (Pulumi.prod.yaml has no notification channel yet) may be reported.
      expect(plan.policyViolations.filter((v: { policy: string }) => v.policy !== "prod-alerts-notify")).toEqual([]);
    }
  });
});
