import { createSocket, type Socket } from "node:dgram";
import { lookup } from "node:dns";
import { isIP } from "node:net";
import { type NetworkInterfaceInfo, networkInterfaces } from "node:os";
import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";
import { type Link, LinkTable, linkName, type Relayed, type SendOutcome, type Transport } from "./links.ts";

/**
 * The name of the interface that holds `address` (e.g. eth0), found through
 * os.networkInterfaces(). Addresses are compared as bytes: fd64:6c61:6200:0::2 is the
 * kernel's fd64:6c61:6200::2.
 */
export function interfaceWith(
  address: string,
  interfaces: NodeJS.Dict<NetworkInterfaceInfo[]> = networkInterfaces(),
): string {
  const want = addressBytes(address);
  for (const [name, addrs] of Object.entries(interfaces)) {
    if (want && addrs?.some((a) => sameBytes(addressBytes(a.address), want))) return name;
  }
  throw new Error(`no interface holds ${address}: is the relay on that network?`);
}

function addressBytes(address: string): Uint8Array | undefined {
  try {
    return address.includes(":") ? ipv6ToBytes(address.replace(/%.*$/, "")) : ipv4ToBytes(address);
  } catch {
    return undefined;
  }
}

function sameBytes(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a !== undefined && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** One socket the launcher opened: bound to `ifname` with SO_BINDTODEVICE, port 67 or 547. */
export interface SocketSpec {
  ifname: string;
  family: 4 | 6;
  fd: number;
}

/**
 * Parses DHCPLAB_SOCKETS ("eth0:4:3,eth0:6:4,..."), which docker/relay/dhcplab-bind.c sets.
 * Without it the relay cannot tell interfaces apart, so it refuses to start.
 */
export function parseSocketSpecs(spec: string | undefined): SocketSpec[] {
  if (!spec) {
    throw new Error(
      "DHCPLAB_SOCKETS is not set: start the relay through dhcplab-bind, which opens one socket per interface",
    );
  }
  return spec.split(",").map((entry) => {
    const m = /^([^:,]+):([46]):(\d+)$/.exec(entry);
    if (!m) throw new Error(`DHCPLAB_SOCKETS: ${JSON.stringify(entry)} is not IFNAME:FAMILY:FD`);
    return { ifname: m[1] as string, family: Number(m[2]) as 4 | 6, fd: Number(m[3]) };
  });
}

/** A socket the relay adopted, with the link its interface plays. */
export interface LinkSocket {
  readonly ifname: string;
  readonly family: 4 | 6;
  readonly link: Link;
  readonly socket: Socket;
}

/** Receives a datagram: its bytes, its source (link-local with %scope) and the link it came in on. */
export type Receive = (bytes: Uint8Array, source: string, link: Link) => void;

/** Adopts the launcher's sockets; `linkOf` names each interface's role. */
export async function adoptSockets(
  specs: readonly SocketSpec[],
  o: { bufferBytes: number; linkOf: (ifname: string) => Link; onError: (s: SocketSpec, err: Error) => void },
): Promise<LinkSocket[]> {
  return Promise.all(
    specs.map(async (spec) => {
      const socket = createSocket({
        type: spec.family === 4 ? "udp4" : "udp6",
        recvBufferSize: o.bufferBytes,
        sendBufferSize: o.bufferBytes,
        lookup: literalLookup,
      });
      socket.on("error", (err) => o.onError(spec, err));
      await new Promise<void>((resolve, reject) => {
        socket.once("error", reject);
        socket.bind({ fd: spec.fd }, () => {
          socket.off("error", reject);
          resolve();
        });
      });
      // The access socket sends replies to 255.255.255.255 (RFC 2131 §4.1).
      if (spec.family === 4) socket.setBroadcast(true);
      return { ifname: spec.ifname, family: spec.family, link: o.linkOf(spec.ifname), socket };
    }),
  );
}

/**
 * dgram's address lookup for the relay's sends. Every destination is an address literal (servers
 * are resolved at start), which dns.lookup would hand back a tick later; this hands it back at
 * once, so a datagram leaves within send(). Anything else still goes through dns.lookup.
 */
const literalLookup = ((hostname: string, family: number, callback: LookupCallback) => {
  const literal = isIP(hostname.replace(/%.*$/, ""));
  if (literal) callback(null, hostname, literal);
  else lookup(hostname, family, callback);
}) as unknown as typeof lookup;
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;

/** Delivers every datagram of `sockets` to `receive` with the link it came in on. */
export function listen(sockets: readonly LinkSocket[], receive: Receive): void {
  for (const s of sockets) s.socket.on("message", (msg, rinfo) => receive(msg, rinfo.address, s.link));
}

/** Sends through the socket of the link named, so a datagram leaves by that link's interface only. */
export class SocketTransport implements Transport {
  private readonly sockets: LinkTable<LinkSocket>;

  constructor(sockets: readonly LinkSocket[]) {
    this.sockets = new LinkTable(sockets.map((s) => [s.link, s] as const));
  }

  send(
    bytes: Uint8Array,
    port: number,
    address: string,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    const s = this.sockets.get(via);
    if (!s) {
      outcome.failed(what, `no socket on ${linkName(via)}`, address, port);
      return;
    }
    // Link-local destinations need the interface they are on.
    const to = address.startsWith("fe80:") && !address.includes("%") ? `${address}%${s.ifname}` : address;
    // Node's dgram reports a failed send only to a send's callback (without one it is lost), so
    // this path keeps one per datagram; the native datapath has none.
    try {
      s.socket.send(bytes, port, to, (err) =>
        err ? outcome.failed(what, err.message, address, port) : outcome.sent(what),
      );
    } catch (err) {
      outcome.failed(what, err instanceof Error ? err.message : String(err), address, port);
    }
  }
}

/** Closes every socket. */
export async function closeSockets(sockets: readonly LinkSocket[]): Promise<void> {
  await Promise.all(sockets.map((s) => new Promise<void>((resolve) => s.socket.close(() => resolve()))));
}
