import type { Command } from "commander";
import { statisticName } from "../../../lib/kea/statistics.ts";
import { relayInfoText } from "../../../lib/relay-info.ts";
import { type Lab, openLab } from "../../api.ts";
import type { AuditRecord } from "../../docker/audit.ts";
import type { KeaServerStatistics } from "../../docker/kea-stats.ts";
import { err, familyOf, jsonOption, nameOption, only4Option, only6Option, print, table } from "../output.ts";

/** stats, audit: what Kea counted, and what it recorded of each lease. */
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

  cli
    .command("audit")
    .description(
      "the legal log (Kea 3.0's legal_log hook) of every VRF whose Kea writes one: each lease assigned, renewed, released or declined, the client, and the port the relay saw it on",
    )
    .addOption(nameOption())
    .option("--vrf <name>", "only this VRF")
    .option("--mac <mac>", "only this client (its MAC; DHCPv6 records where Kea knows the MAC)")
    .option("--server <service>", "only this Kea server's records (an HA peer: kea-red-2)")
    .addOption(only4Option())
    .addOption(only6Option())
    .addOption(jsonOption())
    .action(async (o: KeaReadOptions & { mac?: string }) => {
      const { lab, filter } = await openForKeaRead(o);
      const rows = await lab.audit({ ...filter, mac: o.mac });
      print("audit", o.json, rows, () => auditText(rows));
    });
}

/** A record a row: when, which server, what happened to which lease, whose, and through which port. */
export function auditText(rows: readonly AuditRecord[]): string {
  if (rows.length === 0)
    return "no legal log records (a VRF's Kea writes them when its configuration loads libdhcp_legal_log.so)";
  return table(
    ["TIME", "VRF", "SERVER", "FAMILY", "EVENT", "ADDRESS", "CLIENT", "RELAY"],
    rows.map((r) => [
      r.time,
      r.vrf,
      r.server,
      `DHCPv${r.family}`,
      r.event,
      r.address,
      r.family === 4 ? (r.mac ?? r.clientId ?? "") : (r.duid ?? ""),
      [r.giaddr ? `giaddr=${r.giaddr}` : "", relayInfoText(r.relay)].filter(Boolean).join(" "),
    ]),
  );
}

/** The options of a command that reads every Kea server's tables, or a VRF's, a server's, a family's. */
export interface KeaReadOptions {
  name: string;
  vrf?: string;
  server?: string;
  4?: boolean;
  6?: boolean;
  json?: boolean;
}

/** The lab (the servers that will not be asked said on stderr), and which servers and family to read. */
export async function openForKeaRead(o: KeaReadOptions) {
  const lab = await openLab(o.name);
  if (!o.server) await sayKeasNotAsked(lab);
  return { lab, filter: { vrf: o.vrf, server: o.server, family: familyOf(o) } };
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
