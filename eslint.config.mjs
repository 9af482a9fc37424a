// One lint configuration for the whole repository (`npm run lint`; `npm test` runs it).
// typescript-eslint's type-checked recommended rules plus @pulumi/eslint-plugin's rules, which need type
// information too (they ask the checker whether a template literal interpolates an Output). Formatting is
// Prettier's alone: eslint-config-prettier, last, turns off every rule that would disagree with it.
import js from "@eslint/js";
import pulumi from "@pulumi/eslint-plugin";
import prettier from "eslint-config-prettier";
import { defineConfig } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  {
    // Generated or installed, not written here. (node_modules/ at any depth is ignored by ESLint itself.)
    ignores: ["policies/shared-rules/", "coverage/", ".pulumi/"],
  },
  {
    linterOptions: { reportUnusedDisableDirectives: "error" },
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        // One program, the root tsconfig's, which includes every TypeScript file (infra/'s and policies/'s own
        // tsconfigs exist for the Pulumi runners and cover a subset): the language service would build one per
        // tsconfig, each loading @pulumi/gcp's declarations again, for about a third more of npm test's CPU.
        project: ["./tsconfig.json"],
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
  {
    // The plugin's package exports its rules only (no preset): both, as errors. Outputs live in TypeScript only.
    files: ["**/*.ts"],
    plugins: { "@pulumi": pulumi },
    rules: {
      "@pulumi/no-output-in-template-literal": "error",
      "@pulumi/no-output-instance-in-template-literal": "error",
    },
  },
  {
    // The tool configs and the test runner (ES modules outside the TypeScript program): syntax rules only.
    files: ["**/*.mjs", "**/*.mts"],
    extends: [tseslint.configs.disableTypeChecked],
  },
  {
    rules: {
      // TypeScript resolves every name (tsc for .ts, the project service for .js and .mjs) and knows Node's globals
      // from @types/node; this rule knows neither, and would flag process, Buffer and require in every script.
      "no-undef": "off",
    },
  },
  {
    // Plain CommonJS run by node directly (the plan's loader, the policy pack's copy step): not type-checked.
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: { sourceType: "commonjs" },
    rules: {
      // CommonJS is what these files are: node loads them with require() before any TypeScript runs.
      "@typescript-eslint/no-require-imports": "off",
    },
  },
  {
    // The suites read what the engine recorded: resource inputs are JSON from the mock monitor, typed `any` by the
    // SDK itself, and a test reads them by path (`r.inputs.template.containers[0].envs`). Typing every path would
    // restate the provider's schema in each suite; a wrong path already fails its assertion, which is the check.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  {
    // CrossGuard hands a rule the resource's inputs as `any` (@pulumi/policy's `props: Record<string, any>`), behind
    // a proxy that throws on values a preview does not know. Rules read them by path and treat any other shape as
    // absent (`typeof x === "string"`, `?? []`), which is the check; restating every provider schema would not be.
    files: ["policies/rules/**/*.ts", "policies/offline.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
  prettier,
);
