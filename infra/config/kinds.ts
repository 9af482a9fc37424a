import type { StackKind } from "../../shared-rules/stack-name";

/**
 * What each kind of stack reads, one row per kind: a new kind joins by adding its row (the compiler asks for it),
 * and every check that depends on the kind (a key in the wrong stack, a provider key no provider of the stack reads,
 * an environment pointing at another's project or domain) reads this table rather than naming kinds.
 */

export type KindName = StackKind["kind"];

export interface KindRow {
  /** How a message names stacks of this kind. */
  readonly label: string;
  /** The name of this kind's one stack, whose file is `Pulumi.<stack>.yaml`; undefined for pr-<N> (many, no file). */
  readonly stack?: string;
  /** The `monitor:` keys its program reads. Project-level values of any other key reach it and are ignored. */
  readonly reads: readonly string[];
  /** The providers whose default instance it uses: their `<provider>:` keys configure it. */
  readonly providers: readonly string[];
  /**
   * The side of the prod/nonprod line it stands on: a stack never shares its project or domain with a stack of
   * the other side. Undefined for stacks that serve every environment (the pipeline).
   */
  readonly environment?: "prod" | "nonprod";
}

/** Keys a deploy of an app stack reads, whatever the environment. */
const DEPLOY = [
  "monitor:imageRepository",
  "monitor:imageTag",
  "monitor:deployId",
  "monitor:connectionPool",
  "monitor:env",
] as const;

/** Keys stage and prod read alike. */
const ENVIRONMENT = [
  ...DEPLOY,
  "monitor:bootstrap",
  "monitor:service",
  "monitor:secrets",
  "monitor:secretValues",
  "monitor:domain",
  "monitor:database",
  "monitor:schedules",
  "monitor:worker",
  "monitor:alerts",
  "monitor:cirrus",
  "monitor:parity",
] as const;

export const KINDS: Readonly<Record<KindName, KindRow>> = {
  preview: {
    label: "previews (pr-<N>)",
    reads: [...DEPLOY, "monitor:appSource", "monitor:preview"],
    providers: ["gcp", "docker"],
    environment: "nonprod",
  },
  previews: {
    label: "the previews platform",
    stack: "previews",
    // monitor:imageRepository: the registry previews push to; monitor:preview: the platform's size and secrets.
    reads: ["monitor:imageRepository", "monitor:preview"],
    providers: ["gcp"],
    environment: "nonprod",
  },
  stage: { label: "stage", stack: "stage", reads: ENVIRONMENT, providers: ["gcp"], environment: "nonprod" },
  prod: { label: "prod", stack: "prod", reads: ENVIRONMENT, providers: ["gcp"], environment: "prod" },
  pipeline: {
    label: "the pipeline stack",
    stack: "pipeline",
    // monitor:imageRepository: the registry it creates; monitor:preview: the sweeper's TTL and cap.
    reads: [
      "monitor:imageRepository",
      "monitor:preview",
      "monitor:pipeline",
      "monitor:infraCommit",
      "monitor:chatWebhookUrl",
    ],
    providers: ["gcp", "github"],
  },
};

/** The kinds whose program reads `key`, in table order. */
export function readersOf(key: string): KindName[] {
  return (Object.keys(KINDS) as KindName[]).filter((kind) => KINDS[kind].reads.includes(key));
}

/** A stack's own file. */
export function stackFileOf(stack: string): string {
  return `Pulumi.${stack}.yaml`;
}

/** Where a kind's own config lives: its stack's file, or for previews the project-level config they run with. */
export function fileOfKind(kind: KindName): string {
  const stack = KINDS[kind].stack;
  return stack ? stackFileOf(stack) : "Pulumi.yaml";
}

/** The long-lived stacks, each with a file of its own: what the checks that compare environments read. */
export const LONG_LIVED_STACKS: readonly string[] = (Object.keys(KINDS) as KindName[]).flatMap((kind) => {
  const stack = KINDS[kind].stack;
  return stack ? [stack] : [];
});
