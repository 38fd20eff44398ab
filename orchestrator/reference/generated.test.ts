import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import { GENERATED } from "./generated.ts";

describe("generated files", () => {
  it.each(Object.keys(GENERATED))(
    "%s is what the code generates (run `npm run docs` after changing it)",
    async (file) => {
      const committed = await readFile(join(ROOT, file), "utf8");
      expect(committed).toBe(await GENERATED[file]?.());
    },
  );
});
