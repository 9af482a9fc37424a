import * as pulumi from "@pulumi/pulumi";
import * as gcp from "../infra/gcp";
import * as random from "@pulumi/random";
import { addVersionCommand, slugOf } from "../infra/naming";
import { type Grantee, type Retention, retains } from "./options";

/** Where one secret variable's value comes from. */
export type SecretSource =
  /** A value the program holds (derived, or encrypted stack config): written as a version here. */
  | { readonly kind: "value"; readonly value: pulumi.Input<string> }
  /** A random value made once for this environment (the app issues and checks it itself). */
  | { readonly kind: "generated" }
  /** The secret is created here but its versions are added outside the program (by SRE, in Secret Manager). */
  | { readonly kind: "managed" }
  /** A secret another stack owns (the preview sandbox): only access is granted here. */
  | { readonly kind: "existing"; readonly secret: pulumi.Input<string> };

/** How a container reads one secret: Cloud Run's `secretKeyRef`. */
export interface SecretRef {
  readonly secret: pulumi.Output<string>;
  readonly version: pulumi.Output<string>;
}

export interface AppSecretsArgs extends Retention {
  readonly project: pulumi.Input<string>;
  /** Variable name → Secret Manager secret id in this environment. */
  readonly secretIdOf: (variable: string) => string;
  readonly secrets: Readonly<Record<string, SecretSource>>;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * An environment's secret variables in Secret Manager, each readable only by the identities granted access
 * (`grantAccess`). Values the program holds are pinned by version, so a new value rolls a new revision; values
 * managed outside follow `latest`. No value ever leaves this component except as a secret Output.
 */
export class AppSecrets extends pulumi.ComponentResource {
  /** Variable name → reference for the container's env. */
  readonly refs: Readonly<Record<string, SecretRef>>;
  /** Child name → the secret's resource name, for the grants. */
  private readonly secretNames: Record<string, pulumi.Output<string>> = {};

  constructor(name: string, args: AppSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("monitor:components:AppSecrets", name, {}, opts);
    const retain = retains(args);
    const refs: Record<string, SecretRef> = {};
    for (const [variable, source] of Object.entries(args.secrets)) {
      const child = `${name}-${slugOf(variable)}`;
      let secretName: pulumi.Output<string>;
      let version = pulumi.output("latest");
      if (source.kind === "existing") {
        secretName = pulumi.output(source.secret);
      } else {
        const secret = new gcp.secretmanager.Secret(
          child,
          {
            project: args.project,
            secretId: args.secretIdOf(variable),
            replication: { auto: {} },
            labels: args.labels,
            deletionProtection: retain,
          },
          { parent: this, protect: retain },
        );
        secretName = secret.name;
        const value =
          source.kind === "value"
            ? source.value
            : source.kind === "generated"
              ? new random.RandomPassword(`${child}-value`, { length: 48, special: false }, { parent: this }).result
              : undefined;
        if (value !== undefined) {
          const written = new gcp.secretmanager.SecretVersion(
            child,
            { secret: secret.id, secretData: pulumi.secret(value) },
            { parent: this },
          );
          version = written.version;
        }
      }
      this.secretNames[child] = secretName;
      refs[variable] = { secret: secretName, version };
    }
    this.refs = refs;
    this.registerOutputs({});
  }

  /**
   * Lets `grantee` read every secret here (`roles/secretmanager.secretAccessor` on each secret alone, never on the
   * project): each binding is named `<secret>-reader-<key>`.
   */
  grantAccess(grantee: Grantee): pulumi.Resource[] {
    return this.grantRole("roles/secretmanager.secretAccessor", "reader", grantee);
  }

  /**
   * `role` on every secret here alone (a predefined or custom role), each binding named `<secret>-<what>-<key>`;
   * `after`: what must exist first (a custom role named by its known name).
   */
  grantRole(
    role: pulumi.Input<string>,
    what: string,
    grantee: Grantee,
    after: pulumi.Resource[] = [],
  ): pulumi.Resource[] {
    return Object.entries(this.secretNames).map(
      ([child, secretId]) =>
        new gcp.secretmanager.SecretIamMember(
          `${child}-${what}-${grantee.key}`,
          { secretId, role, member: grantee.member },
          { parent: this, dependsOn: after },
        ),
    );
  }
}

/** A secret whose value SRE adds by hand, and the command that does it. */
export interface OwedVersion {
  readonly variable: string;
  readonly command: string;
  /** Why no usable version was found. */
  readonly why: string;
}

/**
 * The managed secrets that have no enabled version yet: a container reading one as `latest` cannot start, so a
 * deploy that needs them is refused at plan time with this list instead of failing half-way through the rollout.
 * Reads metadata only (`fetchSecretData: false`): no value ever enters the program. The look-ups use the default
 * provider: a stack's own provider may not exist yet at `pulumi preview`, and a promise invoke cannot wait for it.
 */
export function owedVersions(
  project: string,
  secretIds: Record<string, string>,
  { strict }: { strict: boolean },
): pulumi.Output<OwedVersion[]> {
  const checks = Object.entries(secretIds).map(async ([variable, secretId]): Promise<OwedVersion | undefined> => {
    const command = addVersionCommand(project, secretId);
    try {
      const latest = await gcp.secretmanager.getSecretVersion({ project, secret: secretId, fetchSecretData: false });
      return latest.enabled
        ? undefined
        : { variable, command, why: `its latest version (${latest.version}) is disabled` };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/not ?found|404|NOT_FOUND|no versions/i.test(message))
        return { variable, command, why: "it has no version yet" };
      // Strict (a deploy): any other failure is the provider's to report. A bootstrap lists what it cannot confirm
      // (the API may only now be enabled), so its list errs towards a version too many.
      if (strict) throw err;
      return { variable, command, why: `no version could be confirmed (${message.split("\n")[0]})` };
    }
  });
  return pulumi.output(Promise.all(checks).then((owed) => owed.filter((o): o is OwedVersion => o !== undefined)));
}
