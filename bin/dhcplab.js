#!/usr/bin/env node
// The dhcplab command. From a clone it runs the TypeScript sources through tsx's loader (no
// build step); installed from the package, the built JavaScript in dist/.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const sources = fileURLToPath(new URL("../orchestrator/cli/program.ts", import.meta.url));
const { main } = existsSync(sources)
  ? await (await import("tsx/esm/api")).tsImport(sources, import.meta.url)
  : await import("../dist/orchestrator/cli/program.js");
process.exitCode = await main(process.argv);
