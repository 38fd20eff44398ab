import { ipv4ToString, writeIpv4 } from "../address.ts";
import { pooledBytes, u16At, u32At } from "../bytes.ts";
import { HEADER_LENGTH, MAGIC_COOKIE, OPT } from "./codes.ts";
import { type Dhcp4Message, encodeDhcp4, maxMessageSize, maxMessageSizeOf } from "./message.ts";
import { getOption, messageType, removeOption, setOption } from "./options.ts";

/** Where the fixed fields sit (RFC 2131 §2, Figure 1). */
const AT = {
  op: 0,
  htype: 1,
  hlen: 2,
  hops: 3,
  xid: 4,
  flags: 10,
  ciaddr: 12,
  yiaddr: 16,
  giaddr: 24,
  chaddr: 28,
  cookie: 236,
} as const;

/**
 * The options a relay reads: the client's identity and classes for its policy (12, 60, 61, 77),
 * the message type (53), the server identifier it may override (54), the client's size limit
 * (57) and the relay agent information it adds, checks and removes (82).
 */
export const READ_IN_PLACE = [
  OPT.hostname,
  OPT.messageType,
  OPT.serverId,
  OPT.maxMessageSize,
  OPT.vendorClass,
  OPT.clientId,
  OPT.userClass,
  OPT.relayAgentInfo,
] as const;
export type ReadOption = (typeof READ_IN_PLACE)[number];

/** Each read option's slot in a scan's index (-1: not read). */
const SLOT = new Int8Array(256).fill(-1);
READ_IN_PLACE.forEach((code, i) => {
  SLOT[code] = i;
});

/** What a relay changes besides Option 82. */
export interface Rewrite4 {
  hops?: number;
  giaddr?: string;
  /** Option 54's new value, when the message has an option 54 (RFC 5107 server-id-override). */
  serverId?: Uint8Array;
}

/** A DHCPv4 message as a relay reads and rewrites it, whether read in place or decoded whole. */
export interface Dhcp4View {
  readonly op: number;
  readonly hops: number;
  readonly xid: number;
  readonly htype: number;
  readonly hlen: number;
  /** The flags field; its top bit is BROADCAST (RFC 2131 §2, FLAG_BROADCAST). */
  readonly flags: number;
  /** All 16 bytes of chaddr; the client's address is the first `hlen`. */
  readonly chaddr: Uint8Array;
  readonly ciaddr: string;
  readonly yiaddr: string;
  readonly giaddr: string;
  /** Option 53's value, when it is one byte; undefined for plain BOOTP. */
  readonly messageType: number | undefined;
  /** The most the client takes (RFC 2132 §9.10): its option 57, at least 576. */
  readonly maxMessageSize: number;
  /** The value of option `code` (RFC 3396: every instance, concatenated), or undefined. */
  option(code: ReadOption): Uint8Array | undefined;
  /**
   * The message with Option 82 as `option82` (none when undefined) and `changes` made. What a
   * decode and encode would write: every other option where it was, pads included; a rewritten
   * option 54 after them (it is set anew); Option 82 last (RFC 3046 §2.1), in 255-byte instances
   * (RFC 3396 §7); END and what follows it as they came.
   */
  rewrite(option82: Uint8Array | undefined, changes?: Rewrite4): Uint8Array;
  /** The message as it came but for `hops`, as a decode and encode would write it (Option 82 last). */
  forwarded(hops: number): Uint8Array;
}

/**
 * A DHCPv4 message read in place: its fixed fields from the header, and the offset and length of
 * each option in READ_IN_PLACE, found without decoding the options into objects. `rewrite` copies
 * every other byte. The relay's fast path, both ways (relay/agent/relay4.ts).
 *
 * It covers the common shape only and says no (`scan` returns undefined) to the rest, which
 * takes the full decode (DecodedDhcp4): a message the decoder would refuse; option 52 (RFC 2132
 * §9.3, options in `sname` or `file`); an option it reads in more than one instance (RFC 3396).
 */
export class ScannedDhcp4 implements Dhcp4View {
  private constructor(
    readonly bytes: Uint8Array,
    /** Offset of END, or -1 when the options run to the end of the datagram without one. */
    private readonly endAt: number,
    /** By slot: the offset of the option's value (-1: absent), then its length. */
    private readonly index: Int32Array,
  ) {}

  /** chaddr, made once: the paths read it several times. */
  private chaddrView: Uint8Array | undefined = undefined;

  get op(): number {
    return this.bytes[AT.op] as number;
  }

  get hops(): number {
    return this.bytes[AT.hops] as number;
  }

  get htype(): number {
    return this.bytes[AT.htype] as number;
  }

  get hlen(): number {
    return this.bytes[AT.hlen] as number;
  }

  get flags(): number {
    return u16At(this.bytes, AT.flags);
  }

  get xid(): number {
    return u32At(this.bytes, AT.xid);
  }

  get ciaddr(): string {
    return ipv4ToString(this.bytes, AT.ciaddr);
  }

  get yiaddr(): string {
    return ipv4ToString(this.bytes, AT.yiaddr);
  }

  get giaddr(): string {
    return ipv4ToString(this.bytes, AT.giaddr);
  }

  get chaddr(): Uint8Array {
    this.chaddrView ??= this.bytes.subarray(AT.chaddr, AT.chaddr + 16);
    return this.chaddrView;
  }

  get messageType(): number | undefined {
    const at = this.at(OPT.messageType);
    return at >= 0 && this.length(OPT.messageType) === 1 ? (this.bytes[at] as number) : undefined;
  }

  get maxMessageSize(): number {
    return maxMessageSizeOf(this.option(OPT.maxMessageSize));
  }

  option(code: ReadOption): Uint8Array | undefined {
    const at = this.at(code);
    return at < 0 ? undefined : this.bytes.subarray(at, at + this.length(code));
  }

  rewrite(option82: Uint8Array | undefined, changes?: Rewrite4): Uint8Array {
    const b = this.bytes;
    const optionsEnd = this.endAt < 0 ? b.length : this.endAt;
    const serverId = changes?.serverId;
    const rewrite54 = serverId !== undefined && this.at(OPT.serverId) >= 0;
    // The options left out where they stand: Option 82, and option 54 when it is set anew; the
    // first of them in the message is cutA.
    let cutA = this.cut(OPT.relayAgentInfo);
    let cutB = rewrite54 ? this.cut(OPT.serverId) : -1;
    if (cutB >= 0 && (cutA < 0 || cutB < cutA)) {
      const first = cutB;
      cutB = cutA;
      cutA = first;
    }
    const lengthA = optionSpan(b, cutA);
    const lengthB = optionSpan(b, cutB);
    let length = b.length - lengthA - lengthB;
    if (rewrite54) length += 2 + serverId.length;
    if (option82) length += option82.length + 2 * Math.max(1, Math.ceil(option82.length / 255));
    // Every byte is written below (scan.test.ts compares with the codec's encode).
    const out = pooledBytes(length);
    let w = 0;
    let from = 0;
    if (cutA >= 0) {
      w = copy(b, from, cutA, out, w);
      from = cutA + lengthA;
    }
    if (cutB >= 0) {
      w = copy(b, from, cutB, out, w);
      from = cutB + lengthB;
    }
    w = copy(b, from, optionsEnd, out, w);
    if (changes?.hops !== undefined) out[AT.hops] = changes.hops;
    if (changes?.giaddr !== undefined) writeIpv4(changes.giaddr, out, AT.giaddr);
    if (rewrite54) {
      out[w++] = OPT.serverId;
      out[w++] = serverId.length;
      out.set(serverId, w);
      w += serverId.length;
    }
    if (option82) {
      let at = 0;
      do {
        const end = Math.min(at + 255, option82.length);
        out[w++] = OPT.relayAgentInfo;
        out[w++] = end - at;
        w = copy(option82, at, end, out, w);
        at = end;
      } while (at < option82.length);
    }
    if (this.endAt >= 0) copy(b, this.endAt, b.length, out, w);
    return out;
  }

  forwarded(hops: number): Uint8Array {
    return this.rewrite(this.option(OPT.relayAgentInfo), { hops });
  }

  private at(code: ReadOption): number {
    return this.index[2 * (SLOT[code] as number)] as number;
  }

  private length(code: ReadOption): number {
    return this.index[2 * (SLOT[code] as number) + 1] as number;
  }

  /** Where option `code` starts, its code byte (-1: absent). */
  private cut(code: ReadOption): number {
    const at = this.at(code);
    return at < 0 ? -1 : at - 2;
  }

  /** Reads `bytes` in place, or says no (undefined) to what the full decode must take. */
  static scan(bytes: Uint8Array): ScannedDhcp4 | undefined {
    if (bytes.length < HEADER_LENGTH || (bytes[AT.hlen] as number) > 16) return undefined;
    if (u32At(bytes, AT.cookie) !== MAGIC_COOKIE) return undefined;
    const index = new Int32Array(2 * READ_IN_PLACE.length).fill(-1);
    let endAt = -1;
    let i = HEADER_LENGTH;
    while (i < bytes.length) {
      const code = bytes[i] as number;
      if (code === OPT.pad) {
        i++;
        continue;
      }
      if (code === OPT.end) {
        endAt = i;
        break;
      }
      if (i + 1 >= bytes.length) return undefined;
      const n = bytes[i + 1] as number;
      if (i + 2 + n > bytes.length || code === OPT.overload) return undefined;
      const slot = SLOT[code] as number;
      if (slot >= 0) {
        if ((index[2 * slot] as number) >= 0) return undefined;
        index[2 * slot] = i + 2;
        index[2 * slot + 1] = n;
      }
      i += 2 + n;
    }
    return new ScannedDhcp4(bytes, endAt, index);
  }
}

/** The bytes of the option whose code byte is at `at` (0 for none: -1). */
function optionSpan(b: Uint8Array, at: number): number {
  return at < 0 ? 0 : (b[at + 1] as number) + 2;
}

/**
 * Copies `from[start..end)` into `to` at `at`; returns the offset after it. A run of more than
 * 64 bytes goes through `set` (a memcpy, after a view object); a shorter one byte by byte, which
 * costs less than the view. bench:paths, bundled as the relay is: DORA 14.6 -> 12.8 µs against
 * copying every run byte by byte.
 */
function copy(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): number {
  if (end - start > 64) {
    to.set(from.subarray(start, end), at);
    return at + end - start;
  }
  for (let i = start; i < end; i++) to[at++] = from[i] as number;
  return at;
}

/** A message decoded whole (what the scan says no to): the same reads and rewrite, through the codec. */
export class DecodedDhcp4 implements Dhcp4View {
  constructor(readonly message: Dhcp4Message) {}

  get op(): number {
    return this.message.op;
  }

  get hops(): number {
    return this.message.hops;
  }

  get xid(): number {
    return this.message.xid;
  }

  get htype(): number {
    return this.message.htype;
  }

  get hlen(): number {
    return this.message.hlen;
  }

  get flags(): number {
    return this.message.flags;
  }

  get chaddr(): Uint8Array {
    return this.message.chaddr;
  }

  get ciaddr(): string {
    return this.message.ciaddr;
  }

  get yiaddr(): string {
    return this.message.yiaddr;
  }

  get giaddr(): string {
    return this.message.giaddr;
  }

  get messageType(): number | undefined {
    return messageType(this.message);
  }

  get maxMessageSize(): number {
    return maxMessageSize(this.message);
  }

  option(code: ReadOption): Uint8Array | undefined {
    return getOption(this.message, code);
  }

  rewrite(option82: Uint8Array | undefined, changes: Rewrite4 = {}): Uint8Array {
    const m = this.message;
    if (option82) setOption(m, OPT.relayAgentInfo, option82);
    else removeOption(m, OPT.relayAgentInfo);
    if (changes.serverId && getOption(m, OPT.serverId) !== undefined)
      setOption(m, OPT.serverId, changes.serverId);
    if (changes.hops !== undefined) m.hops = changes.hops;
    if (changes.giaddr !== undefined) m.giaddr = changes.giaddr;
    return encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY });
  }

  forwarded(hops: number): Uint8Array {
    this.message.hops = hops;
    return encodeDhcp4(this.message, { maxSize: Number.POSITIVE_INFINITY });
  }
}
