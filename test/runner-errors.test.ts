import Module, { createRequire } from "node:module";
import { resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterEach, describe, expect, it, vi } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { DEPLOYED_TAGS, ORGANIZATION, PROJECT } from "../infra/engine/evaluate";
import { createMocks, mockDigest, mockPreviewPlatform } from "../infra/engine/mocks";
import { PREVIEW_PLATFORM_OUTPUT } from "../infra/platform";
import { ROOT, refusedStack } from "./harness";

/**
 * What `pulumi preview` prints when the program refuses a stack: the program runs under the SDK's own runner
 * (@pulumi/pulumi/cmd/run/run.js, what the Node language host starts), whose handler for the program's unhandled
 * errors decides how an error reads (message alone for a RunError, `util.inspect` with colours for others).
 * This runs the real entry point (Pulumi.yaml's `main: infra/`) through that runner, with the mock monitor in
 * place of the engine, and returns what the handler logged. Without an engine, the SDK's log.error writes
 * `error: [runtime] <message>` to the console; the engine prints the same message as `error: <message>`.
 */
const sdkRequire = createRequire(resolve(ROOT, "package.json"));
// run.js reads one constant from its package's index.js, which is the language host's process entry: loading it
// would start a program from this process's argv. Stand in for it with that constant alone.
const entry = sdkRequire.resolve("@pulumi/pulumi/cmd/run/index.js");
const stub = new Module(entry);
stub.exports = { nodeJSProcessExitedAfterLoggingUserActionableMessage: 32 };
stub.loaded = true;
sdkRequire.cache[entry] = stub;
type Runner = {
  run: (
    argv: { _: string[] },
    programStarted: () => void,
    reportLoggedError: (err: unknown) => void,
    isErrorReported: (err: unknown) => boolean,
  ) => Promise<unknown>;
};
const { run } = sdkRequire("@pulumi/pulumi/cmd/run/run") as Runner;

const RUNTIME_PREFIX = "error: [runtime] ";
const EVENTS = ["uncaughtException", "unhandledRejection"] as const;
type Listener = (err: unknown, ...rest: unknown[]) => void;
/** The process as a plain emitter: its typings overload by event name, which a loop over both cannot pick. */
const proc: NodeJS.EventEmitter = process;

afterEach(() => {
  vi.restoreAllMocks();
});

async function runnerReport(
  stack: string,
  overrides: Record<string, string>,
  stackOutputs: (name: string) => Record<string, unknown> | undefined,
): Promise<string[]> {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, overrides);
  await pulumi.runtime.setMocks(
    createMocks({ project: config["gcp:project"], region: config["gcp:region"], stackOutputs }),
    PROJECT,
    stack,
    false,
    ORGANIZATION,
  );
  pulumi.runtime.setAllConfig(config, secretKeys);
  // The runner registers ts-node itself, as under `pulumi preview` (transpile only: tsc runs in `npm test`).
  vi.stubEnv("PULUMI_NODEJS_TYPESCRIPT", "true");
  vi.stubEnv("PULUMI_NODEJS_TRANSPILE_ONLY", "true");
  const logged: string[] = [];
  vi.spyOn(console, "error").mockImplementation((line: unknown) => {
    logged.push(String(line));
  });

  // The program runs afresh each time, as in its own process: its entry runs again, and the modules it imports,
  // which hold no state of their own (config and the stack are read at call time), stay compiled: ts-node
  // transpiles the program once per worker instead of once per case.
  delete sdkRequire.cache[resolve(ROOT, "infra", "index.ts")];
  // The runner owns the process's unhandled errors while the program runs, as in the language host's process.
  const saved = new Map(EVENTS.map((e) => [e, proc.listeners(e) as Listener[]]));
  for (const e of EVENTS) proc.removeAllListeners(e);
  const reported = new Set<unknown>();
  try {
    // As cmd/run/index.js does: only `.then(ok)`, so a failed program becomes an unhandled rejection.
    void run(
      { _: [resolve(ROOT, "infra")] },
      () => undefined,
      (err) => reported.add(err),
      (err) => reported.has(err),
    ).then(() => undefined);
    for (let waited = 0; logged.length === 0 && waited < 30_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    // Whatever else fails with the same cause arrives now, and the runner reports it once.
    await new Promise((r) => setTimeout(r, 500));
  } finally {
    for (const e of EVENTS) {
      proc.removeAllListeners(e);
      // Later rejections with an error the runner reported are its duplicates; anything else is the suite's.
      const forward: Listener = (err, ...rest) => {
        if (reported.has(err)) return;
        for (const listener of saved.get(e)!) listener(err, ...rest);
      };
      proc.on(e, forward);
    }
  }
  return logged.map((line) => (line.startsWith(RUNTIME_PREFIX) ? line.slice(RUNTIME_PREFIX.length) : line));
}

function expectHeadlineOnly(printed: string[], headline: RegExp): void {
  expect(printed).toHaveLength(1);
  const [text] = printed;
  expect(text).toMatch(headline);
  expect(text).not.toContain("\x1b[");
  expect(text).not.toMatch(/[{}]/);
  expect(text).not.toMatch(/\n\s+at /);
  expect(text).not.toMatch(/Running program .* failed with an unhandled exception/);
  expect(text).not.toMatch(/error serializing property/);
}

/** Stage's outputs with a preview platform that has only the first of the sandbox secrets previews read. */
const stageLackingASecret = (config: Record<string, string>) => ({
  imageTag: DEPLOYED_TAGS.stage,
  imageDigest: mockDigest(`${config["monitor:imageRepository"]}:${DEPLOYED_TAGS.stage}`),
  [PREVIEW_PLATFORM_OUTPUT]: mockPreviewPlatform(
    config["gcp:project"],
    config["gcp:region"],
    JSON.parse(config["monitor:preview"]).sandboxSecrets.slice(0, 1),
  ),
});

describe("refusals under Pulumi's own runner", () => {
  it("print a config error as its headline and problems, exactly as npm run plan does", async () => {
    const overrides = { "monitor:imageTag": "latest" };
    const { error } = await refusedStack("pr-5", overrides);
    const printed = await runnerReport("pr-5", overrides, () => undefined);
    expectHeadlineOnly(printed, /^Stack "pr-5" has invalid configuration:\n {2}- monitor:imageTag /);
    expect(printed[0]).toBe(error.message);
  });

  it("print an unknown stack name as its headline and the valid names", async () => {
    const printed = await runnerReport("pr-01", {}, () => undefined);
    expectHeadlineOnly(
      printed,
      /^Stack "pr-01" is not a stack of the monitor project\. Valid stack names:\n {2}- pr-<N>/,
    );
    expect(printed[0]).toMatch(/\nFix: select one with `pulumi stack select <name>`/);
  });

  it("print a refusal thrown inside an apply (no deployed image to keep) as its headline", async () => {
    const printed = await runnerReport("prod", {}, () => ({}));
    expectHeadlineOnly(printed, /^Stack "prod": no image is deployed yet, so there is nothing to keep\. Fix: /);
  });

  it("print a platform refusal thrown inside an apply (a sandbox secret stage lacks) as its headline", async () => {
    const config = loadStackConfig(ROOT, "pr-5").config;
    const lacking = JSON.parse(config["monitor:preview"]).sandboxSecrets[1];
    const printed = await runnerReport("pr-5", {}, () => stageLackingASecret(config));
    expectHeadlineOnly(
      printed,
      new RegExp(`^Stack "pr-5": monitor:preview\\.sandboxSecrets names ${lacking}, but the preview platform `),
    );
  });
});
