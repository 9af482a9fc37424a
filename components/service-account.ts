import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";

export interface ServiceAccountArgs {
  readonly project: pulumi.Input<string>;
  /** 6-30 characters. */
  readonly accountId: string;
  /** Both the display name and the description: what runs as this account. */
  readonly description: string;
}

/**
 * The service account every identity component starts from (RuntimeIdentity for what runs, Deployer for what
 * deploys), with the two forms IAM bindings take of it.
 */
export function serviceAccount(name: string, args: ServiceAccountArgs, parent: pulumi.Resource) {
  const account = new gcp.serviceaccount.Account(
    name,
    { project: args.project, accountId: args.accountId, displayName: args.description, description: args.description },
    { parent },
  );
  return { account, email: account.email, member: pulumi.interpolate`serviceAccount:${account.email}` };
}
