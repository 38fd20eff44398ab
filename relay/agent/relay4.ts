import type { Logger } from "pino";
import { ipv4ToBytes } from "../codec/address.ts";
import { hex, text } from "../codec/bytes.ts";
import { MSG, messageTypeName, OP, OPT } from "../codec/dhcp4/codes.ts";
import {
  type Dhcp4Message,
  decodeDhcp4,
  encodeDhcp4,
  FLAG_BROADCAST,
  maxMessageSize,
} from "../codec/dhcp4/message.ts";
import {
  clientId,
  getOption,
  hostname,
  messageType,
  removeOption,
  setOption,
  userClasses,
  vendorClass,
} from "../codec/dhcp4/options.ts";
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  relayAgentFields,
  type SubOption,
  subOptionsOf,
} from "../codec/dhcp4/relay-agent-info.ts";
import { EncodeError } from "../codec/errors.ts";
import type { ClientFacts, Policy } from "../policy/policy.ts";
import { inPrefix } from "./config.ts";
import type { Counters, DropReason } from "./counters.ts";
import { decodeOrWarn, RateLimitedLog } from "./rate-limited-log.ts";
import { Transactions } from "./transactions.ts";

/** Where the relay sends DHCPv4 datagrams; the real one is a UDP socket on port 67. */
export interface Transport4 {
  send(bytes: Uint8Array, port: number, address: string): void;
}

/** A VRF as the DHCPv4 path needs it, servers resolved to addresses. */
export interface Vrf4 {
  name: string;
  /** The relay's address on the VRF's backend network. */
  relayAddress: string;
  link: string;
  subnetSelection: "link-selection" | "giaddr";
  serverIdOverride: boolean;
  servers: string[];
}

/** What the DHCPv4 path knows of its surroundings. */
export interface Relay4Options {
  /** The relay's address on the access network. */
  accessAddress: string;
  /** The access network's broadcast address. */
  accessBroadcast: string;
  /** The clients' gateway addresses the relay holds on the access network (192.168.10.1/24). */
  gateways: readonly string[];
  vrfs: Vrf4[];
  policy: () => Policy;
  transport: Transport4;
  counters: Counters;
  log: Logger;
  now?: () => number;
}

/** What the relay remembers of a request until its replies come back. */
interface InFlight {
  vrf: string;
  /** The Option 82 value the relay sent, if it sent one. */
  sent82?: Uint8Array;
  /** The Option 82 value the request came with, given back on the reply. */
  original82?: Uint8Array;
  /** The downstream relay's giaddr, when the relay took its packet over. */
  downstream?: string;
  /** Where the client's packet came from, for unicast replies. */
  source: string;
}

const ZERO = "0.0.0.0";
const family = 4;

/** The DHCPv4 relay path: client requests to the VRF's servers, their replies back to the client. */
export class Relay4 {
  private readonly servers = new Map<string, Vrf4>();
  private readonly vrfs = new Map<string, Vrf4>();
  private readonly inFlight: Transactions<InFlight>;
  private readonly malformedLog: RateLimitedLog;

  constructor(private readonly o: Relay4Options) {
    for (const v of o.vrfs) {
      this.vrfs.set(v.name, v);
      for (const s of v.servers) this.servers.set(s, v);
    }
    this.inFlight = new Transactions(60_000, 200_000, o.now);
    this.malformedLog = new RateLimitedLog(o.log, 1000, o.now);
  }

  /** Handles one datagram that arrived on port 67 from `source`. */
  handle(bytes: Uint8Array, source: string): void {
    const fromServer = this.servers.has(source);
    const m = decodeOrWarn(
      this.malformedLog,
      () => decodeDhcp4(bytes),
      { family, source, length: bytes.length },
      "malformed DHCPv4 packet dropped",
    );
    const dropped = !m
      ? "malformed"
      : fromServer
        ? this.fromServer(m, source)
        : this.fromClient(m, source, bytes.length);
    if (dropped) this.o.counters.drop(family, dropped);
  }

  private fromClient(m: Dhcp4Message, source: string, receivedLength: number): DropReason | undefined {
    const { counters, log } = this.o;
    const policy = this.o.policy();
    const settings = policy.settings;
    // A BOOTREPLY from an address that is no configured server (RFC 1542 §4.1.2 trusts servers only).
    if (m.op === OP.BOOTREPLY) return "unknown-server";
    if (m.op !== OP.BOOTREQUEST) return "not-bootrequest";
    // RFC 1542 §4.1.1: discard when hops exceeds the configured maximum.
    if (m.hops >= settings.maxHops) return "hops-exceeded";

    const downstream = m.giaddr !== ZERO ? m.giaddr : undefined;
    const existing = getOption(m, OPT.relayAgentInfo);
    const existingSubs: SubOption[] | undefined = existing
      ? decodeOrWarn(
          this.malformedLog,
          () => decodeRelayAgentInfo(existing),
          { family, source },
          "malformed Option 82 dropped",
        )
      : [];
    if (!existingSubs) return "malformed";
    // RFC 3046 §2.1: Option 82 from a client (giaddr 0) is untrusted.
    const mode82 = downstream ? "append" : existing ? settings.existingOption82 : "append";
    if (mode82 === "discard") return "untrusted-option82";

    const decision = policy.decide(this.facts(m, existingSubs));
    if (decision.action === "drop") return decision.reason;
    counters.inc("dhcplab_relay_decisions_total", { family, rule: decision.rule });
    const vrf = this.vrfs.get(decision.vrf);
    if (!vrf || vrf.servers.length === 0) return "no-servers";
    const type = messageTypeName(messageType(m));

    m.hops++;
    if (downstream && settings.relayedClients === "forward") {
      // RFC 3046: a packet from a downstream relay goes on unchanged but for hops.
      this.remember(m, { vrf: vrf.name, source });
      this.toServers(vrf, encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY }), type, decision.rule);
      return undefined;
    }

    const ours = subOptionsOf({
      circuitId: decision.option82.circuitId,
      remoteId: decision.option82.remoteId,
      subscriberId: decision.option82.subscriberId,
      linkSelection: vrf.subnetSelection === "link-selection" ? vrf.link : undefined,
      serverIdOverride: vrf.serverIdOverride ? this.o.accessAddress : undefined,
    });
    const kept = mode82 === "replace" ? [] : existingSubs;
    const added = mode82 === "forward" ? [] : ours;
    m.giaddr = vrf.subnetSelection === "link-selection" ? vrf.relayAddress : vrf.link;

    let sent82: Uint8Array | undefined;
    let bytes: Uint8Array;
    try {
      sent82 = kept.length + added.length > 0 ? encodeRelayAgentInfo([...kept, ...added]) : undefined;
      if (sent82) setOption(m, OPT.relayAgentInfo, sent82);
      else removeOption(m, OPT.relayAgentInfo);
      // The limit is the client's (RFC 2132 §9.10), or what it sent us if that was already more.
      bytes = encodeDhcp4(m, { maxSize: Math.max(maxMessageSize(m), receivedLength) });
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      // RFC 3046 §2.1: no room for the agent option: forward the packet without it.
      counters.notice(family, "no-room-for-option82");
      if (existing) setOption(m, OPT.relayAgentInfo, existing);
      else removeOption(m, OPT.relayAgentInfo);
      sent82 = existing;
      bytes = encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY });
    }
    this.remember(m, { vrf: vrf.name, sent82, original82: existing, downstream, source });
    log.debug(
      {
        family,
        client: hex(m.chaddr.subarray(0, m.hlen), ":"),
        type,
        vrf: vrf.name,
        rule: decision.rule,
        option82: sent82 && hex(sent82),
      },
      "relayed to servers",
    );
    this.toServers(vrf, bytes, type, decision.rule);
    return undefined;
  }

  private fromServer(m: Dhcp4Message, source: string): DropReason | undefined {
    const { counters, log, transport } = this.o;
    if (m.op !== OP.BOOTREPLY) return "not-bootreply";
    const t = this.inFlight.get(key(m));
    if (!t || this.servers.get(source)?.name !== t.vrf) return "unknown-transaction";
    const got82 = getOption(m, OPT.relayAgentInfo);
    if (t.sent82 && got82 && !sameBytes(got82, t.sent82)) return "option82-mismatch";

    // Remove exactly what this relay added: give back the Option 82 the request came with.
    if (t.original82) setOption(m, OPT.relayAgentInfo, t.original82);
    else removeOption(m, OPT.relayAgentInfo);
    // RFC 5107 §4 has the server put the override in option 54; Kea 2.6 does not, so the relay
    // does (as other relays' server-id-override does), and clients renew and release through it.
    // Kea accepts the relay's address in their option 54 because sub-option 11 says so.
    if (this.vrfs.get(t.vrf)?.serverIdOverride && getOption(m, OPT.serverId)) {
      setOption(m, OPT.serverId, ipv4ToBytes(this.o.accessAddress));
    }
    const type = messageTypeName(messageType(m));
    let address: string;
    let port = 68;
    if (t.downstream) {
      m.giaddr = t.downstream;
      address = t.downstream;
      port = 67;
    } else if (m.ciaddr !== ZERO && messageType(m) !== MSG.NAK) {
      // RFC 2131 §4.1: a client with an address gets its reply by unicast to ciaddr, which the
      // relay reaches through the gateway it holds on that subnet; else where the request came from.
      address = this.o.gateways.some((g) => inPrefix(m.ciaddr, g)) ? m.ciaddr : t.source;
    } else {
      // No address yet (or a NAK): broadcast on the access network. Unicast to yiaddr
      // would need an ARP entry for chaddr, which a UDP socket cannot write.
      m.flags |= FLAG_BROADCAST;
      address = this.o.accessBroadcast;
    }
    const bytes = encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY });
    try {
      transport.send(bytes, port, address);
    } catch (err) {
      log.warn({ err, address }, "send to client failed");
      return "send-failed";
    }
    counters.message(family, t.vrf, type, "to-client");
    log.debug(
      { family, type, vrf: t.vrf, to: `${address}:${port}`, yiaddr: m.yiaddr },
      "reply relayed to client",
    );
  }

  private toServers(vrf: Vrf4, bytes: Uint8Array, type: string, rule: string): void {
    for (const server of vrf.servers) {
      try {
        this.o.transport.send(bytes, 67, server);
      } catch (err) {
        this.o.log.warn({ err, server, rule }, "send to server failed");
        this.o.counters.drop(family, "send-failed");
        continue;
      }
      this.o.counters.message(family, vrf.name, type, "to-server");
    }
  }

  private remember(m: Dhcp4Message, t: InFlight): void {
    this.inFlight.set(key(m), t);
  }

  private facts(m: Dhcp4Message, existing: SubOption[]): ClientFacts {
    const fields = relayAgentFields(existing);
    const cid = clientId(m);
    return {
      family,
      mac: m.chaddr.slice(0, Math.min(m.hlen, 16)),
      duid: cid && cid[0] === 255 ? cid.subarray(5) : undefined,
      vendorClasses: [vendorClass(m)].filter((v): v is string => v !== undefined),
      userClasses: userClasses(m) ?? [],
      hostname: hostname(m),
      circuitId: fields.circuitId && text(fields.circuitId),
      remoteId: fields.remoteId && text(fields.remoteId),
    };
  }
}

function key(m: Dhcp4Message): string {
  return `${m.xid}/${hex(m.chaddr.subarray(0, Math.min(m.hlen, 16)))}`;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
