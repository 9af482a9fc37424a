/**
 * GitHub Actions' expression language, the subset the workflow files' `if:` conditions use
 * (github/docs `content/actions/reference/workflows-and-actions/expressions.md`): literals, context paths, `!`, `==`,
 * `!=`, `&&`, `||`, parentheses, `startsWith`, `endsWith`, `contains`, and the status functions. Semantics from that
 * page: "GitHub ignores case when comparing strings"; `&&`/`||` return an operand, not a boolean; a missing property is
 * null; `success()` is the default status check. Anything else throws, so an unmodelled condition is noticed.
 */

export type Context = Readonly<Record<string, unknown>>;

type Token = { kind: "str" | "num" | "id" | "op"; text: string };

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_.-]*)|(==|!=|&&|\|\||[!(),]))/y;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(source);
    if (!m) throw new Error(`cannot read the expression at "${source.slice(at)}"`);
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: "str", text: m[1].slice(1, -1).replace(/''/g, "'") });
    else if (m[2]) tokens.push({ kind: "num", text: m[2] });
    else if (m[3]) tokens.push({ kind: "id", text: m[3] });
    else tokens.push({ kind: "op", text: m[4] });
  }
  return tokens;
}

/** A value as a string, the way expressions.md casts one: null is "", booleans and numbers as written. */
export function asString(v: unknown): string {
  if (v === null || v === undefined) return "";
  return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v);
}

const truthy = (v: unknown) => !(v === null || v === undefined || v === false || v === 0 || v === "");
const loose = (a: unknown, b: unknown) =>
  typeof a === "string" && typeof b === "string" ? a.toLowerCase() === b.toLowerCase() : a === b;

/** Evaluates a GitHub expression (with or without `${{ }}`) against `context`. */
export function evaluateExpression(
  expression: string,
  context: Context,
  status: "success" | "failure" = "success",
): unknown {
  const source = expression.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, "$1");
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i];
  const take = (text?: string) => {
    const t = tokens[i++];
    if (!t || (text !== undefined && t.text !== text)) throw new Error(`expected ${text ?? "a token"} in ${source}`);
    return t;
  };
  const lookup = (path: string): unknown =>
    path
      .split(".")
      .reduce<unknown>((v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : null), context) ??
    null;
  const call = (name: string, args: unknown[]): unknown => {
    const s = (v: unknown) => asString(v).toLowerCase();
    switch (name) {
      case "startsWith":
        return s(args[0]).startsWith(s(args[1]));
      case "endsWith":
        return s(args[0]).endsWith(s(args[1]));
      case "contains":
        return Array.isArray(args[0]) ? args[0].some((v) => loose(v, args[1])) : s(args[0]).includes(s(args[1]));
      case "success":
        return status === "success";
      case "failure":
        return status === "failure";
      case "always":
        return true;
      case "cancelled":
        return false;
      default:
        throw new Error(`the model does not evaluate ${name}() in ${source}`);
    }
  };
  const primary = (): unknown => {
    const t = take();
    if (t.kind === "str") return t.text;
    if (t.kind === "num") return Number(t.text);
    if (t.kind === "op" && t.text === "!") return !truthy(primary());
    if (t.kind === "op" && t.text === "(") {
      const v = or();
      take(")");
      return v;
    }
    if (t.kind === "id") {
      if (t.text === "true") return true;
      if (t.text === "false") return false;
      if (t.text === "null") return null;
      if (peek()?.text === "(") {
        take("(");
        const args: unknown[] = [];
        while (peek()?.text !== ")") {
          args.push(or());
          if (peek()?.text === ",") take(",");
        }
        take(")");
        return call(t.text, args);
      }
      return lookup(t.text);
    }
    throw new Error(`unexpected ${t.text} in ${source}`);
  };
  const equality = (): unknown => {
    let left = primary();
    while (peek()?.text === "==" || peek()?.text === "!=") {
      const op = take().text;
      const right = primary();
      left = op === "==" ? loose(left, right) : !loose(left, right);
    }
    return left;
  };
  const and = (): unknown => {
    let left = equality();
    while (peek()?.text === "&&") {
      take();
      const right = equality();
      left = truthy(left) ? right : left;
    }
    return left;
  };
  const or = (): unknown => {
    let left = and();
    while (peek()?.text === "||") {
      take();
      const right = and();
      left = truthy(left) ? left : right;
    }
    return left;
  };
  const value = or();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${source}`);
  return value;
}

/** A job's or step's `if:`: absent means `success()`; the result is truthy or not. */
export function conditionHolds(condition: string | undefined, context: Context): boolean {
  return condition === undefined ? true : truthy(evaluateExpression(condition, context));
}

/** Replaces every `${{ ... }}` in a string with its value (the way GitHub renders `with:`, `env:`, `environment`). */
export function render(text: string, context: Context): string {
  return text.replace(/\$\{\{([\s\S]*?)\}\}/g, (_, e: string) => {
    return asString(evaluateExpression(e, context));
  });
}
