import type { ResourceValidationPolicy } from "@pulumi/policy";
import type { StackKind } from "../shared-rules/stack-name";
import { type Props, stackOf } from "./stack";

/** Labels: every resource that takes them says which app, environment, stack and PR it belongs to. */

/** Where each type that GCP lets carry labels keeps them. Other types (databases, users, IAM) cannot. */
const LABELS_AT: Readonly<Record<string, (props: Props) => unknown>> = {
  "gcp:cloudrunv2/service:Service": (p) => p.labels,
  "gcp:cloudrunv2/job:Job": (p) => p.labels,
  "gcp:cloudrunv2/workerPool:WorkerPool": (p) => p.labels,
  "gcp:secretmanager/secret:Secret": (p) => p.labels,
  "gcp:sql/databaseInstance:DatabaseInstance": (p) => p.settings?.userLabels,
  "gcp:pubsub/topic:Topic": (p) => p.labels,
  "gcp:pubsub/subscription:Subscription": (p) => p.labels,
};

/** Stated here rather than taken from infra/naming's labelsFor, so that a change there is checked, not trusted. */
function requiredLabels(stack: StackKind): Record<string, string> {
  // The previews' platform is counted with the previews (one cost line for everything previews spend).
  const environment = stack.kind === "preview" || stack.kind === "previews" ? "preview" : stack.kind;
  const labels: Record<string, string> = { app: "monitor", environment, stack: stack.stack };
  if (stack.kind === "preview") labels.pr = stack.pr;
  return labels;
}

export const resourcesLabelled: ResourceValidationPolicy = {
  name: "resources-labelled",
  description: "Resources that take labels say which app, environment, stack and (for a preview) PR they belong to.",
  // Mandatory: the sweeper finds a closed PR's leftovers, and cost reports find each environment, by these
  // labels; a stage resource labelled as a preview could be swept.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const labelsOf = LABELS_AT[args.type];
    const stack = stackOf(args.urn);
    if (!labelsOf || !stack) return args.notApplicable("takes no labels, or not a monitor stack");
    const labels = (labelsOf(args.props) ?? {}) as Record<string, unknown>;
    const wrong = Object.entries(requiredLabels(stack))
      .filter(([key, value]) => labels[key] !== value)
      .map(
        ([key, value]) =>
          `${key}: "${value}"${labels[key] === undefined ? "" : ` (is ${JSON.stringify(labels[key])})`}`,
      );
    if (wrong.length > 0) reportViolation(`${args.name} needs the labels ${wrong.join(", ")}`);
  },
};
