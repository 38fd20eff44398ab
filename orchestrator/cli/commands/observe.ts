import type { Command } from "commander";
import { statisticName } from "../../../lib/kea/statistics.ts";
import type { LeaseQuery } from "../../../lib/leasequery.ts";
import { relayInfoText } from "../../../lib/relay-info.ts";
import { type Lab, type LeaseQueryResult, openLab } from "../../api.ts";
import type { AuditRecord } from "../../docker/audit.ts";
import type { KeaCommandAnswer } from "../../docker/kea-command.ts";
import { KEA_RESULT } from "../../docker/kea-control.ts";
import type { KeaServerStatistics } from "../../docker/kea-stats.ts";
import {
  ExitCode,
  err,
  familyOf,
  jsonOption,
  nameOption,
  nonNegativeInt,
  only4Option,
  only6Option,
  print,
  table,
  wholeSeconds,
} from "../output.ts";

/**
 * stats, audit, leasequery: what Kea counted, what it recorded of each lease, and who holds one;
 * kea: any command to one server's control surface.
 */
export function register(cli: Command): void {
  registerLeaseQuery(cli);
  registerKeaCommand(cli);
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

function registerKeaCommand(cli: Command): void {
  cli
    .command("kea")
    .description(
      "send any command to one Kea server's control surface and print its answer (ha-sync, config-get, a hook's command); exits 1 unless Kea answers success or empty",
    )
    .addOption(nameOption())
    .argument("<server>", "the Kea service: kea-red, or an HA peer, kea-red-2")
    .argument("<command>", "the command, as Kea's Management API names it: ha-sync, config-get, ...")
    .option("--args <json>", 'the command\'s arguments, a JSON object: \'{"server-name": "kea-red-2"}\'')
    .option("-4", "to kea-dhcp4 (the default)")
    .option("-6", "to kea-dhcp6")
    .option("--timeout <seconds>", "how long to wait for the answer (default: 60)", wholeSeconds)
    .addOption(jsonOption())
    .action(
      async (
        server: string,
        command: string,
        o: { name: string; args?: string; 4?: boolean; 6?: boolean; timeout?: number; json?: boolean },
      ) => {
        if (o[4] && o[6]) throw new Error("kea: -4 or -6, not both (one daemon takes a command)");
        const args = o.args === undefined ? undefined : keaArguments(o.args);
        const lab = await openLab(o.name);
        const answer = await lab.kea({
          server,
          command,
          family: familyOf(o) ?? 4,
          ...(o.timeout !== undefined ? { timeoutSeconds: o.timeout } : {}),
          ...(args ? { arguments: args } : {}),
        });
        print("kea", o.json, answer, () => keaAnswerText(answer));
        // Success, or nothing found: what was asked was answered. Anything else is a failure.
        if (answer.result !== KEA_RESULT.success && answer.result !== KEA_RESULT.empty) throw new ExitCode(1);
      },
    );
}

/** --args: a JSON object, or a refusal that says what is wrong with it. */
export function keaArguments(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`--args is not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new Error(`--args must be a JSON object (Kea's "arguments"), not ${text}`);
  return value as Record<string, unknown>;
}

const RESULT_NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(KEA_RESULT).map(([name, code]) => [code, name]),
);

export function keaAnswerText(a: KeaCommandAnswer): string {
  const head = `${a.server} (kea-dhcp${a.family}) ${a.command}: ${RESULT_NAMES[a.result] ?? `result ${a.result}`}${a.text ? `, ${a.text}` : ""}`;
  return a.arguments === undefined ? head : `${head}\n${JSON.stringify(a.arguments, null, 2)}`;
}

/** The options of leasequery that say what it asks by, and which family each is for. */
const BY: { option: string; by: LeaseQuery["by"]; family: 4 | 6 }[] = [
  { option: "ip", by: "ip", family: 4 },
  { option: "mac", by: "mac", family: 4 },
  { option: "clientId", by: "client-id", family: 4 },
  { option: "remoteId", by: "remote-id", family: 4 },
  { option: "relayId", by: "relay-id", family: 4 },
  { option: "address", by: "address", family: 6 },
  { option: "duid", by: "client-id", family: 6 },
  { option: "relayId", by: "relay-id", family: 6 },
  { option: "link", by: "link", family: 6 },
  { option: "remoteId", by: "remote-id", family: 6 },
];

/** leasequery: who holds a lease, as the VRF's servers answer the relay. */
function registerLeaseQuery(cli: Command): void {
  cli
    .command("leasequery")
    .description(
      "ask a VRF's Kea servers who holds a lease, as the relay does from the VRF's backend (the lease_query hook): DHCPv4 by --ip, --mac or --client-id (RFC 4388), or --remote-id or --relay-id (bulk over TCP, RFC 6926); with -6 by --address, --duid, --relay-id, --link or --remote-id (bulk leasequery over TCP, RFC 5460)",
    )
    .addOption(nameOption())
    .requiredOption("--vrf <name>", "the VRF whose servers to ask")
    .option("-6", "DHCPv6")
    .option("--ip <address>", "DHCPv4: the leased address")
    .option("--mac <mac>", "DHCPv4: the client's MAC")
    .option("--client-id <hex>", "DHCPv4: the client identifier (option 61), e.g. 01:00:aa:01:00:00:42")
    .option("--address <address>", "DHCPv6: a leased address (or a delegated prefix's address)")
    .option("--duid <hex>", "DHCPv6: the client's DUID")
    .option(
      "--relay-id <hex>",
      "a relay's Relay-ID (DHCPv4 Option 82 sub-option 12, RFC 6925; DHCPv6 its DUID, RFC 5460)",
    )
    .option("--link <address>", "DHCPv6: every client on the link with this link-address")
    .option(
      "--remote-id <text>",
      "the Remote-ID a relay added (DHCPv4 Option 82 sub-option 2; DHCPv6 with --enterprise)",
    )
    .option("--enterprise <n>", "DHCPv6: the Remote-ID's enterprise number", nonNegativeInt, 0)
    .addOption(jsonOption())
    .action(
      async (o: Record<string, string | number | boolean | undefined> & { name: string; vrf: string }) => {
        const family = o[6] ? 6 : 4;
        const mine = BY.filter((b) => b.family === family && o[b.option] !== undefined);
        const stray = BY.filter(
          (b) => o[b.option] !== undefined && !BY.some((f) => f.family === family && f.option === b.option),
        );
        if (mine.length !== 1 || stray.length > 0)
          throw new Error(
            `give one of ${BY.filter((b) => b.family === family)
              .map((b) => `--${b.option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`)
              .join(", ")} (DHCPv${family})`,
          );
        const b = mine[0] as (typeof BY)[number];
        const query = {
          family,
          by: b.by,
          value: String(o[b.option]),
          ...(b.by === "remote-id" && family === 6 ? { enterprise: Number(o.enterprise) } : {}),
        } as LeaseQuery;
        const r = await (await openLab(o.name)).leasequery({ vrf: o.vrf, ...query });
        print("leasequery", Boolean(o.json), r, () => leaseQueryText(r));
      },
    );
}

/** Each server's answer a row per binding: the server, its status, the client's addresses, who it is, when last seen. */
export function leaseQueryText(r: LeaseQueryResult): string {
  if (r.answers.length === 0) return `no server of VRF ${r.vrf} answered`;
  return table(
    ["SERVER", "STATUS", "ADDRESSES", "CLIENT", "LAST SEEN", "LEASE", "RELAY"],
    r.answers.flatMap((a) =>
      a.bindings.length === 0
        ? [[a.server, a.status, "", "", "", "", a.message ?? ""]]
        : a.bindings.map((b) => [
            a.server,
            a.status,
            [...b.addresses, ...b.prefixes].join(" "),
            b.mac ?? b.duid ?? b.clientId ?? "",
            b.lastTransaction === undefined ? "" : `${b.lastTransaction} s ago`,
            b.leaseTime === undefined ? "" : `${b.leaseTime} s`,
            relayInfoText(b.relay),
          ]),
    ),
  );
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
