import { ipv4ToBytes } from "../lib/codec/address.ts";
import { MSG, OP, OPT } from "../lib/codec/dhcp4/codes.ts";
import { type Dhcp4Message, encodeDhcp4, FLAG_BROADCAST } from "../lib/codec/dhcp4/message.ts";
import { getOption, messageType } from "../lib/codec/dhcp4/options.ts";

const ZERO = "0.0.0.0";
/** Subnet mask, router, DNS servers, hostname, lease time, server id: what dhclient asks for. */
const PARAMETERS = Uint8Array.of(OPT.subnetMask, OPT.router, OPT.dnsServers, OPT.hostname, OPT.leaseTime);

/**
 * Where the requests come from: a client on the wire (RFC 2131 §4.4.1: giaddr 0, hops 0, and the
 * broadcast bit set, since a simulated client holds no address to receive a unicast reply on,
 * §4.1), or, with `giaddr`, a relay agent on the server's link that relays them (giaddr its
 * address, hops 1; the server answers it by unicast, RFC 1542 §4.1.2).
 */
export interface Sender {
  giaddr?: string;
}

/** A request's header fields that vary by exchange: RFC 2131's `secs`, seconds since the client began. */
export interface Timing {
  secs?: number;
}

function request(
  mac: Uint8Array,
  xid: number,
  type: number,
  extra: Dhcp4Message["options"]["options"],
  from: Sender,
  timing: Timing,
): Dhcp4Message {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac);
  return {
    op: OP.BOOTREQUEST,
    htype: 1,
    hlen: mac.length,
    hops: from.giaddr ? 1 : 0,
    xid,
    secs: timing.secs ?? 0,
    flags: from.giaddr ? 0 : FLAG_BROADCAST,
    ciaddr: ZERO,
    yiaddr: ZERO,
    siaddr: ZERO,
    giaddr: from.giaddr ?? ZERO,
    chaddr,
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    options: {
      options: [
        { code: OPT.messageType, data: Uint8Array.of(type) },
        // RFC 2132 §9.14: client identifier, hardware type 1 and the MAC.
        { code: OPT.clientId, data: Uint8Array.of(1, ...mac) },
        ...extra,
        { code: OPT.parameterRequestList, data: PARAMETERS },
      ],
      end: true,
      trailer: new Uint8Array(0),
    },
  };
}

/** DHCPDISCOVER (RFC 2131 §4.4.1). */
export function discover(mac: Uint8Array, xid: number, from: Sender = {}, timing: Timing = {}): Uint8Array {
  return encodeDhcp4(request(mac, xid, MSG.DISCOVER, [], from, timing));
}

/**
 * DHCPREQUEST in the SELECTING state (RFC 2131 §4.3.2): same xid as the DISCOVER, the offered
 * address in option 50 and the chosen server's identifier in option 54; ciaddr stays 0. Its
 * `secs` MUST be the DISCOVER's (RFC 2131 §4.4.1).
 */
export function requestOffered(
  mac: Uint8Array,
  xid: number,
  offer: Dhcp4Message,
  from: Sender = {},
  timing: Timing = {},
): Uint8Array | undefined {
  const serverId = getOption(offer, OPT.serverId);
  if (!serverId || offer.yiaddr === ZERO) return undefined;
  return encodeDhcp4(
    request(
      mac,
      xid,
      MSG.REQUEST,
      [
        { code: OPT.requestedAddress, data: ipv4ToBytes(offer.yiaddr) },
        { code: OPT.serverId, data: serverId },
      ],
      from,
      timing,
    ),
  );
}

/** The reply type of a BOOTREPLY (OFFER, ACK, NAK), or undefined for anything else. */
export function replyType(m: Dhcp4Message): number | undefined {
  return m.op === OP.BOOTREPLY ? messageType(m) : undefined;
}
