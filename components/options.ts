import type * as pulumi from "@pulumi/pulumi";

/**
 * The one protection switch every stateful component takes, like CDK's `removalPolicy` and Fabric's
 * deletion-protection default. `retain: true` sets Pulumi's `protect` and the provider's own guard (deletion
 * protection, a deletion policy of PREVENT/ABANDON, no force-destroy) on everything the component holds that has
 * one, so neither `pulumi destroy` nor a console click removes it. Previews pass `retain: false` once.
 */
export interface Retention {
  /** Keep what this component holds when the stack or the component goes away. @default true */
  readonly retain?: boolean;
}

/** Whether a component retains what it holds: true unless it was told otherwise. */
export function retains(args: Retention): boolean {
  return args.retain ?? true;
}

/**
 * The provider's `deletionPolicy` for what `retain` decides: PREVENT fails any delete (a destroy, a replacement) in
 * the provider itself, beside Pulumi's protect; DELETE lets a disposable stack go.
 */
export function deletionPolicyFor(retain: boolean): "PREVENT" | "DELETE" {
  return retain ? "PREVENT" : "DELETE";
}

/**
 * Options for the child that does a component's work. A component's `dependsOn` orders the component, not the
 * children it creates, so the resource that must wait takes the component's `dependsOn` through here.
 */
export function waitsFor(
  parent: pulumi.Resource,
  opts: pulumi.ComponentResourceOptions | undefined,
  more: Omit<pulumi.CustomResourceOptions, "parent" | "dependsOn"> = {},
): pulumi.CustomResourceOptions {
  return { ...more, parent, dependsOn: opts?.dependsOn };
}

/**
 * Who a grant method (`secrets.grantAccess(identity)`, `topic.grantPublish(identity)`, ...) is for. The binding is
 * named after `key`, never after a position in a list, so adding, removing or reordering grantees never recreates
 * another's binding. RuntimeIdentity and Deployer are Grantees; so is a bare member given a key by hand.
 */
export interface Grantee {
  /** Unique among the grantees of one resource and stable across deploys: the identity's component name. */
  readonly key: string;
  /** The IAM member: `serviceAccount:<email>`, `principalSet://...`. */
  readonly member: pulumi.Input<string>;
}
