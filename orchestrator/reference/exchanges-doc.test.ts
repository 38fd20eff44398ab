import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";

// docs/exchanges.md tables every exchange with the test that proves it, as `file`: "the start of
// the test's name": each named test must be in that file, and every test of exchanges.test.ts
// must be in the table. Tests are it("...") calls (none of these files names them otherwise).

/** The table's tests: [file, name start] per row. */
async function tabled(): Promise<[string, string][]> {
  const doc = await readFile(join(ROOT, "docs", "exchanges.md"), "utf8");
  return [...doc.matchAll(/^\|.*\| `([\w.-]+\.test\.ts)`: "([^"]+)" \|$/gm)].map((m) => [
    m[1] ?? "",
    m[2] ?? "",
  ]);
}

/** The names of a test file's it("...") tests, as written. */
async function testNames(file: string): Promise<string[]> {
  const text = await readFile(join(ROOT, "test", "e2e", file), "utf8");
  return [...text.matchAll(/\bit\(\s*(["'`])((?:(?!\1).)+)\1/g)].map((m) => m[2] ?? "");
}

describe("docs/exchanges.md", () => {
  it("names only tests that exist, each in its file", async () => {
    const rows = await tabled();
    expect(rows.length).toBeGreaterThan(15);
    for (const [file, start] of rows) {
      const names = await testNames(file);
      expect(
        names.some((n) => n.startsWith(start)),
        `${file}: "${start}"`,
      ).toBe(true);
    }
  });

  it("tables every test of exchanges.test.ts", async () => {
    const starts = (await tabled()).filter(([f]) => f === "exchanges.test.ts").map(([, s]) => s);
    const names = await testNames("exchanges.test.ts");
    expect(names.length).toBeGreaterThan(10);
    for (const name of names)
      expect(
        starts.some((s) => name.startsWith(s)),
        `"${name}" is in docs/exchanges.md`,
      ).toBe(true);
  });
});
