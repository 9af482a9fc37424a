import { GCP_PROJECT_ID } from "./gcp-ids";
import { unanchored } from "./patterns";

/**
 * Cloud Monitoring notification channels as an alert policy names them: `projects/<project>/notificationChannels/<id>`
 * (@pulumi/gcp monitoring/alertPolicy.d.ts, notificationChannels: "The syntax of the entries in this field is
 * `projects/[PROJECT_ID]/notificationChannels/[CHANNEL_ID]`"; ids are numeric). The config requires one for prod,
 * and the policy pack reports a prod alert that would notify nobody, or only the placeholder below.
 */
export const NOTIFICATION_CHANNEL = new RegExp(
  `^projects/(${unanchored(GCP_PROJECT_ID)}|[0-9]+)/notificationChannels/[0-9]+$`,
);

/**
 * The channel id a committed stack file carries until SRE names the real one: all zeros, which no channel has. It
 * keeps the key's shape (so the plan runs) while the policy pack says, on every plan, that nobody is paged yet.
 */
export const PLACEHOLDER_CHANNEL_ID = "0000000000000000000";

export function isPlaceholderChannel(channel: string): boolean {
  return channel.endsWith(`/notificationChannels/${PLACEHOLDER_CHANNEL_ID}`);
}
