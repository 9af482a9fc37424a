import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import type { Grantee } from "./options";

export interface ServiceAccountArgs {
  readonly project: pulumi.Input<string>;
  /** 6-30 characters. */
  readonly accountId: string;
  /** Both the display name and the description: what runs as this account. */
  readonly description: string;
}

/**
 * What every identity component is (RuntimeIdentity for what runs, Deployer for what deploys): one service account,
 * the two forms IAM bindings take of it, and a Grantee whose key is the component's name. Subclasses add what they
 * grant and call `registerOutputs`.
 */
export abstract class ServiceAccountIdentity extends pulumi.ComponentResource implements Grantee {
  /** The component's name: what the bindings granted to this identity are named after. */
  readonly key: string;
  readonly email: pulumi.Output<string>;
  /** `serviceAccount:<email>`, for IAM bindings. */
  readonly member: pulumi.Output<string>;
  /** `projects/<project>/serviceAccounts/<email>`: what a binding on the account itself names. */
  private readonly accountName: pulumi.Output<string>;

  protected constructor(type: string, name: string, args: ServiceAccountArgs, opts?: pulumi.ComponentResourceOptions) {
    super(type, name, {}, opts);
    const account = new gcp.serviceaccount.Account(
      name,
      {
        project: args.project,
        accountId: args.accountId,
        displayName: args.description,
        description: args.description,
      },
      { parent: this },
    );
    this.key = name;
    this.email = account.email;
    this.member = pulumi.interpolate`serviceAccount:${account.email}`;
    this.accountName = account.name;
  }

  /**
   * A role on this account alone (it holds in whichever project the grantee is), named `<name>-<what>-<key>`;
   * `after`: what must exist first (the grantee, when it is a service agent that an API creates).
   */
  protected grantOnAccount(
    what: string,
    role: string,
    grantee: Grantee,
    after: pulumi.Resource[] = [],
  ): gcp.serviceaccount.IAMMember {
    return new gcp.serviceaccount.IAMMember(
      `${this.key}-${what}-${grantee.key}`,
      { serviceAccountId: this.accountName, role, member: grantee.member },
      { parent: this, dependsOn: after },
    );
  }
}
