import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { migrationTag, parseCalendarTag } from "../../shared-rules/image-tags";
import { PREVIEW_PLATFORM_NAMES } from "../naming";
import { databaseAdminEmail } from "../pipeline-contract";
import type { PreviewPlatform } from "../platform";

/**
 * What the offline engine answers in place of the providers: realistic, deterministic outputs (URLs, connection
 * names, digests, emails), so that everything derived from them is exercised as it would be against GCP.
 */

const hex = (text: string) => createHash("sha256").update(text).digest("hex");

/** A stable 12-digit project number per project id. */
export function mockProjectNumber(project: string): string {
  return String(100000000000 + (parseInt(hex(project).slice(0, 10), 16) % 899999999999));
}

/** The digest a registry would report for `repository:tag`. */
export function mockDigest(imageName: string): string {
  return `sha256:${hex(imageName)}`;
}

/**
 * When the registry says `tag` was built: a calendar tag on its own date (so an older release is a rollback), any
 * other tag in 2025, after every release the engine assumes deployed.
 */
export function mockBuildTime(tag: string): string {
  const calendar = parseCalendarTag(tag);
  if (calendar) return `${calendar.date.replace(/\./g, "-")}T00:${String(calendar.suffix).padStart(2, "0")}:00Z`;
  const minutes = parseInt(hex(tag).slice(0, 6), 16) % (365 * 24 * 60);
  return new Date(Date.UTC(2025, 0, 1) + minutes * 60_000).toISOString().replace(".000Z", "Z");
}

/**
 * The newest migration an image built at `buildTime` carries, as knex names files (`<UTC timestamp>_<words>.js`):
 * the engine assumes each build carries a migration written just before it, so a later build carries a newer set.
 * A test that needs a build that carries an older set (a release-branch fix) says so through the stack's outputs.
 */
export function mockMigrationHead(buildTime: string): string {
  return `${buildTime.replace(/[^0-9]/g, "").slice(0, 14)}_mock.js`;
}

/** A random-looking but stable value, as random.RandomPassword would produce once. */
function mockRandom(name: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = createHash("sha512").update(name).digest();
  return Array.from({ length }, (_, i) => alphabet[bytes[i % bytes.length] % alphabet.length]).join("");
}

export interface MockContext {
  project: string;
  region: string;
  /** Outputs of other stacks, by stack reference name (`organization/monitor/stage`). */
  stackOutputs: (stackName: string) => Record<string, unknown> | undefined;
  /**
   * Secret ids that have no version yet (every other secret has an enabled version 1). Unset in a fresh plan: no
   * secret of the stack exists yet, so every look-up fails as Secret Manager answers for a secret it does not have.
   */
  missingSecretVersions?: readonly string[];
  /** Secret ids whose look-up fails otherwise (an API not yet enabled, a permission), with the provider's message. */
  failingSecretVersions?: Readonly<Record<string, string>>;
  /** A first preview: providers answer with the inputs alone, so everything they compute (ids included) is unknown. */
  fresh?: boolean;
}

/**
 * The preview platform as the previews stack exports it, for previews evaluated without its state. Its registry is
 * in the platform's project, at the registry location `registryRegion` (us, as `us-docker.pkg.dev`); its database
 * admin's account in `identityProject` (monitor:preview.identityProject).
 */
export function mockPreviewPlatform(
  project: string,
  region: string,
  sandboxSecrets: string[],
  registryRegion = "us",
  identityProject = "moz-fx-monitor-nonprod",
): PreviewPlatform {
  const instanceName = PREVIEW_PLATFORM_NAMES.instance;
  return {
    project,
    region,
    instanceName,
    connectionName: `${project}:${region}:${instanceName}`,
    sandboxSecrets: Object.fromEntries(
      sandboxSecrets.map((name) => [
        name,
        `projects/${mockProjectNumber(project)}/secrets/${PREVIEW_PLATFORM_NAMES.sandboxSecretId(name)}`,
      ]),
    ),
    pubsubTopic: PREVIEW_PLATFORM_NAMES.topic,
    imageRepository: `${registryRegion}-docker.pkg.dev/${project}/${PREVIEW_PLATFORM_NAMES.registry}`,
    databaseAdmin: {
      user: PREVIEW_PLATFORM_NAMES.databaseAdminUser,
      passwordSecret: `projects/${mockProjectNumber(project)}/secrets/${PREVIEW_PLATFORM_NAMES.databaseAdminSecretId}`,
      serviceAccountEmail: databaseAdminEmail(identityProject),
    },
  };
}

type State = Record<string, unknown>;
/**
 * A resource's inputs as the mocks read them: the text fields a provider builds its ids and names from (project,
 * region, name, ...). The SDK hands them over untyped; the mocks only ever interpolate or convert them.
 */
type Fields = Readonly<Record<string, string | undefined>>;

/** Global compute types, by the collection in their resource path. */
const GLOBAL_COMPUTE: Record<string, string> = {
  "gcp:compute/backendService:BackendService": "backendServices",
  "gcp:compute/securityPolicy:SecurityPolicy": "securityPolicies",
  "gcp:compute/uRLMap:URLMap": "urlMaps",
  "gcp:compute/targetHttpsProxy:TargetHttpsProxy": "targetHttpsProxies",
  "gcp:compute/targetHttpProxy:TargetHttpProxy": "targetHttpProxies",
  "gcp:compute/globalForwardingRule:GlobalForwardingRule": "forwardingRules",
  "gcp:compute/sSLPolicy:SSLPolicy": "sslPolicies",
};

const CERTIFICATE_MANAGER: Record<string, string> = {
  "gcp:certificatemanager/certificate:Certificate": "certificates",
  "gcp:certificatemanager/certificateMap:CertificateMap": "certificateMaps",
  "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": "certificateMapEntries",
};

function computeIds(path: string): State {
  return { id: path, selfLink: `https://www.googleapis.com/compute/v1/${path}` };
}

/** A stable public IPv4 address per reserved address name (Google's 34.0.0.0/8 range). */
export function mockAddress(name: string): string {
  const bytes = createHash("sha256").update(name).digest();
  return `34.${bytes[0]}.${bytes[1]}.${1 + (bytes[2] % 254)}`;
}

export function createMocks(ctx: MockContext): pulumi.runtime.Mocks {
  const projectNumber = mockProjectNumber(ctx.project);
  const outputsByType: Record<string, (name: string, inputs: Fields) => State> = {
    "gcp:cloudrunv2/service:Service": (_, i) => {
      const url = `https://${i.name}-${projectNumber}.${i.location ?? ctx.region}.run.app`;
      return { uri: url, urls: [url], uid: hex(String(i.name)).slice(0, 36) };
    },
    "gcp:cloudrunv2/job:Job": (_, i) => ({ uid: hex(String(i.name)).slice(0, 36) }),
    // The role's resource name, what a binding names it by (iam/docs/creating-custom-roles).
    "gcp:projects/iAMCustomRole:IAMCustomRole": (_, i) => ({
      name: `projects/${i.project ?? ctx.project}/roles/${i.roleId}`,
    }),
    "gcp:serviceaccount/account:Account": (_, i) => {
      const email = `${i.accountId}@${i.project ?? ctx.project}.iam.gserviceaccount.com`;
      return {
        email,
        member: `serviceAccount:${email}`,
        name: `projects/${i.project ?? ctx.project}/serviceAccounts/${email}`,
      };
    },
    "gcp:sql/databaseInstance:DatabaseInstance": (_, i) => ({
      connectionName: `${i.project ?? ctx.project}:${i.region ?? ctx.region}:${i.name}`,
      privateIpAddress: "10.20.0.3",
      selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${ctx.project}/instances/${i.name}`,
    }),
    "gcp:secretmanager/secret:Secret": (_, i) => ({ name: `projects/${projectNumber}/secrets/${i.secretId}` }),
    "gcp:secretmanager/secretVersion:SecretVersion": (_, i) => ({ name: `${i.secret}/versions/1`, version: "1" }),
    "gcp:pubsub/topic:Topic": (_, i) => ({ id: `projects/${i.project ?? ctx.project}/topics/${i.name}` }),
    "gcp:pubsub/subscription:Subscription": (_, i) => ({
      id: `projects/${i.project ?? ctx.project}/subscriptions/${i.name}`,
    }),
    "gcp:cloudrunv2/workerPool:WorkerPool": (_, i) => ({ uid: hex(String(i.name)).slice(0, 36) }),
    "gcp:cloudscheduler/job:Job": (_, i) => ({
      id: `projects/${i.project ?? ctx.project}/locations/${i.region ?? ctx.region}/jobs/${i.name}`,
      state: "ENABLED",
    }),
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": (name, i) => {
      const uptimeCheckId = `${String(i.displayName)
        .toLowerCase()
        .replace(/[^a-z0-9]+/g, "-")}-${hex(name).slice(0, 8)}`;
      return { uptimeCheckId, name: `projects/${i.project ?? ctx.project}/uptimeCheckConfigs/${uptimeCheckId}` };
    },
    "gcp:monitoring/alertPolicy:AlertPolicy": (name, i) => ({
      name: `projects/${i.project ?? ctx.project}/alertPolicies/${parseInt(hex(name).slice(0, 12), 16)}`,
    }),
    "docker:index/image:Image": (_, i) => {
      const imageName = String(i.imageName);
      return { repoDigest: `${imageName.slice(0, imageName.lastIndexOf(":"))}@${mockDigest(imageName)}` };
    },
    // The load balancer's pieces: ids as the compute API reports them (what one piece passes to the next).
    ...Object.fromEntries(
      Object.entries(GLOBAL_COMPUTE).map(([type, collection]) => [
        type,
        (_: string, i: Fields) => computeIds(`projects/${i.project ?? ctx.project}/global/${collection}/${i.name}`),
      ]),
    ),
    "gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup": (_, i) =>
      computeIds(
        `projects/${i.project ?? ctx.project}/regions/${i.region ?? ctx.region}/networkEndpointGroups/${i.name}`,
      ),
    "gcp:compute/globalAddress:GlobalAddress": (_, i) => ({
      ...computeIds(`projects/${i.project ?? ctx.project}/global/addresses/${i.name}`),
      address: mockAddress(String(i.name)),
    }),
    ...Object.fromEntries(
      Object.entries(CERTIFICATE_MANAGER).map(([type, collection]) => [
        type,
        (_: string, i: Fields) => ({
          id: `projects/${i.project ?? ctx.project}/locations/${i.location ?? "global"}/${collection}/${i.name}`,
        }),
      ]),
    ),
    "gcp:certificatemanager/dnsAuthorization:DnsAuthorization": (_, i) => ({
      id: `projects/${i.project ?? ctx.project}/locations/${i.location ?? "global"}/dnsAuthorizations/${i.name}`,
      dnsResourceRecords: [
        {
          name: `_acme-challenge.${i.domain}.`,
          type: "CNAME",
          data: `${hex(String(i.domain)).slice(0, 8)}-${hex(String(i.name)).slice(0, 4)}.1.authorize.certificatemanager.goog.`,
        },
      ],
    }),
    "gcp:projects/service:Service": (_, i) => ({ id: `${i.project ?? ctx.project}/${i.service}` }),
    // The pipeline stack: identities, state, registry (names as the APIs return them), and GitHub's answers.
    "gcp:iam/workloadIdentityPool:WorkloadIdentityPool": (_, i) => ({
      name: `projects/${mockProjectNumber(String(i.project ?? ctx.project))}/locations/global/workloadIdentityPools/${i.workloadIdentityPoolId}`,
      state: "ACTIVE",
    }),
    "gcp:iam/workloadIdentityPoolProvider:WorkloadIdentityPoolProvider": (_, i) => ({
      name:
        `projects/${mockProjectNumber(String(i.project ?? ctx.project))}/locations/global/workloadIdentityPools/` +
        `${i.workloadIdentityPoolId}/providers/${i.workloadIdentityPoolProviderId}`,
      state: "ACTIVE",
    }),
    "gcp:storage/bucket:Bucket": (_, i) => ({
      url: `gs://${i.name}`,
      selfLink: `https://www.googleapis.com/storage/v1/b/${i.name}`,
    }),
    "gcp:kms/keyRing:KeyRing": (_, i) => ({
      id: `projects/${i.project ?? ctx.project}/locations/${i.location}/keyRings/${i.name}`,
    }),
    "gcp:kms/cryptoKey:CryptoKey": (_, i) => ({ id: `${i.keyRing}/cryptoKeys/${i.name}` }),
    "gcp:artifactregistry/repository:Repository": (_, i) => {
      const name = `projects/${i.project ?? ctx.project}/locations/${i.location}/repositories/${i.repositoryId}`;
      return { id: name, name };
    },
    "github:index/repositoryFile:RepositoryFile": (_, i) => ({
      commitSha: hex(`${i.repository}:${i.file}:${i.content}`).slice(0, 40),
      sha: hex(String(i.content)).slice(0, 40),
    }),
    "github:index/repositoryRuleset:RepositoryRuleset": (name) => ({ rulesetId: parseInt(hex(name).slice(0, 6), 16) }),
    "random:index/randomPassword:RandomPassword": (name, i) => ({
      result: {
        "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270",
        value: mockRandom(name, Number(i.length ?? 32)),
      },
    }),
  };

  return {
    newResource(args) {
      const inputs = args.inputs as Fields;
      if (args.type === "pulumi:pulumi:StackReference") {
        const name = String(inputs.name);
        const outputs = ctx.stackOutputs(name);
        if (!outputs) throw new Error(`the offline engine has no outputs for the stack reference "${name}"`);
        return { id: name, state: { name, outputs, secretOutputNames: [] } };
      }
      if (ctx.fresh) return { id: undefined, state: inputs };
      const extra = outputsByType[args.type]?.(args.name, inputs) ?? {};
      const state: State = { ...inputs, ...extra };
      const named = extra.id ?? state.name;
      const id = args.custom === false ? undefined : typeof named === "string" ? named : `${args.name}-id`;
      return { id, state };
    },
    call(args) {
      switch (args.token) {
        case "gcp:organizations/getProject:getProject": {
          const projectId = String((args.inputs as Fields).projectId ?? ctx.project);
          return { projectId, number: mockProjectNumber(projectId), name: projectId, id: `projects/${projectId}` };
        }
        case "gcp:artifactregistry/getDockerImage:getDockerImage": {
          const { project, location, repositoryId, imageName } = args.inputs as Record<string, string>;
          const repository = `${location}-docker.pkg.dev/${project}/${repositoryId}`;
          const [image, tag] = imageName.split(":");
          const digest = mockDigest(`${repository}/${imageName}`);
          const buildTime = mockBuildTime(tag);
          return {
            ...(args.inputs as State),
            id: `projects/${project}/locations/${location}/repositories/${repositoryId}/dockerImages/${image}@${digest}`,
            selfLink: `${repository}/${image}@${digest}`,
            // Every tag of the image, as the registry lists them: this one and the build's migration record.
            tags: [tag, migrationTag(hex(`${repository}/${imageName}`).slice(0, 7), mockMigrationHead(buildTime))],
            buildTime,
            uploadTime: buildTime,
          };
        }
        case "gcp:organizations/getClientConfig:getClientConfig":
          // Short-lived in real life; offline, a marked placeholder that the tests can look for.
          return {
            accessToken: "offline-access-token",
            project: ctx.project,
            region: ctx.region,
            zone: "",
            id: "client",
          };
        case "gcp:secretmanager/getSecretVersion:getSecretVersion": {
          const { project, secret } = args.inputs as Record<string, string>;
          const failure = ctx.failingSecretVersions?.[secret];
          if (failure) throw Object.assign(new Error(failure), { details: failure });
          if (ctx.fresh && ctx.missingSecretVersions === undefined) {
            // A first preview: the secret is created by the update that has not run. Secret Manager answers a
            // secret it does not have as it answers one without versions (firebase/firebase-tools#3959 quotes it:
            // "HTTP Error: 404, Secret [projects/<number>/secrets/<id>] not found or has no versions.").
            const message = `Error retrieving secret version: googleapi: Error 404: Secret [projects/${mockProjectNumber(project)}/secrets/${secret}] not found or has no versions.`;
            throw Object.assign(new Error(message), { details: message });
          }
          if (ctx.missingSecretVersions?.includes(secret)) {
            // The engine hands a failed invoke to the SDK as a gRPC error, whose `details` becomes the message.
            const message = `Error retrieving secret version: googleapi: Error 404: Secret Version [projects/${project}/secrets/${secret}/versions/latest] not found.`;
            throw Object.assign(new Error(message), { details: message });
          }
          return {
            project,
            secret,
            version: "1",
            enabled: true,
            name: `projects/${project}/secrets/${secret}/versions/1`,
          };
        }
        default:
          throw new Error(`the offline engine has no answer for the function ${args.token}`);
      }
    },
  };
}
