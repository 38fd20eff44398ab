import { Command, CommanderError } from "commander";
import { dockerClient } from "./docker.ts";
import { ensureImages } from "./images.ts";

/** Builds the dhcplab command line. */
export function program(): Command {
  const cli = new Command("dhcplab")
    .description("A container lab for DHCP relaying policies and ISC Kea classification across VRFs")
    .showHelpAfterError()
    .exitOverride();

  cli
    .command("images")
    .description("build the lab's images (kea, relay, client); unchanged images are reused")
    .option("--rebuild", "build even when an image with the same inputs exists")
    .option("--json", "print JSON instead of text")
    .action(async (opts: { rebuild?: boolean; json?: boolean }) => {
      const results = await ensureImages(dockerClient(), {
        rebuild: opts.rebuild === true,
        progress: (line) => process.stderr.write(`${line}\n`),
      });
      if (opts.json) {
        console.log(JSON.stringify(results, null, 2));
        return;
      }
      for (const r of results) {
        console.log(`${r.built ? "built " : "reused"}  ${r.tag.padEnd(32)} ${r.seconds.toFixed(1)} s`);
      }
    });
  return cli;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    console.error(`dhcplab: ${err instanceof Error ? err.message : String(err)}`);
    return 1;
  }
}
