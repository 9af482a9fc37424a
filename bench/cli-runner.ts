/**
 * One measurement for the bench's "CLI path": loads and runs the program the way `pulumi preview` does, from
 * infra/ (the CLI's working directory for `main: infra/`), with ts-node registered exactly as @pulumi/pulumi's
 * cmd/run/run.js registers it (same options, same precedence for transpileOnly: PULUMI_NODEJS_TRANSPILE_ONLY,
 * then tsconfig's compilerOptions.noCheck, else undefined, which leaves it to tsconfig's "ts-node" options).
 * The offline engine stands in for the engine; it is loaded first, so only the program goes through ts-node.
 * Prints `{"seconds": <register + load + run>, "transpileOnly": <what ts-node resolved>}`.
 */
import { resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { loadStackConfig } from "../infra/engine/config-files";
import { evaluate } from "../infra/engine/evaluate";

const ROOT = resolve(__dirname, "..");
const stack = process.argv[2] ?? "pr-123";
Error.stackTraceLimit = 10; // as under the CLI (the plan's loader sets 0)

async function main() {
  const { config, secretKeys } = loadStackConfig(ROOT, stack, {});
  const started = performance.now();
  // What run.js does (its names), for a CommonJS project on TypeScript >= 4.7:
  // The plan's loader (which compiled the engine) steps aside: ts-node would otherwise wrap it.
  delete require.extensions[".ts"];
  // Required here, not imported: only now, with the loader gone, may ts-node and what it loads come in.
  // Exported by tsutils.js, though its typings leave it out.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const tsutils = require("@pulumi/pulumi/tsutils") as {
    loadTypeScriptCompilerOptions(path: string): { noCheck?: boolean };
  };
  const compilerOptions = tsutils.loadTypeScriptCompilerOptions("tsconfig.json");
  const env = process.env.PULUMI_NODEJS_TRANSPILE_ONLY;
  const transpileOnly = env ? env === "true" : compilerOptions.noCheck;
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- see above
  const service = (require("ts-node") as typeof import("ts-node")).register({
    compiler: "typescript",
    transpileOnly,
    project: "tsconfig.json",
    skipProject: false,
    compilerOptions: {
      target: "ES2020",
      module: "nodenext",
      moduleResolution: "nodenext",
      sourceMap: "true",
      ...compilerOptions,
    },
  });
  await evaluate(stack, {
    config,
    secretKeys,
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the program must load through ts-node, as under the CLI
    program: () => require(resolve(ROOT, "infra/index.ts")) as Record<string, unknown>,
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(`${JSON.stringify({ seconds, transpileOnly: Boolean(service.options.transpileOnly) })}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
