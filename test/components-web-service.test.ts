import { beforeAll, describe, expect, it } from "vitest";
import { cirrusSidecar } from "../components/cirrus";
import { CIRRUS_PORT } from "../shared-rules/cirrus";
import { APP_CONTAINER, WebService, type WebServiceArgs } from "../components/web-service";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { mockProjectNumber } from "../infra/engine/mocks";
import { PROJECT, REGION, SERVICE, evaluateComponent, evaluateStack, one } from "./harness";

const DIGEST = `sha256:${"a".repeat(64)}`;
const SIDECAR = cirrusSidecar({
  image: `us-docker.pkg.dev/moz-fx-cirrus-prod/cirrus-prod/cirrus@${DIGEST}`,
  remoteSettingsUrl: "https://rs.example/v1/buckets/main/collections/nimbus-web-experiments/changeset?_expected=0",
  appId: "monitor.cirrus",
  appName: "monitor_cirrus",
  channel: "staging",
  fmlPath: "/fml/monitor-web/staging.fml.yaml",
  cpu: "1",
  memory: "512Mi",
  environmentName: "monitor-stage",
});

/** Every field but `retain`, so a test can plan the component's default retention. */
const WITHOUT_RETAIN: WebServiceArgs = {
  region: REGION,
  serviceName: "monitor-stage",
  runtime: {
    image: `us-docker.pkg.dev/p/r/blurts-server@${DIGEST}`,
    serviceAccountEmail: `monitor-stage-run@${PROJECT}.iam.gserviceaccount.com`,
    env: { NIMBUS_SIDECAR_URL: "http://localhost:8001" },
    secrets: {},
    cloudSqlConnection: `${PROJECT}:${REGION}:monitor-stage`,
  },
  minInstances: 0,
  maxInstances: 2,
  cpu: "1",
  memory: "1Gi",
  concurrency: 80,
  labels: { app: "monitor" },
};
const ARGS: WebServiceArgs = { ...WITHOUT_RETAIN, retain: false };

const planService = (args: WebServiceArgs) =>
  evaluateComponent(() => {
    new WebService("web", args);
    return {};
  });
const template = (r: Registration) => (r.inputs as any).template;
const containers = (r: Registration): any[] => template(r).containers;

describe("WebService", () => {
  let plain: Evaluation;
  let withSidecar: Evaluation;
  beforeAll(async () => {
    plain = await planService(ARGS);
    withSidecar = await planService({ ...ARGS, ingress: "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", sidecar: SIDECAR });
  });

  it("takes traffic from anywhere unless told otherwise, and maps no domain", () => {
    expect(one(plain, SERVICE).inputs.ingress).toBe("INGRESS_TRAFFIC_ALL");
    expect(containers(one(plain, SERVICE)).map((c) => c.name)).toEqual([APP_CONTAINER]);
    expect(containers(one(plain, SERVICE))[0].dependsOns).toBeUndefined();
    expect(plain.registrations.map((r) => r.type)).not.toContain("gcp:cloudrun/domainMapping:DomainMapping");
  });

  it("is public by default: anyone may invoke it (the app does its own sign-in)", () => {
    const invoker = one(plain, "gcp:cloudrunv2/serviceIamMember:ServiceIamMember");
    expect(invoker.inputs).toMatchObject({ role: "roles/run.invoker", member: "allUsers", location: REGION });
  });

  it("is retained by default, by Pulumi and by Cloud Run, and deletable when told", async () => {
    expect(one(plain, SERVICE).protect).toBe(false);
    expect(one(plain, SERVICE).inputs.deletionProtection).toBe(false);
    const kept = await planService(WITHOUT_RETAIN);
    expect(one(kept, SERVICE).protect).toBe(true);
    expect(one(kept, SERVICE).inputs.deletionProtection).toBe(true);
  });

  it("behind a load balancer, refuses every other route in", () => {
    expect(one(withSidecar, SERVICE).inputs.ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
  });

  it("starts the app only once the sidecar's startup probe passes; only the app has ports", () => {
    const [app, sidecar, ...rest] = containers(one(withSidecar, SERVICE));
    expect(rest).toEqual([]);
    expect(app.name).toBe(APP_CONTAINER);
    expect(app.ports).toEqual({ containerPort: 8080 });
    expect(app.dependsOns).toEqual(["cirrus"]);
    expect(sidecar.name).toBe("cirrus");
    expect(sidecar.ports).toBeUndefined();
    expect(sidecar.startupProbe.httpGet).toEqual({ path: "/__lbheartbeat__", port: CIRRUS_PORT });
    expect(sidecar.livenessProbe.httpGet).toEqual({ path: "/__heartbeat__", port: CIRRUS_PORT });
    // The sidecar needs no database socket, no secret and no service account of its own.
    expect(sidecar.volumeMounts).toBeUndefined();
    expect(JSON.stringify(sidecar.envs)).not.toMatch(/secretKeyRef/);
  });
});

describe("the web service of each stack", () => {
  let stage: Evaluation;
  let preview: Evaluation;
  beforeAll(async () => {
    stage = await evaluateStack("stage", { "monitor:imageTag": "abc1234" });
    preview = await evaluateStack("pr-123");
  });

  it("stage and prod: only the load balancer reaches the service; the app is told the domain", () => {
    const service = one(stage, SERVICE);
    expect(service.inputs.ingress).toBe("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER");
    const env = Object.fromEntries(containers(service)[0].envs.map((e: any) => [e.name, e.value]));
    expect(env.SERVER_URL).toBe("https://monitor-stage.allizom.org");
    expect(stage.outputs.url.value).toBe("https://monitor-stage.allizom.org");
  });

  it("previews: public on their run.app URL, with no load balancer", () => {
    expect(one(preview, SERVICE).inputs.ingress).toBe("INGRESS_TRAFFIC_ALL");
    expect(preview.outputs.url.value).toBe(
      `https://monitor-pr-123-${mockProjectNumber("moz-fx-monitor-previews")}.${REGION}.run.app`,
    );
    expect(preview.registrations.filter((r) => r.type.startsWith("gcp:compute/"))).toEqual([]);
    expect(preview.outputs.loadBalancerIp).toBeUndefined();
  });
});
