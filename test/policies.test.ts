import type {
  PolicyResource,
  ResourceValidation,
  ResourceValidationPolicy,
  StackValidationPolicy,
} from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { SERVICE, JOB, WORKER_POOL, INSTANCE, DATABASE, SECRET, INVOKER, USER } from "./harness";
import type { Registration } from "../infra/engine/evaluate";
import { defaultMaxConnections } from "../shared-rules/connection-budget";
import { PLACEHOLDER_CHANNEL_ID } from "../shared-rules/notification-channels";
import { NotApplicable, resourceArgs, runPolicies } from "../policies/offline";
import { namesRepository, pinsWorkflow, policies } from "../policies/rules";

// Each rule gets a resource that breaks it and one that passes, run through the same runner as the real stacks.

type Props = Record<string, any>;

interface Options {
  /** Default pr-7. */
  stack?: string;
  name?: string;
  protect?: boolean;
  parent?: string;
  custom?: boolean;
  read?: boolean;
  dependsOn?: string[];
  propertyDependencies?: Record<string, string[]>;
}

/** A registration as the offline engine records it. */
function resource(type: string, inputs: Props, options: Options = {}): Registration {
  const { stack = "pr-7", name = "res", protect = false, parent = "", custom = true, read = false } = options;
  return {
    urn: `urn:pulumi:${stack}::monitor::${type}::${name}`,
    type,
    name,
    custom,
    read,
    parent,
    protect,
    retainOnDelete: false,
    deleteBeforeReplace: false,
    dependsOn: options.dependsOn ?? [],
    propertyDependencies: options.propertyDependencies ?? {},
    inputs,
    secretPaths: [],
    rawInputs: inputs,
  };
}

/** The messages `policy` reports for these resources. */
function violations(policy: string, ...registrations: Registration[]): string[] {
  return runPolicies({ stack: "test", registrations, outputs: {} })
    .filter((v) => v.policy === policy)
    .map((v) => v.message);
}

const IMAGE = `us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server@sha256:${"ab".repeat(32)}`;

function labels(stack: string): Record<string, string> {
  const pr = /^pr-(\d+)$/.exec(stack)?.[1];
  return { app: "monitor", environment: pr ? "preview" : stack, stack, ...(pr && { pr }) };
}

function service(stack = "pr-7", env: Props[] = [{ name: "APP_ENV", value: "cloudrun" }]): Props {
  return {
    name: `monitor-${stack}`,
    labels: labels(stack),
    deletionProtection: stack.startsWith("pr-") ? false : true,
    template: { scaling: { minInstanceCount: 1 }, containers: [{ image: IMAGE, envs: env }] },
  };
}

/** A stage/prod instance that meets every rule. */
function instance(stack = "prod"): Props {
  return {
    name: `monitor-${stack}`,
    deletionProtection: true,
    settings: {
      tier: "db-custom-1-3840",
      availabilityType: "REGIONAL",
      deletionProtectionEnabled: true,
      userLabels: labels(stack),
      backupConfiguration: { enabled: true, pointInTimeRecoveryEnabled: true },
      ipConfiguration: { ipv4Enabled: true, authorizedNetworks: [], sslMode: "ENCRYPTED_ONLY" },
      connectorEnforcement: "REQUIRED",
    },
  };
}

describe("the offline runner", () => {
  it("gives every policy a unique name", () => {
    const names = policies.map((p) => p.name);
    expect(new Set(names).size).toBe(names.length);
  });

  it("marks other types not applicable through args.notApplicable, as CrossGuard does", () => {
    const policy = policies.find((p) => p.name === "no-service-account-keys") as ResourceValidationPolicy;
    const validate = policy.validateResource as ResourceValidation;
    expect(() => validate(resourceArgs(resource(SECRET, {})), () => {})).toThrow(NotApplicable);
  });

  it("analyzes components but not read resources, as the engine does", () => {
    const component = resource("monitor:components:WebService", {}, { custom: false, protect: true, name: "web" });
    const readKey = resource("gcp:serviceaccount/key:Key", {}, { read: true });
    expect(violations("preview-resources-deletable", component)).toEqual([
      "web is protected: previews must not set protect",
    ]);
    expect(violations("no-service-account-keys", readKey)).toEqual([]);
  });

  it("gives stack policies the registered resources with their parents and dependencies", () => {
    let seen: PolicyResource[] = [];
    const probe: StackValidationPolicy = {
      name: "probe",
      description: "Records what a stack policy is given.",
      validateStack: (args) => {
        seen = args.resources;
      },
    };
    const parent = resource("monitor:components:AppDatabase", {}, { custom: false, name: "db" });
    const user = resource("gcp:sql/user:User", {}, { parent: parent.urn, name: "user" });
    const database = resource(
      DATABASE,
      {},
      {
        parent: parent.urn,
        dependsOn: [user.urn],
        propertyDependencies: { instance: [user.urn] },
        name: "database",
      },
    );
    const reference = resource("pulumi:pulumi:StackReference", { name: "org/monitor/stage" }, { read: true });
    runPolicies({ stack: "test", registrations: [parent, user, database, reference], outputs: {} }, [probe]);
    const byName = Object.fromEntries(seen.map((r) => [r.name, r]));
    expect(Object.keys(byName)).toEqual(["db", "user", "database"]);
    expect(byName.database.parent).toBe(byName.db);
    expect(byName.database.dependencies).toEqual([byName.user]);
    expect(byName.database.propertyDependencies).toEqual({ instance: [byName.user] });
  });

  it("reports each violation at its policy's enforcement level", () => {
    const coldProd = service("prod");
    coldProd.template.scaling.minInstanceCount = 0;
    const key = resource("gcp:serviceaccount/key:Key", {}, { stack: "pipeline" });
    const registrations = [resource(SERVICE, coldProd, { stack: "prod" }), key];
    const found = runPolicies({ stack: "test", registrations, outputs: {} });
    expect(found.map((v) => [v.policy, v.enforcementLevel])).toEqual([
      ["prod-web-warm-instance", "advisory"],
      ["no-service-account-keys", "mandatory"],
    ]);
  });
});

describe("stateful-resources-protected", () => {
  const POLICY = "stateful-resources-protected";

  it("refuses an unprotected stage secret without deletion protection", () => {
    const secret = resource(SECRET, { labels: labels("stage") }, { stack: "stage", name: "db-url" });
    expect(violations(POLICY, secret)).toEqual([
      "db-url in stage is not protected: set the resource option protect: true",
      "db-url in stage can be deleted by the provider: set deletionProtection: true",
    ]);
  });

  it("refuses a prod instance that only Pulumi would refuse to delete", () => {
    const props = instance("prod");
    delete props.settings.deletionProtectionEnabled;
    expect(violations(POLICY, resource(INSTANCE, props, { stack: "prod", protect: true, name: "pg" }))).toEqual([
      "pg in prod lacks settings.deletionProtectionEnabled: true, which also stops deletes from the console, gcloud and the API",
    ]);
  });

  it("asks a stage database for deletionPolicy PREVENT", () => {
    const database = resource(DATABASE, { deletionPolicy: "DELETE" }, { stack: "stage", protect: true, name: "db" });
    expect(violations(POLICY, database)).toEqual([
      'db in stage can be deleted by the provider: set deletionPolicy: "PREVENT"',
    ]);
  });

  it("passes protected stage and prod resources, and ignores previews", () => {
    expect(
      violations(
        POLICY,
        resource(INSTANCE, instance("prod"), { stack: "prod", protect: true }),
        resource(DATABASE, { deletionPolicy: "PREVENT" }, { stack: "stage", protect: true }),
        resource(SECRET, { deletionProtection: true }, { stack: "prod", protect: true }),
        resource(SECRET, { deletionProtection: false }, { stack: "pr-7" }),
      ),
    ).toEqual([]);
  });
});

describe("prod-database-recoverable", () => {
  const POLICY = "prod-database-recoverable";

  it("refuses a prod instance without backups, point-in-time recovery or a standby", () => {
    const props = instance("prod");
    props.settings.backupConfiguration = { enabled: false };
    props.settings.availabilityType = "ZONAL";
    expect(violations(POLICY, resource(INSTANCE, props, { stack: "prod", name: "pg" }))).toEqual([
      "pg has no automated backups: set settings.backupConfiguration.enabled: true",
      "pg has no point-in-time recovery: set settings.backupConfiguration.pointInTimeRecoveryEnabled: true",
      'pg is not highly available (availabilityType ZONAL): set settings.availabilityType: "REGIONAL"',
    ]);
  });

  it("passes a recoverable prod instance and leaves stage's zonal instance alone", () => {
    const stage = instance("stage");
    stage.settings.availabilityType = "ZONAL";
    const prod = resource(INSTANCE, instance("prod"), { stack: "prod" });
    expect(violations(POLICY, prod, resource(INSTANCE, stage, { stack: "stage" }))).toEqual([]);
  });
});

describe("preview-resources-deletable", () => {
  const POLICY = "preview-resources-deletable";

  it("refuses protect and every deletion guard in a preview", () => {
    const job = resource(JOB, { labels: labels("pr-7") }, { name: "migrate" });
    const user = resource("gcp:sql/user:User", { deletionPolicy: "ABANDON" }, { name: "user", protect: true });
    expect(violations(POLICY, job, user)).toEqual([
      'migrate cannot be destroyed with its preview (deletionProtection is unset and defaults to true): create it with deletionProtection: false (and deletionPolicy "DELETE" where the type has one)',
      "user is protected: previews must not set protect",
      'user cannot be destroyed with its preview (deletionPolicy is ABANDON): create it with deletionProtection: false (and deletionPolicy "DELETE" where the type has one)',
    ]);
  });

  it("passes deletable preview resources and ignores stage", () => {
    expect(
      violations(
        POLICY,
        resource(SERVICE, service("pr-7")),
        resource(DATABASE, { deletionPolicy: "DELETE" }),
        resource(SECRET, { deletionProtection: true }, { stack: "stage", protect: true }),
      ),
    ).toEqual([]);
  });
});

describe("resources-labelled", () => {
  const POLICY = "resources-labelled";

  it("refuses a preview resource without its PR, and a stage one labelled as a preview", () => {
    const previewLabels = labels("pr-7");
    delete previewLabels.pr;
    const stageInstance = instance("stage");
    stageInstance.settings.userLabels = { ...labels("stage"), environment: "preview" };
    expect(
      violations(
        POLICY,
        resource(SECRET, { labels: previewLabels }, { name: "token" }),
        resource(INSTANCE, stageInstance, { stack: "stage", name: "pg" }),
      ),
    ).toEqual(['token needs the labels pr: "7"', 'pg needs the labels environment: "stage" (is "preview")']);
  });

  it("passes labelled resources and ignores types that take no labels", () => {
    expect(
      violations(
        POLICY,
        resource(SERVICE, service("pr-7")),
        resource(INSTANCE, instance("prod"), { stack: "prod" }),
        resource(DATABASE, {}),
      ),
    ).toEqual([]);
  });
});

describe("cloudsql-encrypted-connections", () => {
  it("refuses an instance that accepts unencrypted connections, passes ENCRYPTED_ONLY", () => {
    const props = instance("stage");
    props.settings.ipConfiguration.sslMode = "ALLOW_UNENCRYPTED_AND_ENCRYPTED";
    const found = violations(
      "cloudsql-encrypted-connections",
      resource(INSTANCE, props, { name: "pg" }),
      resource(INSTANCE, instance("stage")),
    );
    expect(found).toEqual([
      'pg accepts unencrypted connections (sslMode ALLOW_UNENCRYPTED_AND_ENCRYPTED): set settings.ipConfiguration.sslMode: "ENCRYPTED_ONLY"',
    ]);
  });
});

describe("preview-database-user-isolated", () => {
  const POLICY = "preview-database-user-isolated";
  const user = (props: Props, stack = "pr-7") =>
    resource(USER, { instance: "monitor-previews", name: "monitor_pr_7_app", ...props }, { stack, name: "user" });

  it("refuses a preview user on the shared instance outside the previews' role, or with cloudsqlsuperuser", () => {
    expect(violations(POLICY, user({}))).toEqual([
      "user has no databaseRoles, so Cloud SQL makes it a member of cloudsqlsuperuser, which would let pull-request " +
        'code reach other previews\' databases on the shared instance: set databaseRoles: ["monitor_preview"]',
    ]);
    expect(violations(POLICY, user({ databaseRoles: ["monitor_preview", "pg_read_all_data"] }))).toEqual([
      'user has databaseRoles ["monitor_preview","pg_read_all_data"], which would let pull-request code reach ' +
        'other previews\' databases on the shared instance: set databaseRoles: ["monitor_preview"]',
    ]);
  });

  it("refuses a preview user that names cloudsqlsuperuser on any instance, a dedicated one too", () => {
    const message =
      "user names cloudsqlsuperuser in databaseRoles, which owns every database the Cloud SQL API creates and " +
      'would let pull-request code reach them: set databaseRoles: ["monitor_preview"]';
    expect(violations(POLICY, user({ databaseRoles: ["monitor_preview", "cloudsqlsuperuser"] }))).toEqual([message]);
    expect(violations(POLICY, user({ instance: "monitor-pr-7", databaseRoles: ["cloudsqlsuperuser"] }))).toEqual([
      message,
    ]);
  });

  it("passes the previews' role alone, a dedicated instance's default, and stage's user", () => {
    expect(
      violations(
        POLICY,
        user({ databaseRoles: ["monitor_preview"] }),
        user({ instance: "monitor-pr-7" }),
        user({}, "stage"),
      ),
    ).toEqual([]);
  });
});

describe("cloudsql-no-open-public-ip", () => {
  const POLICY = "cloudsql-no-open-public-ip";

  it("refuses a network open to the internet even behind the connector", () => {
    const props = instance("stage");
    props.settings.ipConfiguration.authorizedNetworks = [{ name: "all", value: "0.0.0.0/0" }];
    expect(violations(POLICY, resource(INSTANCE, props, { name: "pg" }))).toEqual([
      "pg allows 0.0.0.0/0: remove it from authorizedNetworks",
    ]);
  });

  it("refuses a public IP (set or by default) that accepts direct connections", () => {
    const props = instance("stage");
    delete props.settings.ipConfiguration.ipv4Enabled;
    delete props.settings.connectorEnforcement;
    expect(violations(POLICY, resource(INSTANCE, props, { name: "pg" }))).toEqual([
      'pg has a public IP that accepts direct connections: set settings.connectorEnforcement: "REQUIRED" ' +
        "(connections only through the Cloud SQL connector) or settings.ipConfiguration.ipv4Enabled: false",
    ]);
  });

  it("passes a public IP behind the connector, and a private-only instance", () => {
    const privateOnly = instance("stage");
    privateOnly.settings.ipConfiguration = { ipv4Enabled: false, privateNetwork: "projects/p/global/networks/n" };
    delete privateOnly.settings.connectorEnforcement;
    expect(violations(POLICY, resource(INSTANCE, instance("stage")), resource(INSTANCE, privateOnly))).toEqual([]);
  });
});

describe("cloudrun-image-pinned-by-digest", () => {
  it("refuses an image by tag in a job, passes digests in services and worker pools", () => {
    const tagged = { template: { template: { containers: [{ image: "us-docker.pkg.dev/p/r/app:pr-7" }] } } };
    const pool = { template: { containers: [{ image: IMAGE }] } };
    const found = violations(
      "cloudrun-image-pinned-by-digest",
      resource(JOB, tagged, { name: "migrate" }),
      resource(SERVICE, service("pr-7")),
      resource(WORKER_POOL, pool),
    );
    expect(found).toEqual(['migrate runs "us-docker.pkg.dev/p/r/app:pr-7": use <repository>@sha256:<64 hex digits>']);
  });
});

describe("cloudrun-no-plain-secrets", () => {
  const POLICY = "cloudrun-no-plain-secrets";

  it("refuses a secret name or a credential-shaped value as a plain value", () => {
    const env = [
      { name: "OAUTH_CLIENT_SECRET", value: "hunter2" },
      { name: "REDIS_URL", value: "redis://default:hunter2@redis.internal:6379" },
    ];
    expect(violations(POLICY, resource(SERVICE, service("pr-7", env), { name: "web" }))).toEqual([
      "web sets OAUTH_CLIENT_SECRET as a plain value, but its name says it is a secret: store it in Secret Manager and use valueSource.secretKeyRef",
      "web sets REDIS_URL as a plain value, but it is a URL with a password in it: store it in Secret Manager and use valueSource.secretKeyRef",
    ]);
  });

  it("passes secrets from Secret Manager and plain values that only look like secrets by name", () => {
    const env = [
      { name: "OAUTH_CLIENT_SECRET", valueSource: { secretKeyRef: { secret: "projects/p/secrets/s", version: "1" } } },
      { name: "OAUTH_TOKEN_URI", value: "https://oauth.stage.mozaws.net/v1/token" },
    ];
    expect(violations(POLICY, resource(SERVICE, service("pr-7", env)))).toEqual([]);
  });
});

describe("cloudrun-public-invoker", () => {
  const POLICY = "cloudrun-public-invoker";
  const grant = (name: string, stack: string, type = INVOKER) =>
    resource(type, { name, role: "roles/run.invoker", member: "allUsers" }, { stack, name: "invoker" });

  it("refuses a public breach-alerts worker, a public job and any public service but the web one", () => {
    expect(
      violations(
        POLICY,
        grant("monitor-prod-breach-alerts", "prod"),
        grant("monitor-stage-migrate", "stage", "gcp:cloudrunv2/jobIamMember:JobIamMember"),
        grant("projects/p/locations/us-central1/services/monitor-admin", "stage"),
      ),
    ).toEqual([
      "invoker lets allUsers invoke monitor-prod-breach-alerts, but the breach-alerts worker is fed by Pub/Sub only",
      "invoker lets allUsers invoke monitor-stage-migrate, but a Cloud Run job is never invoked from the internet",
      "invoker lets allUsers invoke monitor-admin, but only the web service monitor-stage may be public in stage",
    ]);
  });

  it("passes the public web service in previews, stage and prod, and private grants anywhere", () => {
    const pushIdentity = "serviceAccount:pubsub-push@p.iam.gserviceaccount.com";
    const privateGrant = resource(
      INVOKER,
      { name: "monitor-prod-breach-alerts", role: "roles/run.invoker", member: pushIdentity },
      { stack: "prod" },
    );
    const webGrants = [grant("monitor-pr-7", "pr-7"), grant("monitor-stage", "stage"), grant("monitor-prod", "prod")];
    expect(violations(POLICY, ...webGrants, privateGrant)).toEqual([]);
  });
});

describe("prod-web-warm-instance", () => {
  it("warns when prod's web service scales to zero, not when stage's does", () => {
    const cold = (stack: string) => {
      const props = service(stack);
      props.template.scaling.minInstanceCount = 0;
      return resource(SERVICE, props, { stack, name: "web" });
    };
    const warm = resource(SERVICE, service("prod"), { stack: "prod" });
    expect(violations("prod-web-warm-instance", cold("prod"), cold("stage"), warm)).toEqual([
      "web scales to zero: set template.scaling.minInstanceCount >= 1",
    ]);
  });
});

describe("workload-identity-names-repository", () => {
  const PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider";

  it("refuses a provider trusting a whole owner, passes one naming the repository", () => {
    const provider = (attributeCondition: string | undefined, name: string) =>
      resource(PROVIDER, { attributeCondition }, { stack: "pipeline", name });
    expect(
      violations(
        "workload-identity-names-repository",
        provider("assertion.repository_owner == 'mozilla'", "owner-only"),
        provider(undefined, "none"),
        provider("assertion.repository == 'mozilla/blurts-server' && assertion.environment == 'prod'", "scoped"),
      ),
    ).toEqual([
      `owner-only has attributeCondition "assertion.repository_owner == 'mozilla'": compare assertion.repository with the repository, e.g. assertion.repository == "mozilla/blurts-server"`,
      'none has attributeCondition null: compare assertion.repository with the repository, e.g. assertion.repository == "mozilla/blurts-server"',
    ]);
  });

  it("recognises the forms a condition names a repository in", () => {
    expect(namesRepository('attribute.repository in ["mozilla/blurts-server"]')).toBe(true);
    expect(namesRepository('"mozilla/blurts-server" == assertion.repository')).toBe(true);
    expect(namesRepository("assertion.repository_id == '123456'")).toBe(true);
    expect(namesRepository("assertion.repository == ''")).toBe(false);
    expect(namesRepository("assertion.repository != 'mozilla/other'")).toBe(false);
  });
});

describe("no-service-account-keys", () => {
  it("refuses any key, passes a service account", () => {
    const found = violations(
      "no-service-account-keys",
      resource("gcp:serviceaccount/key:Key", { serviceAccountId: "deployer" }, { stack: "pipeline", name: "key" }),
      resource("gcp:serviceaccount/account:Account", { accountId: "deployer" }, { stack: "pipeline" }),
    );
    expect(found).toEqual(["key creates a service account key: use workload identity federation instead"]);
  });
});

describe("connection-budget", () => {
  const POLICY = "connection-budget";
  const platform = (flags: Props[], extra: Record<string, string> = {}) => {
    const props = instance("stage");
    props.name = "monitor-previews";
    const sizing = {
      role: "preview-platform",
      "max-previews": "10",
      "max-instances-per-preview": "2",
      "connections-per-process": "10",
    };
    props.settings.userLabels = { ...labels("stage"), ...sizing, ...extra };
    props.settings.databaseFlags = flags;
    return resource(INSTANCE, props, { stack: "prod", name: "previews" });
  };
  /** Prod's own instance and the Cloud Run resources built from it (their template names its connection). */
  const prodWithClients = (maxConnections: string) => {
    const props = instance("prod");
    props.settings.userLabels = { ...labels("prod"), "connections-per-process": "10" };
    props.settings.databaseFlags = [{ name: "max_connections", value: maxConnections }];
    const db = resource(INSTANCE, props, { stack: "prod", name: "db" });
    const uses = { propertyDependencies: { template: [db.urn] }, stack: "prod" };
    return [
      db,
      resource(SERVICE, { template: { scaling: { maxInstanceCount: 50 } } }, { ...uses, name: "web" }),
      resource(WORKER_POOL, { scaling: { manualInstanceCount: 2 } }, { ...uses, name: "worker" }),
      resource(JOB, { template: { taskCount: 1 } }, { ...uses, name: "migrate" }),
      // Not built from the instance: not a client.
      resource(SERVICE, { template: { scaling: { maxInstanceCount: 100 } } }, { stack: "prod", name: "other" }),
    ];
  };

  it("refuses a shared preview instance sized below its previews' pools, on the instance", () => {
    const previews = platform([{ name: "max_connections", value: "200" }]);
    const found = runPolicies({ stack: "stage", registrations: [previews], outputs: {} });
    expect(found.filter((v) => v.policy === POLICY).map((v) => v.urn)).toEqual([previews.urn]);
    expect(violations(POLICY, previews)).toEqual([
      "previews needs 310 connections: 10 previews x (2 instances + 1 migration task) x 10 per knex pool + " +
        "10 reserved, but its max_connections flag allows 200. Lower the instance counts, or raise max_connections",
    ]);
  });

  it("counts an environment's own clients from the resources built from its instance", () => {
    expect(violations(POLICY, ...prodWithClients("500"))).toEqual([
      "db needs 540 connections: web 50 + worker 2 + migrate 1 processes x 10 per knex pool + 10 reserved, but its " +
        "max_connections flag allows 500. Lower the instance counts, or raise max_connections",
    ]);
    expect(violations(POLICY, ...prodWithClients("540"))).toEqual([]);
  });

  it("refuses an instance without an explicit max_connections, or without the labels it is sized by", () => {
    expect(violations(POLICY, platform([]))).toEqual([
      "previews has no max_connections flag of a positive integer: set it explicitly (the default moves with the tier)",
    ]);
    expect(
      violations(POLICY, platform([{ name: "max_connections", value: "400" }], { "max-previews": "ten" })),
    ).toEqual([
      "previews needs the userLabels max-previews, max-instances-per-preview and connections-per-process, as positive integers",
    ]);
  });

  it("passes when max_connections covers the budget", () => {
    expect(violations(POLICY, platform([{ name: "max_connections", value: "310" }]))).toEqual([]);
  });

  it("reads Cloud SQL's documented defaults, taking the lower row at a boundary", () => {
    const tiers = ["db-f1-micro", "db-g1-small", "db-custom-1-3840", "db-custom-2-7680", "db-custom-4-15360"];
    expect(tiers.map(defaultMaxConnections)).toEqual([25, 50, 100, 200, 400]);
    expect(defaultMaxConnections("db-perf-optimized-N-2")).toBeUndefined();
  });
});

describe("no-basic-roles", () => {
  it("refuses owner or editor in any IAM grant, passes predefined roles and other resources", () => {
    const grant = (type: string, role: string, name: string) =>
      resource(
        type,
        { role, member: "serviceAccount:deployer@p.iam.gserviceaccount.com", project: "p" },
        { stack: "pipeline", name },
      );
    expect(
      violations(
        "no-basic-roles",
        grant("gcp:projects/iAMMember:IAMMember", "roles/editor", "editor"),
        grant("gcp:storage/bucketIAMMember:BucketIAMMember", "roles/owner", "owner"),
        grant("gcp:projects/iAMMember:IAMMember", "roles/run.admin", "run-admin"),
        resource(
          "gcp:serviceaccount/account:Account",
          { accountId: "deployer", role: "roles/owner" },
          { stack: "pipeline" },
        ),
      ),
    ).toEqual([
      "editor grants roles/editor: grant the predefined roles the identity needs instead",
      "owner grants roles/owner: grant the predefined roles the identity needs instead",
    ]);
  });
});

describe("workload-identity-pins-workflow", () => {
  const PROVIDER = "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider";

  it("refuses a provider that trusts any workflow of the repository, passes one naming the workflows", () => {
    const provider = (attributeCondition: string, name: string) =>
      resource(PROVIDER, { attributeCondition }, { stack: "pipeline", name });
    expect(
      violations(
        "workload-identity-pins-workflow",
        provider("assertion.repository_id == '1'", "any-workflow"),
        provider("assertion.repository_id == '1' && assertion.job_workflow_ref != ''", "not-a-pin"),
        provider(
          "assertion.repository_id == '1' && assertion.job_workflow_ref in ['o/r/.github/workflows/d.yml@abc']",
          "pinned",
        ),
        provider('assertion.job_workflow_ref == "o/r/.github/workflows/d.yml@refs/heads/main"', "pinned-eq"),
      ),
    ).toEqual([
      "any-workflow does not pin the workflow: compare assertion.job_workflow_ref with the reusable workflows at a commit, " +
        "e.g. assertion.job_workflow_ref in ['<owner>/<repo>/.github/workflows/deploy.yml@<sha>']",
      "not-a-pin does not pin the workflow: compare assertion.job_workflow_ref with the reusable workflows at a commit, " +
        "e.g. assertion.job_workflow_ref in ['<owner>/<repo>/.github/workflows/deploy.yml@<sha>']",
    ]);
  });

  it("recognises the forms a condition pins a workflow in, as it does for the repository", () => {
    expect(pinsWorkflow("'o/r/.github/workflows/d.yml@abc' == assertion.job_workflow_ref")).toBe(true);
    expect(pinsWorkflow('assertion.job_workflow_ref in ["o/r/.github/workflows/d.yml@abc"]')).toBe(true);
    expect(pinsWorkflow("assertion.job_workflow_ref.endsWith('@refs/heads/main')")).toBe(false);
    expect(pinsWorkflow("assertion.job_workflow_ref_x == 'o/r/.github/workflows/d.yml@abc'")).toBe(false);
    expect(pinsWorkflow("assertion.job_workflow_ref == ''")).toBe(false);
  });
});

describe("prod-alerts-notify", () => {
  const POLICY = "prod-alerts-notify";
  const ALERT = "gcp:monitoring/alertPolicy:AlertPolicy";

  it("says when a prod alert notifies nobody, or only the committed placeholder", () => {
    const fix =
      "SRE must set monitor:alerts.notificationChannels in Pulumi.prod.yaml to a real channel " +
      "(projects/<project>/notificationChannels/<id>: gcloud beta monitoring channels list --project <project>)";
    expect(violations(POLICY, resource(ALERT, { notificationChannels: [] }, { stack: "prod", name: "down" }))).toEqual([
      `down notifies nobody: ${fix}`,
    ]);
    const placeholder = [`projects/moz-fx-monitor-prod/notificationChannels/${PLACEHOLDER_CHANNEL_ID}`];
    expect(
      violations(POLICY, resource(ALERT, { notificationChannels: placeholder }, { stack: "prod", name: "down" })),
    ).toEqual([`down notifies nobody (its only channel is the placeholder): ${fix}`]);
  });

  it("passes a prod alert with a channel, and leaves stage's alone", () => {
    const channel = ["projects/moz-fx-monitor-prod/notificationChannels/123"];
    expect(violations(POLICY, resource(ALERT, { notificationChannels: channel }, { stack: "prod" }))).toEqual([]);
    expect(violations(POLICY, resource(ALERT, { notificationChannels: [] }, { stack: "stage" }))).toEqual([]);
  });
});
