/**
 * Workload identity federation and IAM as Google evaluates them, read from what the stacks register: every
 * WorkloadIdentityPoolProvider (its attributeMapping and attributeCondition, in CEL), every service account's
 * `roles/iam.workloadIdentityUser` bindings to principalSets, and every IAM member on projects, buckets, KMS keys,
 * secrets, topics, Cloud Run services and jobs, Artifact Registry repositories and service accounts, with conditions.
 *
 * Sources:
 * - Token exchange: the provider maps the assertion first, then the attribute condition may read `assertion`,
 *   `google` and `attribute`, and "must output a boolean representing whether to allow the federation"
 *   (WorkloadIdentityPoolProvider `attribute_condition`); `google.subject` "Cannot exceed 127 bytes".
 * - principalSets: `principalSet://iam.googleapis.com/projects/{project}/locations/{location}/workloadIdentityPools/
 *   {pool}/attribute.{custom_attribute}/{value}` (WorkloadIdentityPoolProvider `attribute_mapping`), compared as the
 *   exact member string; one attribute per set (google-github-actions/auth#233).
 * - Resource attributes in conditions: only the services in conditions-attribute-reference's lists provide
 *   `resource.name`/`type`/`service`; a part of a condition over one a resource does not provide "is never
 *   interpreted as granting access" ("Support for inherited conditions"). Names and types:
 *   https://cloud.google.com/iam/docs/conditions-resource-attributes ("Resource name format").
 * - Inheritance: a grant on a project holds on everything in it, one on a bucket on its objects, one on a secret on its
 *   versions (https://cloud.google.com/iam/docs/resource-hierarchy-access-control).
 */
import type { CelInput } from "@bufbuild/cel";
import type { Evaluation, Registration } from "../../infra/engine/evaluate";
import { mockProjectNumber } from "../../infra/engine/mocks";
import { type CompiledExpression, compile, isTrue, requestTime } from "./cel";
import { type Permission, roleAllows } from "./roles";

// ---------------------------------------------------------------------------------------------------------------
// Resources as IAM sees them.

/** Which resource attributes a service gives conditions (conditions-attribute-reference, the three lists). */
const PROVIDES: Readonly<Record<string, { name: boolean; type: boolean; service: boolean }>> = {
  "storage.googleapis.com": { name: true, type: true, service: true },
  "cloudkms.googleapis.com": { name: true, type: true, service: true },
  "secretmanager.googleapis.com": { name: true, type: true, service: true },
  "sqladmin.googleapis.com": { name: true, type: true, service: true },
  // Resource Manager is listed for service and type, not for name.
  "cloudresourcemanager.googleapis.com": { name: false, type: true, service: true },
};
const NONE = { name: false, type: false, service: false };

export interface GcpResource {
  /** The resource name IAM Conditions would see (whether or not the service provides it). */
  readonly name: string;
  readonly type: string;
  readonly service: string;
  /** The project (id) it lives in. */
  readonly project: string;
  /** The policies that hold grants on it, most specific first: `bucket:<b>`, `secret:<name>`, `project:<id>`... */
  readonly holders: readonly string[];
}

const res = (service: string, type: string, name: string, project: string, holders: string[]): GcpResource => ({
  name,
  type: `${service}/${type}`,
  service,
  project,
  holders: [...holders, `project:${project}`],
});

/** Constructors for the resources the flows touch, named as Google names them in conditions. */
export const gcp = {
  project: (project: string) =>
    res("cloudresourcemanager.googleapis.com", "Project", `projects/${project}`, project, []),
  bucket: (project: string, bucket: string) =>
    res("storage.googleapis.com", "Bucket", `projects/_/buckets/${bucket}`, project, [`bucket:${bucket}`]),
  object: (project: string, bucket: string, object: string) =>
    res("storage.googleapis.com", "Object", `projects/_/buckets/${bucket}/objects/${object}`, project, [
      `bucket:${bucket}`,
    ]),
  /** `projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>` */
  cryptoKey: (name: string) =>
    res("cloudkms.googleapis.com", "CryptoKey", name, name.split("/")[1], [`cryptoKey:${name}`]),
  /** Secret Manager names carry the project number. */
  secret: (project: string, secretId: string) => {
    const name = `projects/${mockProjectNumber(project)}/secrets/${secretId}`;
    return res("secretmanager.googleapis.com", "Secret", name, project, [`secret:${name}`]);
  },
  /** A version is a resource of its own type, under its secret's policy. */
  secretVersion: (project: string, secretId: string, version = "latest") => {
    const secret = `projects/${mockProjectNumber(project)}/secrets/${secretId}`;
    return res("secretmanager.googleapis.com", "SecretVersion", `${secret}/versions/${version}`, project, [
      `secret:${secret}`,
    ]);
  },
  sqlInstance: (project: string, instance: string) =>
    res("sqladmin.googleapis.com", "Instance", `projects/${project}/instances/${instance}`, project, []),
  topic: (project: string, topic: string) =>
    res("pubsub.googleapis.com", "Topic", `projects/${project}/topics/${topic}`, project, [
      `topic:projects/${project}/topics/${topic}`,
    ]),
  runService: (project: string, region: string, service: string) => {
    const name = `projects/${project}/locations/${region}/services/${service}`;
    return res("run.googleapis.com", "Service", name, project, [`run:${name}`]);
  },
  runJob: (project: string, region: string, job: string) => {
    const name = `projects/${project}/locations/${region}/jobs/${job}`;
    return res("run.googleapis.com", "Job", name, project, [`run:${name}`]);
  },
  serviceAccount: (email: string) => {
    const project = /@([^.]+)\.iam\.gserviceaccount\.com$/.exec(email)?.[1] ?? "";
    return res("iam.googleapis.com", "ServiceAccount", `projects/${project}/serviceAccounts/${email}`, project, [
      `serviceAccount:${email}`,
    ]);
  },
  /** A project's time series as Cloud Monitoring reads them; Monitoring gives conditions no resource attribute. */
  timeSeries: (project: string) => res("monitoring.googleapis.com", "TimeSeries", `projects/${project}`, project, []),
  artifactRepository: (project: string, location: string, repository: string) => {
    const name = `projects/${project}/locations/${location}/repositories/${repository}`;
    return res("artifactregistry.googleapis.com", "Repository", name, project, [`repository:${name}`]);
  },
};

/** The `resource` binding of a condition: only the attributes the resource's service provides. */
export function resourceBinding(resource: GcpResource): Record<string, string> {
  const provides = PROVIDES[resource.service] ?? NONE;
  const binding: Record<string, string> = {};
  if (provides.name) binding.name = resource.name;
  if (provides.type) binding.type = resource.type;
  if (provides.service) binding.service = resource.service;
  return binding;
}

// ---------------------------------------------------------------------------------------------------------------
// Grants.

export interface Grant {
  readonly member: string;
  readonly role: string;
  /** `project:<id>`, `bucket:<b>`, `cryptoKey:<name>`, `secret:<name>`, `serviceAccount:<email>`, ... */
  readonly holder: string;
  readonly condition?: { readonly title: string; readonly expression: CompiledExpression };
  /** The registration's URN: where the grant comes from. */
  readonly urn: string;
}

function holderOf(r: Registration): string | undefined {
  const i = r.inputs as Record<string, string>;
  switch (r.type) {
    case "gcp:projects/iAMMember:IAMMember":
      return `project:${i.project}`;
    case "gcp:storage/bucketIAMMember:BucketIAMMember":
      return `bucket:${i.bucket}`;
    case "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember":
      return `cryptoKey:${i.cryptoKeyId}`;
    case "gcp:secretmanager/secretIamMember:SecretIamMember":
      return `secret:${i.secretId}`;
    case "gcp:serviceaccount/iAMMember:IAMMember":
      return `serviceAccount:${i.serviceAccountId.split("/serviceAccounts/")[1]}`;
    case "gcp:pubsub/topicIAMMember:TopicIAMMember":
      return `topic:projects/${i.project}/topics/${i.topic}`;
    case "gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember":
      return `subscription:projects/${i.project}/subscriptions/${i.subscription}`;
    case "gcp:cloudrunv2/serviceIamMember:ServiceIamMember":
      return `run:projects/${i.project}/locations/${i.location}/services/${i.name}`;
    case "gcp:cloudrunv2/jobIamMember:JobIamMember":
      return `run:projects/${i.project}/locations/${i.location}/jobs/${i.name}`;
    case "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember":
      return `repository:projects/${i.project}/locations/${i.location}/repositories/${i.repository}`;
    default:
      return undefined;
  }
}

/** IAM member types the model reads; any other `*IamMember`/`*IAMMember`/`*IAMBinding` is refused, not skipped. */
function isIamType(type: string): boolean {
  return /iam(member|binding|policy)/i.test(type.split(":").pop() ?? "");
}

// ---------------------------------------------------------------------------------------------------------------
// Workload identity providers.

export interface WifProvider {
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>/providers/<provider>` */
  readonly name: string;
  /** `projects/<number>/locations/global/workloadIdentityPools/<pool>` */
  readonly poolName: string;
  readonly project: string;
  readonly condition?: CompiledExpression;
  /** `google.subject`, `attribute.<name>` → CEL over `assertion`. */
  readonly mapping: ReadonlyMap<string, CompiledExpression>;
}

export type Exchange =
  | {
      readonly admitted: true;
      /** `attribute.<name>` → value, and `google.subject`. */
      readonly attributes: Readonly<Record<string, string>>;
    }
  | { readonly admitted: false; readonly why: string; readonly attributes: Readonly<Record<string, string>> };

export interface HeldRole {
  readonly role: string;
  readonly grant: Grant;
  /** The condition's result, when the grant has one. */
  readonly condition?: { readonly title: string; readonly granted: boolean; readonly detail: string };
  readonly held: boolean;
}

export interface RequestContext {
  /** @default now */
  readonly time?: Date;
  /** For a setIamPolicy request: the roles whose bindings it changes (IAM API attribute modifiedGrantsByRole). */
  readonly modifiedGrantsByRole?: readonly string[];
}

export class IamModel {
  readonly providers: readonly WifProvider[];
  readonly grants: readonly Grant[];
  /** Custom roles by name (`projects/<project>/roles/<roleId>`, IAMCustomRole's documented `name`): their permissions. */
  readonly customRoles: ReadonlyMap<string, readonly string[]>;

  private constructor(providers: WifProvider[], grants: Grant[], customRoles: Map<string, readonly string[]>) {
    this.providers = providers;
    this.grants = grants;
    this.customRoles = customRoles;
  }

  /** Reads providers and grants from evaluated stacks (pipeline, and the environment stacks' resource grants). */
  static fromEvaluations(evaluations: readonly Evaluation[]): IamModel {
    const providers: WifProvider[] = [];
    const grants: Grant[] = [];
    const customRoles = new Map<string, readonly string[]>();
    for (const evaluation of evaluations) {
      const pools = evaluation.registrations.filter(
        (r) => r.type === "gcp:iam/workloadIdentityPool:WorkloadIdentityPool",
      );
      for (const r of evaluation.registrations) {
        if (r.type === "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider") {
          providers.push(providerOf(r, pools));
          continue;
        }
        if (r.type === "gcp:projects/iAMCustomRole:IAMCustomRole") {
          const role = r.inputs as { project: string; roleId: string; permissions: string[] };
          customRoles.set(`projects/${role.project}/roles/${role.roleId}`, role.permissions);
          continue;
        }
        if (!isIamType(r.type)) continue;
        const holder = holderOf(r);
        if (!holder) throw new Error(`the model does not know where ${r.type} (${r.urn}) grants: add it to holderOf`);
        const i = r.inputs as { member: string; role: string; condition?: { title: string; expression: string } };
        grants.push({
          member: i.member,
          role: i.role,
          holder,
          condition: i.condition && { title: i.condition.title, expression: compile("iam", i.condition.expression) },
          urn: r.urn,
        });
      }
    }
    return new IamModel(providers, grants, customRoles);
  }

  provider(name: string): WifProvider {
    const found = this.providers.find((p) => p.name === name);
    if (!found)
      throw new Error(`no workload identity provider ${name}; known: ${this.providers.map((p) => p.name).join(", ")}`);
    return found;
  }

  /**
   * Google's token exchange: the mapping over the assertion, then the condition over assertion, google and attribute.
   * A mapping that errors rejects the token (inferred: Google documents no partial mapping).
   */
  exchange(provider: WifProvider, claims: Readonly<Record<string, string>>): Exchange {
    const attributes: Record<string, string> = {};
    for (const [key, expression] of provider.mapping) {
      const result = expression.evaluate({ assertion: claims });
      if (!result.ok) return { admitted: false, why: `${key} could not be mapped: ${result.error}`, attributes };
      if (typeof result.value !== "string") {
        return { admitted: false, why: `${key} maps to a ${typeof result.value}, not a string`, attributes };
      }
      attributes[key] = result.value;
    }
    const subject = attributes["google.subject"];
    if (subject === undefined) return { admitted: false, why: "the mapping has no google.subject", attributes };
    if (Buffer.byteLength(subject) > 127)
      return { admitted: false, why: "google.subject exceeds 127 bytes", attributes };
    if (provider.condition) {
      const custom = Object.fromEntries(
        Object.entries(attributes)
          .filter(([k]) => k.startsWith("attribute."))
          .map(([k, v]) => [k.slice("attribute.".length), v]),
      );
      const result = provider.condition.evaluate({
        assertion: claims,
        attribute: custom,
        google: { subject },
      });
      if (!isTrue(result)) {
        return {
          admitted: false,
          why: `the attribute condition is ${result.ok ? String(result.value) : `an error (${result.error})`}`,
          attributes,
        };
      }
    }
    return { admitted: true, attributes };
  }

  /** The principal and principalSets a federated token with these attributes is. */
  principals(provider: WifProvider, attributes: Readonly<Record<string, string>>): string[] {
    const out = [`principalSet://iam.googleapis.com/${provider.poolName}/*`];
    for (const [key, value] of Object.entries(attributes)) {
      if (key === "google.subject") out.push(`principal://iam.googleapis.com/${provider.poolName}/subject/${value}`);
      else if (key.startsWith("attribute.")) {
        out.push(`principalSet://iam.googleapis.com/${provider.poolName}/${key}/${value}`);
      }
    }
    return out;
  }

  /** Service accounts (emails) the token may impersonate: `iam.serviceAccounts.getAccessToken` on the account. */
  impersonable(provider: WifProvider, attributes: Readonly<Record<string, string>>): string[] {
    const principals = this.principals(provider, attributes);
    const accounts = [
      ...new Set(this.grants.filter((g) => g.holder.startsWith("serviceAccount:")).map((g) => g.holder.slice(15))),
    ];
    return accounts.filter((email) =>
      principals.some((p) => this.can(p, gcp.serviceAccount(email), "iam.serviceAccounts.getAccessToken").allowed),
    );
  }

  /** Every role `member` holds on `resource` (directly or inherited), with each condition evaluated. */
  rolesOn(member: string, resource: GcpResource, request: RequestContext = {}): HeldRole[] {
    const bindings: Record<string, CelInput> = {
      resource: resourceBinding(resource),
      request: { time: requestTime(request.time ?? new Date()) },
      api: request.modifiedGrantsByRole
        ? { "iam.googleapis.com/modifiedGrantsByRole": [...request.modifiedGrantsByRole] }
        : {},
    };
    return this.grants
      .filter((g) => (g.member === member || g.member === "allUsers") && resource.holders.includes(g.holder))
      .map((grant) => {
        if (!grant.condition) return { role: grant.role, grant, held: true };
        const result = grant.condition.expression.evaluate(bindings);
        const granted = isTrue(result);
        const detail = result.ok ? `evaluates to ${String(result.value)}` : `errors (${result.error}): grants nothing`;
        return { role: grant.role, grant, held: granted, condition: { title: grant.condition.title, granted, detail } };
      });
  }

  /** Whether `member` may do `permission` on `resource`, and through which role (or why not). */
  can(
    member: string,
    resource: GcpResource,
    permission: Permission,
    request: RequestContext = {},
  ): { allowed: boolean; via?: HeldRole; why: string } {
    const roles = this.rolesOn(member, resource, request).filter((r) =>
      roleAllows(r.role, permission, this.customRoles),
    );
    const via = roles.find((r) => r.held);
    if (via) return { allowed: true, via, why: `${via.role} on ${via.grant.holder}` };
    const blocked = roles.filter((r) => !r.held);
    return {
      allowed: false,
      why:
        blocked.length > 0
          ? blocked
              .map(
                (r) => `${r.role} on ${r.grant.holder} has condition ${r.condition?.title} that ${r.condition?.detail}`,
              )
              .join("; ")
          : `no role of ${member.replace(/^serviceAccount:/, "")} includes ${permission} on ${resource.name}`,
    };
  }
}

function providerOf(r: Registration, pools: readonly Registration[]): WifProvider {
  const i = r.inputs as {
    project: string;
    workloadIdentityPoolId: string;
    workloadIdentityPoolProviderId: string;
    attributeCondition?: string;
    attributeMapping?: Record<string, string>;
  };
  const pool = pools.find(
    (p) =>
      (p.inputs as { project: string }).project === i.project &&
      (p.inputs as { workloadIdentityPoolId: string }).workloadIdentityPoolId === i.workloadIdentityPoolId,
  );
  if (!pool) throw new Error(`provider ${r.urn} names no registered pool ${i.workloadIdentityPoolId} in ${i.project}`);
  // The pool's resource name uses the project number (WorkloadIdentityPool `name` output).
  const poolName = `projects/${mockProjectNumber(i.project)}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId}`;
  return {
    name: `${poolName}/providers/${i.workloadIdentityPoolProviderId}`,
    poolName,
    project: i.project,
    condition: i.attributeCondition === undefined ? undefined : compile("wif-condition", i.attributeCondition),
    mapping: new Map(Object.entries(i.attributeMapping ?? {}).map(([k, v]) => [k, compile("wif-mapping", v)])),
  };
}
