import { readFileSync } from "node:fs";
import { constants } from "node:os";
import { ipv4ToBytes, ipv4ToString, ipv6ToBytes, ipv6ToString } from "../../lib/codec/address.ts";
import type { Datapath, DatapathLink, DatapathOptions } from "./datapath.ts";
import {
  type Link,
  LinkTable,
  linkName,
  type OnLink,
  type Relayed,
  type SendOutcome,
  type Transport,
} from "./links.ts";
import type { Receive, SocketSpec } from "./sockets.ts";

/** Where the relay image keeps the addon (docker/relay/Dockerfile builds it). */
export const ADDON_PATH = "/opt/dhcplab/dhcplab-udp.node";

/** docker/relay/dhcplab-udp.c, as JavaScript sees it. */
export interface UdpAddon {
  create(
    slots: number,
    slotSize: number,
    onBatch: (socket: number, count: number) => void,
    onError: (socket: number, errno: number) => void,
  ): {
    recv: ArrayBuffer;
    recvMeta: ArrayBuffer;
    send: ArrayBuffer;
    sendMeta: ArrayBuffer;
    results: ArrayBuffer;
  };
  adopt(fd: number, family: 4 | 6, ifname: string, bufferBytes: number): number;
  join6(socket: number, group: Uint8Array): void;
  /** A packet socket on the interface for replies the relay frames itself (needs CAP_NET_RAW). */
  openLink(ifname: string): number;
  flush(count: number): number;
  close(): void;
  bind(family: 4 | 6, address: Uint8Array, port: number, ifname: string): [fd: number, port: number];
}

/** Loads the addon: a start with `datapath: native` and no addon stops here, saying which file. */
export function loadUdpAddon(path = process.env.DHCPLAB_UDP_ADDON ?? ADDON_PATH): UdpAddon {
  const module = { exports: {} as UdpAddon };
  try {
    process.dlopen(module, path);
  } catch (err) {
    throw new Error(
      `datapath native: cannot load ${path} (${err instanceof Error ? err.message : String(err)}); "datapath: node" runs without it`,
    );
  }
  return module.exports;
}

/** The int32 words of a slot's metadata (see dhcplab-udp.c). */
const META = 8;
/** Datagrams one wake-up reads, and a turn's sends before they are flushed. */
const SLOTS = 64;
/**
 * The largest datagram taken: a jumbo frame. DHCP messages are far smaller (RFC 2131 §2: 576 by
 * default); a longer one arrives truncated and is dropped as oversize.
 */
export const SLOT_BYTES = 9216;
/**
 * Received datagrams are copied into slabs of this size, each handed out in views: a backing
 * store per slab instead of one per datagram (V8 tracks and sweeps each one).
 */
const SLAB_BYTES = 16384;
/** Parsed destination addresses kept (servers, giaddrs, clients being answered). */
const ADDRESS_CACHE = 1024;
/** A link send to no hardware address in particular goes to this one: the link's broadcast. */
const BROADCAST_HARDWARE = new Uint8Array(6).fill(0xff);
/** The port a relay's replies to clients come from (RFC 2131 §4.1). */
const SERVER_PORT = 67;
/** The IPv4 and UDP headers the addon puts before a link send's datagram. */
const IP_UDP_BYTES = 28;

/** A packet socket for link sends, and its interface's MTU (a frame is never fragmented). */
interface LinkSocket {
  readonly index: number;
  readonly mtu: number;
}

/** An interface's MTU as the kernel has it, or Ethernet's 1500 where it cannot be read. */
function mtuOf(ifname: string): number {
  try {
    const mtu = Number(readFileSync(`/sys/class/net/${ifname}/mtu`, "utf8"));
    return Number.isInteger(mtu) && mtu > 0 ? mtu : 1500;
  } catch {
    return 1500;
  }
}

const ERRNO_NAMES = new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]));

/** A flush's copy of its slots' bookkeeping. */
interface ReportSet {
  whats: (Relayed | undefined)[];
  outcomes: (SendOutcome | undefined)[];
  destinations: string[];
  ports: Int32Array;
  results: Int32Array;
}

function reportSet(): ReportSet {
  return {
    whats: new Array(SLOTS),
    outcomes: new Array(SLOTS),
    destinations: new Array(SLOTS),
    ports: new Int32Array(SLOTS),
    results: new Int32Array(SLOTS),
  };
}

interface NativeSocket extends DatapathLink {
  readonly index: number;
  receive?: Receive;
}

/**
 * The native datapath (`datapath: native`, the default): the addon owns the sockets, reads every
 * datagram of a wake-up into a ring with one recvmmsg and calls `onBatch` once; a turn's sends are
 * written into a second ring and flushed with one sendmmsg per socket at the end of the batch (or,
 * for a send outside one, such as a timer's, in a microtask).
 *
 * Each datagram is copied out of the ring before the paths see it: they keep parts of a request
 * (an Option 82, an Interface-ID) while its transaction is in flight, and the ring is reused. The
 * copies are views of a slab (as Node's Buffer pool hands out small buffers): a view kept alive
 * keeps its slab, 16 KiB, alive with it.
 */
export class NativeDatapath implements Datapath {
  readonly kind = "native";
  private readonly recv: Uint8Array;
  private readonly recvMeta: Int32Array;
  private readonly recvAddress: Uint8Array;
  private readonly send: Uint8Array;
  private readonly sendMeta: Int32Array;
  private readonly sendAddress: Uint8Array;
  private readonly results: Int32Array;
  private readonly sockets: NativeSocket[] = [];
  readonly framing: { ifname: string; error?: string }[] = [];
  private readonly transports: Record<4 | 6, NativeTransport>;
  private readonly addresses: Record<4 | 6, Map<string, Uint8Array>> = { 4: new Map(), 6: new Map() };
  // The pending sends' bookkeeping, by slot: what each is and who hears how it ended.
  private readonly whats: (Relayed | undefined)[] = new Array(SLOTS);
  private readonly outcomes: (SendOutcome | undefined)[] = new Array(SLOTS);
  private readonly destinations: string[] = new Array(SLOTS);
  private readonly ports = new Int32Array(SLOTS);
  private slab = new Uint8Array(SLAB_BYTES);
  private slabUsed = 0;
  /** Flushed slots' bookkeeping while their outcomes are told, one set per nested flush. */
  private readonly reports: ReportSet[] = [];
  private depth = 0;
  private pending = 0;
  private inBatch = false;
  private flushQueued = false;
  private closed = false;

  constructor(
    private readonly addon: UdpAddon,
    specs: readonly SocketSpec[],
    private readonly o: DatapathOptions,
  ) {
    const rings = addon.create(SLOTS, SLOT_BYTES, this.onBatch, this.onError);
    this.recv = new Uint8Array(rings.recv);
    this.recvMeta = new Int32Array(rings.recvMeta);
    this.recvAddress = new Uint8Array(rings.recvMeta);
    this.send = new Uint8Array(rings.send);
    this.sendMeta = new Int32Array(rings.sendMeta);
    this.sendAddress = new Uint8Array(rings.sendMeta);
    this.results = new Int32Array(rings.results);
    try {
      for (const spec of specs) {
        const index = addon.adopt(spec.fd, spec.family, spec.ifname, o.bufferBytes);
        this.sockets.push({ index, ifname: spec.ifname, family: spec.family, link: o.linkOf(spec.ifname) });
      }
    } catch (err) {
      addon.close();
      throw err;
    }
    const table = (family: 4 | 6) =>
      new LinkTable(this.sockets.filter((s) => s.family === family).map((s) => [s.link, s.index] as const));
    this.transports = {
      4: new NativeTransport(this, table(4), this.openLinks()),
      6: new NativeTransport(this, table(6)),
    };
  }

  /**
   * A packet socket on each IPv4 access interface, for the DHCPv4 replies the relay frames itself
   * (`Transport.sendOnLink`). Where one cannot be opened (no CAP_NET_RAW), `framing` says why and
   * the replies there go through the UDP socket.
   */
  private openLinks(): LinkTable<LinkSocket> {
    const opened: [Link, LinkSocket][] = [];
    for (const s of this.sockets) {
      if (s.family !== 4 || s.link.side !== "access") continue;
      try {
        opened.push([s.link, { index: this.addon.openLink(s.ifname), mtu: mtuOf(s.ifname) }]);
        this.framing.push({ ifname: s.ifname });
      } catch (err) {
        this.framing.push({ ifname: s.ifname, error: err instanceof Error ? err.message : String(err) });
      }
    }
    return new LinkTable(opened);
  }

  get links(): readonly DatapathLink[] {
    return this.sockets.map((s) => ({ ifname: s.ifname, family: s.family, link: s.link }));
  }

  transport(family: 4 | 6): Transport {
    return this.transports[family];
  }

  listen(family: 4 | 6, receive: Receive): void {
    for (const s of this.sockets) if (s.family === family) s.receive = receive;
  }

  joinAccess6(group: string): void {
    const bytes = ipv6ToBytes(group);
    for (const s of this.sockets) {
      if (s.family === 6 && s.link.side === "access") this.addon.join6(s.index, bytes);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // Outcomes may queue sends of their own: flushed too, before the sockets go.
    while (this.pending > 0) this.flush();
    this.closed = true;
    this.addon.close();
  }

  /** Queues a datagram in the send ring; it leaves at the end of this turn. */
  queue(
    socket: number,
    bytes: Uint8Array,
    port: number,
    address: string,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    const family = this.sockets[socket]?.family as 4 | 6;
    const destination = this.destination(bytes, address, family, port, what, outcome);
    if (!destination) return;
    const m = this.take(socket, bytes, port, address, what, outcome);
    this.sendAddress.set(destination, (m + 4) * 4);
  }

  /**
   * Queues a DHCPv4 reply to a client on the link socket `socket`, framed by the addon: its IPv4
   * and UDP headers (from port 67 to `port`) from `frame`, in a frame to the client's hardware
   * address or the broadcast.
   */
  queueOnLink(
    socket: number,
    bytes: Uint8Array,
    port: number,
    frame: OnLink,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    const destination = this.destination(bytes, frame.destination, 4, port, what, outcome);
    if (!destination) return;
    const source = this.addressBytes(frame.source, 4);
    if (!source) {
      outcome.failed(what, `not an IPv4 address: ${frame.source}`, frame.destination, port);
      return;
    }
    if (frame.hardware && frame.hardware.length !== 6) {
      outcome.failed(what, "not an Ethernet address (6 bytes)", frame.destination, port);
      return;
    }
    const m = this.take(socket, bytes, port, frame.destination, what, outcome);
    this.sendMeta[m + 3] = SERVER_PORT;
    const at = (m + 4) * 4;
    this.sendAddress.set(destination, at);
    this.sendAddress.set(source, at + 4);
    this.sendAddress.set(frame.hardware ?? BROADCAST_HARDWARE, at + 8);
  }

  /** A send's destination as bytes, or undefined once its outcome was told it failed. */
  private destination(
    bytes: Uint8Array,
    address: string,
    family: 4 | 6,
    port: number,
    what: Relayed,
    outcome: SendOutcome,
  ): Uint8Array | undefined {
    const refused = this.closed ? "socket closed" : bytes.length > SLOT_BYTES ? "EMSGSIZE" : undefined;
    const destination = refused ? undefined : this.addressBytes(address, family);
    if (!destination)
      outcome.failed(what, refused ?? `not an IPv${family} address: ${address}`, address, port);
    return destination;
  }

  /** A slot of the send ring, filled but for its addresses: the index of its metadata. */
  private take(
    socket: number,
    bytes: Uint8Array,
    port: number,
    address: string,
    what: Relayed,
    outcome: SendOutcome,
  ): number {
    // A full ring leaves now; the outcomes it tells may fill it again, so until it has room.
    while (this.pending >= SLOTS) this.flush();
    const slot = this.pending++;
    this.send.set(bytes, slot * SLOT_BYTES);
    const m = slot * META;
    this.sendMeta[m] = socket;
    this.sendMeta[m + 1] = bytes.length;
    this.sendMeta[m + 2] = port;
    this.sendMeta[m + 3] = 0;
    this.whats[slot] = what;
    this.outcomes[slot] = outcome;
    this.destinations[slot] = address;
    this.ports[slot] = port;
    if (!this.inBatch && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(this.flushQueuedSends);
    }
    return m;
  }

  /**
   * Sends every queued datagram and tells each one's outcome. The slots' bookkeeping is copied
   * before any outcome is told, into a set of arrays of this depth (made once): an outcome may
   * queue, and even flush, sends of its own into the slots.
   */
  flush(): void {
    const count = this.pending;
    if (count === 0 || this.closed) return;
    this.pending = 0;
    this.addon.flush(count);
    let r = this.reports[this.depth];
    if (!r) {
      r = reportSet();
      this.reports[this.depth] = r;
    }
    for (let slot = 0; slot < count; slot++) {
      r.whats[slot] = this.whats[slot];
      r.outcomes[slot] = this.outcomes[slot];
      r.destinations[slot] = this.destinations[slot] as string;
      r.ports[slot] = this.ports[slot] as number;
      r.results[slot] = this.results[slot] as number;
      this.whats[slot] = undefined;
      this.outcomes[slot] = undefined;
    }
    this.depth++;
    let thrown: unknown;
    for (let slot = 0; slot < count; slot++) {
      const what = r.whats[slot] as Relayed;
      const outcome = r.outcomes[slot] as SendOutcome;
      r.whats[slot] = undefined;
      r.outcomes[slot] = undefined;
      const errno = r.results[slot] as number;
      try {
        if (errno === 0) outcome.sent(what);
        else
          outcome.failed(
            what,
            ERRNO_NAMES.get(errno) ?? `errno ${errno}`,
            r.destinations[slot] as string,
            r.ports[slot] as number,
          );
      } catch (err) {
        // Every other outcome is still told; the first failure is rethrown after them.
        thrown ??= err;
      }
    }
    this.depth--;
    if (thrown !== undefined) throw thrown;
  }

  private readonly flushQueuedSends = (): void => {
    this.flushQueued = false;
    this.flush();
  };

  /**
   * Every datagram of one wake-up of one socket: copied out of the ring, then handed on, or
   * counted as a drop (too long, no listener, a receiver that threw) and the batch goes on.
   */
  private readonly onBatch = (index: number, count: number): void => {
    const s = this.sockets[index];
    if (!s) return;
    this.inBatch = true;
    try {
      for (let i = 0; i < count; i++) {
        const m = i * META;
        if (this.recvMeta[m + 1] !== 0) this.o.onDrop(s.family, "oversize");
        else if (!s.receive) this.o.onDrop(s.family, "no-listener");
        else {
          try {
            s.receive(this.copyOut(i * SLOT_BYTES, this.recvMeta[m] as number), this.sourceOf(s, m), s.link);
          } catch {
            this.o.onDrop(s.family, "receiver-threw");
          }
        }
      }
    } finally {
      this.inBatch = false;
      this.flush();
    }
  };

  /** A datagram's bytes, copied from the ring into the current slab (a new slab when it is full). */
  private copyOut(at: number, length: number): Uint8Array {
    if (length > SLAB_BYTES - this.slabUsed) {
      this.slab = new Uint8Array(Math.max(SLAB_BYTES, length));
      this.slabUsed = 0;
    }
    const start = this.slabUsed;
    this.slab.set(this.recv.subarray(at, at + length), start);
    // Aligned, so that no two datagrams share a word.
    this.slabUsed = (start + length + 7) & ~7;
    return this.slab.subarray(start, start + length);
  }

  private readonly onError = (index: number, errno: number): void => {
    const s = this.sockets[index];
    if (s) {
      this.o.onError(
        { ifname: s.ifname, family: s.family, fd: -1 },
        new Error(ERRNO_NAMES.get(errno) ?? `errno ${errno}`),
      );
    }
  };

  /** A datagram's source as Node gives it: a link-local one with its interface (fe80::1%eth0). */
  private sourceOf(s: NativeSocket, m: number): string {
    const at = (m + 4) * 4;
    if (s.family === 4) return ipv4ToString(this.recvAddress, at);
    const text = ipv6ToString(this.recvAddress, at);
    return this.recvMeta[m + 3] === 0 ? text : `${text}%${s.ifname}`;
  }

  private addressBytes(address: string, family: 4 | 6): Uint8Array | undefined {
    const cache = this.addresses[family];
    const cached = cache.get(address);
    if (cached) return cached;
    if (cache.size >= ADDRESS_CACHE) cache.clear();
    let bytes: Uint8Array;
    try {
      bytes = family === 4 ? ipv4ToBytes(address) : ipv6ToBytes(address.replace(/%.*$/, ""));
    } catch {
      return undefined;
    }
    cache.set(address, bytes);
    return bytes;
  }
}
/** A family's transport on the native datapath: sends go into the datapath's ring. */
class NativeTransport implements Transport {
  constructor(
    private readonly datapath: NativeDatapath,
    private readonly sockets: LinkTable<number>,
    private readonly links?: LinkTable<LinkSocket>,
  ) {}

  sendOnLink(
    bytes: Uint8Array,
    port: number,
    frame: OnLink,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): boolean {
    const socket = this.links?.get(via);
    // A frame is never fragmented: a reply past the link's MTU goes through the UDP socket, which can.
    if (socket === undefined || bytes.length + IP_UDP_BYTES > socket.mtu) return false;
    this.datapath.queueOnLink(socket.index, bytes, port, frame, what, outcome);
    return true;
  }

  send(
    bytes: Uint8Array,
    port: number,
    address: string,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    const socket = this.sockets.get(via);
    if (socket === undefined) outcome.failed(what, `no socket on ${linkName(via)}`, address, port);
    else this.datapath.queue(socket, bytes, port, address, what, outcome);
  }
}
