import type { Logger } from "pino";
import { ipv6ToBytes, macFromEui64 } from "../codec/address.ts";
import { equalBytes, text } from "../codec/bytes.ts";
import { MSG6, messageType6Name, OPT6, SERVER_TYPES } from "../codec/dhcp6/codes.ts";
import { type Duid, decodeDuid } from "../codec/dhcp6/duid.ts";
import {
  type Dhcp6ClientMessage,
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeDhcp6,
  getOption6,
  innermost,
  isRelay,
  type Option6,
  relayedMessage,
} from "../codec/dhcp6/message.ts";
import {
  classTexts,
  clientLinkLayerAddress,
  decodeOption,
  remoteId6,
  userClass6,
  vendorClass6,
} from "../codec/dhcp6/options.ts";
import type { ClientFacts, Policy } from "../policy/policy.ts";
import type { Counters, DropReason } from "./counters.ts";
import { decodeOrWarn, RateLimitedLog } from "./rate-limited-log.ts";
import { Transactions } from "./transactions.ts";

/** Where the relay sends DHCPv6 datagrams; link-local destinations go out of the access interface. */
export interface Transport6 {
  send(bytes: Uint8Array, port: number, address: string): void;
}

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
}

/** What the DHCPv6 path knows of its surroundings. */
export interface Relay6Options {
  vrfs: Vrf6[];
  policy: () => Policy;
  transport: Transport6;
  counters: Counters;
  log: Logger;
  now?: () => number;
}

interface InFlight {
  vrf: string;
  interfaceId?: Uint8Array;
}

const family = 6;
const HWTYPE_ETHERNET = 1;

/** The DHCPv6 relay path (RFC 8415 §19): client messages in RELAY-FORW to the VRF's servers, RELAY-REPL back. */
export class Relay6 {
  private readonly servers = new Map<string, Vrf6>();
  /** VRFs whose servers are reached by multicast, by the scope (interface) of their link. */
  private readonly serverLinks = new Map<string, Vrf6>();
  private readonly vrfs = new Map<string, Vrf6>();
  private readonly inFlight: Transactions<InFlight>;
  private readonly malformedLog: RateLimitedLog;

  constructor(private readonly o: Relay6Options) {
    for (const v of o.vrfs) {
      this.vrfs.set(v.name, v);
      for (const s of v.servers) {
        const [address, scope] = s.split("%");
        if (address?.toLowerCase().startsWith("ff02:") && scope) this.serverLinks.set(scope, v);
        else this.servers.set(s, v);
      }
    }
    this.inFlight = new Transactions(60_000, 200_000, o.now);
    this.malformedLog = new RateLimitedLog(o.log, 1000, o.now);
  }

  /** The VRF whose server `source` is, if it is one. */
  private serverVrf(source: string): Vrf6 | undefined {
    const exact = this.servers.get(source);
    if (exact) return exact;
    const [address, scope] = source.split("%");
    return address?.startsWith("fe80:") && scope ? this.serverLinks.get(scope) : undefined;
  }

  /** Handles one datagram that arrived on port 547 from `source` (link-local sources with their %scope). */
  handle(bytes: Uint8Array, source: string): void {
    const m = decodeOrWarn(
      this.malformedLog,
      () => decodeDhcp6(bytes),
      { family, source, length: bytes.length },
      "malformed DHCPv6 packet dropped",
    );
    // Clients are all on the access link: their peer-address needs no scope.
    const dropped = !m
      ? "malformed"
      : this.serverVrf(source)
        ? this.fromServer(m, source)
        : this.fromClient(m, bytes, source.replace(/%.*$/, ""));
    if (dropped) this.o.counters.drop(family, dropped);
  }

  private fromClient(m: Dhcp6Message, bytes: Uint8Array, source: string): DropReason | undefined {
    const { counters, log } = this.o;
    const policy = this.o.policy();
    // RFC 8415 §16: servers' messages have no business on the client side.
    if (SERVER_TYPES.has(m.type)) return "server-message-from-client";
    let hopCount = 0;
    if (isRelay(m)) {
      // RFC 8415 §19.1.2: a RELAY-FORW at the hop limit is discarded.
      if (m.hopCount >= policy.settings.maxHopCount6) return "hops-exceeded";
      hopCount = m.hopCount + 1;
    }
    const client = innermost(m);
    if (!client) return "malformed";
    const facts = decodeOrWarn(
      this.malformedLog,
      () => this.facts(m, client, source),
      { family, source },
      "malformed DHCPv6 option dropped",
    );
    if (!facts) return "malformed";
    const decision = policy.decide(facts);
    if (decision.action === "drop") return decision.reason;
    counters.inc("dhcplab_relay_decisions_total", { family, rule: decision.rule });
    const vrf = this.vrfs.get(decision.vrf);
    if (!vrf || vrf.servers.length === 0) return "no-servers";

    const added = decision.dhcp6;
    const options: Option6[] = [];
    if (added.interfaceId) options.push({ code: OPT6.interfaceId, data: added.interfaceId });
    if (added.remoteId) {
      const { enterprise, id } = added.remoteId;
      const data = new Uint8Array(4 + id.length);
      new DataView(data.buffer).setUint32(0, enterprise);
      data.set(id, 4);
      options.push({ code: OPT6.remoteId, data });
    }
    if (added.subscriberId) options.push({ code: OPT6.subscriberId, data: added.subscriberId });
    if (added.clientLinkLayerAddress && facts.mac && !isRelay(m)) {
      options.push({
        code: OPT6.clientLinkLayerAddress,
        data: Uint8Array.of(0, HWTYPE_ETHERNET, ...facts.mac),
      });
    }
    // The client's message goes in as it came, byte for byte.
    options.push({ code: OPT6.relayMessage, data: bytes });
    const forw: Dhcp6RelayMessage = {
      type: MSG6.RELAY_FORW,
      hopCount,
      linkAddress: vrf.link,
      peerAddress: source,
      options,
    };
    const out = encodeDhcp6(forw);
    this.inFlight.set(key(source, client.transactionId), { vrf: vrf.name, interfaceId: added.interfaceId });
    const type = messageType6Name(m.type);
    log.debug(
      {
        family,
        peer: source,
        type,
        vrf: vrf.name,
        rule: decision.rule,
        interfaceId: added.interfaceId && text(added.interfaceId),
      },
      "relayed to servers",
    );
    for (const server of vrf.servers) {
      try {
        this.o.transport.send(out, 547, server);
      } catch (err) {
        log.warn({ err, server }, "send to server failed");
        counters.drop(family, "send-failed");
        continue;
      }
      counters.message(family, vrf.name, type, "to-server");
    }
    return undefined;
  }

  private fromServer(m: Dhcp6Message, source: string): DropReason | undefined {
    const { counters, log } = this.o;
    if (m.type !== MSG6.RELAY_REPL || !isRelay(m)) return "not-relay-repl";
    const inner = relayedMessage(m);
    if (!inner) return "no-relay-message";
    const client = innermost(inner);
    const t = client && this.inFlight.get(key(m.peerAddress, client.transactionId));
    if (!t || this.serverVrf(source)?.name !== t.vrf) return "unknown-transaction";
    // RFC 8415 §19.2: the server copies the Interface-ID back; it must be the one sent.
    const ifaceId = getOption6(m, OPT6.interfaceId);
    if (t.interfaceId && !(ifaceId && equalBytes(ifaceId, t.interfaceId))) return "interface-id-mismatch";
    // RFC 8415 §19.2: to the peer, port 546, or 547 when the peer is itself a relay.
    const port = inner.type === MSG6.RELAY_REPL ? 547 : 546;
    const type = messageType6Name(inner.type);
    try {
      this.o.transport.send(encodeDhcp6(inner), port, m.peerAddress);
    } catch (err) {
      log.warn({ err, peer: m.peerAddress }, "send to client failed");
      return "send-failed";
    }
    counters.message(family, t.vrf, type, "to-client");
    log.debug({ family, type, vrf: t.vrf, to: `[${m.peerAddress}]:${port}` }, "reply relayed to client");
    return undefined;
  }

  /** What the policy matches on, from the client's message and any downstream relay's options. */
  private facts(m: Dhcp6Message, client: Dhcp6ClientMessage, source: string): ClientFacts {
    const clientIdBytes = getOption6(client, OPT6.clientId);
    const duid: Duid | undefined = clientIdBytes ? decodeDuid(clientIdBytes) : undefined;
    let mac = duid && "linkLayer" in duid && duid.linkLayer.length > 0 ? duid.linkLayer : undefined;
    let circuitId: string | undefined;
    let remoteId: string | undefined;
    // The downstream relay closest to the client knows most (RFC 6939 Client Link-Layer Address).
    for (let r: Dhcp6Message | undefined = m; r && isRelay(r); r = relayedMessage(r)) {
      const ll = getOption6(r, OPT6.clientLinkLayerAddress);
      if (ll) mac ??= decodeOption(clientLinkLayerAddress, ll).address;
      const iid = getOption6(r, OPT6.interfaceId);
      if (iid) circuitId = text(iid);
      const rid = getOption6(r, OPT6.remoteId);
      if (rid) remoteId = text(decodeOption(remoteId6, rid).id);
    }
    if (!isRelay(m)) mac ??= macFromEui64(ipv6ToBytes(source));
    const vendor = getOption6(client, OPT6.vendorClass);
    const vendorClass = vendor ? decodeOption(vendorClass6, vendor) : undefined;
    const user = getOption6(client, OPT6.userClass);
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
    };
  }
}

function key(peer: string, transactionId: number): string {
  return `${peer}/${transactionId}`;
}
