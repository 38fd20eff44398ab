import type { Logger } from "pino";
import { ipv6ToBytes, ipv6ToString, macFromEui64 } from "../../lib/codec/address.ts";
import { equalBytesAt, text, utf8 } from "../../lib/codec/bytes.ts";
import { MSG6, messageType6Name, OPT6, SERVER_TYPES } from "../../lib/codec/dhcp6/codes.ts";
import { type Duid, decodeDuid } from "../../lib/codec/dhcp6/duid.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeRelayForw,
  getOption6,
  innermost,
  isRelay,
  isRelayType,
  type RawOption6,
  relayedMessage,
} from "../../lib/codec/dhcp6/message.ts";
import {
  classTexts,
  clientLinkLayerAddress,
  decodeOption,
  remoteId6,
  userClass6,
  vendorClass6,
} from "../../lib/codec/dhcp6/options.ts";
import { type ClientMessage6, DecodedClient6, Scan6, ScannedClient6 } from "../../lib/codec/dhcp6/scan.ts";
import type { ClientFacts, Policy } from "../../lib/policy/policy.ts";
import { CountedSender } from "./counted-sender.ts";
import type { Counters, DropReason } from "./counters.ts";
import { type Delegations, delegatedPrefixesOrNone } from "./delegations.ts";
import type { Journal } from "./journal.ts";
import { type Link, TRANSPORT_SEGMENT, type Transport, vrfLink } from "./links.ts";
import { decodeOrWarn, RateLimitedLog } from "./rate-limited-log.ts";
import { Recorded6 } from "./recorded.ts";
import { key6, VrfIndex } from "./transaction-keys.ts";
import { Transactions } from "./transactions.ts";

/** A VRF as the DHCPv6 path needs it, servers resolved to addresses. */
export interface Vrf6 {
  name: string;
  /** RELAY-FORW's link-address: an address in the VRF's client prefix. */
  link: string;
  /**
   * Server addresses; link-local ones with their scope (fe80::ff:fe00:a%eth2). `ff02::1:2%eth2`
   * sends to every server on that link and accepts replies from any link-local address on it.
   */
  servers: string[];
  /** The access segments whose clients it serves (absent: every one). */
  segments?: ReadonlySet<string>;
  /**
   * Its one server is a relay that forwards the replies of several (a tower's upstream): a
   * transaction stays in flight after a reply, for the others'.
   */
  severalBehind?: boolean;
}

/** What the DHCPv6 path knows of its surroundings. */
export interface Relay6Options {
  vrfs: Vrf6[];
  /** The relay's hostname, for policy templates ({relay}). */
  hostname?: string;
  /** The addresses towers' RELAY-FORWs come from on the transport network: the only ones accepted there. */
  towers?: readonly string[];
  policy: () => Policy;
  transport: Transport;
  counters: Counters;
  log: Logger;
  /** Where each client message's decision is recorded (dhcplab trace, explain). */
  journal?: Journal;
  /** Learns the prefixes the servers delegate through this relay, and routes them (RFC 8987). */
  delegations?: Pick<Delegations, "learn" | "released">;
  now?: () => number;
}

interface InFlight {
  vrf: string;
  /** The client's address (or its downstream relay's): where the reply goes. */
  peer: string;
  interfaceId?: Uint8Array;
  /** The access segment the client's message came in on: its reply goes out there. */
  link: Link & { side: "access" };
  /** A RELEASE's delegated prefixes: their routes go when the server answers it. */
  released?: string[];
  /** Whether the RELAY-FORW carried VSS, which a server that processed it returns (RFC 6607). */
  vss?: true;
}

const family = 6;
const HWTYPE_ETHERNET = 1;
const UNSPECIFIED = "::";
const UNSPECIFIED_BYTES = new Uint8Array(16);
/** The Interface-ID this relay gives a segment when nothing else identifies it (RFC 8415 §19.1.2): its name. */
const segmentInterfaceIds = new Map<string, Uint8Array>();
function segmentInterfaceId(segment: string): Uint8Array {
  let id = segmentInterfaceIds.get(segment);
  if (!id) {
    id = utf8(segment);
    segmentInterfaceIds.set(segment, id);
  }
  return id;
}

/** The DHCPv6 relay path (RFC 8415 §19): client messages in RELAY-FORW to the VRF's servers, RELAY-REPL back. */
export class Relay6 {
  /** Each VRF's server addresses without scope (the link they are on is the VRF's). */
  private readonly servers = new Map<string, Set<string>>();
  /** VRFs whose servers are reached by multicast: any link-local source on their link is a server. */
  private readonly multicastVrfs = new Set<string>();
  private readonly vrfs = new Map<string, Vrf6>();
  /** Each VRF's index, its part of a transaction's key. */
  private readonly vrfIds: VrfIndex;
  /** Each VRF's link-address as RELAY-FORW carries it: converted once, not per message. */
  private readonly linkBytes = new Map<string, Uint8Array>();
  private readonly towers: ReadonlySet<string>;
  private readonly inFlight: Transactions<InFlight>;
  private readonly malformedLog: RateLimitedLog;
  private readonly sender: CountedSender;
  /** Servers' datagrams and clients' own messages are read in place by this one scanner. */
  private readonly scanner = new Scan6();

  constructor(private readonly o: Relay6Options) {
    this.vrfIds = new VrfIndex(o.vrfs.map((v) => v.name));
    for (const v of o.vrfs) {
      this.vrfs.set(v.name, v);
      this.linkBytes.set(v.name, ipv6ToBytes(v.link));
      const addresses = new Set<string>();
      for (const s of v.servers) {
        const address = withoutScope(s).toLowerCase();
        if (address.startsWith("ff02:")) this.multicastVrfs.add(v.name);
        else addresses.add(address);
      }
      this.servers.set(v.name, addresses);
    }
    this.towers = new Set((o.towers ?? []).map((t) => canonical6(t)));
    this.inFlight = new Transactions({ now: o.now, onEvict: (why) => o.counters.evicted(family, why) });
    this.malformedLog = new RateLimitedLog(o.log, 1000, o.now);
    this.sender = new CountedSender(family, o.transport, o.counters, o.log, o.now);
  }

  /** Requests awaiting their replies. */
  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Whether `source`, arriving on VRF `vrf`'s link, is one of that VRF's servers. */
  private isServer(vrf: string, source: string): boolean {
    const address = withoutScope(source).toLowerCase();
    if (this.servers.get(vrf)?.has(address)) return true;
    return this.multicastVrfs.has(vrf) && address.startsWith("fe80:");
  }

  /** Handles one datagram that arrived on port 547 from `source` (link-local with its %scope) through `link`; says why when it dropped it. */
  handle(bytes: Uint8Array, source: string, link: Link): DropReason | undefined {
    const dropped = this.receive(bytes, source, link);
    if (dropped) this.o.counters.drop(family, dropped);
    return dropped;
  }

  private receive(bytes: Uint8Array, source: string, link: Link): DropReason | undefined {
    if (link.side === "unknown") return "unknown-interface";
    if (link.side === "vrf") return this.fromServer(bytes, source, link.vrf);
    // A client's peer-address needs no scope: the segment it came in on is remembered.
    const peer = withoutScope(source);
    // A client's own message is read in place; a downstream relay's is decoded, to its client's.
    if (!isRelayType(bytes[0] as number)) {
      if (!this.scanner.scan(bytes)) {
        this.decode(bytes, source);
        return "malformed";
      }
      return this.fromClient(
        undefined,
        bytes[0] as number,
        new ScannedClient6(bytes, 0, bytes.length),
        bytes,
        peer,
        link,
      );
    }
    const m = this.decode(bytes, source);
    if (!m) return "malformed";
    const client = innermost(m);
    const relay = isRelay(m) ? m : undefined;
    return this.fromClient(relay, m.type, client && new DecodedClient6(client), bytes, peer, link);
  }

  /** The message decoded, or undefined (and why, in the log). */
  private decode(bytes: Uint8Array, source: string): Dhcp6Message | undefined {
    return decodeOrWarn(
      this.malformedLog,
      () => decodeDhcp6(bytes),
      { family, source, length: bytes.length },
      "malformed DHCPv6 packet dropped",
    );
  }

  /** A client's message relayed or dropped, and the journal told which and why (once the client is known). */
  private fromClient(
    relay: Dhcp6RelayMessage | undefined,
    datagramType: number,
    client: ClientMessage6 | undefined,
    bytes: Uint8Array,
    source: string,
    link: Link & { side: "access" },
  ): DropReason | undefined {
    const journal = this.o.journal;
    const record = journal && new Recorded6(link.segment);
    const dropped = this.relayClient(relay, datagramType, client, bytes, source, link, record);
    if (dropped && record && record.clientType !== undefined) journal.record(record.dropped(dropped));
    return dropped;
  }

  /**
   * `relay`: a downstream relay's RELAY-FORW, decoded (undefined for a client's own message);
   * `datagramType`: the datagram's msg-type; `client`: the client message, at the bottom of any relays.
   */
  private relayClient(
    relay: Dhcp6RelayMessage | undefined,
    datagramType: number,
    client: ClientMessage6 | undefined,
    bytes: Uint8Array,
    source: string,
    link: Link & { side: "access" },
    record: Recorded6 | undefined,
  ): DropReason | undefined {
    const { counters, log } = this.o;
    const policy = this.o.policy();
    // RFC 8415 §16: servers' messages have no business on the client side.
    if (SERVER_TYPES.has(datagramType)) return "server-message-from-client";
    // On the transport network only towers speak, and always as relays (their address, as configured).
    if (link.segment === TRANSPORT_SEGMENT && !(relay && this.towers.has(canonical6(source))))
      return "untrusted-relay";
    let hopCount = 0;
    let linkAddress: string | undefined;
    if (relay) {
      // RFC 8415 §19.1.2: a RELAY-FORW at the hop limit is discarded.
      if (relay.hopCount >= policy.settings.maxHopCount6) return "hops-exceeded";
      hopCount = relay.hopCount + 1;
      // RFC 8415 §19.1.2: from a relay with a global (or ULA) source, link-address is 0; the
      // Interface-ID then tells the relay's own link.
      if (!source.toLowerCase().startsWith("fe80:")) linkAddress = UNSPECIFIED;
    }
    if (!client) return "malformed";
    record?.client(client.type, client.transactionId);
    // The peer's address as bytes, once: its EUI-64 may name the client, and RELAY-FORW carries it.
    const peer = ipv6ToBytes(source);
    const facts = decodeOrWarn(
      this.malformedLog,
      () => this.facts(relay, client, peer, link),
      { family, source },
      "malformed DHCPv6 option dropped",
    );
    if (!facts) return "malformed";
    record?.identified(facts.mac, facts.duid);
    const decision = policy.decide(facts);
    if (record) record.rule = decision.rule;
    if (decision.action === "drop") return decision.reason;
    if (record) record.vrf = decision.vrf;
    counters.decision(family, decision.rule);
    const vrf = this.vrfs.get(decision.vrf);
    if (!vrf || vrf.servers.length === 0) return "no-servers";
    // A VRF on segments of its own has its gateways and routes there only.
    if (vrf.segments && !vrf.segments.has(link.segment)) return "vrf-not-on-segment";
    // A downstream relay's RELAY-FORW is wrapped in one of ours (RFC 8415 §19.1.2).
    if (relay) counters.downstream(family, "nested");

    const added = decision.dhcp6;
    // RFC 8415 §19.1.1: an Interface-ID when link-address alone does not identify the link.
    const interfaceId =
      added.interfaceId ?? (linkAddress === UNSPECIFIED ? segmentInterfaceId(link.segment) : undefined);
    const options: RawOption6[] = [];
    if (interfaceId) options.push({ code: OPT6.interfaceId, data: interfaceId });
    if (added.remoteId) {
      const { enterprise, id } = added.remoteId;
      const data = new Uint8Array(4 + id.length);
      new DataView(data.buffer).setUint32(0, enterprise);
      data.set(id, 4);
      options.push({ code: OPT6.remoteId, data });
    }
    if (added.subscriberId) options.push({ code: OPT6.subscriberId, data: added.subscriberId });
    if (decision.vss) options.push({ code: OPT6.vss, data: decision.vss });
    if (added.clientLinkLayerAddress && facts.mac && !relay) {
      options.push({
        code: OPT6.clientLinkLayerAddress,
        data: Uint8Array.of(0, HWTYPE_ETHERNET, ...facts.mac),
      });
    }
    // The client's message goes in as it came, byte for byte.
    options.push({ code: OPT6.relayMessage, data: bytes });
    const out = encodeRelayForw(
      hopCount,
      linkAddress === UNSPECIFIED ? UNSPECIFIED_BYTES : (this.linkBytes.get(vrf.name) as Uint8Array),
      peer,
      options,
    );
    const released =
      this.o.delegations && client.type === MSG6.RELEASE
        ? delegatedPrefixesOrNone(client.decoded()).map((p) => p.prefix)
        : undefined;
    this.inFlight.set(key6(this.vrfIds.known(vrf.name), peer, 0, client.transactionId), {
      vrf: vrf.name,
      peer: source,
      interfaceId,
      link,
      released: released && released.length > 0 ? released : undefined,
      vss: decision.vss ? true : undefined,
    });
    // Counted by the client's message type, also when a downstream relay wrapped it.
    const type = messageType6Name(client.type);
    if (record) {
      // What the relay added is every option but the Relay Message, which it pushed last (and
      // which, the client's datagram, the journal must not keep alive).
      options.pop();
      this.o.journal?.record(record.relayed(options, linkAddress ?? vrf.link, source));
    }
    if (log.isLevelEnabled("debug")) {
      log.debug(
        {
          family,
          peer: source,
          type,
          vrf: vrf.name,
          rule: decision.rule,
          interfaceId: interfaceId && text(interfaceId),
        },
        "relayed to servers",
      );
    }
    const via = vrfLink(vrf.name);
    for (const server of vrf.servers)
      this.sender.send(out, 547, server, via, { vrf: vrf.name, type, direction: "to-server" });
    return undefined;
  }

  /**
   * A server's datagram, read in place (Scan6): a reply carries more options than a relay reads,
   * and one object per option was most of what the DHCPv6 path allocated.
   */
  private fromServer(bytes: Uint8Array, source: string, vrfName: string): DropReason | undefined {
    const s = this.scanner;
    if (!s.scan(bytes)) {
      this.decode(bytes, source);
      return "malformed";
    }
    // The parts, copied before anything else runs: the scanner is the relay's, reused per datagram.
    const { type: messageType, peerAt, interfaceIdAt, interfaceIdLength, vss } = s;
    const { relayedAt, relayedLength, clientAt, clientLength } = s;
    const clientType = s.clientType(bytes);
    const transactionId = s.clientTransactionId(bytes);
    // A client's message on a backend link is never relayed: only the VRF's servers speak there.
    if (!SERVER_TYPES.has(messageType)) return "client-message-on-backend";
    if (!this.isServer(vrfName, source)) return "unknown-server";
    if (messageType !== MSG6.RELAY_REPL) return "not-relay-repl";
    if (relayedAt < 0) return "no-relay-message";
    // The key from the peer-address's bytes: the address the relay put in its RELAY-FORW. The VRF
    // is one of the relay's: its servers were found above.
    const transaction =
      transactionId < 0 ? undefined : key6(this.vrfIds.known(vrfName), bytes, peerAt, transactionId);
    const t = transaction === undefined ? undefined : this.inFlight.get(transaction);
    if (!t) return "unknown-transaction";
    // RFC 8415 §19.2: the server copies the Interface-ID back; it must be the one sent.
    if (
      t.interfaceId &&
      !(interfaceIdAt >= 0 && equalBytesAt(bytes, interfaceIdAt, interfaceIdLength, t.interfaceId))
    )
      return "interface-id-mismatch";
    // RFC 6607: a server that processed VSS returns OPTION_VSS in its RELAY-REPL; without it, the
    // reply was made without knowing the VPN.
    if (t.vss && !vss) {
      if (this.o.policy().settings.vssReplies === "strict") return "vss-not-supported";
      this.o.counters.notice(family, "vss-not-supported");
    }
    // RFC 8415 §19.2: the Relay Message's value, unchanged, to the peer on port 546, or 547
    // when the peer is itself a relay.
    const innerType = bytes[relayedAt] as number;
    const port = innerType === MSG6.RELAY_REPL ? 547 : 546;
    const type = messageType6Name(innerType);
    // A server answers each client message once (RFC 8415 §18.3): from a VRF's only server (not
    // a multicast group, where several may answer) no other reply to it can come, so the relay
    // forgets it now, not after the TTL. An ADVERTISE too: the client's REQUEST that follows has
    // a transaction-id of its own (RFC 8415 §18.2.2), so the SOLICIT's entry would only wait out
    // the TTL, and under load those entries are most of the relay's heap.
    if (this.singleServer(vrfName)) {
      this.inFlight.delete(transaction as string);
    }
    // The relay routes what its servers delegate, via the peer it relays the reply to: the
    // requesting router, or the downstream relay in front of it (RFC 8987). Only a REPLY is
    // decoded whole, and only then.
    if (this.o.delegations && clientType === MSG6.REPLY) {
      if (t.released) this.o.delegations.released(t.vrf, t.released);
      else {
        const client = decodeDhcp6(bytes.subarray(clientAt, clientAt + clientLength));
        if (!isRelay(client)) this.o.delegations.learn(t.vrf, t.link.segment, t.peer, client);
      }
    }
    const innerBytes = bytes.subarray(relayedAt, relayedAt + relayedLength);
    this.sender.send(innerBytes, port, t.peer, t.link, {
      vrf: t.vrf,
      type: type,
      direction: "to-client",
    });
    return undefined;
  }

  private singleServer(vrfName: string): boolean {
    const vrf = this.vrfs.get(vrfName);
    const servers = vrf?.servers ?? [];
    return (
      servers.length === 1 && !(servers[0] as string).toLowerCase().startsWith("ff") && !vrf?.severalBehind
    );
  }

  /** What the policy matches on, from the client's message and any downstream relay's options. */
  private facts(
    relay: Dhcp6RelayMessage | undefined,
    client: ClientMessage6,
    peer: Uint8Array,
    link: Link & { side: "access" },
  ): ClientFacts {
    const clientIdBytes = client.option(OPT6.clientId);
    const duid: Duid | undefined = clientIdBytes ? decodeDuid(clientIdBytes) : undefined;
    let mac = duid && "linkLayer" in duid && duid.linkLayer.length > 0 ? duid.linkLayer : undefined;
    let circuitId: string | undefined;
    let remoteId: string | undefined;
    // The downstream relay closest to the client knows most (RFC 6939 Client Link-Layer Address).
    for (let r: Dhcp6Message | undefined = relay; r && isRelay(r); r = relayedMessage(r)) {
      const ll = getOption6(r, OPT6.clientLinkLayerAddress);
      if (ll) mac ??= decodeOption(clientLinkLayerAddress, ll).address;
      const iid = getOption6(r, OPT6.interfaceId);
      if (iid) circuitId = text(iid);
      const rid = getOption6(r, OPT6.remoteId);
      if (rid) remoteId = text(decodeOption(remoteId6, rid).id);
    }
    if (!relay) mac ??= macFromEui64(peer);
    const vendor = client.option(OPT6.vendorClass);
    const vendorClass = vendor ? decodeOption(vendorClass6, vendor) : undefined;
    const user = client.option(OPT6.userClass);
    return {
      family,
      mac,
      duid: clientIdBytes,
      duidType: duid?.type,
      enterprise: duid && "enterprise" in duid ? duid.enterprise : vendorClass?.enterprise,
      vendorClasses: vendorClass ? classTexts(vendorClass.classes) : [],
      userClasses: user ? classTexts(decodeOption(userClass6, user)) : [],
      circuitId,
      remoteId,
      segment: link.segment,
      vlan: link.vlan,
      relay: this.o.hostname,
    };
  }
}

/** An IPv6 address as the kernel prints it (fd64:6c61:6200:0::15 is fd64:6c61:6200::15). */
function canonical6(address: string): string {
  return ipv6ToString(ipv6ToBytes(address));
}

function withoutScope(address: string): string {
  const at = address.indexOf("%");
  return at < 0 ? address : address.slice(0, at);
}
