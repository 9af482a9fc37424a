import { type Document, LineCounter, type Node, isPair, isScalar, parseDocument, visit } from "yaml";

/**
 * Reads a config file (Pulumi.yaml, Pulumi.<stack>.yaml) and finds what two YAML readers would read differently, or
 * a person would misread: the Pulumi CLI reads these files with gopkg.in/yaml.v2, a YAML 1.1 reader
 * (pulumi/pulumi sdk/go/common/encoding/marshal.go imports it), where `y`/`yes`/`on`, `n`/`no`/`off` are booleans
 * (go-yaml/yaml v2.4.0 resolve.go lines 37-42), a leading 0 makes an octal number (line 151, strconv.ParseInt with
 * base 0) and `<<` merges a mapping in (line 48);
 * `npm run plan` and this program read YAML 1.2 (the `yaml` package), where they are text, a decimal and a key.
 * A key given twice, an alias (a value that changes when another key's does) and a syntax error are refused too:
 * each with its line, the key, what is wrong and the fix.
 */

export interface YamlProblem {
  readonly line: number;
  /** Dotted keys down to the node (`config.monitor:env.ADMINS`); empty where the parser stopped. */
  readonly path: string;
  readonly problem: string;
  readonly fix: string;
}

/** Plain scalars YAML 1.1 reads as booleans (yaml.v2 resolve.go's table), YAML 1.2 as text. */
const YAML11_BOOLEANS: Readonly<Record<string, boolean>> = Object.fromEntries([
  ...["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"].map((w) => [w, true] as const),
  ...["n", "N", "no", "No", "NO", "off", "Off", "OFF"].map((w) => [w, false] as const),
]);

/** Why YAML 1.1 (the CLI) and YAML 1.2 (the plan) read a plain scalar differently, with the fix; undefined if alike. */
function divergence(source: string): { problem: string; fix: string } | undefined {
  const readings = (cli: string, plan: string) =>
    `${source} is unquoted: the Pulumi CLI (YAML 1.1) reads it as ${cli}, npm run plan (YAML 1.2) as ${plan}`;
  if (source in YAML11_BOOLEANS) {
    const value = YAML11_BOOLEANS[source];
    return {
      problem: readings(`the boolean ${value}`, `the text "${source}"`),
      fix: `quote it ("${source}"), or write ${value} if a boolean is meant`,
    };
  }
  if (/^[-+]?0[0-9]+$/.test(source)) {
    const cli = /[89]/.test(source) ? "a float" : `the octal number ${parseInt(source, 8)} (decimal)`;
    return {
      problem: readings(cli, `the number ${Number(source)}`),
      fix: `quote it ("${source}") if it is text, or drop the leading zero`,
    };
  }
  if (/^[-+]?(0b[01_]+|[0-9][0-9_]*_[0-9_]*)$/.test(source)) {
    return {
      problem: readings("a number", `the text "${source}"`),
      fix: `quote it ("${source}") if it is text, or write the number without "_" or "0b"`,
    };
  }
  return undefined;
}

function keyText(node: unknown): string {
  return isScalar(node) ? String(node.value) : "?";
}

/** The dotted keys of the pairs above a node, from the visitor's ancestors. */
function pathOf(ancestors: readonly unknown[], own?: unknown): string {
  const keys = ancestors.filter(isPair).map((pair) => keyText(pair.key));
  if (own !== undefined) keys.push(keyText(own));
  return keys.join(".");
}

export interface ConfigYaml {
  /** The file's content as JavaScript values (YAML 1.2), or undefined where it could not be parsed. */
  readonly value: unknown;
  readonly problems: readonly YamlProblem[];
}

export function readConfigYaml(text: string): ConfigYaml {
  const lines = new LineCounter();
  const doc: Document = parseDocument(text, { lineCounter: lines, uniqueKeys: false });
  const lineOf = (offset: number) => lines.linePos(offset).line;
  // A syntax error makes the rest of the parse guesswork: its first error is the one to fix.
  const syntax = doc.errors[0];
  if (syntax) {
    const line = syntax.linePos?.[0].line ?? 0;
    return {
      value: undefined,
      problems: [
        syntax.code === "TAB_AS_INDENT"
          ? {
              line,
              path: "",
              problem: "a tab indents this line; YAML indents with spaces only",
              fix: "indent with spaces",
            }
          : {
              line,
              path: "",
              problem: `the YAML parser stops here: ${syntax.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`,
              fix: "correct the YAML syntax on that line",
            },
      ],
    };
  }

  const problems: YamlProblem[] = [];
  visit(doc, {
    Map(_, map, ancestors) {
      const seen = new Map<string, number>();
      for (const pair of map.items) {
        const key = keyText(pair.key);
        const line = lineOf((pair.key as Node | null)?.range?.[0] ?? 0);
        const first = seen.get(key);
        if (first !== undefined) {
          problems.push({
            line,
            path: pathOf([...ancestors, map], pair.key),
            problem: `${key} is given twice in one mapping (lines ${first} and ${line}); YAML forbids it, and readers keep one of the two silently`,
            fix: "keep one",
          });
        } else seen.set(key, line);
      }
    },
    Pair(_, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.value === "<<" && pair.key.type === "PLAIN") {
        problems.push({
          line: lineOf(pair.key.range?.[0] ?? 0),
          path: pathOf(ancestors, pair.key),
          problem:
            "a merge key: the Pulumi CLI (YAML 1.1) merges the mapping in, npm run plan (YAML 1.2) reads a key named <<",
          fix: "write the keys out",
        });
      }
    },
    Scalar(_, scalar, ancestors) {
      const why = scalar.type === "PLAIN" && scalar.source !== undefined ? divergence(scalar.source) : undefined;
      if (why) problems.push({ line: lineOf(scalar.range?.[0] ?? 0), path: pathOf(ancestors), ...why });
    },
    Alias(_, alias, ancestors) {
      // The value of a merge key: that pair's problem says it all (one mistake, one message).
      const pair = ancestors[ancestors.length - 1];
      if (isPair(pair) && isScalar(pair.key) && pair.key.value === "<<") return;
      const anchored = alias.resolve(doc);
      problems.push({
        line: lineOf(alias.range?.[0] ?? 0),
        path: pathOf(ancestors),
        problem:
          `*${alias.source} repeats the value anchored at line ${lineOf(anchored?.range?.[0] ?? 0)} (&${alias.source}): ` +
          "a change there changes this key too, unseen in a review of this line",
        fix: "write the value out here",
      });
    },
  });
  problems.sort((a, b) => a.line - b.line);
  return { value: doc.toJS({ maxAliasCount: -1 }) as unknown, problems };
}
