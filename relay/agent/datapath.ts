import type { Link, Transport } from "./links.ts";
import { loadUdpAddon, NativeDatapath } from "./native-datapath.ts";
import { NodeDatapath } from "./node-datapath.ts";
import type { Receive, SocketSpec } from "./sockets.ts";

/**
 * How the relay's datagrams come in and go out of the sockets the launcher opened:
 * - `native`: the relay's addon (docker/relay/dhcplab-udp.c) reads every datagram of a wake-up
 *   with one recvmmsg and sends a turn's datagrams with one sendmmsg per socket;
 * - `node`: Node's dgram, a system call and a call into JavaScript per datagram (the fallback).
 * Both hand the relay's paths the same thing: datagrams through `Receive` with the link they came
 * in on, and a `Transport` per family. The paths, their unit tests and the fuzzer know nothing else.
 */
export type DatapathKind = "native" | "node";

/** One of the relay's sockets, with the link its interface plays. */
export interface DatapathLink {
  readonly ifname: string;
  readonly family: 4 | 6;
  readonly link: Link;
}

export interface Datapath {
  readonly kind: DatapathKind;
  readonly links: readonly DatapathLink[];
  /**
   * Each IPv4 access interface where the datapath frames DHCPv4 replies to clients itself
   * (`Transport.sendOnLink`), or why it cannot there. Empty: it frames none (the `node` datapath).
   */
  readonly framing: readonly { readonly ifname: string; readonly error?: string }[];
  /** The family's transport: it sends through the socket of the link it is given. */
  transport(family: 4 | 6): Transport;
  /** Starts delivering the family's datagrams to `receive`. */
  listen(family: 4 | 6, receive: Receive): void;
  /** Joins an IPv6 multicast group on every IPv6 socket of the access side. */
  joinAccess6(group: string): void;
  close(): Promise<void>;
}

/** What opening a datapath takes besides the sockets. */
export interface DatapathOptions {
  bufferBytes: number;
  linkOf: (ifname: string) => Link;
  /** A socket failed: reading from it or the socket itself. */
  onError: (s: SocketSpec, err: Error) => void;
  /**
   * A datagram was dropped before the relay's paths saw it (counted by the caller): longer than
   * the datapath takes, on a family nothing listens to, or its receiver threw.
   */
  onDrop: (family: 4 | 6, why: "oversize" | "no-listener" | "receiver-threw") => void;
}

/** Opens the datapath the configuration names over the launcher's sockets. */
export async function openDatapath(
  kind: DatapathKind,
  specs: readonly SocketSpec[],
  o: DatapathOptions,
): Promise<Datapath> {
  return kind === "native" ? new NativeDatapath(loadUdpAddon(), specs, o) : NodeDatapath.open(specs, o);
}
