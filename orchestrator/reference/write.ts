import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { GENERATED } from "./generated.ts";

// npm run docs: writes every generated file (references, schemas, compose.yaml) from the code.
for (const [file, render] of Object.entries(GENERATED)) {
  const path = join(import.meta.dirname, "..", "..", file);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, await render());
  console.log(`wrote ${file}`);
}
