// `npm test`'s runner: starts every command at once and fails if any fails. On two cores the checks (tsc,
// ESLint, Prettier: one core each, most of their time) and vitest (its two workers) otherwise leave a core idle
// for a third of the run. The last command's output streams as it comes; each other's is printed whole when it
// ends, so no two interleave.
import { spawn } from "node:child_process";

const commands = process.argv.slice(2);
const failed = [];
await Promise.all(
  commands.map(
    (command, i) =>
      new Promise((resolve) => {
        const live = i === commands.length - 1;
        const child = spawn(command, { shell: true, stdio: live ? "inherit" : ["ignore", "pipe", "pipe"] });
        const output = [];
        child.stdout?.on("data", (chunk) => output.push(chunk));
        child.stderr?.on("data", (chunk) => output.push(chunk));
        child.on("close", (code, signal) => {
          if (!live) process.stdout.write(`\n> ${command}\n${Buffer.concat(output).toString()}`);
          if (code !== 0) failed.push(`failed (${signal ?? `exit ${code}`}): ${command}`);
          resolve();
        });
      }),
  ),
);
for (const line of failed) console.error(line);
process.exitCode = failed.length > 0 ? 1 : 0;
