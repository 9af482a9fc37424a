import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../infra/engine/evaluate";
import { PROJECT, ofType, one, evaluateComponent } from "./harness";
import { BreachNotifications } from "../components/breach-notifications";

const WEB = `serviceAccount:monitor-stage-run@${PROJECT}.iam.gserviceaccount.com`;
const WORKER = `serviceAccount:monitor-stage-worker@${PROJECT}.iam.gserviceaccount.com`;

const TOPIC = "gcp:pubsub/topic:Topic";
const SUBSCRIPTION = "gcp:pubsub/subscription:Subscription";
const TOPIC_GRANT = "gcp:pubsub/topicIAMMember:TopicIAMMember";
const SUBSCRIPTION_GRANT = "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember";

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateComponent(() => {
    const notifications = new BreachNotifications("breaches", {
      project: PROJECT,
      topicName: "hibp-breaches",
      subscriptionName: "hibp-breaches-alerts",
      labels: { app: "monitor", environment: "stage" },
    });
    notifications.grantPublish({ key: "runtime", member: WEB });
    notifications.grantSubscribe({ key: "worker", member: WORKER });
    return { topicName: notifications.topicName, subscriptionName: notifications.subscriptionName };
  });
});

const grants = (type: string) => ofType(ev, type).map((r) => r.inputs);

describe("BreachNotifications", () => {
  it("creates the topic and one pull subscription on it, labelled", () => {
    const topic = one(ev, TOPIC).inputs as any;
    const subscription = one(ev, SUBSCRIPTION).inputs as any;
    expect(topic).toMatchObject({
      project: PROJECT,
      name: "hibp-breaches",
      labels: { app: "monitor", environment: "stage" },
    });
    expect(subscription).toMatchObject({
      project: PROJECT,
      name: "hibp-breaches-alerts",
      labels: { environment: "stage" },
    });
    // The topic's id (`projects/<p>/topics/<name>` from GCP) or its name: the API takes either.
    expect(subscription.topic).toMatch(/(^|\/topics\/)hibp-breaches$/);
    expect(one(ev, SUBSCRIPTION).dependsOn).toContain(one(ev, TOPIC).urn);
    expect(subscription.pushConfig).toBeUndefined();
  });

  it("gives the worker time to send a breach's emails, keeps messages a week, and never expires", () => {
    const subscription = one(ev, SUBSCRIPTION).inputs as any;
    expect(subscription.ackDeadlineSeconds).toBe(600);
    expect(subscription.messageRetentionDuration).toBe("604800s");
    expect(subscription.expirationPolicy).toEqual({ ttl: "" });
    expect(subscription.retryPolicy).toEqual({ minimumBackoff: "10s", maximumBackoff: "600s" });
  });

  it("lets the web service publish to the topic (and see that it exists), and nothing more", () => {
    expect(grants(TOPIC_GRANT)).toEqual([
      { project: PROJECT, topic: "hibp-breaches", role: "roles/pubsub.publisher", member: WEB },
      { project: PROJECT, topic: "hibp-breaches", role: "roles/pubsub.viewer", member: WEB },
    ]);
  });

  it("lets the worker consume the subscription, and nothing more", () => {
    expect(grants(SUBSCRIPTION_GRANT)).toEqual([
      { project: PROJECT, subscription: "hibp-breaches-alerts", role: "roles/pubsub.subscriber", member: WORKER },
    ]);
  });

  it("names each binding after its grantee's key, never after a position", () => {
    expect([...ofType(ev, TOPIC_GRANT), ...ofType(ev, SUBSCRIPTION_GRANT)].map((r) => r.name)).toEqual([
      "breaches-publisher-runtime",
      "breaches-viewer-runtime",
      "breaches-subscriber-worker",
    ]);
  });

  it("retains the topic and the subscription (a week of undelivered alerts) in Pulumi and at the provider", () => {
    for (const r of [one(ev, TOPIC), one(ev, SUBSCRIPTION)]) {
      expect(r.protect).toBe(true);
      expect(r.inputs.deletionPolicy).toBe("PREVENT");
    }
  });

  it("grants at the resource level only, never on the project", () => {
    expect(ev.registrations.filter((r) => r.type.startsWith("gcp:projects/"))).toEqual([]);
  });

  it("outputs the short names the app reads as GCP_PUBSUB_TOPIC_NAME and GCP_PUBSUB_SUBSCRIPTION_NAME", () => {
    expect(ev.outputs.topicName.value).toBe("hibp-breaches");
    expect(ev.outputs.subscriptionName.value).toBe("hibp-breaches-alerts");
  });
});
