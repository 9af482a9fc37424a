import { Refusal } from "./refusal";

/**
 * The stack name alone selects what a stack is: `pr-<N>` is a pull request's preview, and the long-lived stacks
 * are named for what they own (`previews` is the platform every preview shares). Anything else is refused before
 * a resource exists.
 */
export type StackKind =
  | { kind: "preview"; stack: string; /** The PR number as written (digits only, no leading zero). */ pr: string }
  | { kind: "previews"; stack: "previews" }
  | { kind: "stage"; stack: "stage" }
  | { kind: "prod"; stack: "prod" }
  | { kind: "pipeline"; stack: "pipeline" };

export const VALID_STACK_FORMS = [
  "pr-<N> (a pull request's preview; N a positive integer without leading zeros, e.g. pr-123)",
  "previews (the platform every preview shares, in its own project)",
  "stage",
  "prod",
  "pipeline",
] as const;

/** The long-lived stacks, named for what they own. */
const NAMED = ["previews", "stage", "prod", "pipeline"] as const;

/** A stack name the program does not know: refused with every valid form, before anything else is read. */
export class StackNameError extends Refusal {
  constructor(readonly stackName: string) {
    super(
      `Stack "${stackName}" is not a stack of the monitor project. Valid stack names:\n` +
        VALID_STACK_FORMS.map((form) => `  - ${form}`).join("\n") +
        `\nFix: select one with \`pulumi stack select <name>\` (or \`npm run plan -- <name>\`).`,
    );
  }
}

const PREVIEW = /^pr-([1-9][0-9]*)$/;

export function parseStackName(stack: string): StackKind {
  const preview = PREVIEW.exec(stack);
  if (preview) {
    return { kind: "preview", stack, pr: preview[1] };
  }
  if ((NAMED as readonly string[]).includes(stack)) {
    return { kind: stack, stack } as StackKind;
  }
  throw new StackNameError(stack);
}
