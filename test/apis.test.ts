import { beforeAll, describe, expect, it } from "vitest";
import {
  ENVIRONMENT_SERVICES,
  PIPELINE_SERVICES,
  PREVIEWS_PLATFORM_SERVICES,
  RUN_AGENT_SERVICE,
} from "../components/project-services";
import type { Evaluation, Registration } from "../infra/engine/evaluate";
import { runPolicies } from "../policies/offline";
import { deletedBefore, evaluateStack, ofType, one } from "./harness";

const SERVICE_TYPE = "gcp:projects/service:Service";
const PROVIDER_TYPE = "pulumi:providers:gcp";

/** Whether the engine creates `target` before `r`: through r's explicit dependencies and its provider, transitively. */
function waitsFor(ev: Evaluation, r: Registration, target: Registration): boolean {
  const byUrn = new Map(ev.registrations.map((x) => [x.urn, x]));
  const seen = new Set<string>();
  const todo = [...r.dependsOn, ...(r.provider ? [r.provider] : [])];
  while (todo.length > 0) {
    const urn = todo.pop()!;
    if (urn === target.urn) return true;
    if (seen.has(urn)) continue;
    seen.add(urn);
    const next = byUrn.get(urn);
    if (next) todo.push(...next.dependsOn, ...(next.provider ? [next.provider] : []));
  }
  return false;
}

const evs: Record<string, Evaluation> = {};
beforeAll(async () => {
  evs.stage = await evaluateStack("stage", { "monitor:imageTag": "abc1234" });
  evs.prod = await evaluateStack("prod");
  evs.previews = await evaluateStack("previews");
  evs["pr-123"] = await evaluateStack("pr-123");
  evs.pipeline = await evaluateStack("pipeline", { "monitor:infraCommit": "4b825dc642cb6eb9a060e54bf8d69288fbee4904" });
});

describe("the pipeline stack enables its APIs in every project it touches", () => {
  const services = () => ofType(evs.pipeline, SERVICE_TYPE);

  it("in each of them, never disabling them on destroy", () => {
    const projects = [...new Set(services().map((r) => String(r.inputs.project)))].sort();
    expect(projects).toEqual(["moz-fx-monitor-nonprod", "moz-fx-monitor-previews", "moz-fx-monitor-prod"]);
    for (const project of projects) {
      const enabled = services().filter((r) => r.inputs.project === project);
      // Where the pipeline grants Cloud Run's service agent (prod's, outside the registry's project, which pulls
      // images; the previews', which runs the platform's jobs as the database admin) the agent must exist first,
      // so the pipeline enables Cloud Run there too.
      const runAgent = ["moz-fx-monitor-prod", "moz-fx-monitor-previews"].includes(project);
      const own = runAgent ? [...PIPELINE_SERVICES, RUN_AGENT_SERVICE] : PIPELINE_SERVICES;
      expect(enabled.map((r) => r.inputs.service).sort()).toEqual([...own].sort());
      for (const r of enabled)
        expect(r.inputs).toMatchObject({ disableOnDestroy: false, disableDependentServices: false });
    }
  });

  it("and every GCP resource waits for the APIs of its own project", () => {
    const providers = ofType(evs.pipeline, PROVIDER_TYPE);
    const gcpResources = evs.pipeline.registrations.filter(
      (r) => r.custom && !r.read && r.type.startsWith("gcp:") && r.type !== SERVICE_TYPE,
    );
    expect(gcpResources.length).toBeGreaterThan(20);
    for (const r of gcpResources) {
      const provider = providers.find((p) => p.urn === r.provider);
      expect(provider, r.name).toBeDefined();
      const own = services().filter((s) => s.inputs.project === provider!.inputs.project);
      for (const service of own)
        expect(waitsFor(evs.pipeline, r, service), `${r.name} waits for ${service.name}`).toBe(true);
    }
  });
});

describe.each([
  ["stage", "moz-fx-monitor-nonprod", ENVIRONMENT_SERVICES],
  ["prod", "moz-fx-monitor-prod", ENVIRONMENT_SERVICES],
  ["previews", "moz-fx-monitor-previews", PREVIEWS_PLATFORM_SERVICES],
] as const)("%s enables the APIs it uses", (stack, project, expected) => {
  const ev = () => evs[stack];
  const services = () => ofType(ev(), SERVICE_TYPE);

  it("in its own project, never disabling them on destroy", () => {
    expect(
      services()
        .map((r) => r.inputs.service)
        .sort(),
    ).toEqual([...expected].sort());
    for (const r of services()) {
      expect(r.inputs, r.name).toMatchObject({ project, disableOnDestroy: false, disableDependentServices: false });
      // Enabling an API must not wait on anything the API itself is needed for.
      expect(r.dependsOn, r.name).toEqual([]);
      expect(r.provider ?? "", r.name).toBe("");
    }
  });

  it("and every other GCP resource waits for all of them", () => {
    const provider = one(ev(), PROVIDER_TYPE);
    expect(provider.inputs).toMatchObject({ project });
    const gcpResources = ev().registrations.filter(
      (r) => r.custom && !r.read && r.type.startsWith("gcp:") && r.type !== SERVICE_TYPE,
    );
    expect(gcpResources.length).toBeGreaterThanOrEqual(10);
    for (const r of gcpResources) {
      expect(r.provider, `${r.type} ${r.name} uses the default provider`).toBe(provider.urn);
      for (const service of services())
        expect(waitsFor(ev(), r, service), `${r.name} waits for ${String(service.inputs.service)}`).toBe(true);
    }
  });

  it("still passes the policy pack", () => {
    expect(runPolicies(ev()).filter((v) => v.enforcementLevel === "mandatory")).toEqual([]);
  });
});

describe("a preview enables no API", () => {
  it("(the previews stack did, and its deployer may not) and runs every GCP resource through its project's provider", () => {
    const ev = evs["pr-123"];
    expect(ofType(ev, SERVICE_TYPE)).toEqual([]);
    const provider = one(ev, PROVIDER_TYPE);
    expect(provider.inputs).toMatchObject({ project: "moz-fx-monitor-previews" });
    const gcpResources = ev.registrations.filter((r) => r.custom && !r.read && r.type.startsWith("gcp:"));
    for (const r of gcpResources) expect(r.provider, `${r.type} ${r.name}`).toBe(provider.urn);
  });
});

describe("the APIs on destroy", () => {
  it("are let go only after everything that uses them is gone (and they stay enabled)", () => {
    const ev = evs.stage;
    const run = one(ev, SERVICE_TYPE, "apis-run");
    const service = ofType(ev, "gcp:cloudrunv2/service:Service")[0];
    const byProvider = ev.registrations.find((r) => r.urn === service.provider)!;
    // The engine deletes a resource before its provider, and the provider before what it depends on.
    expect(byProvider.dependsOn).toContain(run.urn);
    expect(deletedBefore(ev, byProvider, run)).toBe(true);
  });
});
