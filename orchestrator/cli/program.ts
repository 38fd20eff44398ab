import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Command, CommanderError } from "commander";
import { ConfigError } from "../../lib/config/yaml-config.ts";
import { ROOT } from "../paths.ts";
import * as artifacts from "./commands/artifacts.ts";
import * as devLoop from "./commands/dev-loop.ts";
import * as faults from "./commands/faults.ts";
import * as lifecycle from "./commands/lab-lifecycle.ts";
import * as observe from "./commands/observe.ts";
import * as status from "./commands/status.ts";
import * as traffic from "./commands/traffic.ts";
import { ExitCode } from "./output.ts";

/** The package's version, as package.json says. */
function version(): string {
  return (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
}

/** Builds the dhcplab command line: each command a small handler over the library. */
export function program(): Command {
  const cli = new Command("dhcplab")
    .description("A container lab for DHCP relaying policies and ISC Kea classification across VRFs")
    .version(version(), "--version")
    .showHelpAfterError()
    .exitOverride();
  for (const group of [lifecycle, status, traffic, observe, devLoop, faults, artifacts]) group.register(cli);
  return cli;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ExitCode) return e.code;
    if (e instanceof ConfigError) console.error(`dhcplab: configuration refused:\n${e.message}`);
    else console.error(`dhcplab: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
