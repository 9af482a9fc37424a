import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import { type Grantee, type Retention, retains, deletionPolicyFor } from "./options";

/**
 * Where every stack's Pulumi state lives (`pulumi login gs://<bucket>`) and the KMS keys its secrets are encrypted
 * with, one key per environment so that a preview's identity can never decrypt prod's config. Each identity may
 * touch only the objects of its own stacks: IAM conditions on object names (`projects/_/buckets/<b>/objects/<o>`).
 */

/** The DIY backend's layout for a project-scoped stack (pulumi/pulumi pkg/backend/diy). */
const PROJECT = "monitor";

/** Stacks named exactly (`stage`) or by prefix (`pr-`, every preview). */
export type StackSelector = { readonly name: string } | { readonly prefix: string };

/**
 * The object-name prefixes a stack's state occupies: checkpoint (+ .bak, .gz), tags file, locks, history, backups.
 * Locks live under the stack's fully qualified name, `organization/<project>/<stack>` (pkg/backend/diy/lock.go
 * `stackLockDir(stackRef.FullyQualifiedName())`, backend.go `FullyQualifiedName`); every update reads the tags file
 * `<stack>.pulumi-tags` and only tolerates its absence, not a 403 (stack_tags.go `loadStackTags`, state.go:97).
 */
export function stackObjectPrefixes(stack: StackSelector): string[] {
  const lockDir = `.pulumi/locks/organization/${PROJECT}`;
  if ("prefix" in stack) {
    return [
      `.pulumi/stacks/${PROJECT}/${stack.prefix}`,
      `${lockDir}/${stack.prefix}`,
      ...["history", "backups"].map((dir) => `.pulumi/${dir}/${PROJECT}/${stack.prefix}`),
    ];
  }
  return [
    `.pulumi/stacks/${PROJECT}/${stack.name}.json`,
    `.pulumi/stacks/${PROJECT}/${stack.name}.pulumi-tags`,
    `${lockDir}/${stack.name}/`,
    ...["history", "backups"].map((dir) => `.pulumi/${dir}/${PROJECT}/${stack.name}/`),
  ];
}

/**
 * The condition for object access to these prefixes. Listing is authorized on the bucket itself, so the bucket
 * passes too (names are listed, contents are not readable).
 */
export function objectCondition(bucket: string, prefixes: readonly string[]): string {
  const base = `projects/_/buckets/${bucket}`;
  return [
    `resource.name == "${base}"`,
    ...prefixes.map((p) => `resource.name.startsWith("${base}/objects/${p}")`),
  ].join(" || ");
}

/** Every identity reads the backend's `meta.yaml` at login. */
const META = ".pulumi/meta.yaml";

/** What `grantStateAccess` lets one identity do. */
export interface StateAccess {
  /** Stacks it creates, updates and destroys (read and write). @default none */
  readonly writes?: readonly StackSelector[];
  /** Stacks it only reads (a StackReference, a preview of another environment). @default none */
  readonly reads?: readonly StackSelector[];
  /** Keys (by name in `keys`) it encrypts and decrypts with. @default none */
  readonly encrypts?: readonly string[];
  /** Keys it only decrypts with. @default none */
  readonly decrypts?: readonly string[];
  /** Who the conditions' descriptions say the grant is for. @default the grantee's key */
  readonly label?: string;
}

export interface StateBackendArgs extends Retention {
  /** The GCP project of the bucket and the keys. */
  readonly project: string;
  /** The bucket's name (global across GCS). */
  readonly bucket: string;
  /** The bucket's region or multi-region (`US`). */
  readonly region: string;
  /** @default "pulumi" */
  readonly keyRing?: string;
  /** The key ring's region. @default "global" */
  readonly keyRegion?: string;
  /** One key per name, e.g. preview, stage, prod, pipeline. */
  readonly keys: readonly string[];
  /** @default none */
  readonly labels?: Readonly<Record<string, string>>;
  /** Superseded state versions are deleted after this many days (the current one never is). @default 90 */
  readonly noncurrentRetentionDays?: number;
}

export class StateBackend extends pulumi.ComponentResource {
  /** `gs://<bucket>`: what `pulumi login` takes. */
  readonly url: pulumi.Output<string>;
  /** Key name → `gcpkms://projects/<p>/locations/<l>/keyRings/<r>/cryptoKeys/<k>`. */
  readonly secretsProviders: Record<string, pulumi.Output<string>>;
  /** The component's name, which its bindings start with. */
  private readonly baseName: string;
  private readonly bucketName: string;
  private readonly bucket: gcp.storage.Bucket;
  private readonly keys: Record<string, gcp.kms.CryptoKey>;

  constructor(name: string, args: StateBackendArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:StateBackend", name, {}, opts);
    // Every stack's state and the keys its secrets decrypt with: losing either loses every stack.
    const retain = retains(args);
    const deletionPolicy = deletionPolicyFor(retain);
    const bucket = new gcp.storage.Bucket(
      `${name}-bucket`,
      {
        project: args.project,
        name: args.bucket,
        location: args.region,
        uniformBucketLevelAccess: true,
        publicAccessPrevention: "enforced",
        // Every update rewrites the checkpoint: old versions are the way back from a bad write.
        versioning: { enabled: true },
        forceDestroy: !retain,
        lifecycleRules: [
          {
            action: { type: "Delete" },
            condition: { daysSinceNoncurrentTime: args.noncurrentRetentionDays ?? 90, withState: "ARCHIVED" },
          },
        ],
        labels: args.labels,
        deletionPolicy,
      },
      { parent: this, protect: retain },
    );
    // A key ring cannot be deleted in GCP (the provider only forgets it), so it has no guard of its own.
    const ring = new gcp.kms.KeyRing(
      `${name}-keyring`,
      { project: args.project, name: args.keyRing ?? "pulumi", location: args.keyRegion ?? "global" },
      { parent: this, protect: retain },
    );
    const keys = Object.fromEntries(
      args.keys.map((key) => [
        key,
        new gcp.kms.CryptoKey(
          `${name}-key-${key}`,
          {
            keyRing: ring.id,
            name: `pulumi-${key}`,
            // The gcpkms secrets provider encrypts and decrypts with the key directly.
            purpose: "ENCRYPT_DECRYPT",
            // New versions encrypt; old ones still decrypt, so rotation needs no re-encryption.
            rotationPeriod: "7776000s",
            labels: args.labels,
            // Destroying a key schedules every version for destruction: what it encrypted becomes unreadable.
            deletionPolicy,
          },
          { parent: this, protect: retain },
        ),
      ]),
    );

    this.baseName = name;
    this.bucketName = args.bucket;
    this.bucket = bucket;
    this.keys = keys;
    this.url = pulumi.interpolate`gs://${bucket.name}`;
    this.secretsProviders = Object.fromEntries(
      Object.entries(keys).map(([key, cryptoKey]) => [key, pulumi.interpolate`gcpkms://${cryptoKey.id}`]),
    );
    this.registerOutputs({ url: this.url, secretsProviders: this.secretsProviders });
  }

  /**
   * Lets `grantee` log in (read `meta.yaml`), read and write the state of the stacks named, and use the keys named.
   * Each binding is named after the grantee's key: `<name>-writes-<key>`, `<name>-reads-<key>`,
   * `<name>-<key name>-decrypt-<key>` (or `-encrypt-decrypt-`).
   */
  grantStateAccess(grantee: Grantee, access: StateAccess): void {
    const encrypts = access.encrypts ?? [];
    const decryptsOnly = (access.decrypts ?? []).filter((k) => !encrypts.includes(k));
    const unknown = [...encrypts, ...decryptsOnly].filter((key) => !(key in this.keys));
    if (unknown.length > 0) {
      // Before any binding exists, so a typo grants nothing.
      throw new Error(
        `${grantee.key} is granted the key ${unknown.join(", ")}, which is not one of ${Object.keys(this.keys).join(", ")}`,
      );
    }
    const label = access.label ?? grantee.key;
    const grant = (what: string, role: string, title: string, prefixes: string[]) =>
      new gcp.storage.BucketIAMMember(
        `${this.baseName}-${what}-${grantee.key}`,
        {
          bucket: this.bucket.name,
          role,
          member: grantee.member,
          condition: {
            title,
            description: `${label}: ${prefixes.join(", ")}`,
            expression: objectCondition(this.bucketName, prefixes),
          },
        },
        { parent: this },
      );
    const writes = access.writes ?? [];
    if (writes.length > 0) {
      // objectUser: get, list, create, update, delete; enough for checkpoints, locks, history and backups.
      grant("writes", "roles/storage.objectUser", "own-stacks", writes.flatMap(stackObjectPrefixes));
    }
    grant("reads", "roles/storage.objectViewer", "read-stacks", [
      META,
      ...(access.reads ?? []).flatMap(stackObjectPrefixes),
    ]);

    const keyGrant = (key: string, role: string, what: string) =>
      new gcp.kms.CryptoKeyIAMMember(
        `${this.baseName}-${key}-${what}-${grantee.key}`,
        { cryptoKeyId: this.keys[key].id, role, member: grantee.member },
        { parent: this },
      );
    for (const key of encrypts) keyGrant(key, "roles/cloudkms.cryptoKeyEncrypterDecrypter", "encrypt-decrypt");
    for (const key of decryptsOnly) keyGrant(key, "roles/cloudkms.cryptoKeyDecrypter", "decrypt");
  }
}
