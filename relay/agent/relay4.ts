import type { Logger } from "pino";
import { ipv4ToBytes } from "../../lib/codec/address.ts";
import { equalBytes, hex, text } from "../../lib/codec/bytes.ts";
import { MSG, messageTypeName, OP, OPT, SUBOPT } from "../../lib/codec/dhcp4/codes.ts";
import { type Dhcp4Message, decodeDhcp4, FLAG_BROADCAST } from "../../lib/codec/dhcp4/message.ts";
import { userClassesOf } from "../../lib/codec/dhcp4/options.ts";
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  relayAgentFields,
  type SubOption,
  subOptionsOf,
} from "../../lib/codec/dhcp4/relay-agent-info.ts";
import { DecodedDhcp4, type Dhcp4View, ScannedDhcp4 } from "../../lib/codec/dhcp4/scan.ts";
import { EncodeError } from "../../lib/codec/errors.ts";
import { inPrefix } from "../../lib/codec/prefix.ts";
import { isLeaseQueryAnswerType4 } from "../../lib/leasequery.ts";
import type { ClientFacts, Policy } from "../../lib/policy/policy.ts";
import { CountedSender } from "./counted-sender.ts";
import type { Counters, DropReason } from "./counters.ts";
import type { Journal } from "./journal.ts";
import { type Link, type OnLink, TRANSPORT_SEGMENT, type Transport, vrfLink } from "./links.ts";
import { decodeOrWarn, RateLimitedLog } from "./rate-limited-log.ts";
import { Recorded4 } from "./recorded.ts";
import { key4, VrfIndex } from "./transaction-keys.ts";
import { Transactions } from "./transactions.ts";

/** A VRF as the DHCPv4 path needs it, servers resolved to addresses. */
export interface Vrf4 {
  name: string;
  /** The relay's address on the VRF's backend network. */
  relayAddress: string;
  link: string;
  subnetSelection: "link-selection" | "giaddr";
  serverIdOverride: boolean;
  servers: string[];
  /** Prefixes whose replies are accepted too: servers behind an upstream relay that forwards. */
  acceptFrom?: readonly string[];
  /** The access segments whose clients it serves (absent: every one). */
  segments?: ReadonlySet<string>;
}

/** An access segment as the DHCPv4 path needs it. */
export interface Segment4 {
  name: string;
  /** The relay's address on the segment: its Server ID Override there. */
  address: string;
  /** The clients' gateway addresses the relay holds on the segment (192.168.10.1/24). */
  gateways: readonly string[];
}

/** What the DHCPv4 path knows of its surroundings. */
export interface Relay4Options {
  /** The access segments, by the name their links carry. */
  segments: readonly Segment4[];
  /** The relay's hostname, for policy templates ({relay}). */
  hostname?: string;
  /**
   * Every address the relay holds, on any interface: a request whose giaddr is one of them is
   * discarded (RFC 3046 §2.1.1), as it can only be a loop or a forgery.
   */
  ownAddresses: readonly string[];
  /** Downstream relays on the transport network: trusted by source address and giaddr prefix. */
  towers?: readonly { source: string; giaddr: string }[];
  vrfs: Vrf4[];
  policy: () => Policy;
  transport: Transport;
  counters: Counters;
  log: Logger;
  /** Where each client message's decision is recorded (dhcplab trace, explain). */
  journal?: Journal;
  /** Takes a lease query's answer from a server of the VRF (the relay's own query): true when it did. */
  leaseQueryAnswer?: (m: Dhcp4Message, source: string, vrf: string) => boolean;
  now?: () => number;
  /**
   * Messages read in place where their shape allows (ScannedDhcp4), else decoded whole; false:
   * every message decoded whole, the reference the in-place path is tested against.
   */
  readInPlace?: boolean;
}

/** What the relay remembers of a request until its replies come back. */
interface InFlight {
  vrf: string;
  /** The Option 82 value the relay sent, if it sent one. */
  sent82?: Uint8Array;
  /**
   * With VSS: the echo of a server that processed it, which returns the sub-options but
   * VSS-Control (RFC 6607, updating RFC 3046's echo of every sub-option).
   */
  vssEcho?: Uint8Array;
  /** The Option 82 value the request came with, given back on the reply. */
  original82?: Uint8Array;
  /** The trusted downstream relay's giaddr, when the relay took its packet over. */
  downstream?: string;
  /** Where the client's packet came from, for unicast replies, and the segment it came in on. */
  source: string;
  link: Link;
}

const ZERO = "0.0.0.0";
/** RFC 2131 §4.1, RFC 1542 §4.1.2: replies to a client without an address. */
const LIMITED_BROADCAST = "255.255.255.255";
/** ARP's hardware type for Ethernet (RFC 1700), the `htype` of a chaddr the relay can frame to. */
const HTYPE_ETHERNET = 1;
const family = 4;

/**
 * Sub-options only this relay may set, whatever a client or downstream relay sent: they select
 * the server's subnet (RFC 3527 §4), its identity (RFC 5107) or its VPN (RFC 6607), so a forged
 * one could steer a client across subnets or VRFs.
 */
const RELAY_ONLY_SUBOPTIONS: ReadonlySet<number> = new Set([
  SUBOPT.linkSelection,
  SUBOPT.serverIdOverride,
  SUBOPT.vss,
  SUBOPT.vssControl,
]);

/** The DHCPv4 relay path: client requests to the VRF's servers, their replies back to the client. */
export class Relay4 {
  private readonly vrfs = new Map<string, Vrf4>();
  private readonly segments = new Map<string, Segment4>();
  private readonly own: ReadonlySet<string>;
  private readonly inFlight: Transactions<InFlight>;
  /** Each VRF's index, its part of a transaction's key. */
  private readonly vrfIds: VrfIndex;
  /** The relay's address on each segment as option 54's value (RFC 5107), made once. */
  private readonly serverIds = new Map<Segment4, Uint8Array>();
  private readonly malformedLog: RateLimitedLog;
  private readonly sender: CountedSender;
  private readonly infrastructureByVrf = new Map<Vrf4, Map<Segment4, readonly SubOption[]>>();

  constructor(private readonly o: Relay4Options) {
    for (const v of o.vrfs) this.vrfs.set(v.name, v);
    this.vrfIds = new VrfIndex(o.vrfs.map((v) => v.name));
    for (const s of o.segments) {
      this.segments.set(s.name, s);
      this.serverIds.set(s, ipv4ToBytes(s.address));
    }
    this.own = new Set(o.ownAddresses);
    this.inFlight = new Transactions({ now: o.now, onEvict: (why) => o.counters.evicted(family, why) });
    this.malformedLog = new RateLimitedLog(o.log, 1000, o.now);
    this.sender = new CountedSender(family, o.transport, o.counters, o.log, o.now);
  }

  /**
   * The sub-options this relay adds for a VRF's clients on a segment, whatever the policy says
   * (Link Selection, RFC 3527; Server Identifier Override, RFC 5107): made once per pair, as
   * neither changes while the relay runs.
   */
  private infrastructure(vrf: Vrf4, segment: Segment4): readonly SubOption[] {
    let bySegment = this.infrastructureByVrf.get(vrf);
    if (!bySegment) {
      bySegment = new Map();
      this.infrastructureByVrf.set(vrf, bySegment);
    }
    let subs = bySegment.get(segment);
    if (!subs) {
      subs = subOptionsOf({
        linkSelection: vrf.subnetSelection === "link-selection" ? vrf.link : undefined,
        serverIdOverride: vrf.serverIdOverride ? segment.address : undefined,
      });
      bySegment.set(segment, subs);
    }
    return subs;
  }

  /** A transaction's key: its VRF, xid and chaddr (transaction-keys.ts). */
  private key(vrf: string, m: Dhcp4View): string {
    return key4(this.vrfIds.known(vrf), m.xid, m.chaddr, m.hlen);
  }

  /** Requests awaiting their replies. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Handles one datagram that arrived on port 67 from `source` through `link`; says why when it dropped it. */
  handle(bytes: Uint8Array, source: string, link: Link): DropReason | undefined {
    const dropped = this.receive(bytes, source, link);
    if (dropped) this.o.counters.drop(family, dropped);
    return dropped;
  }

  private receive(bytes: Uint8Array, source: string, link: Link): DropReason | undefined {
    if (link.side === "unknown") return "unknown-interface";
    const m = this.read(bytes, source);
    if (!m) return "malformed";
    if (link.side === "vrf") return this.fromServer(m, source, link.vrf);
    const segment = this.segments.get(link.segment);
    return segment ? this.fromClient(m, source, bytes.length, link, segment) : "unknown-interface";
  }

  /**
   * The datagram as the paths read it. A relay changes giaddr, hops, Option 82 and at most option
   * 54, and reads a few options more: read in place, most messages need no decode. A lease query's
   * answer (handed on whole) and the shapes the scan leaves out take the full decode, which also
   * tells a malformed datagram (undefined).
   */
  private read(bytes: Uint8Array, source: string): Dhcp4View | undefined {
    if (this.o.readInPlace !== false) {
      const scanned = ScannedDhcp4.scan(bytes);
      if (scanned && !isLeaseQueryAnswerType4(scanned.messageType)) return scanned;
    }
    const m = decodeOrWarn(
      this.malformedLog,
      () => decodeDhcp4(bytes),
      { family, source, length: bytes.length },
      "malformed DHCPv4 packet dropped",
    );
    return m && new DecodedDhcp4(m);
  }

  /** A client's message relayed or dropped, and the journal told which and why. */
  private fromClient(
    m: Dhcp4View,
    source: string,
    receivedLength: number,
    link: Link & { side: "access" },
    segment: Segment4,
  ): DropReason | undefined {
    const journal = this.o.journal;
    const record = journal && new Recorded4(m, segment.name);
    const dropped = this.relayClient(m, source, receivedLength, link, segment, record);
    if (dropped && record) journal.record(record.dropped(dropped));
    return dropped;
  }

  private relayClient(
    m: Dhcp4View,
    source: string,
    receivedLength: number,
    link: Link & { side: "access" },
    segment: Segment4,
    record: Recorded4 | undefined,
  ): DropReason | undefined {
    const { counters } = this.o;
    const policy = this.o.policy();
    const settings = policy.settings;
    // RFC 1542 §4.1.2: BOOTREPLYs come from servers, which are only on the VRFs' links.
    if (m.op === OP.BOOTREPLY) return "server-message-from-client";
    if (m.op !== OP.BOOTREQUEST) return "not-bootrequest";
    // RFC 1542 §4.1.1: discard when hops exceeds the configured maximum.
    if (m.hops > settings.maxHops) return "hops-exceeded";

    const downstream = m.giaddr !== ZERO ? m.giaddr : undefined;
    // On the transport network only towers speak, and always as relays.
    if (!downstream && segment.name === TRANSPORT_SEGMENT) return "untrusted-relay";
    if (downstream) {
      // RFC 3046 §2.1.1: a giaddr of this relay's own is a loop or a forgery.
      if (this.own.has(downstream)) return "own-giaddr";
      // A downstream relay is trusted when giaddr is its own source address, or configured: in
      // the policy by prefix, or as a tower by its source address and its giaddr prefix.
      if (
        downstream !== source &&
        !settings.trustedRelays.some((p) => inPrefix(downstream, p)) &&
        !this.o.towers?.some((t) => t.source === source && inPrefix(downstream, t.giaddr))
      )
        return "untrusted-relay";
    }
    const existing = m.option(OPT.relayAgentInfo);
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

    const decision = policy.decide(this.facts(m, existingSubs, link, downstream));
    if (record) record.rule = decision.rule;
    if (decision.action === "drop") return decision.reason;
    if (record) record.vrf = decision.vrf;
    counters.decision(family, decision.rule);
    const vrf = this.vrfs.get(decision.vrf);
    if (!vrf || vrf.servers.length === 0) return "no-servers";
    // A VRF on segments of its own has its gateways there only: a client elsewhere could not use its lease.
    if (vrf.segments && !vrf.segments.has(segment.name)) return "vrf-not-on-segment";
    const type = messageTypeName(m.messageType);
    if (downstream)
      counters.downstream(family, settings.relayedClients === "forward" ? "forward" : "takeover");

    const hops = m.hops + 1;
    if (downstream && settings.relayedClients === "forward") {
      if (record) this.o.journal?.record(record.relayed(downstream, null));
      // RFC 3046 §2.1.1: a trusted downstream relay's packet goes on unchanged but for hops. Its
      // giaddr stays the downstream relay's, so the server answers that relay (RFC 2131 §4.1), never
      // this one: nothing is kept in flight for a reply that cannot come here.
      this.toServers(vrf, m.forwarded(hops), type);
      return undefined;
    }

    // The relay's infrastructure sub-options always; the policy's unless the mode forwards theirs.
    const infrastructure = this.infrastructure(vrf, segment);
    // RFC 6607: VSS goes with VSS-Control, which a server that processed VSS leaves out of its echo.
    const vss: SubOption[] = decision.vss
      ? [
          { code: SUBOPT.vss, data: decision.vss },
          { code: SUBOPT.vssControl, data: new Uint8Array(0) },
        ]
      : [];
    const policyAdded =
      mode82 === "forward"
        ? []
        : subOptionsOf({
            circuitId: decision.option82.circuitId,
            remoteId: decision.option82.remoteId,
            subscriberId: decision.option82.subscriberId,
          });
    const ours = [...policyAdded, ...infrastructure, ...vss];
    // Kea must read the relay's sub-options, never a client's forgery of the same code.
    const kept =
      mode82 === "replace" || existingSubs.length === 0
        ? []
        : existingSubs.filter(
            (s) => !RELAY_ONLY_SUBOPTIONS.has(s.code) && !ours.some((o) => o.code === s.code),
          );
    const giaddr = vrf.subnetSelection === "link-selection" ? vrf.relayAddress : vrf.link;

    let sent82: Uint8Array | undefined;
    let vssEcho: Uint8Array | undefined;
    let bytes: Uint8Array | undefined;
    try {
      const all = kept.length > 0 ? [...kept, ...ours] : ours;
      sent82 = all.length > 0 ? encodeRelayAgentInfo(all) : undefined;
      if (vss.length > 0) vssEcho = encodeRelayAgentInfo(all.filter((o) => o.code !== SUBOPT.vssControl));
      bytes = m.rewrite(sent82, { hops, giaddr });
    } catch (err) {
      // Sub-options past option 82's 255 bytes (RFC 3046 §2.0): as if there were no room.
      if (!(err instanceof EncodeError)) throw err;
    }
    // The limit is the client's (RFC 2132 §9.10), or what it sent us if that was already more.
    if (!bytes || bytes.length > Math.max(m.maxMessageSize, receivedLength)) {
      // RFC 3046 §2.1: no room for the agent option: forward the packet without it.
      counters.notice(family, "no-room-for-option82");
      sent82 = undefined;
      vssEcho = undefined;
      bytes = m.rewrite(undefined, { hops, giaddr });
    }
    this.inFlight.set(this.key(vrf.name, m), {
      vrf: vrf.name,
      sent82,
      vssEcho,
      // A copy: the datagram is a view of a receive slab, which the entry would keep whole.
      original82: existing?.slice(),
      downstream,
      source,
      link,
    });
    if (record) this.o.journal?.record(record.relayed(giaddr, sent82));
    if (this.o.log.isLevelEnabled("debug")) {
      this.o.log.debug(
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
    }
    this.toServers(vrf, bytes, type);
    return undefined;
  }

  private fromServer(m: Dhcp4View, source: string, vrfName: string): DropReason | undefined {
    // A request on a backend link is never relayed: only the VRF's servers speak there.
    if (m.op === OP.BOOTREQUEST) return "client-message-on-backend";
    if (m.op !== OP.BOOTREPLY) return "not-bootreply";
    // RFC 1542 §4.1.2 trusts servers only: this VRF's, on this VRF's link.
    const vrf = this.vrfs.get(vrfName);
    if (!vrf?.servers.includes(source) && !vrf?.acceptFrom?.some((p) => inPrefix(source, p)))
      return "unknown-server";
    // RFC 4388 §6.4: a lease query's answer comes to the requester's giaddr, the relay's own
    // address here: it is the relay's, never a client's.
    if (isLeaseQueryAnswerType4(m.messageType)) {
      const answer = m instanceof DecodedDhcp4 ? m.message : undefined;
      return answer && this.o.leaseQueryAnswer?.(answer, source, vrfName) ? undefined : "unknown-transaction";
    }
    const transaction = this.key(vrfName, m);
    const t = this.inFlight.get(transaction);
    if (!t) return "unknown-transaction";
    // RFC 3046 §2.2: the server echoes Option 82 verbatim; anything else is not our request's reply.
    // With VSS, RFC 6607: a server that processed it echoes all but VSS-Control; one that echoes
    // VSS-Control too did not process it, and its reply was made without knowing the VPN.
    const got82 = m.option(OPT.relayAgentInfo);
    if (t.sent82 && !(got82 && (equalBytes(got82, t.sent82) || (t.vssEcho && equalBytes(got82, t.vssEcho)))))
      return "option82-mismatch";
    if (t.vssEcho && got82 && equalBytes(got82, t.sent82 as Uint8Array)) {
      if (this.o.policy().settings.vssReplies === "strict") return "vss-not-supported";
      this.o.counters.notice(family, "vss-not-supported");
    }

    const segment = t.link.side === "access" ? this.segments.get(t.link.segment) : undefined;
    if (!segment) return "unknown-interface";
    // RFC 5107 §4 has the server put the override in option 54; Kea 2.6 does not, so the relay
    // does (as other relays' server-id-override does), and clients renew and release through it.
    // Kea accepts the relay's address in their option 54 because sub-option 11 says so.
    const serverId =
      this.vrfs.get(t.vrf)?.serverIdOverride && m.option(OPT.serverId) !== undefined
        ? this.serverIds.get(segment)
        : undefined;
    const mt = m.messageType;
    let address: string;
    let port = 68;
    let frame: OnLink | undefined;
    if (t.downstream) {
      // RFC 1542 §4.1.2 for the downstream relay: its giaddr back, to its server port.
      address = t.downstream;
      port = 67;
    } else if (m.ciaddr !== ZERO && mt !== MSG.NAK) {
      // RFC 2131 §4.1: a client with an address gets its reply by unicast to ciaddr, which the
      // relay reaches through the gateway it holds on that subnet; else where the request came from.
      address = segment.gateways.some((g) => inPrefix(m.ciaddr, g)) ? m.ciaddr : t.source;
    } else {
      // No address yet, or a NAK: RFC 1542 §4.1.2 (toClientOnLink), the server's flags untouched.
      address = LIMITED_BROADCAST;
      frame = toClientOnLink(m, segment);
    }
    // Remove exactly what this relay added: give back the Option 82 the request came with.
    const bytes = m.rewrite(t.original82, { serverId, giaddr: t.downstream });
    // An ACK or NAK ends the transaction (RFC 2131 §3.1); from the VRF's only server no other
    // reply can come, so the relay forgets it now rather than holding it for the TTL. An OFFER
    // does not: the REQUEST that follows has the DISCOVER's xid (RFC 2131 §4.4.1, its key here),
    // and the OFFER to a retransmitted DISCOVER may come after it.
    if ((mt === MSG.ACK || mt === MSG.NAK) && this.singleServer(t.vrf)) this.inFlight.delete(transaction);
    const what = { vrf: t.vrf, type: messageTypeName(mt), direction: "to-client" } as const;
    // Framed by the relay where its transport can. Else through its UDP socket to the limited
    // broadcast: a UDP socket cannot reach chaddr (yiaddr has no ARP entry), and RFC 1542 §4.1.2
    // lets a relay broadcast when unicasting is not possible.
    if (!(frame && this.sender.sendOnLink(bytes, port, frame, t.link, what)))
      this.sender.send(bytes, port, address, t.link, what);
    return undefined;
  }

  /** The relay's own DHCPLEASEQUERY to a VRF's servers (RFC 4388), counted as LEASEQUERY to-server. */
  sendLeaseQuery(vrfName: string, bytes: Uint8Array): void {
    const vrf = this.vrfs.get(vrfName);
    if (vrf) this.toServers(vrf, bytes, "LEASEQUERY");
  }

  /**
   * Whether one server answers for the VRF: one configured, and no others accepted behind it (a
   * tower's upstream, the main relay, forwards the replies of every server of its VRFs).
   */
  private singleServer(vrfName: string): boolean {
    const vrf = this.vrfs.get(vrfName);
    return vrf?.servers.length === 1 && !vrf.acceptFrom?.length;
  }

  private toServers(vrf: Vrf4, bytes: Uint8Array, type: string): void {
    const via = vrfLink(vrf.name);
    for (const server of vrf.servers)
      this.sender.send(bytes, 67, server, via, { vrf: vrf.name, type, direction: "to-server" });
  }

  private facts(
    m: Dhcp4View,
    existing: SubOption[],
    link: Link & { side: "access" },
    giaddr: string | undefined,
  ): ClientFacts {
    const fields = relayAgentFields(existing);
    const cid = m.option(OPT.clientId);
    const vendor = m.option(OPT.vendorClass);
    const users = m.option(OPT.userClass);
    const host = m.option(OPT.hostname);
    return {
      family,
      // A view: the facts live as long as the decision is being made.
      mac: m.chaddr.subarray(0, Math.min(m.hlen, 16)),
      duid: cid && cid[0] === 255 ? cid.subarray(5) : undefined,
      vendorClasses: vendor ? [text(vendor)] : [],
      userClasses: users ? userClassesOf(users) : [],
      hostname: host && text(host),
      circuitId: fields.circuitId && text(fields.circuitId),
      remoteId: fields.remoteId && text(fields.remoteId),
      segment: link.segment,
      vlan: link.vlan,
      relay: this.o.hostname,
      giaddr,
    };
  }
}

/**
 * RFC 1542 §4.1.2: a reply to a client that holds no address SHOULD go to yiaddr at the client's
 * link-layer address (chaddr) when its BROADCAST flag is clear, and to the limited broadcast at the
 * link-layer broadcast when it is set, or when unicasting is not possible (no Ethernet chaddr, no
 * yiaddr). A NAK is always broadcast (RFC 2131 §4.3.2: the server sets BROADCAST in a NAK to a
 * relay). From the relay's address on the segment, as isc-dhcp-relay sends from its interface's.
 */
function toClientOnLink(m: Dhcp4View, segment: Segment4): OnLink {
  const unicast =
    m.messageType !== MSG.NAK &&
    (m.flags & FLAG_BROADCAST) === 0 &&
    m.htype === HTYPE_ETHERNET &&
    m.hlen === 6 &&
    m.yiaddr !== ZERO;
  return unicast
    ? { source: segment.address, destination: m.yiaddr, hardware: m.chaddr.subarray(0, 6) }
    : { source: segment.address, destination: LIMITED_BROADCAST };
}
