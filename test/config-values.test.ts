import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readConfigYaml } from "../infra/config/config-yaml";
import { loadStackConfig } from "../infra/engine/config-files";
import { evaluate } from "../infra/engine/evaluate";
import { buildStack } from "../infra/program";
import { type ConfigSources, ConfigError, buildSpec } from "../infra/spec";
import { APP_VARIABLES } from "../shared-rules/app-env";
import { appValueProblem } from "../shared-rules/app-values";
import { tierProblem } from "../shared-rules/cloud-sql";
import { GCP_REGIONS, regionProblem } from "../shared-rules/gcp-regions";
import { ROOT, lineIn } from "./harness";

// Inputs that plan today and would fail later, at GCP or in the app: the rules at their edges. The refusal
// catalogue (test/refusal-catalogue.ts) proves one row of each end to end.

/** The problems buildSpec finds in `stack`'s committed config with `overrides`, read with the files in `sources`. */
function problems(stack: string, overrides: Record<string, string> = {}, sources?: ConfigSources): readonly string[] {
  const loaded = loadStackConfig(ROOT, stack, overrides);
  try {
    buildSpec(stack, loaded.config, loaded.secretKeys, sources ?? loaded.sources);
    return [];
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
}

describe("Cloud SQL tiers (shared-rules/cloud-sql.ts)", () => {
  it.each([
    ["db-custom-1-3840", "ENTERPRISE"],
    ["db-custom-2-7680", "ENTERPRISE"],
    // 0.94 GB per vCPU, above the 0.9 floor; 6.5 GB per vCPU, the ceiling; 96 vCPUs, the most.
    ["db-custom-4-3840", "ENTERPRISE"],
    ["db-custom-2-13312", "ENTERPRISE"],
    ["db-custom-96-638976", "ENTERPRISE"],
    ["db-f1-micro", "ENTERPRISE"],
    ["db-perf-optimized-N-2", "ENTERPRISE_PLUS"],
  ] as const)("accepts %s in %s", (tier, edition) => {
    expect(tierProblem(tier, edition)).toBeUndefined();
  });

  it.each([
    ["db-custom-0-3840", "ENTERPRISE", /has 0 vCPUs; a custom tier has 1 or an even number from 2 to 96/],
    ["db-custom-98-638976", "ENTERPRISE", /has 98 vCPUs/],
    ["db-custom-5-19200", "ENTERPRISE", /has 5 vCPUs/],
    ["db-custom-1-3000", "ENTERPRISE", /3000 MB of memory, not a multiple of 256 MB \(2816 or 3072\)/],
    ["db-custom-1-3584", "ENTERPRISE", /3584 MB of memory; a custom tier has at least 3840 MB/],
    ["db-custom-2-13568", "ENTERPRISE", /6\.63 GB per vCPU; .* \(3840 to 13312 MB for 2 vCPUs\)/],
    ["db-custom-8-6144", "ENTERPRISE", /0\.75 GB per vCPU; .* \(7424 to 53248 MB for 8 vCPUs\)/],
    ["db-n1-highmem-4", "ENTERPRISE", /first-generation machine type.* is db-custom-4-26624/],
    ["db-custom-2-7680", "ENTERPRISE_PLUS", /exists only in the ENTERPRISE edition/],
    ["db-g1-small", "ENTERPRISE_PLUS", /exists only in the ENTERPRISE edition/],
    ["db-perf-optimized-N-2", "ENTERPRISE", /exists only in the ENTERPRISE_PLUS edition/],
  ] as const)("refuses %s in %s", (tier, edition, message) => {
    expect(tierProblem(tier, edition)).toMatch(message);
  });

  it("refuses a shape GCP does not offer in every key that names a tier, once", () => {
    expect(problems("prod", { "monitor:database": JSON.stringify({ tier: "db-custom-3-7680" }) })).toEqual([
      expect.stringMatching(/^monitor:database\.tier in Pulumi\.prod\.yaml: db-custom-3-7680 has 3 vCPUs/),
    ]);
    const preview = { ...JSON.parse(loadStackConfig(ROOT, "previews").config["monitor:preview"]) };
    expect(
      problems("previews", { "monitor:preview": JSON.stringify({ ...preview, instanceTier: "db-custom-4-3000" }) }),
    ).toEqual([
      expect.stringMatching(/^monitor:preview\.instanceTier in Pulumi\.previews\.yaml: .*not a multiple of 256/),
    ]);
  });
});

describe("regions (shared-rules/gcp-regions.ts)", () => {
  it("holds every region the committed stacks run in, and no name twice", () => {
    for (const stack of ["pr-1", "previews", "stage", "prod", "pipeline"]) {
      expect(GCP_REGIONS).toContain(loadStackConfig(ROOT, stack).config["gcp:region"]);
    }
    expect(new Set(GCP_REGIONS).size).toBe(GCP_REGIONS.length);
  });

  it("names the regions of the same area, or none when the area is unknown", () => {
    expect(regionProblem("us-central")).toMatch(/^"us-central" is not a region .* \(us: us-central1, us-central2, /);
    expect(regionProblem("mars-north1")).toBe(
      '"mars-north1" is not a region where Cloud SQL offers the ENTERPRISE edition',
    );
  });

  it("refuses a region-shaped name that is no region, once, with the list's source", () => {
    expect(problems("prod", { "gcp:region": "us-west5" })).toEqual([
      expect.stringMatching(
        /^gcp:region in Pulumi\.prod\.yaml: "us-west5" is not a region .*shared-rules\/gcp-regions\.ts/,
      ),
    ]);
  });
});

describe("app values by their declared type (shared-rules/app-values.ts)", () => {
  it("checks every variable by its declared type, and every committed value passes it", () => {
    // A value of the wrong shape for each kind of type: every declared variable must refuse its kind's (a type the
    // checker lets anything through for would be a declaration that checks nothing).
    const WRONG_SHAPE: Record<string, string> = {
      text: "",
      url: "example.com",
      integer: "5s",
      list: "not an item,",
      email: "not-an-email",
      uuid: "not-a-uuid",
      enum: "none-of-them",
      keyValueList: "no separator",
    };
    for (const [name, variable] of Object.entries(APP_VARIABLES)) {
      expect(appValueProblem(name, WRONG_SHAPE[variable.value.type]), `${name} (${variable.value.type})`).toBeDefined();
    }
    for (const stack of ["pr-1", "stage", "prod"]) {
      const env = JSON.parse(loadStackConfig(ROOT, stack).config["monitor:env"]) as Record<string, unknown>;
      for (const [name, value] of Object.entries(env)) expect(appValueProblem(name, value), name).toBeUndefined();
    }
  });

  it.each([
    ["HIBP_THROTTLE_DELAY", 0],
    ["HIBP_THROTTLE_MAX_TRIES", "5"],
    ["EMAIL_FROM", '"Mozilla Monitor" <breach-alerts@mozilla.com>'],
    ["ADMINS", "a@mozilla.com,b@mozilla.com"],
    ["HIBP_BREACH_DOMAIN_BLOCKLIST", "example.com,example.org"],
    ["NIMBUS_UUID_NAMESPACE", "00000000-0000-0000-0000-000000000000"],
    ["OAUTH_ACCOUNT_URI", "https://accounts.firefox.com"],
    ["REDIS_URL", "rediss://redis.internal:6380"],
    ["OTEL_RESOURCE_ATTRIBUTES", "service.namespace=monitor,deployment.environment=prod"],
  ])("accepts %s=%j", (name, value) => {
    expect(appValueProblem(name, value)).toBeUndefined();
  });

  it.each([
    ["HIBP_THROTTLE_MAX_TRIES", "0", /"0" is not a whole number of attempts from 1/],
    ["HIBP_THROTTLE_DELAY", "-5", /is not a whole number of milliseconds from 0/],
    [
      "DELETE_UNVERIFIED_SUBSCRIBERS_TIMER",
      "1 day",
      /a number with a unit; the app reads it with parseInt, as 1 seconds/,
    ],
    [
      "OAUTH_ACCOUNT_URI",
      "https://accounts.firefox.com/jwks",
      /would call .*\/jwks\/jwks.* Fix: end it before that path: https:\/\/accounts\.firefox\.com$/,
    ],
    ["OAUTH_TOKEN_URI", "http://oauth.example/v1/token", /is a http: URL; the app needs https:/],
    ["REDIS_URL", "redis.mock", /a URL without its scheme.* Fix: write it with one: redis:\/\/redis\.mock$/],
    ["ADMINS", "a@mozilla.com,,b@mozilla.com", /an empty item in .* is not an email address/],
    [
      "ADMINS",
      ["a@mozilla.com", "b@mozilla.com"],
      /YAML reads this as a list \[.*\].* Fix: write it as one value: a@mozilla\.com,b@mozilla\.com$/,
    ],
    ["SUPPORTED_LOCALES", "en,english", /"english" in "en,english" is not a locale/],
    ["EMAIL_FROM", "Mozilla Monitor", /is not an email address/],
    ["OAUTH_CLIENT_ID", 802, /YAML reads this as the number 802, so the app would get the text "802"/],
    ["S3_BUCKET", null, /YAML reads "S3_BUCKET:" with nothing after it as null/],
    ["OTEL_RESOURCE_ATTRIBUTES", "service.namespace=monitor,prod", /silently drops "prod"/],
  ])("refuses %s=%j", (name, value, message) => {
    const problem = appValueProblem(name, value);
    expect(problem && `${problem.problem}. Fix: ${problem.fix}`).toMatch(message);
  });
});

describe("YAML the CLI (YAML 1.1) and the plan (YAML 1.2) would read differently (infra/config/config-yaml.ts)", () => {
  const one = (text: string) => {
    const { problems: found } = readConfigYaml(text);
    expect(found).toHaveLength(1);
    return found[0];
  };

  it("finds nothing in the committed files", () => {
    for (const file of readdirSync(ROOT).filter((f) => /^Pulumi(\.[a-z0-9-]+)?\.yaml$/.test(f))) {
      expect(readConfigYaml(readFileSync(join(ROOT, file), "utf8")).problems, file).toEqual([]);
    }
  });

  it.each(["y", "Yes", "NO", "on", "Off"])("an unquoted %s, but not a quoted one", (word) => {
    expect(one(`config:\n  monitor:env:\n    A: ${word}\n`)).toMatchObject({
      line: 3,
      path: "config.monitor:env.A",
      problem: expect.stringMatching(
        new RegExp(`^${word} is unquoted: the Pulumi CLI \\(YAML 1\\.1\\) reads it as the boolean`),
      ),
    });
    expect(readConfigYaml(`config:\n  monitor:env:\n    A: "${word}"\n`).problems).toEqual([]);
  });

  it.each([
    ["0755", /the octal number 493 \(decimal\), npm run plan \(YAML 1\.2\) as the number 755/],
    ["089", /reads it as a float/],
    ["1_000", /reads it as a number, npm run plan \(YAML 1\.2\) as the text "1_000"/],
  ])("a number the readers disagree on: %s", (source, problem) => {
    expect(one(`config:\n  a: ${source}\n`).problem).toMatch(problem);
  });

  it("a merge key is one problem, not also its alias", () => {
    expect(one("config:\n  a: &x\n    b: 1\n  c:\n    <<: *x\n")).toMatchObject({ line: 5, path: "config.c.<<" });
  });

  it("an alias elsewhere, naming its anchor's line", () => {
    expect(one("config:\n  a: &x 1\n  c: *x\n").problem).toMatch(/^\*x repeats the value anchored at line 2/);
  });

  it("a syntax error, without the parser's position noise", () => {
    expect(one('config:\n  a: "open\n  b: 1\n')).toEqual({
      line: 4,
      path: "",
      problem: 'the YAML parser stops here: Missing closing "quote',
      fix: "correct the YAML syntax on that line",
    });
  });

  it("is refused by the program itself, as `pulumi preview` runs it, naming the file and line", async () => {
    const dir = mkdtempSync(join(tmpdir(), "config-yaml-"));
    for (const file of readdirSync(ROOT).filter((f) => /^Pulumi(\.[a-z0-9-]+)?\.yaml$/.test(f))) {
      const text = readFileSync(join(ROOT, file), "utf8");
      writeFileSync(
        join(dir, file),
        file === "Pulumi.prod.yaml" ? text.replace("    ADMINS:", "    ADMINS: x\n    ADMINS:") : text,
      );
    }
    const { config, secretKeys } = loadStackConfig(ROOT, "prod");
    await expect(evaluate("prod", { config, secretKeys, root: dir, program: buildStack })).rejects.toThrow(
      new RegExp(
        `^Stack "prod" has invalid configuration:\\n {2}- Pulumi\\.prod\\.yaml line ${lineIn("Pulumi.prod.yaml", "    ADMINS:") + 1}, ` +
          "monitor:env\\.ADMINS: ADMINS is given twice",
      ),
    );
  });
});

describe("keys nothing would read (infra/config/key-ownership.ts)", () => {
  it("leaves the CLI's own keys, and project-level keys of other kinds, alone", () => {
    expect(problems("stage", { "pulumi:disable-default-providers": '["docker"]' })).toEqual([]);
    // Pulumi.yaml's monitor:preview reaches prod, which does not read it: inherited, not prod's mistake.
    expect(loadStackConfig(ROOT, "prod").config["monitor:preview"]).toBeDefined();
    expect(problems("prod")).toEqual([]);
  });

  it("knows which providers each kind of stack uses", () => {
    expect(problems("pr-3", { "docker:host": "unix:///var/run/docker.sock" })).toEqual([]);
    expect(problems("stage", { "docker:host": "unix:///var/run/docker.sock" })).toEqual([
      expect.stringMatching(/^docker:host in Pulumi\.stage\.yaml: stage uses no docker provider/),
    ]);
  });

  it("suggests the key a typo was meant to be, case included", () => {
    expect(problems("stage", { "gcp:Project": "x" })).toEqual([
      expect.stringMatching(/the gcp provider has no key Project .* Fix: rename it to gcp:project$/),
    ]);
    expect(problems("stage", { "monitor:domian": "x" })).toEqual([
      expect.stringMatching(/unknown config key; .* Fix: rename it to monitor:domain$/),
    ]);
  });
});

describe("crossed environments (infra/config/crossed-environments.ts)", () => {
  const committed = () => loadStackConfig(ROOT, "prod").sources;

  it("refuses a preview on prod's project, naming prod's file", () => {
    const sources = committed();
    const onProd = { ...sources, project: { ...sources.project, "gcp:project": "moz-fx-monitor-prod" } };
    expect(problems("pr-3", { "gcp:project": "moz-fx-monitor-prod" }, onProd)).toEqual([
      expect.stringMatching(
        /^gcp:project in Pulumi\.yaml \(project-level config: previews have no stack file\): moz-fx-monitor-prod is prod's \(Pulumi\.prod\.yaml\) project/,
      ),
    ]);
  });

  it("lets the pipeline share prod's project: it serves every environment", () => {
    expect(loadStackConfig(ROOT, "pipeline").config["gcp:project"]).toBe("moz-fx-monitor-prod");
    expect(problems("pipeline", { "monitor:infraCommit": "3f9c2ab0123456789abcdef0123456789abcdef0" })).toEqual([]);
  });

  it("reports a value a stack only inherits on that stack, not on every other", () => {
    const sources = committed();
    const prodFile = Object.fromEntries(Object.entries(sources.stacks.prod).filter(([key]) => key !== "gcp:project"));
    const inherits = { ...sources, stacks: { ...sources.stacks, prod: prodFile } };
    expect(problems("pr-3", {}, inherits)).toEqual([]);
    // Prod without its own gcp:project runs in Pulumi.yaml's, the previews' project.
    expect(problems("prod", { "gcp:project": "moz-fx-monitor-previews" }, inherits)).toEqual([
      expect.stringMatching(
        /^gcp:project in Pulumi\.yaml: moz-fx-monitor-previews is previews \(pr-<N>\)'s \(Pulumi\.yaml\) and the previews platform's \(Pulumi\.previews\.yaml\) project/,
      ),
    ]);
  });
});

describe("alerts (issue 14: prod pages someone)", () => {
  it("requires a channel of prod, not of stage", () => {
    expect(loadStackConfig(ROOT, "stage").config["monitor:alerts"]).toBeUndefined();
    expect(problems("stage")).toEqual([]);
    const { config, sources } = loadStackConfig(ROOT, "prod");
    delete config["monitor:alerts"];
    expect(() => buildSpec("prod", config, [], sources)).toThrow(
      /monitor:alerts\.notificationChannels in Pulumi\.prod\.yaml: required for prod/,
    );
    expect(problems("prod", { "monitor:alerts": JSON.stringify({ notificationChannels: [] }) })).toEqual([
      expect.stringMatching(/^monitor:alerts\.notificationChannels in Pulumi\.prod\.yaml: required for prod/),
    ]);
  });
});

describe("one mistake, one message", () => {
  it("a bad secret source does not also report the app's required secrets as missing", () => {
    const secrets = JSON.parse(loadStackConfig(ROOT, "prod").config["monitor:secrets"]) as Record<string, string>;
    expect(problems("prod", { "monitor:secrets": JSON.stringify({ ...secrets, NEXTAUTH_SECRET: "vault" }) })).toEqual([
      expect.stringMatching(/^monitor:secrets\.NEXTAUTH_SECRET in Pulumi\.prod\.yaml: expected "managed"/),
    ]);
  });

  it("a bad Cirrus setting does not also report the sidecar as missing", () => {
    const cirrus = JSON.parse(loadStackConfig(ROOT, "stage").config["monitor:cirrus"]) as Record<string, string>;
    expect(problems("stage", { "monitor:cirrus": JSON.stringify({ ...cirrus, channel: "beta" }) })).toEqual([
      expect.stringMatching(/^monitor:cirrus\.channel in Pulumi\.stage\.yaml: /),
    ]);
  });

  it("a key refused as misplaced is not also checked for its value", () => {
    expect(problems("prod", { "monitor:appSource": "relative/path" })).toEqual([
      expect.stringMatching(/^monitor:appSource in Pulumi\.prod\.yaml: not read by prod/),
    ]);
  });
});
