import { beforeAll, describe, expect, it } from "vitest";
import type { Evaluation } from "../infra/engine/evaluate";
import { mockPreviewPlatform } from "../infra/engine/mocks";
import { DATABASE_CLIENT_IMAGE } from "../components/database-admin-job";
import { databaseAdminEmail, deployerEmail } from "../infra/pipeline-contract";
import { connectionsNeeded, previewProcesses } from "../shared-rules/connection-budget";
import { INSTANCE, JOB, SECRET, SECRET_READER, USER, evaluateStack, ofType, refusedStack } from "./harness";

const PREVIEWS = "moz-fx-monitor-previews";
const DEPLOYER = `serviceAccount:${deployerEmail("preview", "moz-fx-monitor-nonprod")}`;
const SANDBOX = ["OAUTH_CLIENT_SECRET", "HIBP_KANON_API_TOKEN"];

let ev: Evaluation;
beforeAll(async () => {
  ev = await evaluateStack("previews");
});

describe("the previews stack: the platform every preview shares, in the previews' own project", () => {
  it("exports exactly the contract previews are planned against, with no secret in it", () => {
    expect(ev.outputs.previewPlatform.value).toEqual(mockPreviewPlatform(PREVIEWS, "us-central1", SANDBOX));
    expect(ev.outputs.previewPlatform.secret).toBe(false);
  });

  it("declares every resource in the previews project, none in stage's or prod's", () => {
    const projects = new Set(
      ev.registrations
        .map((r) => (r.inputs as { project?: unknown }).project)
        .filter((p): p is string => typeof p === "string"),
    );
    expect([...projects]).toEqual([PREVIEWS]);
  });

  it("sizes the shared instance for the previews active at once, not for every open one, and protects it", () => {
    const instance = ofType(ev, INSTANCE).find((r) => r.inputs.name === "monitor-previews")!;
    const settings = instance.inputs.settings as any;
    const flag = settings.databaseFlags.find((f: any) => f.name === "max_connections");
    // 20 active previews x (1 instance + 1 migration) x a pool of 10, plus the reserve.
    expect(Number(flag.value)).toBeGreaterThanOrEqual(connectionsNeeded(previewProcesses(20, 1), 10));
    expect(settings.tier).toBe("db-custom-4-16384");
    expect(settings.userLabels).toMatchObject({
      role: "preview-platform",
      "max-previews": "20",
      "max-instances-per-preview": "1",
    });
    expect(settings.edition).toBe("ENTERPRISE");
    expect(instance.protect).toBe(true);
  });

  it("creates the sandbox secrets without values; the preview deployer may only grant them, never read them", () => {
    const sandbox = ev.registrations.filter((r) => r.name.startsWith("preview-platform-sandbox-"));
    expect(
      sandbox
        .filter((r) => r.type === SECRET)
        .map((r) => r.inputs.secretId)
        .sort(),
    ).toEqual(["monitor-preview-hibp-kanon-api-token", "monitor-preview-oauth-client-secret"]);
    expect(sandbox.filter((r) => r.type === "gcp:secretmanager/secretVersion:SecretVersion")).toEqual([]);
    const grants = sandbox.filter((r) => r.type === "gcp:secretmanager/secretIamMember:SecretIamMember");
    expect(grants.map((r) => [r.inputs.role, r.inputs.member])).toEqual(
      SANDBOX.map(() => ["projects/moz-fx-monitor-previews/roles/monitorPreviewGrantor", DEPLOYER]),
    );
  });

  it("gives the preview deployer a custom role that sets IAM policies and reads no value, deletes and publishes nothing", () => {
    const [role] = ofType(ev, "gcp:projects/iAMCustomRole:IAMCustomRole");
    expect(role.inputs).toMatchObject({ project: PREVIEWS, roleId: "monitorPreviewGrantor" });
    const permissions = role.inputs.permissions as string[];
    expect(permissions.filter((p) => /\.(access|delete|update|publish|create)$/.test(p))).toEqual([]);
    expect(role.protect).toBe(true);
    const topicGrant = ofType(ev, "gcp:pubsub/topicIAMMember:TopicIAMMember");
    expect(topicGrant.map((r) => [r.inputs.topic, r.inputs.role, r.inputs.member])).toEqual([
      ["monitor-preview-hibp-breaches", "projects/moz-fx-monitor-previews/roles/monitorPreviewGrantor", DEPLOYER],
    ]);
  });

  it("keeps its database admin's password for the admin's account alone, an account it does not create here", () => {
    // The previews project's service accounts are one per open preview: the admin's lives in the identity project.
    expect(ofType(ev, "gcp:serviceaccount/account:Account")).toEqual([]);
    const admin = `serviceAccount:${databaseAdminEmail("moz-fx-monitor-nonprod")}`;
    const versions = ofType(ev, "gcp:secretmanager/secretVersion:SecretVersion");
    expect(versions.map((r) => r.name)).toEqual(["preview-platform-database-admin-secret-pgpassword"]);
    expect(versions[0].secretPaths).toContain("secretData");
    const readers = ofType(ev, SECRET_READER).filter((r) => r.name.startsWith("preview-platform-database-admin-"));
    expect(readers.map((r) => [r.inputs.role, r.inputs.member])).toEqual([
      ["roles/secretmanager.secretAccessor", admin],
    ]);
    const [init] = ofType(ev, JOB);
    const template = (init.inputs as any).template.template;
    expect(template.serviceAccount).toBe(databaseAdminEmail("moz-fx-monitor-nonprod"));
    expect(template.containers[0].image).toBe(DATABASE_CLIENT_IMAGE);
    expect(ofType(ev, USER).map((r) => [r.inputs.name, r.inputs.databaseRoles])).toEqual([
      ["monitor_previews_admin", undefined],
    ]);
  });

  it("owns the registry previews push to, apart from the one stage and prod deploy from", () => {
    const [registry] = ofType(ev, "gcp:artifactregistry/repository:Repository");
    expect(registry.inputs).toMatchObject({ project: PREVIEWS, repositoryId: "monitor-previews", location: "us" });
    const push = ofType(ev, "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember");
    expect(push.map((r) => [r.inputs.role, r.inputs.member])).toEqual([["roles/artifactregistry.writer", DEPLOYER]]);
  });

  it("lists the sandbox secret versions SRE still owes", () => {
    expect(ev.outputs.owedSecretVersions.value).toEqual([]);
  });
});

describe("the previews stack refuses", () => {
  it("a registry outside the previews project, where PR images could overwrite a release's tag", async () => {
    const { error, registrations } = await refusedStack("previews", {
      "monitor:imageRepository": "us-docker.pkg.dev/moz-fx-monitor-nonprod/monitor-nonprod/blurts-server",
    });
    expect(error.message).toMatch(
      /monitor:imageRepository in Pulumi\.previews\.yaml: .* is not the previews' own registry/,
    );
    expect(registrations).toEqual([]);
  });

  it("identities living in the previews project itself, whose service accounts are the previews' own", async () => {
    const { error } = await refusedStack("previews", {
      "monitor:preview": JSON.stringify({ identityProject: PREVIEWS, sandboxSecrets: SANDBOX }),
    });
    expect(error.message).toMatch(/monitor:preview\.identityProject in Pulumi\.previews\.yaml is the previews project/);
  });

  it("an app's keys, which mean nothing to the platform", async () => {
    const { error } = await refusedStack("previews", { "monitor:domain": "monitor.mozilla.org" });
    expect(error.message).toMatch(
      /^Stack "previews" has invalid configuration:\n {2}- monitor:domain in Pulumi\.previews\.yaml: not read by the previews platform, so it would be silently ignored[^\n]*$/,
    );
  });
});
