import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import Ajv from "ajv/dist/2020";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { loadStackConfig, readYaml } from "../infra/engine/config-files";
import { ROOT } from "./harness";

describe("Pulumi.yaml", () => {
  const project = readYaml(join(ROOT, "Pulumi.yaml"));

  it("validates against Pulumi's own project schema", () => {
    const validate = new Ajv({ strict: false, allErrors: true }).compile(
      readYaml(join(ROOT, "schemas/pulumi-project.schema.json")),
    );
    expect(validate(project), JSON.stringify(validate.errors)).toBe(true);
  });

  it("is the monitor project, TypeScript on Node.js, with its program in infra/", () => {
    expect(project).toMatchObject({
      name: "monitor",
      runtime: { name: "nodejs", options: { typescript: true } },
      main: "infra/",
    });
  });

  it("declares project config as Pulumi requires: objects under value:, no secure values", () => {
    for (const [key, entry] of Object.entries<any>(project.config)) {
      if (typeof entry === "object" && entry !== null) {
        expect(
          Object.keys(entry).every((k) => ["type", "description", "secret", "default", "value", "items"].includes(k)),
          key,
        ).toBe(true);
        expect(entry.secure, key).toBeUndefined();
      }
    }
  });
});

describe("the program as the Pulumi CLI runs it", () => {
  it("finds the project's strict TypeScript settings from infra/, where the CLI runs it", () => {
    // With `main: infra/` the CLI's ts-node reads only infra/tsconfig.json; without it, ES2015 defaults would
    // refuse Object.fromEntries and friends at `pulumi preview`.
    const parsed = ts.getParsedCommandLineOfConfigFile(
      join(ROOT, "infra/tsconfig.json"),
      {},
      {
        ...ts.sys,
        onUnRecoverableConfigFileDiagnostic: (d) => {
          throw new Error(ts.flattenDiagnosticMessageText(d.messageText, "\n"));
        },
      },
    );
    expect(parsed?.errors).toEqual([]);
    expect(parsed?.options).toMatchObject({
      strict: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.CommonJS,
    });
  });

  it("names the entry point in package.json too, for the CLI's lookup", () => {
    expect(readYaml(join(ROOT, "package.json")).main).toBe("infra/index.ts");
  });
});

describe("stack files", () => {
  const stackFiles = readdirSync(ROOT).filter((f) => /^Pulumi\.[a-z0-9-]+\.yaml$/.test(f));

  it.each(stackFiles)("%s holds only config (plus a secrets provider), never a placeholder ciphertext", (file) => {
    const content = readYaml(join(ROOT, file));
    expect(Object.keys(content).every((k) => ["config", "secretsprovider", "encryptedkey"].includes(k))).toBe(true);
    const secure = JSON.stringify(content).match(/"secure":"([^"]*)"/g) ?? [];
    for (const s of secure) expect(s).toMatch(/"secure":"v1:[A-Za-z0-9+/=:]{20,}"/);
  });

  it("reads secure values as marked placeholders, never as the ciphertext", () => {
    const { config, secretKeys } = loadStackConfig(ROOT, "pr-1", {});
    expect(secretKeys).toEqual([]);
    expect(config["monitor:env"]).toContain("NODE_ENV");
  });
});

describe(".github/CODEOWNERS", () => {
  // GitHub's syntax: `<pattern> <owner>...`; a pattern with a leading slash is anchored at the root, one with a
  // trailing slash is a directory and everything below it
  // (https://docs.github.com/en/repositories/managing-your-repositorys-settings-and-features/customizing-your-repository/about-code-owners#example-of-a-codeowners-file).
  const owned = readFileSync(join(ROOT, ".github/CODEOWNERS"), "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "" && !line.startsWith("#"))
    .map((line) => line.trim().split(/\s+/));

  it("names only paths that exist, each with an owner", () => {
    for (const [pattern, ...owners] of owned) {
      expect(pattern, pattern).toMatch(/^\//);
      expect(existsSync(join(ROOT, pattern)), pattern).toBe(true);
      expect(owners.length, pattern).toBeGreaterThan(0);
    }
  });

  it("asks SRE to review what decides prod: its config, the pipeline's, and the rules every stack is held to", () => {
    const patterns = owned.map(([pattern]) => pattern);
    expect(patterns).toEqual(expect.arrayContaining(["/Pulumi.prod.yaml", "/Pulumi.pipeline.yaml", "/shared-rules/"]));
  });
});

describe("shared-rules/", () => {
  // The pack carries a copy of these files alone (policies/sync-shared-rules.js): a note they cite must be one a
  // reader of this repository can open, and the app's sources are cited by repository and path instead.
  it.each(readdirSync(join(ROOT, "shared-rules")))("%s cites only documents in this repository", (file) => {
    const text = readFileSync(join(ROOT, "shared-rules", file), "utf8");
    for (const [cited] of text.matchAll(/[\w./-]+\.md\b/g)) expect(existsSync(join(ROOT, cited)), cited).toBe(true);
  });
});
