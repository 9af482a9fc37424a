import { describe, expect, it } from "vitest";
import { type GraphNode, criticalPath, waitsFor, withInstancePerPreview } from "../bench/critical-path";

const urn = (type: string, name: string) => `urn:pulumi:pr-1::monitor::${type}::${name}`;

function node(type: string, name: string, fields: Partial<GraphNode> = {}): GraphNode {
  return {
    urn: urn(type, name),
    type,
    name,
    custom: true,
    parent: "",
    dependsOn: [],
    propertyDependencies: {},
    ...fields,
  };
}

// apis -> provider; platform (read); image; user waits on the platform by input; the job waits on the database
// component (so on the user inside it) and the image; the service waits on the job's component.
const apis = node("gcp:projects/service:Service", "apis-run");
const provider = node("pulumi:providers:gcp", "provider", { dependsOn: [apis.urn] });
const platform = node("pulumi:pulumi:StackReference", "platform", { read: true });
const image = node("docker:index/image:Image", "image");
const database = node("monitor:components:AppDatabase", "database", { custom: false });
const user = node("gcp:sql/user:User", "user", {
  parent: database.urn,
  provider: provider.urn,
  propertyDependencies: { instance: [platform.urn] },
});
const migration = node("monitor:components:MigrationJob", "migration", { custom: false });
const job = node("gcp:cloudrunv2/job:Job", "job", { parent: migration.urn, dependsOn: [database.urn, image.urn] });
const service = node("gcp:cloudrunv2/service:Service", "web", { dependsOn: [migration.urn] });
const graph = [apis, provider, platform, image, database, user, migration, job, service];

const SECONDS: Record<string, number> = {
  "gcp:projects/service:Service": 5,
  "pulumi:providers:gcp": 0,
  "pulumi:pulumi:StackReference": 2,
  "docker:index/image:Image": 30,
  "gcp:sql/user:User": 10,
  "gcp:cloudrunv2/job:Job": 90,
  "gcp:cloudrunv2/service:Service": 45,
  "gcp:sql/databaseInstance:DatabaseInstance": 600,
};
const seconds = (n: GraphNode) => SECONDS[n.type];

describe("critical path of a new stack's up", () => {
  it("waits for inputs, explicit dependencies, the provider, and every resource inside a component depended on", () => {
    const edges = waitsFor(graph);
    expect([...edges.get(user.urn)!].sort()).toEqual([platform.urn, provider.urn].sort());
    expect([...edges.get(job.urn)!].sort()).toEqual([image.urn, user.urn].sort());
    expect([...edges.get(service.urn)!]).toEqual([job.urn]);
    expect(edges.has(database.urn)).toBe(false);
  });

  it("follows the longest chain of create times, and names each step with its start and finish", () => {
    const path = criticalPath(graph, seconds);
    // image 30 > apis 5 + provider 0 + user 10 = 15, so the image decides when the job starts.
    expect(path.steps.map((s) => s.name)).toEqual(["image", "job", "web"]);
    expect(path.steps.map((s) => [s.start, s.finish])).toEqual([
      [0, 30],
      [30, 120],
      [120, 165],
    ]);
    expect(path.total).toBe(165);
  });

  it("an instance per preview puts the instance's create on the path of everything that read the platform", () => {
    const replaced = withInstancePerPreview(graph, platform.urn);
    const path = criticalPath(replaced, seconds);
    expect(path.steps.map((s) => s.type)).toEqual([
      "gcp:projects/service:Service",
      "pulumi:providers:gcp",
      "gcp:sql/databaseInstance:DatabaseInstance",
      "gcp:sql/user:User",
      "gcp:cloudrunv2/job:Job",
      "gcp:cloudrunv2/service:Service",
    ]);
    expect(path.total).toBe(5 + 600 + 10 + 90 + 45);
  });

  it("refuses a cycle instead of looping", () => {
    const a = node("gcp:sql/user:User", "a", { dependsOn: [urn("gcp:sql/user:User", "b")] });
    const b = node("gcp:sql/user:User", "b", { dependsOn: [a.urn] });
    expect(() => criticalPath([a, b], seconds)).toThrow(/dependency cycle/);
  });
});
