import type { ResourceValidationPolicy } from "@pulumi/policy";
import * as secretmanager from "@pulumi/gcp/secretmanager";
import * as sql from "@pulumi/gcp/sql";
import { type Props, longLived, stackOf } from "./stack";

/** Deletion: stage's and prod's state cannot be deleted by mistake, and everything a preview creates can be. */

// Types whose provider refuses to delete them unless `deletionProtection: false` is set explicitly.
const PROTECTED_BY_DEFAULT = new Set([
  "gcp:cloudrunv2/service:Service",
  "gcp:cloudrunv2/job:Job",
  "gcp:cloudrunv2/workerPool:WorkerPool",
  "gcp:sql/databaseInstance:DatabaseInstance",
]);

/** What makes the provider or GCP refuse (or skip) a delete of this resource; empty when a delete goes through. */
export function deletionGuards(type: string, props: Props): string[] {
  const guards: string[] = [];
  if (props.deletionProtection === true) guards.push("deletionProtection is true");
  if (props.deletionProtection === undefined && PROTECTED_BY_DEFAULT.has(type)) {
    guards.push("deletionProtection is unset and defaults to true");
  }
  // ABANDON does not block the delete but leaves the thing behind: on the shared preview instance, a leak.
  if (props.deletionPolicy === "PREVENT" || props.deletionPolicy === "ABANDON") {
    guards.push(`deletionPolicy is ${props.deletionPolicy}`);
  }
  if (props.settings?.deletionProtectionEnabled === true) guards.push("settings.deletionProtectionEnabled is true");
  return guards;
}

export const statefulResourcesProtected: ResourceValidationPolicy = {
  name: "stateful-resources-protected",
  description: "Stage and prod Cloud SQL instances, databases and secrets are protected from deletion.",
  // Mandatory: losing stage's or prod's data or credentials to a mistaken delete is not recoverable by a redeploy.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    const stateful =
      args.isType(sql.DatabaseInstance) || args.isType(sql.Database) || args.isType(secretmanager.Secret);
    if (!stateful) return args.notApplicable("not a stateful resource");
    const stack = longLived(args);
    if (!args.opts.protect) {
      reportViolation(`${args.name} in ${stack.stack} is not protected: set the resource option protect: true`);
    }
    if (args.isType(sql.DatabaseInstance)) {
      if (args.props.deletionProtection === false) {
        reportViolation(`${args.name} in ${stack.stack} has deletionProtection: false: remove it or set it to true`);
      }
      if (args.props.settings?.deletionProtectionEnabled !== true) {
        reportViolation(
          `${args.name} in ${stack.stack} lacks settings.deletionProtectionEnabled: true, which also stops deletes ` +
            "from the console, gcloud and the API",
        );
      }
    } else if (deletionGuards(args.type, args.props).length === 0) {
      const fix = args.isType(sql.Database) ? 'deletionPolicy: "PREVENT"' : "deletionProtection: true";
      reportViolation(`${args.name} in ${stack.stack} can be deleted by the provider: set ${fix}`);
    }
  },
};

export const previewResourcesDeletable: ResourceValidationPolicy = {
  name: "preview-resources-deletable",
  description: "Everything a preview creates can be deleted by `pulumi destroy`.",
  // Mandatory: destroy does not rerun the program, so a guard set at creation makes the preview leak until an
  // `up` lifts it, and the sweeper cannot clean it up.
  enforcementLevel: "mandatory",
  validateResource: (args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "preview") return args.notApplicable("only previews");
    if (args.opts.protect) reportViolation(`${args.name} is protected: previews must not set protect`);
    const guards = deletionGuards(args.type, args.props);
    if (guards.length > 0) {
      reportViolation(
        `${args.name} cannot be destroyed with its preview (${guards.join("; ")}): create it with ` +
          'deletionProtection: false (and deletionPolicy "DELETE" where the type has one)',
      );
    }
  },
};
