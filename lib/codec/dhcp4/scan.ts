import { ipv4ToString, writeIpv4 } from "../address.ts";
import { HEADER_LENGTH, MAGIC_COOKIE, OPT } from "./codes.ts";

/** Where the fixed fields the scan reads sit (RFC 2131 §2, Figure 1). */
const AT = { op: 0, hlen: 2, xid: 4, ciaddr: 12, giaddr: 24, chaddr: 28, cookie: 236 } as const;
/**
 * A DHCPv4 message read in place: its fixed fields, and the offset and length of the few options
 * the relay reads on a server's reply, found without decoding the options into objects. It is the
 * relay's fast path for replies (relay/agent/relay4.ts), which it passes back with Option 82 and
 * option 54 rewritten and every other byte as it came, as the full decode and encode would.
 *
 * It covers the common shape only and says no (`scanDhcp4` returns undefined) to the rest, which
 * take the full decode: a message the decoder would refuse; option 52 (RFC 2132 §9.3, options in
 * `sname` or `file`); option 53, 54 or 82 in more than one instance (RFC 3396 concatenation).
 */
export class ScannedDhcp4 {
  private constructor(
    readonly bytes: Uint8Array,
    /** Offset of END, or -1 when the options run to the end of the datagram without one. */
    private readonly endAt: number,
    /** Offset of option 53's, 54's and 82's value (-1: absent), and its length. */
    private readonly at53: number,
    private readonly len53: number,
    private readonly at54: number,
    private readonly len54: number,
    private readonly at82: number,
    private readonly len82: number,
  ) {}

  get op(): number {
    return this.bytes[AT.op] as number;
  }

  get hlen(): number {
    return this.bytes[AT.hlen] as number;
  }

  get xid(): number {
    const b = this.bytes;
    return (
      (b[AT.xid] as number) * 0x1000000 +
      (((b[AT.xid + 1] as number) << 16) | ((b[AT.xid + 2] as number) << 8) | (b[AT.xid + 3] as number))
    );
  }

  get ciaddr(): string {
    return ipv4ToString(this.bytes, AT.ciaddr);
  }

  /** All 16 bytes of chaddr, as a view. */
  get chaddr(): Uint8Array {
    return this.bytes.subarray(AT.chaddr, AT.chaddr + 16);
  }

  /** Option 53's value, when it is one byte. */
  get messageType(): number | undefined {
    return this.at53 >= 0 && this.len53 === 1 ? (this.bytes[this.at53] as number) : undefined;
  }

  /** Whether option 54 is there. */
  get hasServerId(): boolean {
    return this.at54 >= 0;
  }

  /** Option 82's value as a view, or undefined when absent. */
  get option82(): Uint8Array | undefined {
    return this.at82 < 0 ? undefined : this.bytes.subarray(this.at82, this.at82 + this.len82);
  }

  /**
   * The message with Option 82 given back as `option82` (none when undefined), option 54 as
   * `serverId` when given and there, and giaddr as `giaddr` when given. What the full path writes:
   * every other option where it was, pads included; a rewritten option 54 after them (setOption
   * appends); Option 82 last (RFC 3046 §2.1), in 255-byte instances (RFC 3396 §7); END and what
   * follows it as they came.
   */
  rewrite(option82: Uint8Array | undefined, serverId?: Uint8Array, giaddr?: string): Uint8Array {
    const b = this.bytes;
    const optionsEnd = this.endAt < 0 ? b.length : this.endAt;
    const rewrite54 = serverId !== undefined && this.at54 >= 0;
    // The options left out where they stand: Option 82, and option 54 when it is rewritten.
    let cutA = this.at82 < 0 ? -1 : this.at82 - 2;
    let cutALength = this.at82 < 0 ? 0 : this.len82 + 2;
    let cutB = rewrite54 ? this.at54 - 2 : -1;
    let cutBLength = rewrite54 ? this.len54 + 2 : 0;
    if (cutB >= 0 && (cutA < 0 || cutB < cutA)) {
      [cutA, cutB] = [cutB, cutA];
      [cutALength, cutBLength] = [cutBLength, cutALength];
    }
    let length = b.length - cutALength - cutBLength;
    if (rewrite54) length += 2 + serverId.length;
    if (option82) length += option82.length + 2 * Math.max(1, Math.ceil(option82.length / 255));
    const out = new Uint8Array(length);
    let w = 0;
    let from = 0;
    for (const [cut, cutLength] of [
      [cutA, cutALength],
      [cutB, cutBLength],
    ] as const) {
      if (cut < 0) continue;
      out.set(b.subarray(from, cut), w);
      w += cut - from;
      from = cut + cutLength;
    }
    out.set(b.subarray(from, optionsEnd), w);
    w += optionsEnd - from;
    if (giaddr !== undefined) writeIpv4(giaddr, out, AT.giaddr);
    if (rewrite54) {
      out[w++] = OPT.serverId;
      out[w++] = serverId.length;
      out.set(serverId, w);
      w += serverId.length;
    }
    if (option82) {
      let at = 0;
      do {
        const chunk = option82.subarray(at, at + 255);
        out[w++] = OPT.relayAgentInfo;
        out[w++] = chunk.length;
        out.set(chunk, w);
        w += chunk.length;
        at += 255;
      } while (at < option82.length);
    }
    if (this.endAt >= 0) out.set(b.subarray(this.endAt), w);
    return out;
  }

  /** Reads `bytes` in place, or says no (undefined) to what the full decode must take. */
  static scan(bytes: Uint8Array): ScannedDhcp4 | undefined {
    if (bytes.length < HEADER_LENGTH || (bytes[AT.hlen] as number) > 16) return undefined;
    const c = AT.cookie;
    const cookie =
      (bytes[c] as number) * 0x1000000 +
      (((bytes[c + 1] as number) << 16) | ((bytes[c + 2] as number) << 8) | (bytes[c + 3] as number));
    if (cookie !== MAGIC_COOKIE) return undefined;
    let endAt = -1;
    let at53 = -1;
    let len53 = 0;
    let at54 = -1;
    let len54 = 0;
    let at82 = -1;
    let len82 = 0;
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
      if (code === OPT.messageType) {
        if (at53 >= 0) return undefined;
        at53 = i + 2;
        len53 = n;
      } else if (code === OPT.serverId) {
        if (at54 >= 0) return undefined;
        at54 = i + 2;
        len54 = n;
      } else if (code === OPT.relayAgentInfo) {
        if (at82 >= 0) return undefined;
        at82 = i + 2;
        len82 = n;
      }
      i += 2 + n;
    }
    return new ScannedDhcp4(bytes, endAt, at53, len53, at54, len54, at82, len82);
  }
}
