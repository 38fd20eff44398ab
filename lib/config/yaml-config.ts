import { isNode, LineCounter, parseDocument } from "yaml";
import { safeParse } from "zod/mini";
import type { $ZodType } from "zod/v4/core";

/** One thing wrong with a configuration file: where, which field, why. */
export interface ConfigIssue {
  /** 1-based line, or 0 when the file could not be located (an empty file). */
  line: number;
  /** The field's path, e.g. `rules[2].match.mac`; `(file)` for the whole document. */
  field: string;
  reason: string;
}

/** A configuration file refused at load: names the file and, per issue, the line, field and reason. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  constructor(
    readonly file: string,
    readonly issues: ConfigIssue[],
  ) {
    super(issues.map((i) => `${file}:${i.line}: ${i.field}: ${i.reason}`).join("\n"));
  }
}

/** `rules[2].match.mac` from a path of keys and indices. */
export function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || "(file)";
}

/**
 * Parses YAML text and validates it with a zod schema (classic or zod/mini: both are zod's core).
 * Anything wrong (YAML syntax, duplicate keys, a field the schema refuses) becomes one ConfigError
 * listing every issue with its line.
 */
export function parseYamlConfig<T>(text: string, file: string, schema: $ZodType<T>): T {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        line: lines.linePos(e.pos[0]).line,
        field: "(syntax)",
        reason: e.message.split("\n")[0] ?? "",
      })),
    );
  }
  const result = safeParse(schema, doc.toJS() ?? {});
  if (result.success) return result.data;
  const lineOf = (path: readonly PropertyKey[]): number => {
    // The deepest node that exists on the path: a missing key is reported at its parent.
    for (let n = path.length; n >= 0; n--) {
      const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as unknown[], true);
      if (isNode(node) && node.range) return lines.linePos(node.range[0]).line;
    }
    return 0;
  };
  throw new ConfigError(
    file,
    result.error.issues.map((i) => ({ line: lineOf(i.path), field: fieldName(i.path), reason: i.message })),
  );
}
