import { createHash } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import { PREVIEW_PLATFORM_NAMES } from "../naming";
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
  /** A first preview: providers answer with the inputs alone, so everything they compute (ids included) is unknown. */
  fresh?: boolean;
}

/** Stage's preview platform as the stage stack exports it, for previews evaluated without stage's state. */
export function mockPreviewPlatform(project: string, region: string, sandboxSecrets: string[]): PreviewPlatform {
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
  };
}

type State = Record<string, unknown>;

export function createMocks(ctx: MockContext): pulumi.runtime.Mocks {
  const projectNumber = mockProjectNumber(ctx.project);
  const outputsByType: Record<string, (name: string, inputs: State) => State> = {
    "gcp:cloudrunv2/service:Service": (_, i) => {
      const url = `https://${i.name}-${projectNumber}.${i.location ?? ctx.region}.run.app`;
      return { uri: url, urls: [url], uid: hex(String(i.name)).slice(0, 36) };
    },
    "gcp:cloudrunv2/job:Job": (_, i) => ({ uid: hex(String(i.name)).slice(0, 36) }),
    "gcp:serviceaccount/account:Account": (_, i) => {
      const email = `${i.accountId}@${i.project ?? ctx.project}.iam.gserviceaccount.com`;
      return { email, member: `serviceAccount:${email}`, name: `projects/${ctx.project}/serviceAccounts/${email}` };
    },
    "gcp:sql/databaseInstance:DatabaseInstance": (_, i) => ({
      connectionName: `${i.project ?? ctx.project}:${i.region ?? ctx.region}:${i.name}`,
      privateIpAddress: "10.20.0.3",
      selfLink: `https://sqladmin.googleapis.com/sql/v1beta4/projects/${ctx.project}/instances/${i.name}`,
    }),
    "gcp:secretmanager/secret:Secret": (_, i) => ({ name: `projects/${projectNumber}/secrets/${i.secretId}` }),
    "gcp:secretmanager/secretVersion:SecretVersion": (_, i) => ({ name: `${i.secret}/versions/1`, version: "1" }),
    "gcp:pubsub/topic:Topic": (_, i) => ({ id: `projects/${i.project ?? ctx.project}/topics/${i.name}` }),
    "gcp:pubsub/subscription:Subscription": (_, i) => ({ id: `projects/${i.project ?? ctx.project}/subscriptions/${i.name}` }),
    "gcp:cloudrunv2/workerPool:WorkerPool": (_, i) => ({ uid: hex(String(i.name)).slice(0, 36) }),
    "gcp:cloudscheduler/job:Job": (_, i) => ({
      id: `projects/${i.project ?? ctx.project}/locations/${i.region ?? ctx.region}/jobs/${i.name}`,
      state: "ENABLED",
    }),
    "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig": (name, i) => {
      const uptimeCheckId = `${String(i.displayName).toLowerCase().replace(/[^a-z0-9]+/g, "-")}-${hex(name).slice(0, 8)}`;
      return { uptimeCheckId, name: `projects/${i.project ?? ctx.project}/uptimeCheckConfigs/${uptimeCheckId}` };
    },
    "gcp:monitoring/alertPolicy:AlertPolicy": (name, i) => ({
      name: `projects/${i.project ?? ctx.project}/alertPolicies/${parseInt(hex(name).slice(0, 12), 16)}`,
    }),
    "random:index/randomPassword:RandomPassword": (name, i) => ({
      result: { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: mockRandom(name, Number(i.length ?? 32)) },
    }),
  };

  return {
    newResource(args) {
      if (args.type === "pulumi:pulumi:StackReference") {
        const name = String(args.inputs.name);
        const outputs = ctx.stackOutputs(name);
        if (!outputs) throw new Error(`the offline engine has no outputs for the stack reference "${name}"`);
        return { id: name, state: { name, outputs, secretOutputNames: [] } };
      }
      if (ctx.fresh) return { id: undefined, state: args.inputs };
      const extra = outputsByType[args.type]?.(args.name, args.inputs) ?? {};
      const state = { ...args.inputs, ...extra };
      const id = args.custom === false ? undefined : String(extra.id ?? state.name ?? `${args.name}-id`);
      return { id, state };
    },
    call(args) {
      switch (args.token) {
        case "gcp:organizations/getProject:getProject": {
          const projectId = String(args.inputs.projectId ?? ctx.project);
          return { projectId, number: mockProjectNumber(projectId), name: projectId, id: `projects/${projectId}` };
        }
        case "docker:index/getRegistryImage:getRegistryImage": {
          const name = String(args.inputs.name);
          return { id: name, name, sha256Digest: mockDigest(name) };
        }
        default:
          throw new Error(`the offline engine has no answer for the function ${args.token}`);
      }
    },
  };
}
