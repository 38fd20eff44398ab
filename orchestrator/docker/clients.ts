import type Docker from "dockerode";
import type { DoraReport } from "../../lib/loadgen/report.ts";
import { LABEL } from "../model/labels.ts";
import type { MessageCount, UnansweredCount } from "../model/load-report.ts";
import { type PerfdhcpReport, parsePerfdhcp } from "../model/perfdhcp.ts";
import { CLIENT_SYSCTLS } from "../model/plan.ts";
import { runToCompletion, withMac } from "./engine.ts";
import { type LabState, segmentNetwork } from "./lab.ts";

/**
 * Which load generator: perfdhcp (ISC's; in DHCPv4 it is itself a relay, giaddr set), or
 * `clients`, dhcplab's DHCPv4 generator that sends as clients on the wire do (loadgen/).
 */
export type LoadEngine = "perfdhcp" | "clients";
export const LOAD_ENGINES: readonly LoadEngine[] = ["perfdhcp", "clients"];

/** A load run through the lab's relay. */
export interface LoadOptions {
  /** The clients' base MAC; the load generator varies its low bytes. */
  mac: string;
  /** Default perfdhcp. */
  engine?: LoadEngine;
  family: 4 | 6;
  clients: number;
  /** Exchanges per second. */
  rate: number;
  /** Seconds. */
  duration: number;
  /** From this second of the run on, a growing elapsed time (secs) in every request. */
  secsAfter?: number;
  /** The access segment the load runs on (default: the first). */
  segment?: string;
  /** DHCPv6 prefix delegation (IA_PD): prefixes only, or an address and a prefix per client (perfdhcp's -e). */
  pd?: PdMode;
}

/** What a DHCPv6 load asks for besides IA_NA: perfdhcp's -e modes that request IA_PD. */
export type PdMode = "prefix-only" | "address-and-prefix";
export const PD_MODES: readonly PdMode[] = ["prefix-only", "address-and-prefix"];

/**
 * perfdhcp's elapsed-time options for `secsAfter`: -Y, the second from which requests carry a
 * growing elapsed time (seconds since then, plus one), and -y, for how long; here to the run's end
 * and past it, so that retransmissions at the end carry it too.
 */
function perfdhcpSecs(o: LoadOptions): string[] {
  if (o.secsAfter === undefined) return [];
  return ["-Y", String(o.secsAfter), "-y", String(Math.max(1, o.duration - o.secsAfter) + 60)];
}

/** perfdhcp's figures, its exit code (3: some exchanges failed) and its full output. */
export interface LoadRun {
  exitCode: number;
  report: PerfdhcpReport;
  output: string;
  command: string[];
}

/** A load's run, and (asked for) every message the relay relayed meanwhile beside Kea's count of it. */
export interface LoadResult extends LoadRun {
  /**
   * With `LoadRequest.messages`: per VRF, type and direction, NAKs, DECLINEs and INFORMs as well
   * as the load's own exchanges.
   */
  messages?: MessageCount[];
  /**
   * With `LoadRequest.messages`: per VRF and kind of request, Kea's count of the requests beside
   * its answers to them: what Kea refused (a limits hook's rate limit, no address to give).
   */
  unanswered?: UnansweredCount[];
}

/** The perfdhcp command line for a load through the relay at `relayIpv4`. */
export function perfdhcpCommand(o: LoadOptions, relayIpv4: string): string[] {
  const common = [
    "-r",
    String(o.rate),
    "-p",
    String(o.duration),
    "-R",
    String(o.clients),
    "-b",
    `mac=${o.mac}`,
    ...perfdhcpSecs(o),
    // The replies to the last requests still count: perfdhcp waits 0.5 s for them after the
    // run, sending nothing new (else an exchange in flight at the end is counted as a drop).
    "-W",
    "500000",
  ];
  if (o.pd && o.family !== 6) throw new Error("prefix delegation is DHCPv6: add -6");
  // DHCPv4: perfdhcp is itself a relay (giaddr = its address), sent to the relay; the lab's
  // policy takes such packets over. DHCPv6: a real client on the access link (ff02::1:2),
  // with -e for IA_PD. -x t: every exchange's timestamps, for latency percentiles.
  return o.family === 4
    ? ["perfdhcp", "-4", "-x", "t", ...common, relayIpv4]
    : ["perfdhcp", "-6", "-x", "t", "-l", "eth0", ...(o.pd ? ["-e", o.pd] : []), ...common];
}

/**
 * The clients engine's command line (in the relay's image); DHCPv4 only. Its requests go to the
 * limited broadcast, as a client's do; with `direct`, to that server's address as a relay agent
 * on its link would send them (giaddr its own address): the baseline without a relay, since Kea
 * on UDP sockets neither hears broadcasts nor may send them.
 */
export function loadgenCommand(o: LoadOptions, direct?: string): string[] {
  if (o.family !== 4 || o.pd) {
    throw new Error(
      "the clients engine speaks DHCPv4; for DHCPv6 (and prefix delegation) use perfdhcp, which already sends as a client on the link",
    );
  }
  return [
    "node",
    "/opt/dhcplab/loadgen.mjs",
    "--mac",
    o.mac,
    "--clients",
    String(o.clients),
    "--rate",
    String(o.rate),
    "--duration",
    String(o.duration),
    ...(o.secsAfter !== undefined ? ["--secs-after", String(o.secsAfter)] : []),
    ...(direct ? ["--to", direct, "--giaddr", "auto"] : []),
  ];
}

/** The clients engine's JSON report in the shape of perfdhcp's. */
export function parseLoadgen(output: string): PerfdhcpReport {
  const line = output
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (!line) throw new Error(`the clients engine printed no report:\n${output.slice(-2000)}`);
  const r = JSON.parse(line) as DoraReport;
  return {
    engine: "clients",
    rate: r.rate,
    malformed: r.malformed,
    sendFailures: r.sendFailures ?? 0,
    exchanges: r.exchanges.map((e) => ({
      ...e,
      // Orphans are not told apart by exchange; NAKs are REQUEST-ACK's rejected leases.
      orphans: e.exchange === "REQUEST-ACK" ? r.orphans : 0,
      rejectedLeases: e.exchange === "REQUEST-ACK" ? r.naks : 0,
    })),
  };
}

/**
 * Runs a one-shot container from the client image on the lab's access network; returns exit
 * code and output. `writableProc` gives it an unmasked, writable /proc (dhcpcd needs /proc/sys).
 */
export async function runOnAccess(
  docker: Docker,
  lab: LabState,
  image: string,
  cmd: string[],
  extra: {
    mac?: string;
    labels?: Record<string, string>;
    capAdd?: string[];
    writableProc?: boolean;
    /** Replaces the image's entrypoint; `cmd` becomes its arguments. */
    entrypoint?: string[];
    /** The access segment to run on (default: the first). */
    segment?: string;
    /** A lab network's Docker name instead of a segment. */
    networkName?: string;
    env?: Record<string, string>;
  } = {},
): Promise<{ exitCode: number; output: string }> {
  return runToCompletion(docker, {
    Image: image,
    Cmd: cmd,
    ...(extra.env ? { Env: Object.entries(extra.env).map(([k, v]) => `${k}=${v}`) } : {}),
    ...(extra.entrypoint ? { Entrypoint: extra.entrypoint } : {}),
    Labels: { [LABEL.managed]: "true", [LABEL.lab]: lab.name, [LABEL.role]: "client", ...extra.labels },
    ...withMac(extra.networkName ?? segmentNetwork(lab, extra.segment), extra.mac),
    HostConfig: {
      NetworkMode: extra.networkName ?? segmentNetwork(lab, extra.segment),
      CapAdd: extra.capAdd ?? [],
      Sysctls: { ...CLIENT_SYSCTLS },
      // What `--security-opt systempaths=unconfined` sends: no masked or read-only /proc paths.
      ...(extra.writableProc ? { MaskedPaths: [], ReadonlyPaths: [] } : {}),
    },
  });
}

/** Runs perfdhcp against the lab through its relay and parses what it reports. */
export async function runLoad(
  docker: Docker,
  lab: LabState,
  image: string,
  o: LoadOptions,
  labels?: Record<string, string>,
): Promise<LoadRun> {
  if (!lab.relay) throw new Error(`lab ${lab.name} has no relay`);
  if (o.engine === "clients") {
    const command = loadgenCommand(o);
    // The generator is Node; the relay's image has it (and the DHCP codec it is built on).
    const [program = "node", ...args] = command;
    const { exitCode, output } = await runOnAccess(docker, lab, lab.relay.image, args, {
      labels,
      entrypoint: [program],
      segment: o.segment,
    });
    return { exitCode, report: parseLoadgen(output), output, command };
  }
  // perfdhcp's DHCPv4 goes to the relay's address on the segment it runs on (being a relay
  // itself, it has no place behind a tower, where the relay is not).
  const relayAddress = lab.relay.ipv4ByNetwork[segmentNetwork(lab, o.segment)];
  if (o.family === 4 && !relayAddress)
    throw new Error(
      `perfdhcp sends DHCPv4 as a relay to the lab's relay, which is not on segment ${o.segment}: use --engine clients there`,
    );
  const command = perfdhcpCommand(o, relayAddress ?? "");
  const { exitCode, output } = await runOnAccess(
    docker,
    lab,
    image,
    // docker/client/link-ready.sh: perfdhcp -6 sends from a link-local address that must be ready.
    ["dhcplab-link-ready", ...command],
    { labels, segment: o.segment },
  );
  return { exitCode, report: { engine: "perfdhcp", ...parsePerfdhcp(output) }, output, command };
}

/** Waits (up to 5 s) until the container's IPv6 addresses have finished duplicate address detection. */
export const WAIT_FOR_LINK =
  "for i in $(seq 50); do ip -6 addr show dev eth0 tentative | grep -q . || break; sleep 0.1; done;";

/** A real DHCP client program. */
export type ClientKind = "dhclient" | "dhcpcd" | "udhcpc";

/**
 * How a light DHCPv4 client presents itself as a PXE ROM does: its vendor class (option 60,
 * "PXEClient:Arch:00000:UNDI:002001") and its client system architecture (option 93, RFC 4578
 * §2.1: 0 x86 BIOS, 7 and 9 x86-64 UEFI).
 */
export interface PxeIdentity {
  vendorClass?: string;
  arch?: number;
}

/** The kinds and families a real client runs in the lab, with prefix delegation where it asks for one. */
const CLIENTS = new Set([
  "dhclient-4",
  "dhclient-6",
  "dhclient-6-pd",
  "udhcpc-4",
  "dhcpcd-4",
  "dhcpcd-6",
  "dhcpcd-6-pd",
]);

/**
 * The command that runs one real client once (the client image's dhcplab-client,
 * docker/client/dhcp-client.sh): it prints `ADDRESS <addr>` for what the client obtained; in
 * DHCPv4 with udhcpc and dhclient `NEXT-SERVER` and `BOOT-FILE` for the ACK's siaddr and file;
 * and with `pd` (DHCPv6) `PREFIX <prefix>` for each prefix delegated to it, the client then asking
 * for an address and a prefix as a CPE router does. `vendorClass` and `arch` make a DHCPv4 client
 * present itself as a PXE ROM; `hostname` is the name it gives itself (options 12, 39). What the lab's clients cannot do is refused here, before anything runs.
 */
export function clientCommand(
  kind: ClientKind,
  family: 4 | 6,
  o: { pd?: boolean; hostname?: string } & PxeIdentity = {},
): string[] {
  if (o.pd && (family !== 6 || kind === "udhcpc"))
    throw new Error("prefix delegation is DHCPv6: use -6 with dhclient or dhcpcd");
  const { vendorClass, arch } = o;
  if (family === 6 && (vendorClass !== undefined || arch !== undefined))
    throw new Error("a PXE vendor class and architecture are DHCPv4 (options 60 and 93): leave out -6");
  if (vendorClass !== undefined && !/^[\x20-\x7e]{1,255}$/.test(vendorClass))
    throw new Error("a vendor class is 1 to 255 printable ASCII characters");
  if (arch !== undefined && !(Number.isInteger(arch) && arch >= 0 && arch <= 0xffff))
    throw new Error(`architecture ${arch}: option 93 is a number from 0 to 65535 (RFC 4578 §2.1)`);
  if (arch !== undefined && kind === "dhcpcd")
    throw new Error("dhcpcd cannot send option 93 (--arch): use udhcpc or dhclient");
  // A host name is a DNS name (RFC 1123 labels), which the client sends as option 12 (DHCPv4)
  // or 39 (DHCPv6, RFC 4704): the name Kea's DDNS puts in DNS.
  if (
    o.hostname !== undefined &&
    !/^(?=.{1,253}\.?$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i.test(
      o.hostname,
    )
  )
    throw new Error(
      `host name ${JSON.stringify(o.hostname)}: letters, digits and '-' in dot-separated labels`,
    );
  if (o.hostname !== undefined && kind === "dhclient" && family === 6 && !o.hostname.includes("."))
    throw new Error(
      `dhclient sends its DHCPv6 name fully qualified: give the whole name (${o.hostname}.example.net), not one label`,
    );
  if (!CLIENTS.has(`${kind}-${family}${o.pd ? "-pd" : ""}`))
    throw new Error(`${kind} does not do DHCPv${family} in the lab (udhcpc is DHCPv4 only)`);
  return [
    "dhcplab-client",
    kind,
    String(family),
    ...(o.pd ? ["--pd"] : []),
    ...(vendorClass !== undefined ? ["--vendor-class", vendorClass] : []),
    ...(arch !== undefined ? ["--arch", String(arch)] : []),
    ...(o.hostname !== undefined ? ["--hostname", o.hostname] : []),
  ];
}

/** One real client on the access network, once; the address it obtained, if any. */
export async function runClient(
  docker: Docker,
  lab: LabState,
  image: string,
  o: {
    mac: string;
    family: 4 | 6;
    kind: ClientKind;
    segment?: string;
    pd?: boolean;
    hostname?: string;
  } & PxeIdentity,
): Promise<{
  address?: string;
  prefixes: string[];
  nextServer?: string;
  bootFile?: string;
  exitCode: number;
  output: string;
}> {
  const { exitCode, output } = await runOnAccess(
    docker,
    lab,
    image,
    clientCommand(o.kind, o.family, {
      pd: o.pd,
      vendorClass: o.vendorClass,
      arch: o.arch,
      hostname: o.hostname,
    }),
    {
      mac: o.mac,
      capAdd: ["NET_ADMIN", "NET_RAW"],
      // dhcpcd sets the interface's sysctls at start and gives up when /proc/sys is read-only,
      // as Docker mounts it; it gets a writable one (and runs nothing but dhcpcd).
      writableProc: o.kind === "dhcpcd",
      segment: o.segment,
    },
  );
  const address = /^ADDRESS (\S+)$/m.exec(output)?.[1]?.replace(/\/\d+$/, "");
  const prefixes = [...new Set([...output.matchAll(/^PREFIX (\S+)$/gm)].map((m) => m[1] as string))];
  // An ACK without a next-server has siaddr 0.0.0.0; without a boot file, an empty file field.
  const nextServer = /^NEXT-SERVER (\S+)$/m.exec(output)?.[1];
  const bootFile = /^BOOT-FILE (\S+)$/m.exec(output)?.[1];
  return {
    address,
    prefixes,
    ...(nextServer && nextServer !== "0.0.0.0" ? { nextServer } : {}),
    ...(bootFile ? { bootFile } : {}),
    exitCode,
    output,
  };
}
