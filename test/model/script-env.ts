/**
 * What each script under scripts/ reads from its environment, found in its source with the TypeScript compiler: the
 * scripts read inputs only through scripts/lib/cli.ts (`requireEnv`, `intEnv` without a default: required;
 * `optionalEnv`, `boolEnv`, `intEnv` with a default: optional) and through the lib helpers that call them
 * (`gitHubFromEnv`, `writeOutputs`, `appendSummary`), or read `env.X` directly (the runner's variables). A read inside a
 * branch (`if`, `?:`) is required only on that branch: reported as conditional.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { ROOT } from "../harness";

export type Need = "required" | "conditional" | "optional";

export interface EnvRead {
  readonly name: string;
  readonly need: Need;
}

const REQUIRED_CALLS = new Set(["requireEnv"]);
const OPTIONAL_CALLS = new Set(["optionalEnv", "boolEnv"]);

function isInBranch(node: ts.Node, stop: ts.Node): boolean {
  for (let n = node.parent; n && n !== stop; n = n.parent) {
    if (ts.isConditionalExpression(n) && n.condition !== node && !isAncestor(n.condition, node)) return true;
    if (ts.isIfStatement(n) && !isAncestor(n.expression, node)) return true;
    if (
      ts.isBinaryExpression(n) &&
      [ts.SyntaxKind.AmpersandAmpersandToken, ts.SyntaxKind.BarBarToken, ts.SyntaxKind.QuestionQuestionToken].includes(
        n.operatorToken.kind,
      ) &&
      isAncestor(n.right, node)
    ) {
      return true;
    }
  }
  return false;
}

function isAncestor(a: ts.Node, b: ts.Node): boolean {
  for (let n: ts.Node | undefined = b; n; n = n.parent) if (n === a) return true;
  return false;
}

/** Reads in one source file, by the function (top-level declaration) they are made in. */
function readsByFunction(file: string): Map<string, { reads: EnvRead[]; calls: Set<string> }> {
  const text = readFileSync(file, "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out = new Map<string, { reads: EnvRead[]; calls: Set<string> }>();
  const visitFunction = (name: string, body: ts.Node) => {
    const entry = { reads: [] as EnvRead[], calls: new Set<string>() };
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isIdentifier(node.expression)) {
        const callee = node.expression.text;
        entry.calls.add(callee);
        const arg = node.arguments[1];
        if (arg && ts.isStringLiteral(arg)) {
          let need: Need | undefined;
          if (REQUIRED_CALLS.has(callee)) need = "required";
          else if (OPTIONAL_CALLS.has(callee)) need = "optional";
          else if (callee === "intEnv") {
            const bounds = node.arguments[2];
            const hasDefault =
              bounds &&
              ts.isObjectLiteralExpression(bounds) &&
              bounds.properties.some((p) => p.name && ts.isIdentifier(p.name) && p.name.text === "default");
            need = hasDefault ? "optional" : "required";
          }
          if (need === "required" && isInBranch(node, body)) need = "conditional";
          if (need) entry.reads.push({ name: arg.text, need });
        }
      }
      // `env.NAME`: the runner's own variables (the token request, GITHUB_OUTPUT).
      if (
        ts.isPropertyAccessExpression(node) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === "env" &&
        /^[A-Z][A-Z0-9_]*$/.test(node.name.text)
      ) {
        entry.reads.push({ name: node.name.text, need: "optional" });
      }
      ts.forEachChild(node, visit);
    };
    visit(body);
    out.set(name, entry);
  };
  for (const statement of source.statements) {
    if (ts.isFunctionDeclaration(statement) && statement.name && statement.body) {
      visitFunction(statement.name.text, statement.body);
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.initializer) visitFunction(d.name.text, d.initializer);
      }
    } else if (ts.isClassDeclaration(statement) && statement.name) {
      visitFunction(statement.name.text, statement);
    }
  }
  return out;
}

const LIB = join(ROOT, "scripts/lib");
let libReads: Map<string, { reads: EnvRead[]; calls: Set<string> }> | undefined;
function lib() {
  libReads ??= new Map(
    readdirSync(LIB)
      .filter((f) => f.endsWith(".ts"))
      .flatMap((f) => [...readsByFunction(join(LIB, f))]),
  );
  return libReads;
}

/**
 * The variables `scripts/<name>.ts` reads when run as a CLI (its `main` and what main calls, in the file and in
 * scripts/lib), each with the strongest need found.
 */
export function scriptEnv(script: string): EnvRead[] {
  const local = readsByFunction(join(ROOT, script));
  const seen = new Set<string>();
  const reads: EnvRead[] = [];
  const visit = (name: string, table: Map<string, { reads: EnvRead[]; calls: Set<string> }>) => {
    const key = `${table === local ? "local" : "lib"}:${name}`;
    if (seen.has(key)) return;
    seen.add(key);
    const entry = table.get(name);
    if (!entry) return;
    reads.push(...entry.reads);
    for (const callee of entry.calls) {
      if (local.has(callee)) visit(callee, local);
      else if (lib().has(callee)) visit(callee, lib());
    }
  };
  visit("main", local);
  const rank: Record<Need, number> = { required: 2, conditional: 1, optional: 0 };
  const byName = new Map<string, EnvRead>();
  for (const r of reads) {
    const prev = byName.get(r.name);
    if (!prev || rank[r.need] > rank[prev.need]) byName.set(r.name, r);
  }
  return [...byName.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** A script's text with the scripts it imports (sweep-previews destroys through destroy-preview's functions). */
function withImports(file: string): string {
  const text = readFileSync(join(ROOT, file), "utf8");
  const imported = [...text.matchAll(/from "\.\/([a-z0-9-]+)"/g)].map((m) => withImports(`scripts/${m[1]}.ts`));
  return [text, ...imported].join("\n");
}

/**
 * What a script does with Pulumi, found by the calls it makes: the Automation API's methods, or the CLI's arguments
 * as an array (`["refresh", "--stack", stack, "--preview-only", ...]`, spawned). The Automation API's calls as its
 * source runs them (@pulumi/pulumi automation/localWorkspace.js, stack.js):
 * - `Workspace.listStacks()` is `pulumi stack ls --json` (localWorkspace.js `listStacks`); a script's own function of
 *   that name (the sweeper's listing of object names, `scriptListsState`) is not;
 * - `Stack.select` / `selectStack` run `pulumi stack select --stack <name>`;
 * - `Stack.destroy()` runs `pulumi destroy`, then `this.info()`, which is `history(1, undefined, undefined)`:
 *   `pulumi stack history --json --show-secrets --page-size 1` (`showSecrets ?? true`), which opens the stack's config
 *   secrets manager to decrypt the update's config (pkg/cmd/pulumi/stack/stack_history.go `GetDecrypter`);
 * - `removeStack(name)` is `pulumi stack rm --yes <name>`, `history(...)` with showSecrets false is plain
 *   `pulumi stack history --json`.
 */
export function scriptPulumiCalls(script: string): string[] {
  const text = withImports(script);
  if (/\[\s*"refresh",[^\]]*"--preview-only"/.test(text)) return ["refresh --preview-only"];
  const calls: [RegExp, string[]][] = [
    [/[wW]orkspace(?:\(\)\))?\.listStacks\(/, ["stack ls"]],
    [/\bselectStack\(|Stack\.select\(/, ["select"]],
    [/\.history\(/, ["stack history"]],
    [/\.destroy\(/, ["destroy", "stack history --show-secrets"]],
    [/\.removeStack\(/, ["stack rm"]],
    [/\.up\(/, ["up"]],
    [/\.refresh\(/, ["refresh"]],
    [/\.outputs\(/, ["stack output"]],
  ];
  return calls.filter(([re]) => re.test(text)).flatMap(([, ops]) => ops);
}

/**
 * Whether a script finds stacks by listing the state bucket's object names through the GCS JSON API
 * (scripts/lib/state-bucket.ts `gcsLister`, `listStacks`), rather than by any Pulumi command.
 */
export function scriptListsState(script: string): boolean {
  return /\bgcsLister\(/.test(withImports(script));
}

/**
 * Whether a script reads Cloud Monitoring's time series (projects.timeSeries.list, `/v3/projects/<p>/timeSeries` on
 * monitoring.googleapis.com: scripts/preview-admission.ts counts the previews holding connections with it).
 */
export function scriptReadsTimeSeries(script: string): boolean {
  const text = withImports(script);
  return /monitoring\.googleapis\.com/.test(text) && /\/v3\/projects\/.*\/timeSeries/.test(text);
}

/** What a script does to the image registry: `docker push`, spawned with an argument array. */
export function scriptRegistryCalls(script: string): "push"[] {
  return /"docker",\s*\[\s*"push"/.test(withImports(script)) ? ["push"] : [];
}

/**
 * The `--exclude` URN globs a script passes to the CLI (a string literal, or a constant of the script's), which the
 * engine matches against each resource's URN (pulumi/pulumi pkg/engine deployment.go getMatcher).
 */
export function scriptExcludes(script: string): string[] {
  const text = withImports(script);
  return [...text.matchAll(/"--exclude",\s*(?:"([^"]+)"|([A-Z][A-Z0-9_]*))/g)].flatMap(([, literal, name]) => {
    if (literal) return [literal];
    const value = new RegExp(`const ${name} = "([^"]+)"`).exec(text)?.[1];
    if (!value) throw new Error(`${script}: --exclude ${name} is not a string constant the model can read`);
    return [value];
  });
}
