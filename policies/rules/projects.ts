import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { UNKNOWN, knownOr, stackOf } from "./stack";

/**
 * Projects: a preview runs code from a pull request, so everything it creates stays in the previews' own project,
 * where no role reaches stage or prod.
 *
 * Which project that is, the pack reads from the stack itself: the project of its gcp provider. A preview builds
 * every GCP resource on one explicit provider in the previews project, and takes the project of what it shares
 * (the instance its database and user live on, the topic it publishes to) from the previews stack's outputs. So a
 * resource placed by those outputs in another project than the provider's, or given another project outright
 * (`monitor:preview.instanceConnectionName` naming stage's instance, say), is caught here, and so is a provider
 * moved into another project while the outputs still name the previews'. The StackReference itself would say it
 * more directly, but a stack policy never sees it: the engine keeps read resources apart from the ones it analyzes
 * (pulumi/pulumi pkg/resource/deploy/step_executor.go stores an OpRead's state in `reads`, and AnalyzeResources in
 * step_generator.go sends only `news`).
 *
 * Checked: a resource's `project`, and its top-level names of the form `projects/<project id>/...` (a topic, a
 * secret by id). A name that carries the project's number instead (Secret Manager's own) cannot be told apart from
 * the previews project's without a lookup, and is not checked.
 */

const PROVIDER = "pulumi:providers:gcp";
/** A project id, as GCP allows it: never all digits, which is how a number-named reference is told apart. */
const PROJECT_NAMED = /^projects\/([a-z][a-z0-9-]{4,28}[a-z0-9])\//;

/** The projects a resource names: its `project`, and its top-level `projects/<id>/...` references. */
function projectsNamedBy(resource: PolicyResource): string[] {
  const props = resource.props as Record<string, unknown>;
  const named = new Set<string>();
  for (const key of Object.keys(props)) {
    const value = knownOr(() => props[key], UNKNOWN);
    if (typeof value !== "string") continue;
    if (key === "project") named.add(value);
    const reference = PROJECT_NAMED.exec(value)?.[1];
    if (reference) named.add(reference);
  }
  return [...named];
}

export const previewsInPreviewsProject: StackValidationPolicy = {
  name: "previews-in-previews-project",
  description:
    "A preview's resources, and the previews platform's, are all in the previews project: the project of the stack's gcp provider.",
  // Mandatory: a preview deployed into stage's project would run pull-request code beside stage, which the project
  // boundary exists to prevent.
  enforcementLevel: "mandatory",
  validateStack: (args, reportViolation) => {
    const kind = args.resources.map((r) => stackOf(r.urn)?.kind).find(Boolean);
    if (kind !== "preview" && kind !== "previews") return args.notApplicable("only previews and their platform");
    const providers = args.resources.filter((r) => r.type === PROVIDER);
    const projects = [...new Set(providers.map((p) => knownOr(() => p.props.project as unknown, UNKNOWN)))];
    if (projects.length === 0) return args.notApplicable("no gcp provider: no GCP resource to place");
    if (projects.length > 1 || typeof projects[0] !== "string") {
      const shown = projects.map((p) => (typeof p === "string" ? p : "(unknown)")).join(", ");
      for (const provider of providers) {
        reportViolation(
          `${provider.name}: the stack's gcp providers name the projects ${shown}: a preview and its platform use ` +
            "one provider, in the previews project",
          provider.urn,
        );
      }
      return;
    }
    const home = projects[0];
    for (const resource of args.resources) {
      if (!resource.type.startsWith("gcp:")) continue;
      const elsewhere = projectsNamedBy(resource).filter((project) => project !== home);
      if (elsewhere.length > 0) {
        reportViolation(
          `${resource.name} is in ${elsewhere.join(", ")}, outside the previews project ${home} (the project of the ` +
            "stack's gcp provider): a preview creates nothing in another project. Put it in the previews project, " +
            "or take it from the previews stack's outputs",
          resource.urn,
        );
      }
    }
  },
};
