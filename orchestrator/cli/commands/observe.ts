import type { Command } from "commander";
import { statisticName } from "../../../lib/kea/statistics.ts";
import { type Lab, openLab } from "../../api.ts";
import type { KeaServerStatistics } from "../../docker/kea-stats.ts";
import { err, jsonOption, nameOption, print, table } from "../output.ts";

/** stats: what Kea counted. */
export function register(cli: Command): void {
  cli
    .command("stats")
    .description(
      "Kea's statistics now (statistic-get-all) of every VRF's servers: packets by type, drops, addresses per subnet and pool",
    )
    .addOption(nameOption())
    .option("--vrf <name>", "only this VRF")
    .option("--server <service>", "only this Kea server (an HA peer: kea-red-2)")
    .addOption(jsonOption())
    .action(async (o: { name: string; vrf?: string; server?: string; json?: boolean }) => {
      const lab = await openLab(o.name);
      if (!o.server) await sayKeasNotAsked(lab);
      const rows = await lab.statistics({ vrf: o.vrf, server: o.server });
      print("stats", o.json, rows, () => statsText(rows));
    });
}

/** Names, on stderr, the lab's Kea servers that are not running: a command asking every server skips them. */
export async function sayKeasNotAsked(lab: Lab): Promise<void> {
  const down = (await lab.status()).keas.filter((k) => k.state !== "running");
  if (down.length > 0)
    err(`not running, so not asked: ${down.map((k) => k.name.slice(lab.name.length + 1)).join(", ")}`);
}

/** Every statistic as a row: VRF, server, family, Kea's name for it, its value. */
export function statsText(rows: readonly KeaServerStatistics[]): string {
  return table(
    ["VRF", "SERVER", "FAMILY", "STATISTIC", "VALUE"],
    rows.flatMap((r) =>
      r.statistics.map((s) => [r.vrf, r.server, `DHCPv${r.family}`, statisticName(s), s.value]),
    ),
  );
}
