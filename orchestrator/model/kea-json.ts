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
