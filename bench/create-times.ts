/**
 * Typical create times per resource type, for the critical path of a new preview's `pulumi up`. Each row says
 * where its figure comes from; `estimate: true` marks a figure that is a reasoned guess (no published
 * measurement found), to be replaced by the durations of real runs (`pulumi up` prints each resource's).
 */
export interface CreateTime {
  seconds: number;
  source: string;
  estimate: boolean;
}

const TF_SQL_SLOW = "https://github.com/hashicorp/terraform-provider-google/issues/14770";
const TF_SQL_10M = "https://github.com/terraform-google-modules/terraform-google-sql-db/issues/213";

export const CREATE_TIMES: Readonly<Record<string, CreateTime>> = {
  "gcp:sql/databaseInstance:DatabaseInstance": {
    seconds: 600,
    source: `a Postgres instance: "Creation complete after 10m14s", typical (${TF_SQL_10M}); 15-20 min called normal by the provider's maintainers (${TF_SQL_SLOW}): the lower figure is used`,
    estimate: false,
  },
  "docker:index/image:Image": {
    seconds: 360,
    source: "build and push of the app's image (Next.js production build, no layer cache, on a 2-core runner)",
    estimate: true,
  },
  "gcp:cloudrunv2/job:Job": {
    seconds: 90,
    source:
      "create (~15 s) plus the migration execution runExecutionToken waits for: pull, start, knex migrate on an empty database",
    estimate: true,
  },
  "gcp:cloudrunv2/service:Service": {
    seconds: 45,
    source: "first revision: pull, start both containers, pass the /__heartbeat__ startup probe, route traffic",
    estimate: true,
  },
  "gcp:sql/database:Database": {
    seconds: 20,
    source: "an operation on a running instance (Cloud SQL runs one operation per instance at a time)",
    estimate: true,
  },
  "gcp:sql/user:User": { seconds: 10, source: "an operation on a running instance", estimate: true },
  "gcp:serviceaccount/account:Account": {
    seconds: 10,
    source: "create, then the provider polls until the new account is readable (eventual consistency)",
    estimate: true,
  },
  "gcp:projects/iAMMember:IAMMember": {
    seconds: 10,
    source: "read-modify-write of the project's IAM policy, retried on concurrent edits",
    estimate: true,
  },
  "gcp:pubsub/topicIAMMember:TopicIAMMember": {
    seconds: 5,
    source: "read-modify-write of the topic's policy",
    estimate: true,
  },
  "gcp:secretmanager/secretIamMember:SecretIamMember": {
    seconds: 5,
    source: "read-modify-write of the secret's policy",
    estimate: true,
  },
  "gcp:cloudrunv2/serviceIamMember:ServiceIamMember": {
    seconds: 5,
    source: "read-modify-write of the service's policy",
    estimate: true,
  },
  "gcp:projects/service:Service": {
    seconds: 5,
    source: "the API is already enabled (stage shares the project): one call",
    estimate: true,
  },
  "gcp:secretmanager/secret:Secret": { seconds: 2, source: "one synchronous API call", estimate: true },
  "gcp:secretmanager/secretVersion:SecretVersion": { seconds: 2, source: "one synchronous API call", estimate: true },
  "pulumi:pulumi:StackReference": {
    seconds: 2,
    source: "read of stage's state from the backend bucket",
    estimate: true,
  },
  "random:index/randomPassword:RandomPassword": { seconds: 0, source: "local to the provider", estimate: false },
  "pulumi:providers:gcp": { seconds: 0, source: "local to the engine", estimate: false },
};

/** A type missing from the table counts this much, and the bench names it. */
export const UNKNOWN_TYPE_SECONDS = 10;
