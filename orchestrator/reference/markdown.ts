import { z } from "zod";

// A JSON Schema as a Markdown reference: a table per object (each field's type, default,
// constraints, description and an example), nested objects and arrays of objects in sections
// of their own. Pure: the generated docs/ files are this function's output, and a test checks
// that they are current.

/** The part of JSON Schema (draft 2020-12) that zod's toJSONSchema writes and this reads. */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  examples?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  additionalProperties?: boolean | JsonSchema;
  [key: string]: unknown;
}

const code = (v: unknown) => `\`${typeof v === "string" ? v : JSON.stringify(v)}\``;
const cell = (s: string) => s.replaceAll("|", "\\|").replaceAll("\n", " ");
const isObject = (s: JsonSchema) => s.type === "object" && s.properties !== undefined;

/** A field's type in words: string, integer, one of `a`, `b`, list of object, ... */
export function typeOf(s: JsonSchema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(", ")}`;
  const alternatives = s.anyOf ?? s.oneOf;
  if (alternatives) return alternatives.map(typeOf).join(" or ");
  if (s.type === "array") return `list of ${s.items ? typeOf(s.items) : "anything"}`;
  if (s.type === "object" && !s.properties && typeof s.additionalProperties === "object")
    return `map of ${typeOf(s.additionalProperties)}`;
  if (Array.isArray(s.type)) return s.type.join(" or ");
  return s.type ?? "anything";
}

/** A field's constraints in words: its pattern, bounds, lengths (JavaScript's largest integer is no bound). */
function constraintsOf(s: JsonSchema): string[] {
  const out: string[] = [];
  if (s.pattern) out.push(`matches ${code(s.pattern)}`);
  if (s.exclusiveMinimum !== undefined) out.push(`> ${s.exclusiveMinimum}`);
  if (s.minimum !== undefined && s.minimum > Number.MIN_SAFE_INTEGER) out.push(`>= ${s.minimum}`);
  if (s.maximum !== undefined && s.maximum < Number.MAX_SAFE_INTEGER) out.push(`<= ${s.maximum}`);
  if (s.minLength !== undefined) out.push(`at least ${s.minLength} characters`);
  if (s.maxLength !== undefined) out.push(`at most ${s.maxLength} characters`);
  if (s.minItems !== undefined) out.push(`at least ${s.minItems} items`);
  if (s.maxItems !== undefined) out.push(`at most ${s.maxItems} items`);
  for (const a of s.anyOf ?? s.oneOf ?? []) out.push(...constraintsOf(a));
  if (s.items && !isObject(s.items)) out.push(...constraintsOf(s.items).map((c) => `each ${c}`));
  return out;
}

/** The object schema a field leads to (itself, or its items), if it is an object. */
function nested(s: JsonSchema): JsonSchema | undefined {
  if (isObject(s)) return s;
  if (s.type === "array" && s.items && isObject(s.items)) return s.items;
  const alternatives = (s.anyOf ?? s.oneOf ?? []).map(nested).filter((x) => x !== undefined);
  return alternatives[0];
}

/**
 * Markdown sections for an object schema at `path` (and its nested objects after it). An input
 * format's table has defaults, constraints and examples; an output's, whether a field is always there.
 */
export function referenceOf(
  schema: JsonSchema,
  path: string,
  level = 2,
  kind: "input" | "output" = "input",
): string {
  const props = Object.entries(schema.properties ?? {});
  const required = new Set(schema.required ?? []);
  const rows = props.map(([name, s]) => {
    const child = nested(s);
    const childPath = `${path === "" ? "" : `${path}.`}${name}${s.type === "array" ? "[]" : ""}`;
    const field = child ? `[${code(name)}](#${anchor(childPath)})` : code(name);
    if (kind === "output") return [field, typeOf(s), required.has(name) ? "yes" : "", s.description ?? ""];
    return [
      field,
      typeOf(s),
      required.has(name) && s.default === undefined
        ? "required"
        : s.default !== undefined
          ? code(s.default)
          : "",
      constraintsOf(s).join("; "),
      s.description ?? "",
      s.examples?.[0] !== undefined ? code(s.examples[0]) : "",
    ];
  });
  const head =
    kind === "output"
      ? ["field", "type", "always", "description"]
      : ["field", "type", "default", "constraints", "description", "example"];
  const table = [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.map(cell).join(" | ")} |`),
  ].join("\n");
  const heading = `${"#".repeat(level)} ${path === "" ? "top level" : code(path)}`;
  const children = props.flatMap(([name, s]) => {
    const child = nested(s);
    if (!child) return [];
    const childPath = `${path === "" ? "" : `${path}.`}${name}${s.type === "array" ? "[]" : ""}`;
    return [referenceOf(child, childPath, level, kind)];
  });
  const lead = schema.description ? `${schema.description}\n\n` : "";
  return [`${heading}\n\n${lead}${table}`, ...children].join("\n\n");
}

/**
 * A file format's JSON Schema from the zod schema that validates it: the input as written
 * (before defaults), with the schema's identity first.
 */
export function fileJsonSchema(
  schema: z.core.$ZodType,
  head: { $id: string; title: string; description: string },
): JsonSchema {
  const { $schema, ...rest } = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as JsonSchema;
  return { $schema, ...head, ...rest };
}

/** The anchor GitHub gives a heading of `path` in backticks. */
export function anchor(path: string): string {
  return path
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replaceAll(" ", "-");
}
