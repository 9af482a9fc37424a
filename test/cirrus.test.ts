import { beforeAll, describe, expect, it } from "vitest";
import { loadStackConfig } from "../infra/engine/config-files";
import { type Evaluation, type Registration, evaluate } from "../infra/engine/evaluate";
import { buildSpec } from "../infra/spec";
import { runPolicies } from "../policies/offline";
import { ROOT, SERVICE, evaluateStack, one, refusedStack } from "./harness";

const CIRRUS_IMAGE = /^us-docker\.pkg\.dev\/moz-fx-cirrus-prod\/cirrus-prod\/cirrus@sha256:[0-9a-f]{64}$/;
const HOSTED = "https://cirrus.example/monitor_cirrus/";

const committed = (stack: string) => loadStackConfig(ROOT, stack).config;
const { sources } = loadStackConfig(ROOT, "prod");
const envOf = (stack: string) => JSON.parse(committed(stack)["monitor:env"]);
const cirrusOf = (stack: "stage" | "prod") => JSON.parse(committed(stack)["monitor:cirrus"]);
const previewOf = () => JSON.parse(committed("pr-1")["monitor:preview"]);
const json = (value: unknown) => JSON.stringify(value);

/** The message buildSpec refuses `stack`'s committed config with, after the overrides. */
function refusal(stack: string, overrides: Record<string, string | undefined>): string {
  const config = { ...committed(stack), ...overrides };
  for (const [key, value] of Object.entries(overrides)) if (value === undefined) delete config[key];
  try {
    buildSpec(stack, config, [], sources);
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("the config was accepted");
}

const containers = (r: Registration): any[] => (r.inputs as any).template.containers;
const envMap = (container: any) => Object.fromEntries(container.envs.map((e: any) => [e.name, e.value]));

describe.each([
  ["stage", "staging", "firefox.settings.services.allizom.org"],
  ["prod", "production", "firefox.settings.services.mozilla.com"],
  ["pr-123", "staging", "firefox.settings.services.allizom.org"],
] as const)("%s runs Cirrus beside the app", (stack, channel, remoteSettings) => {
  let ev: Evaluation;
  beforeAll(async () => {
    ev = await evaluateStack(stack, stack === "stage" ? { "monitor:imageTag": "abc1234" } : {});
  });

  it("as the sidecar NIMBUS_SIDECAR_URL points at, configured from the stack's config", () => {
    const [app, cirrus] = containers(one(ev, SERVICE));
    expect(envMap(app).NIMBUS_SIDECAR_URL).toBe("http://localhost:8001");
    expect(cirrus.image).toMatch(CIRRUS_IMAGE);
    expect(envMap(cirrus)).toEqual({
      CIRRUS_REMOTE_SETTING_URL: `https://${remoteSettings}/v1/buckets/main/collections/nimbus-web-experiments/changeset?_expected=0`,
      CIRRUS_REMOTE_SETTING_PREVIEW_URL: `https://${remoteSettings}/v1/buckets/main/collections/nimbus-web-preview/changeset?_expected=0`,
      CIRRUS_APP_ID: "monitor.cirrus",
      CIRRUS_APP_NAME: "monitor_cirrus",
      CIRRUS_CHANNEL: channel,
      // The manifest the image bakes in for this channel (mozilla/experimenter, cirrus/server/Dockerfile).
      CIRRUS_FML_PATH: `/fml/monitor-web/${channel}.fml.yaml`,
      CIRRUS_ENV_NAME: `monitor-${stack}`,
      CIRRUS_INSTANCE_NAME: `monitor-${stack}`,
    });
    expect(cirrus.resources.limits).toEqual({ cpu: "1", memory: "512Mi" });
  });

  it("started and health-checked before the app", () => {
    const [app, cirrus] = containers(one(ev, SERVICE));
    expect(app.dependsOns).toEqual([cirrus.name]);
    expect(cirrus.startupProbe.httpGet).toEqual({ path: "/__lbheartbeat__", port: 8001 });
    expect(cirrus.livenessProbe.httpGet).toEqual({ path: "/__heartbeat__", port: 8001 });
    expect(cirrus.ports).toBeUndefined();
  });

  it("only in the web service: jobs and the worker never call Nimbus", () => {
    for (const r of ev.registrations.filter((x) => x.type.startsWith("gcp:cloudrunv2/") && x.type !== SERVICE)) {
      expect(JSON.stringify(r.inputs), r.name).not.toContain("cirrus@sha256");
    }
  });
});

describe("the policy pack sees the sidecar", () => {
  it("refuses a sidecar image by tag or a secret-looking sidecar value, as it does for the app", async () => {
    const ev = await evaluateStack("pr-123");
    const service = one(ev, SERVICE);
    const inputs = structuredClone(service.inputs) as any;
    inputs.template.containers[1].image = "us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus:latest";
    inputs.template.containers[1].envs.push({ name: "CIRRUS_SENTRY_DSN", value: "https://user:pw@sentry.example/1" });
    const violations = runPolicies({ ...ev, registrations: [{ ...service, inputs }] }).map(
      (v) => `${v.policy}: ${v.message}`,
    );
    expect(violations).toEqual([
      expect.stringMatching(/^cloudrun-image-pinned-by-digest: web runs ".*cirrus:latest"/),
      expect.stringMatching(/^cloudrun-no-plain-secrets: web sets CIRRUS_SENTRY_DSN as a plain value/),
    ]);
  });
});

describe("a hosted Cirrus instead", () => {
  it("runs no sidecar when NIMBUS_SIDECAR_URL names it and no sidecar is configured", async () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "prod");
    delete config["monitor:cirrus"];
    config["monitor:env"] = json({ ...envOf("prod"), NIMBUS_SIDECAR_URL: HOSTED });
    const ev = await evaluate("prod", { config, secretKeys });
    const [app, ...sidecars] = containers(one(ev, SERVICE));
    expect(sidecars).toEqual([]);
    expect(app.dependsOns).toBeUndefined();
    expect(envMap(app).NIMBUS_SIDECAR_URL).toBe(HOSTED);
  });
});

describe("refusals", () => {
  it("a localhost NIMBUS_SIDECAR_URL with no sidecar behind it, before any resource exists", async () => {
    const preview = previewOf();
    delete preview.cirrus;
    const { error, registrations } = await refusedStack("pr-123", { "monitor:preview": json(preview) });
    expect(error.message).toMatch(/^Stack "pr-123" has invalid configuration:/);
    expect(error.message).toContain(
      "monitor:env.NIMBUS_SIDECAR_URL in Pulumi.yaml (project-level config: previews have no stack file) is " +
        "http://localhost:8001, but no Cirrus sidecar runs behind it (monitor:preview.cirrus is not set)",
    );
    expect(error.message).toMatch(/Fix: set monitor:preview\.cirrus .* or point NIMBUS_SIDECAR_URL at a hosted Cirrus/);
    expect(registrations).toEqual([]);

    const config = committed("stage");
    delete config["monitor:cirrus"];
    expect(() => buildSpec("stage", config, [], sources)).toThrow(
      /Stack "stage"[^]*monitor:env\.NIMBUS_SIDECAR_URL in Pulumi\.stage\.yaml is http:\/\/localhost:8001, but no Cirrus sidecar runs behind it \(monitor:cirrus is not set\)/,
    );
  });

  it("a sidecar the URL does not point at, and a hosted URL that is not https", () => {
    expect(refusal("stage", { "monitor:env": json({ ...envOf("stage"), NIMBUS_SIDECAR_URL: HOSTED }) })).toContain(
      `monitor:cirrus in Pulumi.stage.yaml runs a Cirrus sidecar, but NIMBUS_SIDECAR_URL is ${HOSTED}, so the app would never call it. ` +
        "Fix: remove monitor:cirrus to use that hosted Cirrus, or set NIMBUS_SIDECAR_URL to http://localhost:8001",
    );
    const config = committed("prod");
    delete config["monitor:cirrus"];
    config["monitor:env"] = json({ ...envOf("prod"), NIMBUS_SIDECAR_URL: "http://cirrus.example/" });
    expect(() => buildSpec("prod", config, [], sources)).toThrow(
      /a hosted Cirrus is reached over the internet\. Fix: use https/,
    );
  });

  it("a URL whose path the app would mangle, or another port than Cirrus's", () => {
    const config = committed("prod");
    delete config["monitor:cirrus"];
    config["monitor:env"] = json({ ...envOf("prod"), NIMBUS_SIDECAR_URL: "https://cirrus.example/monitor_cirrus" });
    expect(() => buildSpec("prod", config, [], sources)).toThrow(
      /would call \/monitor_cirrusv2\/features\. Fix: end the path with "\/"/,
    );
    expect(
      refusal("stage", { "monitor:env": json({ ...envOf("stage"), NIMBUS_SIDECAR_URL: "http://localhost:9000" }) }),
    ).toContain(
      'the Cirrus sidecar answers plain HTTP on port 8001; got "http://localhost:9000". Fix: set it to http://localhost:8001',
    );
  });

  it("a sidecar image by tag, a prod sidecar on the staging channel, and more vCPU than an instance has", () => {
    const byTag = {
      ...cirrusOf("prod"),
      image: "us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus:sha-1a2b3c4d5",
    };
    expect(refusal("prod", { "monitor:cirrus": json(byTag) })).toMatch(
      /monitor:cirrus\.image in Pulumi\.prod\.yaml: expected an image pinned by digest/,
    );
    expect(refusal("prod", { "monitor:cirrus": json({ ...cirrusOf("prod"), channel: "staging" }) })).toContain(
      "monitor:cirrus.channel in Pulumi.prod.yaml: prod would serve staging experiments to users. Fix: set it to production",
    );
    expect(refusal("prod", { "monitor:cirrus": json({ ...cirrusOf("prod"), channel: "beta" }) })).toMatch(
      /monitor:cirrus\.channel in Pulumi\.prod\.yaml: expected "staging" or "production"/,
    );
    const big = { "monitor:service": json({ cpu: "8" }), "monitor:cirrus": json({ ...cirrusOf("prod"), cpu: "1" }) };
    expect(refusal("prod", big)).toContain("exceed Cloud Run's 8 per instance");
    expect(
      refusal("prod", { "monitor:cirrus": json({ ...cirrusOf("prod"), remoteSettingsUrl: "http://rs.example/" }) }),
    ).toMatch(
      /monitor:cirrus\.remoteSettingsUrl in Pulumi\.prod\.yaml: expected an https Remote Settings changeset URL/,
    );
  });

  it("monitor:cirrus in a preview (previews read monitor:preview.cirrus)", () => {
    expect(refusal("pr-1", { "monitor:cirrus": json(cirrusOf("stage")) })).toMatch(
      /monitor:cirrus \(from --config\): not read by previews \(pr-<N>\).* Fix: drop --config monitor:cirrus \(it belongs in Pulumi\.stage\.yaml or Pulumi\.prod\.yaml\)/,
    );
  });
});
