import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { JSON_OUTPUT_CHANGES, JSON_OUTPUT_SCHEMA_SHA256, JSON_OUTPUT_VERSION } from "../cli/json-output.ts";
import { ROOT } from "../paths.ts";
import { GENERATED } from "./generated.ts";
import { jsonOutputSchemaSha256 } from "./json-output.ts";

describe("generated files", () => {
  it.each(Object.keys(GENERATED))(
    "%s is what the code generates (run `npm run docs` after changing it)",
    async (file) => {
      const committed = await readFile(join(ROOT, file), "utf8");
      expect(committed).toBe(await GENERATED[file]?.());
    },
  );

  it("the --json outputs' schema is the one their version records (raise JSON_OUTPUT_VERSION and say what changed)", () => {
    expect(jsonOutputSchemaSha256()).toBe(JSON_OUTPUT_SCHEMA_SHA256);
    expect(JSON_OUTPUT_CHANGES[0]?.[0]).toBe(JSON_OUTPUT_VERSION);
  });
});
