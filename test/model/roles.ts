/**
 * What each predefined role used here lets an identity do that a flow needs: a few permissions per role, not Google's
 * catalogue. Each row cites the role's page in Google's roles reference
 * (https://cloud.google.com/iam/docs/roles-permissions/<service>); a role missing here holds nothing the flows ask
 * for, so a flow that needs it fails loudly rather than passing on a guess.
 */

/** The permissions the flows check, by what the flow does. */
export type Permission =
  // Cloud Storage (roles-permissions/storage): a list is checked on the bucket, the rest on the object.
  | "storage.objects.get"
  | "storage.objects.list"
  | "storage.objects.create"
  | "storage.objects.delete"
  // Cloud KMS (roles-permissions/cloudkms): the gcpkms secrets provider encrypts a new data key at `stack init` and
  // decrypts it whenever it opens a stack's secrets (pulumi pkg/secrets/cloud/manager.go newCloudSecretsManager).
  | "cloudkms.cryptoKeyVersions.useToEncrypt"
  | "cloudkms.cryptoKeyVersions.useToDecrypt"
  // Secret Manager (roles-permissions/secretmanager): a version's payload versus metadata only.
  | "secretmanager.versions.access"
  | "secretmanager.versions.get"
  | "secretmanager.secrets.get"
  | "secretmanager.secrets.create"
  | "secretmanager.secrets.setIamPolicy"
  // IAM (roles-permissions/iam): impersonation through workload identity, actAs, account management.
  | "iam.serviceAccounts.getAccessToken"
  | "iam.serviceAccounts.actAs"
  | "iam.serviceAccounts.create"
  | "iam.serviceAccounts.delete"
  | "resourcemanager.projects.setIamPolicy"
  | "resourcemanager.projects.get"
  // The services a stack manages, as "manage" (create/update/delete) or "get" (read for refresh/preview).
  | "run.services.create"
  | "run.services.get"
  | "cloudsql.instances.update"
  | "cloudsql.instances.get"
  | "pubsub.topics.create"
  | "pubsub.topics.get"
  | "pubsub.topics.setIamPolicy"
  | "serviceusage.services.enable"
  | "serviceusage.services.get"
  | "artifactregistry.repositories.uploadArtifacts"
  | "artifactregistry.repositories.downloadArtifacts"
  // Cloud Monitoring (roles-permissions/monitoring): projects.timeSeries.list, what preview admission reads.
  | "monitoring.timeSeries.list";

export interface RoleRow {
  readonly permissions: readonly Permission[];
  /** The reference page the permissions are read from. */
  readonly source: string;
}

const ref = (service: string) => `https://cloud.google.com/iam/docs/roles-permissions/${service}`;

export const ROLES: Readonly<Record<string, RoleRow>> = {
  "roles/storage.objectViewer": {
    permissions: ["storage.objects.get", "storage.objects.list"],
    source: ref("storage"),
  },
  // "Grants access to view, list, create, update, and delete objects" (no bucket or IAM policy changes).
  "roles/storage.objectUser": {
    permissions: ["storage.objects.get", "storage.objects.list", "storage.objects.create", "storage.objects.delete"],
    source: ref("storage"),
  },
  "roles/storage.objectAdmin": {
    permissions: ["storage.objects.get", "storage.objects.list", "storage.objects.create", "storage.objects.delete"],
    source: ref("storage"),
  },
  "roles/cloudkms.cryptoKeyDecrypter": {
    permissions: ["cloudkms.cryptoKeyVersions.useToDecrypt"],
    source: ref("cloudkms"),
  },
  "roles/cloudkms.cryptoKeyEncrypterDecrypter": {
    permissions: ["cloudkms.cryptoKeyVersions.useToEncrypt", "cloudkms.cryptoKeyVersions.useToDecrypt"],
    source: ref("cloudkms"),
  },
  // "Impersonate service accounts from federated workloads": what a principalSet needs on the deployer.
  "roles/iam.workloadIdentityUser": { permissions: ["iam.serviceAccounts.getAccessToken"], source: ref("iam") },
  "roles/iam.serviceAccountUser": { permissions: ["iam.serviceAccounts.actAs"], source: ref("iam") },
  "roles/iam.serviceAccountAdmin": {
    permissions: ["iam.serviceAccounts.create", "iam.serviceAccounts.delete"],
    source: ref("iam"),
  },
  "roles/resourcemanager.projectIamAdmin": {
    permissions: ["resourcemanager.projects.setIamPolicy", "resourcemanager.projects.get"],
    source: ref("resourcemanager"),
  },
  "roles/browser": { permissions: ["resourcemanager.projects.get"], source: ref("resourcemanager") },
  // secretmanager.admin includes versions.access: a version's payload, not only the secret's metadata.
  "roles/secretmanager.admin": {
    permissions: [
      "secretmanager.versions.access",
      "secretmanager.versions.get",
      "secretmanager.secrets.get",
      "secretmanager.secrets.create",
      "secretmanager.secrets.setIamPolicy",
    ],
    source: ref("secretmanager"),
  },
  "roles/secretmanager.secretAccessor": {
    permissions: ["secretmanager.versions.access"],
    source: ref("secretmanager"),
  },
  // Metadata only: "view ... metadata of all Secret Manager resources", never a payload.
  "roles/secretmanager.viewer": {
    permissions: ["secretmanager.versions.get", "secretmanager.secrets.get"],
    source: ref("secretmanager"),
  },
  "roles/run.admin": { permissions: ["run.services.create", "run.services.get"], source: ref("run") },
  "roles/run.viewer": { permissions: ["run.services.get"], source: ref("run") },
  "roles/cloudsql.admin": {
    permissions: ["cloudsql.instances.update", "cloudsql.instances.get"],
    source: ref("cloudsql"),
  },
  "roles/cloudsql.viewer": { permissions: ["cloudsql.instances.get"], source: ref("cloudsql") },
  "roles/pubsub.admin": {
    permissions: ["pubsub.topics.create", "pubsub.topics.get", "pubsub.topics.setIamPolicy"],
    source: ref("pubsub"),
  },
  "roles/pubsub.viewer": { permissions: ["pubsub.topics.get"], source: ref("pubsub") },
  "roles/serviceusage.serviceUsageAdmin": {
    permissions: ["serviceusage.services.enable", "serviceusage.services.get"],
    source: ref("serviceusage"),
  },
  "roles/serviceusage.serviceUsageViewer": { permissions: ["serviceusage.services.get"], source: ref("serviceusage") },
  "roles/artifactregistry.writer": {
    permissions: ["artifactregistry.repositories.uploadArtifacts", "artifactregistry.repositories.downloadArtifacts"],
    source: ref("artifactregistry"),
  },
  "roles/artifactregistry.reader": {
    permissions: ["artifactregistry.repositories.downloadArtifacts"],
    source: ref("artifactregistry"),
  },
  "roles/monitoring.viewer": { permissions: ["monitoring.timeSeries.list"], source: ref("monitoring") },
};

/**
 * Whether `role` includes `permission`: a custom role (`projects/<p>/roles/<id>`) by the permissions the stacks give
 * it, a predefined one by the table above (a role in neither includes nothing).
 */
export function roleAllows(
  role: string,
  permission: Permission,
  customRoles: ReadonlyMap<string, readonly string[]> = new Map(),
): boolean {
  return (customRoles.get(role) ?? ROLES[role]?.permissions)?.includes(permission) ?? false;
}
