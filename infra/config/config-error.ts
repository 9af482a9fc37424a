import { Refusal } from "../../shared-rules/refusal";

/** Every problem with a stack's config at once. `stackName`, not `stack`: that is the error's stack trace. */
export class ConfigError extends Refusal {
  constructor(
    readonly stackName: string,
    readonly problems: readonly string[],
  ) {
    super(`Stack "${stackName}" has invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
  }
}
