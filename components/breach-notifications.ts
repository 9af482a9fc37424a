import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";

export interface BreachNotificationsArgs {
  project: pulumi.Input<string>;
  /** The app's `GCP_PUBSUB_TOPIC_NAME`, e.g. `hibp-breaches`. */
  topicName: string;
  /** The app's `GCP_PUBSUB_SUBSCRIPTION_NAME`. */
  subscriptionName: string;
  /** IAM members that publish: the web service's identity (the HIBP webhook). */
  publisherMembers: pulumi.Input<string>[];
  /** IAM members that consume: the breach alerts worker's identity. */
  subscriberMembers: pulumi.Input<string>[];
  labels: Record<string, string>;
}

/**
 * The queue between the HIBP webhook (`POST /api/v1/hibp/notify` publishes one message a breach) and the worker that
 * emails the affected subscribers. Access is per resource: publishers may publish to this topic, subscribers may
 * consume this subscription, and neither can do the other.
 *
 * No dead-letter topic: the consumer nacks a message when some of its recipients could not be emailed, and skips
 * recipients it already notified, so redelivery is what finishes a half-sent breach; a dead-letter topic would park
 * those where nobody reads them. A message that can never succeed (a breach the app cannot find, a payload the
 * webhook let through) costs one attempt per 10 minutes under the retry policy until retention drops it after a
 * week, and each attempt reports to Sentry.
 */
export class BreachNotifications extends pulumi.ComponentResource {
  readonly topicName: pulumi.Output<string>;
  readonly subscriptionName: pulumi.Output<string>;

  constructor(name: string, args: BreachNotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:BreachNotifications", name, {}, opts);

    const topic = new gcp.pubsub.Topic(
      name,
      { project: args.project, name: args.topicName, labels: args.labels },
      // Everything else here waits for the topic, so the component's dependsOn holds for all of it.
      { parent: this, dependsOn: opts?.dependsOn },
    );
    const subscription = new gcp.pubsub.Subscription(
      `${name}-worker`,
      {
        project: args.project,
        name: args.subscriptionName,
        topic: topic.id,
        labels: args.labels,
        // The maximum: one message can mean hundreds of emails, rendered and sent one after another. The client
        // extends leases while it works, but rendering can starve its timers; a long deadline avoids a second
        // worker picking up the same breach meanwhile.
        ackDeadlineSeconds: 600,
        // A week: alerts survive a worker that is down over a long weekend.
        messageRetentionDuration: `${7 * 24 * 3600}s`,
        // Never delete the subscription for inactivity (the default is after 31 days): a quiet month would
        // otherwise lose it, and with it every later alert.
        expirationPolicy: { ttl: "" },
        // Back off after a nack (SES throttling, a database blip) instead of redelivering at once.
        retryPolicy: { minimumBackoff: "10s", maximumBackoff: "600s" },
      },
      { parent: this },
    );

    args.publisherMembers.forEach((member, i) => {
      // The webhook calls `topic.exists()` (pubsub.topics.get) before it publishes and fails the request if that
      // errors: viewer on this one topic guarantees the check, whether or not the publisher role covers it.
      for (const [suffix, role] of [["publisher", "roles/pubsub.publisher"], ["viewer", "roles/pubsub.viewer"]]) {
        new gcp.pubsub.TopicIAMMember(
          `${name}-${suffix}-${i}`,
          { project: args.project, topic: topic.name, role, member },
          { parent: this },
        );
      }
    });
    args.subscriberMembers.forEach((member, i) => {
      new gcp.pubsub.SubscriptionIAMMember(
        `${name}-subscriber-${i}`,
        { project: args.project, subscription: subscription.name, role: "roles/pubsub.subscriber", member },
        { parent: this },
      );
    });

    this.topicName = topic.name;
    this.subscriptionName = subscription.name;
    this.registerOutputs({ topicName: this.topicName, subscriptionName: this.subscriptionName });
  }
}
