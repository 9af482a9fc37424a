/**
 * Google's two CEL dialects, evaluated with a real CEL implementation (@bufbuild/cel):
 *
 * - **Workload identity federation**: a provider's `attributeMapping` (over `assertion`, the token's claims) and its
 *   `attributeCondition` (over `assertion`, `google` and `attribute`, the mapped attributes). Source: the
 *   `WorkloadIdentityPoolProvider` reference (`attribute_condition`: "The following keywords may be referenced in the
 *   expressions: assertion ... google ... attribute"; `attribute_mapping`: "You can use the assertion keyword"),
 *   mirrored in @pulumi/gcp `iam/workloadIdentityPoolProvider.d.ts`.
 * - **IAM Conditions**: over `resource.name`, `resource.type`, `resource.service`, `request.time` and
 *   `api.getAttribute(...)` (https://cloud.google.com/iam/docs/conditions-attribute-reference).
 *
 * What each dialect may call is an allowlist checked on the parsed expression before anything is evaluated: a function
 * that Google does not offer throws (a model that let it pass would prove nothing). Evaluation errors are results, not
 * exceptions: CEL's `||` and `&&` absorb an error when the other side decides (cel-spec langdef "Logical Operators"),
 * and IAM treats a condition part over an attribute the resource does not provide as "never interpreted as granting
 * access" (conditions-attribute-reference, "Support for inherited conditions"): the caller omits such an attribute
 * from `resource`, its access errors, and an error that reaches the top grants nothing.
 */
import {
  type CelFunc,
  type CelInput,
  CelScalar,
  celEnv,
  celMethod,
  celFunc,
  isCelError,
  isCelList,
  isCelMap,
  listType,
  mapType,
  objectType,
  parse,
  plan,
} from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";
import { TimestampSchema, timestampFromDate } from "@bufbuild/protobuf/wkt";

export type Dialect = "wif-mapping" | "wif-condition" | "iam";

/**
 * `extract(template)` exactly as conditions-attribute-reference ("Extract values from attributes") defines it: the
 * template is `prefix{identifier}suffix`, the identifier of letters, digits and underscores; with neither part the
 * whole value, with a prefix only the characters after its first occurrence, with a suffix only the characters before
 * its first occurrence, with both the characters between the first prefix and the first suffix after it; "If you
 * specify a prefix or suffix that don't appear in the attribute, or if the suffix appears only before the prefix, the
 * extract() function returns an empty string."
 */
export function extractTemplate(value: string, template: string): string {
  const m = /^([^{}]*)\{[A-Za-z0-9_]+\}([^{}]*)$/.exec(template);
  if (!m) {
    throw new Error(
      `extract() template "${template}" is not prefix{identifier}suffix (conditions-attribute-reference: the identifier is letters, digits and _)`,
    );
  }
  const [, prefix, suffix] = m;
  let start = 0;
  if (prefix !== "") {
    const at = value.indexOf(prefix);
    if (at < 0) return "";
    start = at + prefix.length;
  }
  if (suffix === "") return value.slice(start);
  const end = value.indexOf(suffix, start);
  return end < 0 ? "" : value.slice(start, end);
}

// The strings extension as @bufbuild/cel ships it (cel-spec's strings extension). Google documents CEL "with the
// strings extension" for neither dialect function by function; these are what its examples may use.
const STRINGS_EXTENSION = strings;

const EXTRACT = celMethod("extract", CelScalar.STRING, [CelScalar.STRING], CelScalar.STRING, function (template) {
  return extractTemplate(this, template);
});

/**
 * `list.hasOnly(items)`: "Checks that a list contains only the allowed items, or a subset of those items"
 * (conditions-attribute-reference, "Functions for API attributes"); an empty list has only allowed items.
 */
const HAS_ONLY = celMethod(
  "hasOnly",
  listType(CelScalar.DYN),
  [listType(CelScalar.DYN)],
  CelScalar.BOOL,
  function (items) {
    const allowed = [...items];
    return [...this].every((v) => allowed.includes(v));
  },
);

/**
 * `api.getAttribute(name, default)`: the API attribute, or the default "if the API attribute is not available"
 * (conditions-attribute-reference, "Functions for API attributes").
 */
const GET_ATTRIBUTE = celMethod(
  "getAttribute",
  mapType(CelScalar.STRING, CelScalar.DYN),
  [CelScalar.STRING, CelScalar.DYN],
  CelScalar.DYN,
  function (name, fallback) {
    return this.has(name) ? (this.get(name) as typeof fallback) : fallback;
  },
);

/** `date("YYYY-MM-DD")`: that date at 00:00:00.000 UTC (conditions-attribute-reference, "Date/time attribute"). */
const DATE = celFunc("date", [CelScalar.STRING], objectType(TimestampSchema), (value) => {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) throw new Error(`date("${value}") is not YYYY-MM-DD`);
  return timestampFromDate(new Date(`${value}T00:00:00.000Z`));
});

/** cel-spec langdef's standard definitions (functions; operators are checked by their `_op_` form). */
const STANDARD = [
  "size",
  "contains",
  "startsWith",
  "endsWith",
  "matches",
  "int",
  "uint",
  "double",
  "string",
  "bytes",
  "bool",
  "dyn",
  "type",
  "timestamp",
  "duration",
  "getFullYear",
  "getMonth",
  "getDate",
  "getDayOfMonth",
  "getDayOfWeek",
  "getDayOfYear",
  "getHours",
  "getMinutes",
  "getSeconds",
  "getMilliseconds",
];

interface DialectSpec {
  readonly variables: readonly string[];
  readonly extra: readonly CelFunc[];
}

const DIALECTS: Record<Dialect, DialectSpec> = {
  // A mapping sees the assertion only; `extract` appears in Google's default AWS mapping
  // (`assertion.arn.extract('{account_arn}assumed-role/')`, workloadIdentityPoolProvider.d.ts).
  "wif-mapping": { variables: ["assertion"], extra: [...STRINGS_EXTENSION, EXTRACT] },
  "wif-condition": { variables: ["assertion", "google", "attribute"], extra: [...STRINGS_EXTENSION, EXTRACT] },
  iam: {
    variables: ["resource", "request", "api"],
    extra: [...STRINGS_EXTENSION, EXTRACT, HAS_ONLY, GET_ATTRIBUTE, DATE],
  },
};

const OPERATOR = /^(_.*_|@.+|!_|-_)$/;

type Expr = ReturnType<typeof parse>["expr"];

/** Every function a parsed expression calls, and every free variable it names. */
function walk(expr: Expr | undefined, calls: Set<string>, idents: Set<string>, bound: ReadonlySet<string>): void {
  if (!expr) return;
  const kind = expr.exprKind;
  switch (kind.case) {
    case "identExpr":
      if (!bound.has(kind.value.name)) idents.add(kind.value.name);
      return;
    case "selectExpr":
      return walk(kind.value.operand, calls, idents, bound);
    case "callExpr":
      calls.add(kind.value.function);
      walk(kind.value.target, calls, idents, bound);
      for (const arg of kind.value.args) walk(arg, calls, idents, bound);
      return;
    case "listExpr":
      for (const e of kind.value.elements) walk(e, calls, idents, bound);
      return;
    case "structExpr":
      for (const e of kind.value.entries) {
        if (e.keyKind.case === "mapKey") walk(e.keyKind.value, calls, idents, bound);
        walk(e.value, calls, idents, bound);
      }
      return;
    case "comprehensionExpr": {
      const c = kind.value;
      walk(c.iterRange, calls, idents, bound);
      walk(c.accuInit, calls, idents, bound);
      const inner = new Set([...bound, c.iterVar, c.iterVar2, c.accuVar].filter(Boolean));
      walk(c.loopCondition, calls, idents, inner);
      walk(c.loopStep, calls, idents, inner);
      walk(c.result, calls, idents, inner);
      return;
    }
    default:
      return;
  }
}

export type CelResult = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly error: string };

export interface CompiledExpression {
  readonly dialect: Dialect;
  readonly source: string;
  /** Evaluates with the dialect's variables bound (an absent one is an unresolved attribute: an error result). */
  evaluate(bindings: Readonly<Record<string, CelInput>>): CelResult;
}

const environments = new Map<Dialect, ReturnType<typeof celEnv>>();
function environment(dialect: Dialect) {
  let env = environments.get(dialect);
  if (!env) {
    env = celEnv({ funcs: [...DIALECTS[dialect].extra] });
    environments.set(dialect, env);
  }
  return env;
}

/**
 * Parses `source` in `dialect`. Throws on a syntax error, a function the dialect does not offer, or a variable it
 * does not bind: each would be refused by Google when the provider or binding is written.
 */
export function compile(dialect: Dialect, source: string): CompiledExpression {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(source);
  } catch (err) {
    throw new Error(`${dialect} expression does not parse: ${(err as Error).message}\n  ${source}`, { cause: err });
  }
  const calls = new Set<string>();
  const idents = new Set<string>();
  walk(parsed.expr, calls, idents, new Set());
  const spec = DIALECTS[dialect];
  const offered = new Set([...STANDARD, ...spec.extra.map((f) => f.name)]);
  const unsupported = [...calls].filter((f) => !OPERATOR.test(f) && !offered.has(f));
  if (unsupported.length > 0) {
    throw new Error(`${dialect} does not offer ${unsupported.join(", ")}()\n  ${source}`);
  }
  const unknown = [...idents].filter((v) => !spec.variables.includes(v));
  if (unknown.length > 0) {
    throw new Error(
      `${dialect} binds ${spec.variables.join(", ")}; the expression names ${unknown.join(", ")}\n  ${source}`,
    );
  }
  const run = plan(environment(dialect), parsed);
  return {
    dialect,
    source,
    evaluate(bindings) {
      let value: unknown;
      try {
        value = run(bindings);
      } catch (err) {
        return { ok: false, error: (err as Error).message };
      }
      if (isCelError(value)) return { ok: false, error: value.message };
      return { ok: true, value: toJs(value) };
    },
  };
}

/** CEL values back to plain JS: lists and maps to arrays and objects, ints to numbers. */
function toJs(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (isCelList(value)) return [...value].map(toJs);
  if (isCelMap(value))
    return Object.fromEntries(
      [...value.entries()].map(([k, v]) => [typeof k === "object" ? JSON.stringify(k) : String(k), toJs(v)]),
    );
  return value;
}

/** A condition's verdict: granted only when it evaluates to `true`; false and errors grant nothing. */
export function isTrue(result: CelResult): boolean {
  return result.ok && result.value === true;
}

/** The IAM `request.time` binding for a JS date. */
export const requestTime = (date: Date): CelInput => timestampFromDate(date);
