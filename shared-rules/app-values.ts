import { APP_VARIABLES, type ValueType } from "./app-env";
import { HOSTNAME } from "./hostname";

/**
 * Whether a plain env value is one the app can use, by the type shared-rules/app-env.ts declares for it. The value
 * is what YAML made of the text in the stack file (text, a number, a boolean, a list, null), so a value YAML read as
 * another type than the app expects is caught here too: every env value reaches the app as text.
 */

export interface ValueProblem {
  /** What is wrong, naming the value. */
  readonly problem: string;
  /** What to write instead. */
  readonly fix: string;
}

/**
 * The uuid package's validate() (src/regex.ts in uuidjs/uuid, the `^14` blurts-server depends on): versions 1-8 of
 * RFC 9562, the nil and the max UUID. v5() parses its namespace with it and throws on anything else.
 */
const UUID =
  /^(?:[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}|0{8}-0{4}-0{4}-0{4}-0{12}|f{8}-f{4}-f{4}-f{4}-f{12})$/i;
/** A BCP 47 language tag as the app's locale directories are named (`en`, `es-ES`, `zh-TW`, `kab`). */
const LOCALE = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const ADDRESS = /^[^\s@<>,"]+@[^\s@<>,"]+\.[^\s@<>,"]+$/;
/** `Display Name <address>`, the name optionally quoted. */
const NAMED_ADDRESS = /^(?:"[^"]*"|[^<>"]*)\s*<([^<>]+)>$/;
const SCHEME = /^[a-z][a-z0-9+.-]*:\/\//i;

const ITEMS: Record<
  "locale" | "email" | "domain",
  { readonly test: (item: string) => boolean; readonly what: string }
> = {
  locale: { test: (item) => LOCALE.test(item), what: "a locale such as en or es-ES" },
  email: { test: (item) => ADDRESS.test(item), what: "an email address" },
  domain: { test: (item) => HOSTNAME.test(item), what: "a domain such as example.com" },
};

function urlProblem(value: string, type: Extract<ValueType, { type: "url" }>): ValueProblem | undefined {
  const example = `${type.schemes[0]}//`;
  if (!SCHEME.test(value)) {
    return { problem: `"${value}" is a URL without its scheme`, fix: `write it with one: ${example}${value}` };
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: `"${value}" is not a URL the app can parse`, fix: `write a URL such as ${example}host/path` };
  }
  if (!type.schemes.includes(url.protocol)) {
    return {
      problem: `"${value}" is a ${url.protocol} URL; the app needs ${type.schemes.join(" or ")}`,
      fix: `use a ${type.schemes.join(" or ")} URL`,
    };
  }
  if (type.appends) {
    const first = type.appends.split("/")[1];
    const trimmed = value.replace(/\/+$/, "");
    if (value.endsWith("/") || trimmed.endsWith(`/${first}`)) {
      return {
        problem: `the app appends ${type.appends} to it as text, so "${value}" would call ${value}${type.appends}`,
        fix: `end it before that path: ${trimmed.endsWith(`/${first}`) ? trimmed.slice(0, -first.length - 1) : trimmed}`,
      };
    }
  }
  return undefined;
}

function textProblem(value: string, type: ValueType): ValueProblem | undefined {
  switch (type.type) {
    case "text":
      return undefined;
    case "url":
      return urlProblem(value, type);
    case "integer": {
      const unit = /^\s*(-?\d+)\s*([a-z]+)\s*$/i.exec(value);
      if (unit) {
        return {
          problem: `"${value}" is a number with a unit; the app reads it with parseInt, as ${unit[1]} ${type.unit}`,
          fix: `write the number of ${type.unit} alone`,
        };
      }
      if (!/^\d+$/.test(value) || Number(value) < type.min) {
        return {
          problem: `"${value}" is not a whole number of ${type.unit} from ${type.min}`,
          fix: "write digits only",
        };
      }
      return undefined;
    }
    case "list": {
      const items = value.split(",");
      const spaced = items.find((item) => item !== item.trim());
      if (spaced !== undefined) {
        return {
          problem: `the app splits "${value}" on "," without trimming, so "${spaced}" keeps its spaces`,
          fix: `write it without spaces: ${items.map((i) => i.trim()).join(",")}`,
        };
      }
      const item = ITEMS[type.item];
      const bad = items.filter((i) => !item.test(i));
      if (bad.length > 0) {
        return {
          problem: `${bad.map((b) => (b === "" ? "an empty item" : `"${b}"`)).join(", ")} in "${value}" is not ${item.what}`,
          fix: `write ${item.what}s separated by "," alone`,
        };
      }
      return undefined;
    }
    case "email": {
      const address = NAMED_ADDRESS.exec(value)?.[1]?.trim() ?? value;
      return ADDRESS.test(address)
        ? undefined
        : { problem: `"${value}" is not an email address`, fix: "write name@example.com or Name <name@example.com>" };
    }
    case "uuid":
      return UUID.test(value)
        ? undefined
        : {
            problem: `"${value}" is not a UUID the app's uuid package accepts`,
            fix: "write one such as the output of uuidgen",
          };
    case "enum":
      return type.values.includes(value)
        ? undefined
        : {
            problem: `"${value}" is not one of ${type.values.join(", ")} (the app would silently use its fallback)`,
            fix: `write one of ${type.values.join(", ")}`,
          };
    case "keyValueList": {
      const dropped = value.split(",").filter((segment) => segment.trim() !== "" && !/^[^=]+=.+$/.test(segment.trim()));
      return dropped.length === 0
        ? undefined
        : {
            problem: `the app silently drops ${dropped.map((d) => `"${d}"`).join(", ")} of "${value}" (no key=value)`,
            fix: 'write key=value pairs separated by ","',
          };
    }
  }
}

/** What YAML turned a value into, said as a person would read it. */
function yamlReading(raw: unknown): string {
  if (raw === null) return "nothing (null)";
  if (Array.isArray(raw)) return `a list [${raw.map(String).join(", ")}]`;
  return `the ${typeof raw} ${JSON.stringify(raw)}`;
}

/**
 * Why the app could not use `raw` (what YAML produced) as the value of the app variable `name`, or undefined when it
 * can. Unknown names are for the caller: the catalogue has no type for them.
 */
export function appValueProblem(name: string, raw: unknown): ValueProblem | undefined {
  const variable = APP_VARIABLES[name];
  if (!variable) return undefined;
  const type = variable.value;
  if (raw === null || raw === "") {
    return {
      problem:
        raw === null
          ? `YAML reads "${name}:" with nothing after it as null, which would reach the app as the text null`
          : `it is empty, which the app takes as unset${variable.required ? ", and it refuses to start without it" : ""}`,
      fix: "give it a value, or remove it",
    };
  }
  if (Array.isArray(raw) && type.type === "list") {
    return {
      problem: `YAML reads this as ${yamlReading(raw)}, but the app reads ${name} as one text, split on ","`,
      fix: `write it as one value: ${raw.map(String).join(",")}`,
    };
  }
  if (typeof raw === "object") {
    return {
      problem: `YAML reads this as ${yamlReading(raw)}; env values are text`,
      fix: "give it one value, nested in nothing",
    };
  }
  // A number or a boolean: what the CLI hands the app is its JSON text.
  const text = typeof raw === "string" ? raw : JSON.stringify(raw);
  const numeric = typeof raw === "number" && type.type === "integer";
  if (typeof raw !== "string" && !numeric && type.type !== "enum") {
    return {
      problem: `YAML reads this as ${yamlReading(raw)}, so the app would get the text "${text}"`,
      fix: `quote the value as the app should read it, e.g. "${text}"`,
    };
  }
  return textProblem(text, type);
}

/** The value prod must run `name` with, where the catalogue says there is only one. */
export function prodValueOf(name: string): string | undefined {
  return APP_VARIABLES[name]?.prod;
}
