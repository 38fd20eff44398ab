#!/usr/bin/env node
// The dhcplab command. The CLI is TypeScript, run through tsx's loader so that
// a clone works after `npm ci` with no build step.
import { tsImport } from "tsx/esm/api";

const { main } = await tsImport("../orchestrator/cli/program.ts", import.meta.url);
process.exitCode = await main(process.argv);
