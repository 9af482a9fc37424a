// The @pulumi/gcp namespaces the program uses, imported one by one: `import * as gcp from "@pulumi/gcp"` loads
// the index of every namespace the provider has (about 160, some 100 ms of `npm run plan`), these load 15.
// Components import this as `gcp`; a namespace missing here is a type error, and one line to add.
import * as pulumi from "@pulumi/pulumi";
import { Provider as GcpProvider } from "@pulumi/gcp/provider";
import { version as gcpVersion } from "@pulumi/gcp/package.json";
export { Provider } from "@pulumi/gcp/provider";
export * as artifactregistry from "@pulumi/gcp/artifactregistry";
export * as certificatemanager from "@pulumi/gcp/certificatemanager";
export * as cloudrunv2 from "@pulumi/gcp/cloudrunv2";
export * as cloudscheduler from "@pulumi/gcp/cloudscheduler";
export * as compute from "@pulumi/gcp/compute";
export * as iam from "@pulumi/gcp/iam";
export * as kms from "@pulumi/gcp/kms";
export * as monitoring from "@pulumi/gcp/monitoring";
export * as organizations from "@pulumi/gcp/organizations";
export * as projects from "@pulumi/gcp/projects";
export * as pubsub from "@pulumi/gcp/pubsub";
export * as secretmanager from "@pulumi/gcp/secretmanager";
export * as serviceaccount from "@pulumi/gcp/serviceaccount";
export * as sql from "@pulumi/gcp/sql";
export * as storage from "@pulumi/gcp/storage";

// What loading `@pulumi/gcp`'s root index would also do: register the provider package, so that a provider
// reference the engine hands back (a resource's `provider`) rehydrates as a gcp.Provider. Registering twice (when
// something else loads the root index) is a no-op in the SDK.

pulumi.runtime.registerResourcePackage("gcp", {
  version: gcpVersion,
  constructProvider: (name, type, urn) => {
    if (type !== "pulumi:providers:gcp") throw new Error(`unknown provider type ${type}`);
    return new GcpProvider(name, undefined, { urn });
  },
});
