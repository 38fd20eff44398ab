/** Kea's JSON: its parser, and the error that names a configuration file and field. */

/** A configuration problem, with the file and the field it is in. */
export class KeaConfigError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    reason: string,
  ) {
    super(`${file}: ${field}: ${reason}`);
  }
}

/**
 * Parses Kea's JSON, which allows comments (`//`, `/* *\/`, `#`) outside strings. Throws
 * KeaConfigError naming the file.
 */
export function parseKeaJson(text: string, file: string): Record<string, unknown> {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      out += text.slice(start, i + 1);
    } else if (c === "#" || (c === "/" && text[i + 1] === "/")) {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      out += text.slice(i, end < 0 ? text.length : end + 2).replace(/[^\n]/g, " ");
      i = end < 0 ? text.length : end + 1;
    } else out += c;
  }
  try {
    return JSON.parse(out) as Record<string, unknown>;
  } catch (err) {
    throw new KeaConfigError(file, "(syntax)", (err as Error).message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A hook library a server configuration loads: its entry, its parameters (empty when none) and their path. */
export interface HookEntry {
  index: number;
  entry: Obj;
  parameters: Obj;
  /** Where its parameters are: Dhcp4.hooks-libraries[3].parameters. */
  field: string;
}

/** The first hooks-libraries entry of a kea-dhcp4/6 configuration that loads `library` (libdhcp_radius.so), or undefined. */
export function hookOf(file: string, text: string, family: 4 | 6, library: string): HookEntry | undefined {
  const root = `Dhcp${family}`;
  const server = parseKeaJson(text, file)[root];
  const hooks = isObj(server) && Array.isArray(server["hooks-libraries"]) ? server["hooks-libraries"] : [];
  // A path in Kea's hooks directory, or (Kea 3.0) the library's name alone.
  const index = hooks.findIndex(
    (h) =>
      isObj(h) &&
      typeof h.library === "string" &&
      (h.library === library || h.library.endsWith(`/${library}`)),
  );
  if (index < 0) return undefined;
  const entry = hooks[index] as Obj;
  return {
    index,
    entry,
    parameters: isObj(entry.parameters) ? entry.parameters : {},
    field: `${root}.hooks-libraries[${index}].parameters`,
  };
}
