import { type ResourceValidationArgs, type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
import { DERIVED_VARIABLES, isSecretName, secretLookingValue } from "../shared-rules/app-env";
import { PINNED_IMAGE } from "../shared-rules/image-tags";
import type { StackKind } from "../shared-rules/stack-name";
import { type Props, UNKNOWN, knownOr, stackOf, webServiceName } from "./stack";

/** Cloud Run: what its services, jobs and worker pools run, what they are given, and who may invoke them. */

/** Every container of a Cloud Run service, job or worker pool, or notApplicable for anything else. */
function containersOf(args: ResourceValidationArgs): Props[] {
  const service = args.asType(cloudrunv2.Service) ?? args.asType(cloudrunv2.WorkerPool);
  if (service) return service.template?.containers ?? [];
  const job = args.asType(cloudrunv2.Job);
  if (job) return job.template?.template?.containers ?? [];
  return args.notApplicable("not a Cloud Run service, job or worker pool");
}

export const cloudRunImagePinned: ResourceValidationPolicy = {
  name: "cloudrun-image-pinned-by-digest",
  description: "Cloud Run containers run an image pinned by digest.",
  // Mandatory: a tag can move, so prod would no longer run exactly the bytes that stage ran.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const container of containersOf(args)) {
      if (!PINNED_IMAGE.test(container.image ?? "")) {
        reportViolation(`${args.name} runs "${container.image}": use <repository>@sha256:<64 hex digits>`);
      }
    }
  },
};

export const cloudRunNoPlainSecrets: ResourceValidationPolicy = {
  name: "cloudrun-no-plain-secrets",
  description: "Secrets reach Cloud Run containers from Secret Manager, never as plain env values.",
  // Mandatory: a plain value is readable by anyone who can view the service or its revisions.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    for (const container of containersOf(args)) {
      for (const env of (container.envs ?? []) as Props[]) {
        // `in` asks the proxy nothing about the value: a plain value is plain whether or not it is known yet.
        if (!("value" in env)) continue;
        let why: string | undefined;
        if (isSecretName(env.name)) why = "its name says it is a secret";
        // The program computes these from the resources it creates (URLs, connection names, ids), never from a
        // credential; they are often unknown at a first preview, so they are judged by name, not value.
        else if (DERIVED_VARIABLES.includes(env.name)) continue;
        else if (typeof env.value === "string") why = secretLookingValue(env.value);
        if (why) {
          reportViolation(
            `${args.name} sets ${env.name} as a plain value, but ${why}: store it in Secret Manager and use ` +
              "valueSource.secretKeyRef",
          );
        }
      }
    }
  },
};

const PUBLIC_MEMBERS = ["allUsers", "allAuthenticatedUsers"];

/** Cloud Run's IAM grants, by what they grant on. (An IamPolicy's JSON is not read: the program uses none.) */
const RUN_GRANTS: Readonly<Record<string, "service" | "job" | "worker pool">> = {
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": "service",
  "gcp:cloudrunv2/serviceIamBinding:ServiceIamBinding": "service",
  "gcp:cloudrunv2/jobIamMember:JobIamMember": "job",
  "gcp:cloudrunv2/jobIamBinding:JobIamBinding": "job",
  "gcp:cloudrunv2/workerPoolIamMember:WorkerPoolIamMember": "worker pool",
  "gcp:cloudrunv2/workerPoolIamBinding:WorkerPoolIamBinding": "worker pool",
};

/**
 * Where the environment allows a public invoker: only on the environment's web service (its name from
 * infra/naming.ts), since the app does its own sign-in. Everything else, above all the breach-alerts worker that
 * Pub/Sub feeds, is invoked by Google identities only; public, it would let anyone forge breach notifications or
 * run jobs. Deny by default, so that a new service starts private until this says otherwise.
 */
function publicInvokerRefusal(stack: StackKind | undefined, target: string, name: string): string | undefined {
  if (target !== "service") return `a Cloud Run ${target} is never invoked from the internet`;
  if (!stack || stack.kind === "pipeline") return "this stack serves no public traffic";
  if (name.endsWith("-breach-alerts")) return "the breach-alerts worker is fed by Pub/Sub only";
  const web = webServiceName(stack);
  return name === web ? undefined : `only the web service ${web} may be public in ${stack.stack}`;
}

export const cloudRunPublicInvoker: ResourceValidationPolicy = {
  name: "cloudrun-public-invoker",
  description: "Only the web service may be invoked by anyone on the internet.",
  // Mandatory: a public worker or job accepts forged work from anyone.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const target = RUN_GRANTS[args.type];
    if (!target) return args.notApplicable("not a Cloud Run IAM grant");
    // The public principals are literals, which a preview always knows. A member it does not know is built from
    // a resource's output (a service account's email) and so names an identity: it cannot be public. A whole
    // `members` list that is unknown can hold anything, and is left to throw.
    const props = args.props;
    const members: unknown[] =
      "members" in props && props.members !== undefined
        ? Array.from({ length: props.members.length }, (_, i) => knownOr(() => props.members[i], UNKNOWN))
        : [knownOr(() => props.member, UNKNOWN)];
    const publicMembers = members.filter((m): m is string => typeof m === "string" && PUBLIC_MEMBERS.includes(m));
    if (args.props.role !== "roles/run.invoker" || publicMembers.length === 0) return;
    // `name` may be the full resource name (projects/.../services/<name>).
    const name = String(args.props.name ?? "")
      .split("/")
      .pop()!;
    const why = publicInvokerRefusal(stackOf(args.urn), target, name);
    if (why) reportViolation(`${args.name} lets ${publicMembers.join(", ")} invoke ${name}, but ${why}`);
  },
};

export const prodWebWarm: ResourceValidationPolicy = {
  name: "prod-web-warm-instance",
  description: "The prod web service keeps at least one instance warm.",
  // Advisory: a cold start costs the first visitor seconds, not data or safety; it must not block a prod hotfix.
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(cloudrunv2.Service, (service, args, reportViolation) => {
    const stack = stackOf(args.urn);
    if (stack?.kind !== "prod" || service.name !== webServiceName(stack)) {
      return args.notApplicable("only prod's web service");
    }
    // A minimum can be set per revision, for the whole service, or as a manual instance count.
    const { scaling, template } = service;
    const manual = scaling?.scalingMode === "MANUAL" ? scaling.manualInstanceCount : 0;
    const warm = Math.max(template?.scaling?.minInstanceCount ?? 0, scaling?.minInstanceCount ?? 0, manual ?? 0);
    if (warm < 1) {
      reportViolation(`${args.name} scales to zero: set template.scaling.minInstanceCount >= 1`);
    }
  }),
};
