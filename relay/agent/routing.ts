import { execFile, execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { isIPv4 } from "node:net";
import type { Logger } from "pino";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import { type RelayConfig, type VrfConfig, vrfSegments } from "./config.ts";
import type { Delegation, RouteTable } from "./delegations.ts";
import type { ResolvedVrf } from "./resolve.ts";
import { interfaceWith } from "./sockets.ts";
import { vrfTables } from "./vrf-tables.ts";

// What the relay's namespace forwards, and nothing else. The relay relays DHCP in user space;
// its kernel routes only where a real first-hop relay router must:
//  - IPv4, with towers: the servers' replies to each tower's giaddr prefix (RFC 3046 §2.1.1:
//    a relay forwarding a downstream relay's request leaves giaddr alone, so the server answers
//    the downstream relay itself), UDP from port 67 to port 67 only;
//  - IPv4, from each VRF's DHCP servers to that VRF's client subnets, UDP from port 67 to port
//    68 only: a server answers a DHCPINFORM by unicast to ciaddr (RFC 2131 §4.3.5), and the
//    client's first-hop router is the relay; and, where the servers ping an address before
//    offering it (RFC 2131 §2.2: "SHOULD probe the reused address", Kea's ping_check), their
//    ICMP echo requests to those subnets and the echo replies back;
//  - IPv4, with a VRF's services (its boot server): between the VRF's client subnets on the
//    access side and each service address on its backend, both ways, as the first-hop router
//    of a PXE client routes its TFTP to the next-server (RFC 2131 §2: siaddr, "the address of
//    the next server to use in bootstrap");
//  - IPv6: between each VRF's backend and the access side, the VRF's client subnets (its
//    gateways6) and the prefixes delegated to its clients (learned from the replies, RFC 8987),
//    each VRF's into that VRF's backend only.
// Everything else meets the chain's drop policy: a host of one VRF routing through the relay
// cannot reach another VRF, nor a client of another VRF.

/** The nftables table the relay owns. */
export const TABLE = "inet dhcplab";

/** The forwarding the relay's chain accepts, by interface name. */
export interface ForwardPlan {
  /** IPv4 with towers: from each VRF's backend out the transport interface, to the towers' prefixes. */
  towers?: { backends: string[]; transport: string; prefixes: string[] };
  /** IPv4 per VRF with client subnets: its backend interface, its segments' interfaces, those subnets, its DHCP servers and its service addresses. */
  vrfs4: {
    vrf: string;
    backend: string;
    /** The interfaces of the access segments it serves: its clients are there, and nowhere else. */
    access: string[];
    clients: string[];
    servers: string[];
    /** Whether the servers ping before they offer (ICMP echo to the clients, replies back). */
    ping: boolean;
    services: string[];
  }[];
  /** IPv6 per VRF: its backend interface, its segments' interfaces, its client subnets and its delegated prefixes' set. */
  vrfs6: { vrf: string; backend: string; access: string[]; prefixes: string[]; set: string }[];
  /**
   * A VRF's own segments' interfaces and its table: connections that come in there carry the
   * table as their mark, and what the relay answers on them is routed by it (vrf-tables.ts).
   */
  marks?: { devs: string[]; mark: number }[];
}

/** The name of a VRF's set of delegated prefixes (nftables names: letters, digits, '_'). */
export function delegationSet(vrf: string): string {
  return `delegated6_${vrf.replace(/[^A-Za-z0-9_]/g, "_")}`;
}

const names = (devs: readonly string[]) =>
  devs.length === 1 ? `"${devs[0]}"` : `{ ${devs.map((d) => `"${d}"`).join(", ")} }`;

/** The relay's nftables table: one set per VRF, a forward chain whose policy is drop. Pure. */
export function forwardRuleset(p: ForwardPlan): string {
  const rules: string[] = [];
  if (p.towers) {
    for (const b of p.towers.backends)
      for (const prefix of p.towers.prefixes)
        rules.push(
          `iifname "${b}" oifname "${p.towers.transport}" ip daddr ${prefix} udp sport 67 udp dport 67 accept`,
        );
  }
  const set = (items: readonly string[]) => `{ ${items.join(", ")} }`;
  // Each VRF's rules name its own segments' interfaces: where two VRFs number their clients
  // alike, an address says nothing of the VRF, the interface does.
  for (const v of p.vrfs4) {
    const access = names(v.access);
    const clients = set(v.clients);
    if (v.servers.length > 0)
      rules.push(
        `iifname "${v.backend}" oifname ${access} ip saddr ${set(v.servers)} ip daddr ${clients} udp sport 67 udp dport 68 accept`,
      );
    if (v.servers.length > 0 && v.ping)
      rules.push(
        `iifname "${v.backend}" oifname ${access} ip saddr ${set(v.servers)} ip daddr ${clients} icmp type echo-request accept`,
        // Only replies to the servers' own pings: a host cannot make Kea think an address taken.
        `iifname ${access} oifname "${v.backend}" ip saddr ${clients} ip daddr ${set(v.servers)} icmp type echo-reply ct state established accept`,
      );
    if (v.services.length > 0)
      rules.push(
        `iifname ${access} oifname "${v.backend}" ip saddr ${clients} ip daddr ${set(v.services)} accept`,
        `iifname "${v.backend}" oifname ${access} ip saddr ${set(v.services)} ip daddr ${clients} accept`,
      );
  }
  for (const v of p.vrfs6) {
    const access = names(v.access);
    const into = `iifname "${v.backend}" oifname ${access}`;
    const from = `iifname ${access} oifname "${v.backend}"`;
    if (v.prefixes.length > 0) {
      const set = `{ ${v.prefixes.join(", ")} }`;
      rules.push(`${into} ip6 daddr ${set} accept`, `${from} ip6 saddr ${set} accept`);
    }
    rules.push(`${into} ip6 daddr @${v.set} accept`, `${from} ip6 saddr @${v.set} accept`);
  }
  const sets = p.vrfs6.map((v) => `  set ${v.set} {\n    type ipv6_addr; flags interval;\n  }\n`);
  // VRFs numbered alike: a connection that comes in on a VRF's own segment takes its table as
  // its mark, and the relay's own answers on it take the mark, so that they are routed back by
  // that table (a `type route` chain routes a packet anew when its mark changes).
  const marks = p.marks ?? [];
  const marking =
    marks.length === 0
      ? ""
      : `  chain vrf_in {\n    type filter hook prerouting priority mangle; policy accept;\n${marks
          .map((m) => `    iifname ${names(m.devs)} ct mark set ${m.mark}\n`)
          .join(
            "",
          )}  }\n  chain vrf_out {\n    type route hook output priority mangle; policy accept;\n    ct mark != 0 meta mark set ct mark\n  }\n`;
  // Declared, then deleted and made anew: the table is the relay's alone, whatever was there.
  return `table ${TABLE}\ndelete table ${TABLE}\ntable ${TABLE} {\n${sets.join("")}  chain forward {\n    type filter hook forward priority 0; policy drop;\n${rules.map((r) => `    ${r}\n`).join("")}  }\n${marking}}\n`;
}

/**
 * The forwarding a relay configuration asks for, with its interfaces found by address; `vrfs`
 * carries each VRF's servers as resolved (names become addresses).
 */
export function forwardPlan(
  config: RelayConfig,
  vrfs: readonly Pick<ResolvedVrf, "name" | "servers4">[] = config.vrfs,
): ForwardPlan {
  const servers4 = (name: string) =>
    (vrfs.find((v) => v.name === name)?.servers4 ?? []).filter((a) => isIPv4(a));
  const transport = config.transport && interfaceWith(config.transport.ipv4);
  const access = (v: VrfConfig) => vrfSegments(config, v).map((s) => interfaceWith(s.ipv4));
  return {
    ...(config.transport && transport
      ? {
          towers: {
            backends: config.vrfs.filter((v) => v.ipv4).map((v) => interfaceWith(v.ipv4 as string)),
            transport,
            prefixes: config.transport.towers.map((t) => t.giaddr),
          },
        }
      : {}),
    vrfs4: config.vrfs
      .filter((v) => v.ipv4 && v.clients4.length > 0)
      .map((v) => ({
        vrf: v.name,
        backend: interfaceWith(v.ipv4 as string),
        access: access(v),
        clients: v.clients4,
        servers: servers4(v.name),
        ping: v.pingCheck4,
        services: v.services4.map((s) => s.address),
      })),
    vrfs6: config.vrfs
      .filter((v) => v.ipv6 && v.servers6.length > 0)
      .map((v) => ({
        vrf: v.name,
        backend: interfaceWith(v.ipv6 as string),
        access: access(v),
        prefixes: v.gateways6.map(networkOf6),
        set: delegationSet(v.name),
      })),
    marks: vrfTables(config)
      .filter((t) => t.own.length > 0)
      .map((t) => ({ devs: t.own, mark: t.table })),
  };
}

/**
 * The relay's table with nothing accepted: installed first thing, so that the namespace, whose
 * forwarding is on from its start (the container's sysctls), forwards nothing until the full
 * chain is in place (installForwarding, once the servers are resolved).
 */
export function installDropAll(log: Logger): void {
  nft(forwardRuleset({ vrfs4: [], vrfs6: [] }), log);
}

/** Loads a ruleset; without NET_ADMIN there is none, and the health check says so (isolated()). */
function nft(ruleset: string, log: Logger): void {
  try {
    execFileSync("nft", ["-f", "-"], { input: ruleset, stdio: ["pipe", "ignore", "pipe"] });
  } catch (err) {
    // Without NET_ADMIN there is no chain; with forwarding off nothing needs one (see isolated()).
    const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
    log.warn({ error: why }, "the forward chain could not be installed: the relay forwards nothing");
  }
}

/**
 * Installs the relay's forwarding: the towers' routes over the transport network, each VRF
 * service's route on its backend, and the nftables table of forwardRuleset. Needs NET_ADMIN.
 */
export function installForwarding(
  config: RelayConfig,
  vrfs: readonly Pick<ResolvedVrf, "name" | "servers4">[],
  log: Logger,
): ForwardPlan {
  const plan = forwardPlan(config, vrfs);
  if (config.transport && plan.towers) {
    for (const t of config.transport.towers) {
      execFileSync("ip", ["route", "replace", t.giaddr, "via", t.source, "dev", plan.towers.transport]);
      log.info({ tower: t.name, prefix: t.giaddr, via: t.source }, "routing a tower's subscribers");
    }
  }
  for (const v of config.vrfs.filter((v) => v.ipv4)) {
    for (const s of v.services4) {
      const dev = interfaceWith(v.ipv4 as string);
      execFileSync("ip", ["route", "replace", `${s.address}/32`, "via", s.via, "dev", dev]);
      log.info({ vrf: v.name, service: s.address, via: s.via, dev }, "routing a VRF's service");
    }
  }
  nft(forwardRuleset(plan), log);
  return plan;
}

/** Runs a program with `input` on its stdin; rejects with its stderr when it fails. */
export type Runner = (program: string, args: string[], input: string) => Promise<void>;

const run: Runner = (program, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(program, args, (err, _out, stderr) =>
      err ? reject(new Error(`${program}: ${stderr.trim() || err.message}`)) : resolve(),
    );
    child.stdin?.end(input);
  });

/**
 * Delegated prefixes in the kernel: a route via the requesting router in its VRF's table
 * (vrf-tables.ts; `proto dhcp`, so that `ip -6 route show table all proto dhcp` lists them) and an
 * element of its VRF's set in the forward chain. Changes are batched per event-loop turn: one `ip -batch` and one `nft -f` for a burst
 * of replies. Should nftables refuse a batch, the sets are written anew from the table.
 */
export class KernelRoutes implements RouteTable {
  private ip: string[] = [];
  private nft: string[] = [];
  private scheduled = false;
  private done: Promise<void> = Promise.resolve();

  constructor(
    private readonly o: {
      /** The interface of an access segment. */
      devOf: (segment: string) => string | undefined;
      /** Each VRF's delegation set (VRFs without DHCPv6 have none). */
      sets: ReadonlyMap<string, string>;
      /** Each VRF's routing table. */
      tables: ReadonlyMap<string, number>;
      /** Every delegation now: what a resync writes. */
      snapshot: () => Delegation[];
      log: Logger;
      run?: Runner;
    },
  ) {}

  install(d: Delegation): void {
    const dev = this.o.devOf(d.segment);
    const set = this.o.sets.get(d.vrf);
    const table = this.o.tables.get(d.vrf);
    if (!dev || !set || table === undefined) {
      this.o.log.warn(
        { prefix: d.prefix, vrf: d.vrf, segment: d.segment },
        "no interface or set for a delegation",
      );
      return;
    }
    this.ip.push(`route replace ${d.prefix} via ${d.via} dev ${dev} proto dhcp table ${table}`);
    this.nft.push(`add element ${TABLE} ${set} { ${d.prefix} }`);
    this.schedule();
  }

  withdraw(d: Delegation): void {
    const dev = this.o.devOf(d.segment);
    const set = this.o.sets.get(d.vrf);
    const table = this.o.tables.get(d.vrf);
    if (!dev || !set || table === undefined) return;
    this.ip.push(`route del ${d.prefix} via ${d.via} dev ${dev} proto dhcp table ${table}`);
    this.nft.push(`delete element ${TABLE} ${set} { ${d.prefix} }`);
    this.schedule();
  }

  /** Resolves once every change made so far is in the kernel (or has failed and been logged). */
  settled(): Promise<void> {
    return this.done;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const ip = this.ip;
      const nft = this.nft;
      this.ip = [];
      this.nft = [];
      this.done = this.done.then(() => this.apply(ip, nft));
    });
  }

  private async apply(ip: string[], nft: string[]): Promise<void> {
    const runner = this.o.run ?? run;
    await runner("ip", ["-6", "-force", "-batch", "-"], `${ip.join("\n")}\n`).catch((err: Error) =>
      this.o.log.warn({ error: err.message }, "a delegated route change failed"),
    );
    try {
      await runner("nft", ["-f", "-"], `${nft.join("\n")}\n`);
    } catch (err) {
      this.o.log.warn({ error: (err as Error).message }, "nftables refused a batch: writing the sets anew");
      await runner("nft", ["-f", "-"], this.resyncText()).catch((e: Error) =>
        this.o.log.error({ error: e.message }, "nftables refused the delegation sets"),
      );
    }
  }

  private resyncText(): string {
    const bySet = new Map<string, string[]>();
    for (const d of this.o.snapshot()) {
      const set = this.o.sets.get(d.vrf);
      if (set) bySet.set(set, [...(bySet.get(set) ?? []), d.prefix]);
    }
    // Every set is flushed, also one whose VRF has no delegation left.
    return [
      ...[...new Set(this.o.sets.values())].map((s) => `flush set ${TABLE} ${s}`),
      ...[...bySet].map(([s, prefixes]) => `add element ${TABLE} ${s} { ${prefixes.join(", ")} }`),
      "",
    ].join("\n");
  }
}

/** Whether the relay's forward chain is in place with its drop policy. */
function forwardChainInPlace(): boolean {
  try {
    return /policy drop;/.test(
      execFileSync("nft", ["list", "chain", "inet", "dhcplab", "forward"], { encoding: "utf8" }),
    );
  } catch {
    return false;
  }
}

/**
 * Whether the relay's namespace routes nothing but what it must. With forwarding on and no
 * guard, a host on one VRF's network could route through the relay into another's: the relay
 * is then not ready, and says why. Forwarding is on only behind the relay's forward chain
 * (routing.ts), whose policy is drop.
 */
export function isolated(chainInPlace: () => boolean = forwardChainInPlace): {
  ok: boolean;
  detail?: string;
} {
  const on = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"].filter(
    (f) => (readSysctl(f) ?? "0") !== "0",
  );
  if (on.length === 0 || chainInPlace()) return { ok: true };
  return {
    ok: false,
    detail: `IP forwarding is on (${on.join(", ")}) but the dhcplab forward chain is missing: VRFs are not isolated`,
  };
}

function readSysctl(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}
