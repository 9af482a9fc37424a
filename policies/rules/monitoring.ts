import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as monitoring from "@pulumi/gcp/monitoring";
import { stackOf } from "./stack";

/** Monitoring: prod's alerts reach a person. */

export const prodAlertsNotify: ResourceValidationPolicy = {
  name: "prod-alerts-notify",
  description: "Prod's alert policies notify someone.",
  // Advisory: an alert that notifies nobody still records incidents, and a missing channel must not block a prod
  // hotfix; but prod's uptime alert is how an outage reaches a person, so the plan says so every time.
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(monitoring.AlertPolicy, (policy, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "prod") return args.notApplicable("only prod's alerts must reach a person");
    if ((policy.notificationChannels ?? []).length === 0) {
      reportViolation(
        `${args.name} notifies nobody: set monitor:alerts.notificationChannels in Pulumi.prod.yaml ` +
          "(projects/<project>/notificationChannels/<id>)",
      );
    }
  }),
};
