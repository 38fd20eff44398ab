/**
 * Where a datagram came in or goes out. The relay has one socket per interface (see
 * docker/relay/dhcplab-bind.c), so every datagram arrives with the interface it came in on,
 * and that interface's role decides what the relay may do with it.
 */
export type Link =
  /**
   * The clients' side, one access segment (a port or VLAN): client messages and downstream
   * relays. Replies go back out the segment their request came in on.
   */
  | { readonly side: "access"; readonly segment: string; readonly vlan?: number }
  /** A VRF's backend network: that VRF's servers only. */
  | { readonly side: "vrf"; readonly vrf: string }
  /** An interface the relay's configuration does not name: nothing is accepted there. */
  | { readonly side: "unknown"; readonly name: string };

/**
 * The access-side segment the transport network to towers plays: only the towers' relayed
 * messages are accepted there.
 */
export const TRANSPORT_SEGMENT = "transport";

/** The segment of a lab with one access network. */
export const DEFAULT_SEGMENT = "access";

const accessLinks = new Map<string, Link>();

/** An access segment's link (one object per segment and VLAN, made once). */
export function accessLink(segment: string, vlan?: number): Link {
  const key = `${segment}/${vlan ?? ""}`;
  let link = accessLinks.get(key);
  if (!link) {
    link = vlan === undefined ? { side: "access", segment } : { side: "access", segment, vlan };
    accessLinks.set(key, link);
  }
  return link;
}

/** The access side of a lab with one segment. */
export const ACCESS: Link = accessLink(DEFAULT_SEGMENT);

const vrfLinks = new Map<string, Link>();

/** The backend link of a VRF (one object per VRF, made once). */
export function vrfLink(vrf: string): Link {
  let link = vrfLinks.get(vrf);
  if (!link) {
    link = { side: "vrf", vrf };
    vrfLinks.set(vrf, link);
  }
  return link;
}

/** What a relayed datagram is, for its counter. */
export interface Relayed {
  readonly vrf: string;
  readonly type: string;
  readonly direction: "to-server" | "to-client";
}

/** Hears how each datagram handed to a transport ended: exactly one call per datagram. */
export interface SendOutcome {
  /** The datagram left. */
  sent(what: Relayed): void;
  /** The datagram could not be sent: `error` says why (e.g. "EHOSTUNREACH"). */
  failed(what: Relayed, error: string, address: string, port: number): void;
}

/**
 * Sends datagrams out of one of the relay's links. `outcome` hears, once, whether the datagram
 * left: at once, or when the transport flushes the datagrams of this turn (the native datapath
 * sends them in one system call per socket); send itself never throws. The outcome is a sink, not
 * a callback made per datagram: the hot path allocates no closure.
 */
export interface Transport {
  send(
    bytes: Uint8Array,
    port: number,
    address: string,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): void;
  /**
   * Puts a DHCPv4 reply on a client's access link framed by the relay itself, where this
   * transport can (the native datapath, on a packet socket; see `OnLink`). False when it cannot
   * on `via`: nothing was sent and no outcome is told, and the caller sends as it would otherwise.
   */
  sendOnLink?(
    bytes: Uint8Array,
    port: number,
    frame: OnLink,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): boolean;
}

/**
 * A DHCPv4 reply to a client that holds no address yet, as the relay frames it itself (RFC 1542
 * §4.1.2): from `source` port 67 to `destination`, in a link-layer frame to `hardware` (the
 * client's chaddr, `destination` its yiaddr) or, without one, to the link's broadcast address
 * (`destination` 255.255.255.255). A UDP socket can send the second but not the first, which
 * needs an ARP entry for an address the client does not answer for yet.
 */
export interface OnLink {
  readonly source: string;
  readonly destination: string;
  readonly hardware?: Uint8Array;
}

/**
 * What each of the relay's links has (its socket), found by a link: access links by segment, VRF
 * links by VRF, without building a name. Unknown links have nothing.
 */
export class LinkTable<T> {
  private readonly bySegment = new Map<string, T>();
  private readonly byVrf = new Map<string, T>();

  constructor(entries: Iterable<readonly [Link, T]>) {
    for (const [link, value] of entries) {
      if (link.side === "access") this.bySegment.set(link.segment, value);
      else if (link.side === "vrf") this.byVrf.set(link.vrf, value);
    }
  }

  get(via: Link): T | undefined {
    return via.side === "access"
      ? this.bySegment.get(via.segment)
      : via.side === "vrf"
        ? this.byVrf.get(via.vrf)
        : undefined;
  }
}

/** A link's name in logs and labels: "access", "access:port5", "vrf:RED", or the unknown interface's name. */
export function linkName(link: Link): string {
  if (link.side === "access") return link.segment === DEFAULT_SEGMENT ? "access" : `access:${link.segment}`;
  return link.side === "vrf" ? `vrf:${link.vrf}` : link.name;
}
