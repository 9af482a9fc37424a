import { type ResourceValidationPolicy, validateResourceOfType } from "@pulumi/policy";
import * as monitoring from "@pulumi/gcp/monitoring";
import { isPlaceholderChannel } from "../shared-rules/notification-channels";
import { stackOf } from "./stack";

/** Monitoring: prod's alerts reach a person. */

export const prodAlertsNotify: ResourceValidationPolicy = {
  name: "prod-alerts-notify",
  description: "Prod's alert policies notify someone.",
  // Advisory: an alert that notifies nobody still records incidents, and a missing channel must not block a prod
  // hotfix; but prod's uptime alert is how an outage reaches a person, so the plan says so every time. (The config
  // already refuses prod without a channel; what reaches this rule is the committed placeholder, or a policy built
  // some other way.)
  enforcementLevel: "advisory",
  validateResource: validateResourceOfType(monitoring.AlertPolicy, (policy, args, reportViolation) => {
    if (stackOf(args.urn)?.kind !== "prod") return args.notApplicable("only prod's alerts must reach a person");
    const channels = (policy.notificationChannels ?? []).filter(
      (c) => typeof c !== "string" || !isPlaceholderChannel(c),
    );
    if (channels.length === 0) {
      const placeholder = (policy.notificationChannels ?? []).length > 0;
      reportViolation(
        `${args.name} notifies nobody${placeholder ? " (its only channel is the placeholder)" : ""}: ` +
          "SRE must set monitor:alerts.notificationChannels in Pulumi.prod.yaml to a real channel " +
          "(projects/<project>/notificationChannels/<id>: gcloud beta monitoring channels list --project <project>)",
      );
    }
  }),
};
