import { createWriteStream } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { type Command, Option } from "commander";
import { relayInfoText } from "../../../lib/relay-info.ts";
import { type ClientResult, openLab } from "../../api.ts";
import {
  type ClientKind,
  LOAD_ENGINES,
  type LoadEngine,
  type LoadResult,
  PD_MODES,
  type PdMode,
} from "../../docker/clients.ts";
import {
  type MessageCount,
  messagesOfRun,
  renderReportHtml,
  unansweredByKea,
} from "../../model/load-report.ts";
import {
  err,
  jsonOption,
  nameOption,
  nonNegativeInt,
  only4Option,
  only6Option,
  positiveInt,
  print,
  segmentOption,
  table,
  wholeSeconds,
} from "../output.ts";
import { type KeaReadOptions, openForKeaRead } from "./observe.ts";

/** leases, load, client, capture: what goes through the lab, and what Kea made of it. */
export function register(cli: Command): void {
  cli
    .command("leases")
    .description("every lease of every VRF's Kea, with what the relay added decoded")
    .addOption(nameOption())
    .option("--vrf <name>", "only this VRF")
    .addOption(only4Option())
    .addOption(only6Option())
    .option("--server <service>", "only this Kea server's table (an HA peer: kea-red-2)")
    .addOption(jsonOption())
    .action(async (o: KeaReadOptions) => {
      const { lab, filter } = await openForKeaRead(o);
      const rows = await lab.leases(filter);
      print("leases", o.json, rows, () =>
        rows.length === 0
          ? "no leases"
          : table(
              ["VRF", "SERVER", "FAMILY", "TYPE", "ADDRESS", "SUBNET", "CLIENT", "VALID", "RELAY"],
              rows.map((r) => [
                r.vrf,
                r.server,
                r.family,
                r.type ?? "",
                r.type === "IA_PD" ? `${r.address}/${r.prefixLength}` : r.address,
                r.subnetId,
                r.client,
                r.validLifetime,
                relayInfoText(r.relay),
              ]),
            ),
      );
    });

  cli
    .command("load")
    .description(
      "run a DHCP load on the access network through the relay (perfdhcp, or simulated clients); exits 1 if exchanges failed",
    )
    .addOption(nameOption())
    .requiredOption("--mac <base>", "the clients' base MAC, e.g. 00:aa:01:00:00:00")
    .option("-6", "DHCPv6 (SOLICIT-ADVERTISE-REQUEST-REPLY) instead of DHCPv4")
    .addOption(
      new Option(
        "--engine <engine>",
        "perfdhcp (in DHCPv4 a relay itself), or clients: DHCPv4 clients as on the wire (broadcast, giaddr 0)",
      )
        .choices(LOAD_ENGINES)
        .default("perfdhcp"),
    )
    .option("--clients <n>", "distinct clients", positiveInt, 50)
    .option("--rate <r>", "exchanges per second", positiveInt, 50)
    .option("--duration <s>", "seconds", positiveInt, 5)
    .option(
      "--secs-after <s>",
      "from this second on, requests carry a growing elapsed time (secs), as waiting clients do: Kea HA's failure detection counts only those (perfdhcp's -Y)",
      wholeSeconds,
    )
    .option(
      "--report <dir>",
      "sample Kea's statistics and the relay's counters once a second during the run; write DIR/report.json and DIR/report.html (charts)",
    )
    .addOption(segmentOption("to run on"))
    .addOption(
      new Option(
        "--pd [mode]",
        "DHCPv6 prefix delegation (IA_PD): prefix-only (the default), or address-and-prefix (perfdhcp's -e)",
      ).choices(PD_MODES),
    )
    .addOption(jsonOption())
    .action(
      async (o: {
        name: string;
        mac: string;
        segment?: string;
        6?: boolean;
        pd?: PdMode | true;
        engine: LoadEngine;
        clients: number;
        rate: number;
        duration: number;
        secsAfter?: number;
        report?: string;
        json?: boolean;
      }) => {
        const family = o[6] ? 6 : 4;
        const pd = o.pd === true ? "prefix-only" : o.pd;
        err(
          `${o.engine}: ${o.clients} DHCPv${family} clients from ${o.mac} at ${o.rate}/s for ${o.duration} s${pd ? ` (${pd})` : ""}`,
        );
        const lab = await openLab(o.name);
        const request = {
          mac: o.mac,
          engine: o.engine,
          family,
          clients: o.clients,
          rate: o.rate,
          seconds: o.duration,
          secsAfter: o.secsAfter,
          segment: o.segment,
          pd,
          messages: true,
        } as const;
        let r: Pick<LoadResult, "command" | "exitCode" | "report"> & { messages: MessageCount[] };
        if (o.report) {
          const report = await lab.loadReport(request);
          const [first, last] = [report.samples[0], report.samples.at(-1)];
          r = { ...report.result, messages: first && last ? messagesOfRun(first, last, family) : [] };
          await mkdir(o.report, { recursive: true });
          await writeFile(join(o.report, "report.json"), `${JSON.stringify(report, null, 2)}\n`);
          await writeFile(join(o.report, "report.html"), await renderReportHtml(report));
          err(
            `report: ${join(o.report, "report.html")} (${report.samples.length} samples), ${join(o.report, "report.json")}`,
          );
        } else {
          const run = await lab.load(request);
          r = { ...run, messages: run.messages ?? [] };
        }
        const unanswered = unansweredByKea(r.messages, family);
        print(
          "load",
          o.json,
          {
            command: r.command,
            exitCode: r.exitCode,
            ...r.report,
            messages: r.messages,
            unanswered,
          },
          () =>
            [
              `$ ${r.command.join(" ")}`,
              `rate ${r.report.rate ?? "?"} exchanges/s`,
              table(
                [
                  "EXCHANGE",
                  "SENT",
                  "RECEIVED",
                  "DROPS",
                  "MIN MS",
                  "AVG MS",
                  "P50 MS",
                  "P90 MS",
                  "P99 MS",
                  "MAX MS",
                ],
                r.report.exchanges.map((e) => [
                  e.exchange,
                  e.sent,
                  e.received,
                  e.drops,
                  e.minDelayMs,
                  e.avgDelayMs,
                  e.p50Ms ?? "-",
                  e.p90Ms ?? "-",
                  e.p99Ms ?? "-",
                  e.maxDelayMs,
                ]),
              ),
              "",
              "messages the relay relayed, and Kea's count of each:",
              table(
                ["VRF", "MESSAGE", "RELAY", "KEA", "KEA STATISTIC"],
                r.messages.map((m) => [
                  m.vrf,
                  `${m.type} ${m.direction}`,
                  m.relay,
                  m.kea?.count ?? "-",
                  m.kea?.statistic ?? "-",
                ]),
              ),
              "",
              "requests Kea left unanswered (refused by a rate limit, no address to give):",
              table(
                ["VRF", "REQUESTS", "RECEIVED", "ANSWERS", "SENT", "UNANSWERED"],
                unanswered.map((u) => [
                  u.vrf,
                  // The kinds the run had, of the ones the answers go to.
                  u.requests
                    .filter((t) =>
                      r.messages.some(
                        (m) => m.vrf === u.vrf && m.type === t && m.direction === "to-server" && m.kea?.count,
                      ),
                    )
                    .join(","),
                  u.received,
                  u.answers.join(","),
                  u.answered,
                  u.unanswered,
                ]),
              ),
            ].join("\n"),
        );
        if (r.exitCode !== 0) throw new Error(`${o.engine} exited with ${r.exitCode}: some exchanges failed`);
      },
    );

  cli
    .command("client")
    .description(
      "run one real DHCP client on the access network and print what it obtained; --kind pxe network-boots a virtual machine (iPXE in QEMU) and prints what its boot file printed",
    )
    .addOption(nameOption())
    .requiredOption("--mac <mac>", "the client's MAC address")
    .option("-6", "DHCPv6")
    .addOption(
      new Option("--kind <kind>", "which client")
        .choices(["dhclient", "dhcpcd", "udhcpc", "pxe"])
        .default("dhclient"),
    )
    .addOption(segmentOption("it sits on"))
    .option("--pd", "DHCPv6: ask for a delegated prefix too (IA_PD), as a CPE router does")
    .option(
      "--vendor-class <text>",
      "DHCPv4: the vendor class (option 60) to send, e.g. PXEClient:Arch:00000:UNDI:002001",
    )
    .option(
      "--arch <n>",
      "DHCPv4: the client architecture (option 93): 0 BIOS, 7 x86-64 UEFI (udhcpc, dhclient)",
      nonNegativeInt,
    )
    .option(
      "--hostname <name>",
      "the name the client gives itself (DHCPv4 option 12, DHCPv6 option 39; dhclient -6: the whole name): what Kea's DDNS puts in DNS",
    )
    .option("--timeout <seconds>", "pxe: stop the machine after this long", positiveInt, 90)
    .addOption(jsonOption())
    .action(
      async (o: {
        name: string;
        mac: string;
        segment?: string;
        6?: boolean;
        pd?: boolean;
        kind: ClientKind | "pxe";
        vendorClass?: string;
        arch?: number;
        hostname?: string;
        timeout: number;
        json?: boolean;
      }) => {
        const r = await (await openLab(o.name)).client({
          mac: o.mac,
          family: o[6] ? 6 : 4,
          kind: o.kind,
          segment: o.segment,
          pd: o.pd,
          vendorClass: o.vendorClass,
          arch: o.arch,
          hostname: o.hostname,
          timeoutSeconds: o.timeout,
          progress: (line) => process.stderr.write(`${line}\n`),
        });
        print("client", o.json, r, () => clientText(o.kind, o.mac, r));
        if (o.kind === "pxe" && !r.booted)
          throw new Error(r.timedOut ? `nothing booted within ${o.timeout} s` : "nothing booted");
        if (!r.address) throw new Error("no address obtained");
        if (o.pd && r.prefixes.length === 0) throw new Error("no prefix delegated");
      },
    );

  cli
    .command("capture")
    .description(
      "a pcap of a lab network, to a file or to stdout: dhcplab capture access | wireshark -k -i -",
    )
    .argument("<network>", "access, a segment's or a VRF's name")
    .addOption(nameOption())
    .option("-w, --write <file>", "write the pcap to this file instead of stdout")
    .option("--filter <expression>", "a BPF filter, e.g. 'udp port 67'")
    .option("-c, --count <n>", "stop after n packets (default: until interrupted)", positiveInt)
    .action(async (network: string, o: { name: string; write?: string; filter?: string; count?: number }) => {
      if (!o.write && process.stdout.isTTY)
        throw new Error("a pcap is binary: write it with -w FILE, or pipe it (| wireshark -k -i -)");
      const capture = await (await openLab(o.name)).capture(network, {
        filter: o.filter ? o.filter.split(/\s+/).filter(Boolean) : [],
        count: o.count,
      });
      process.once("SIGINT", () => void capture.stop());
      capture.messages.on("data", (b: Buffer) => process.stderr.write(b));
      await pipeline(capture.pcap, o.write ? createWriteStream(o.write) : process.stdout);
      const code = await capture.done;
      // tcpdump ends with 0 after -c, and with SIGINT's status when stopped.
      if (code !== 0 && code !== 130) throw new Error(`tcpdump exited with ${code}`);
    });
}

/** What a client obtained, in a line or two; a PXE client's console after it; the output when it got nothing. */
export function clientText(kind: string, mac: string, r: ClientResult): string {
  const prefixes = r.prefixes.length > 0 ? ` and the delegated prefix ${r.prefixes.join(", ")}` : "";
  const boot = r.bootFile ? `, next-server ${r.nextServer ?? "(none)"}, boot file ${r.bootFile}` : "";
  if (!r.address) return `${kind} ${mac} obtained no address${prefixes}:\n${r.output}`;
  const head = `${kind} ${mac} obtained ${r.address}${prefixes}${boot}`;
  if (kind !== "pxe") return head;
  if (!r.booted) return `${head}; nothing booted${r.failure ? `: ${r.failure}` : ""}`;
  return [`${head}; it booted, and printed:`, ...(r.console ?? []).map((l) => `  ${l}`)].join("\n");
}
