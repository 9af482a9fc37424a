import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { type Grantee, type Retention, retains, waitsFor, deletionPolicyFor } from "./options";

export interface BreachNotificationsArgs extends Retention {
  readonly project: pulumi.Input<string>;
  /** The app's `GCP_PUBSUB_TOPIC_NAME`, e.g. `hibp-breaches`. */
  readonly topicName: string;
  /** The app's `GCP_PUBSUB_SUBSCRIPTION_NAME`. */
  readonly subscriptionName: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A topic known by name: this stack's own, or another stack's (the preview platform's, which previews publish to). */
export interface TopicRef {
  readonly project: pulumi.Input<string>;
  readonly topic: pulumi.Input<string>;
}

/**
 * Lets `grantee` publish to `topic`, bound where IAM on a topic lives: on the topic, in the topic's project, whatever
 * project the grantee runs in. The webhook calls `topic.exists()` (pubsub.topics.get) before it publishes and fails
 * the request if that errors: viewer on this one topic guarantees the check, whether or not the publisher role covers
 * it. The bindings are named `<name>-publisher-<key>` and `<name>-viewer-<key>`.
 */
export function grantTopicPublish(
  name: string,
  topic: TopicRef,
  grantee: Grantee,
  opts: pulumi.CustomResourceOptions,
): gcp.pubsub.TopicIAMMember[] {
  return (["publisher", "viewer"] as const).map(
    (what) =>
      new gcp.pubsub.TopicIAMMember(
        `${name}-${what}-${grantee.key}`,
        { project: topic.project, topic: topic.topic, role: `roles/pubsub.${what}`, member: grantee.member },
        opts,
      ),
  );
}

/**
 * The queue between the HIBP webhook (`POST /api/v1/hibp/notify` publishes one message a breach) and the worker that
 * emails the affected subscribers. Access is per resource and granted by method: publishers may publish to this
 * topic, subscribers may consume this subscription, and neither can do the other.
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
  private readonly name: string;
  private readonly project: pulumi.Input<string>;

  constructor(name: string, args: BreachNotificationsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:BreachNotifications", name, {}, opts);
    this.name = name;
    this.project = args.project;
    // Both hold what matters: recreating the topic detaches the subscription, and the subscription holds a week of
    // undelivered alerts. PREVENT is the provider's guard beside Pulumi's protect.
    const retain = retains(args);
    const kept = { protect: retain };
    const deletionPolicy = deletionPolicyFor(retain);

    const topic = new gcp.pubsub.Topic(
      name,
      { project: args.project, name: args.topicName, labels: args.labels, deletionPolicy },
      // Everything else here waits for the topic, so the component's dependsOn holds for all of it.
      waitsFor(this, opts, kept),
    );
    const subscription = new gcp.pubsub.Subscription(
      `${name}-worker`,
      {
        project: args.project,
        name: args.subscriptionName,
        topic: topic.id,
        labels: args.labels,
        deletionPolicy,
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
      { parent: this, ...kept },
    );

    this.topicName = topic.name;
    this.subscriptionName = subscription.name;
    this.registerOutputs({ topicName: this.topicName, subscriptionName: this.subscriptionName });
  }

  /** The web service's identity (the HIBP webhook) publishes; see grantTopicPublish. */
  grantPublish(grantee: Grantee): pulumi.Resource[] {
    return grantTopicPublish(this.name, { project: this.project, topic: this.topicName }, grantee, { parent: this });
  }

  /** The breach-alerts worker's identity consumes this subscription, and may do nothing else with the queue. */
  grantSubscribe(grantee: Grantee): pulumi.Resource {
    return new gcp.pubsub.SubscriptionIAMMember(
      `${this.name}-subscriber-${grantee.key}`,
      {
        project: this.project,
        subscription: this.subscriptionName,
        role: "roles/pubsub.subscriber",
        member: grantee.member,
      },
      { parent: this },
    );
  }
}
