import { ipv4ToString, writeIpv4 } from "./address.ts";
import { DecodeError, EncodeError } from "./errors.ts";

/** Reads big-endian fields from a byte range, checking bounds before every read. */
export class Reader {
  /** The position of the next read, as an offset into `buf`. */
  pos: number;
  /** One past the last byte this reader may read. */
  readonly end: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = end;
  }

  /** Bytes left. */
  get left(): number {
    return this.end - this.pos;
  }

  /** Throws a `truncated` DecodeError unless `n` more bytes are there. */
  need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new DecodeError("truncated", this.pos, `${what} needs ${n} bytes, ${this.end - this.pos} left`);
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what: string): number {
    this.need(2, what);
    const b = this.buf;
    const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u24(what: string): number {
    this.need(3, what);
    const b = this.buf;
    const v =
      ((b[this.pos] as number) << 16) | ((b[this.pos + 1] as number) << 8) | (b[this.pos + 2] as number);
    this.pos += 3;
    return v;
  }

  u32(what: string): number {
    this.need(4, what);
    const b = this.buf;
    const v =
      (b[this.pos] as number) * 0x1000000 +
      (((b[this.pos + 1] as number) << 16) |
        ((b[this.pos + 2] as number) << 8) |
        (b[this.pos + 3] as number));
    this.pos += 4;
    return v;
  }

  /** A 4-byte IPv4 address as dotted-quad text, read without a view of its bytes. */
  ipv4(what: string): string {
    this.need(4, what);
    const s = ipv4ToString(this.buf, this.pos);
    this.pos += 4;
    return s;
  }

  /** `n` bytes as a view (no copy). */
  bytes(n: number, what: string): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** A reader over the next `n` bytes, which this reader skips. An `overrun` if fewer are left. */
  sub(n: number, what: string): Reader {
    if (this.end - this.pos < n) {
      throw new DecodeError("overrun", this.pos, `${what} claims ${n} bytes, ${this.end - this.pos} left`);
    }
    const r = new Reader(this.buf, this.pos, this.pos + n);
    this.pos += n;
    return r;
  }
}

/**
 * `n` bytes from Node's buffer pool, not zeroed, as a plain Uint8Array (slice copies, as it
 * should): a slice of the pool costs far less than an ArrayBuffer of its own, which V8 allocates
 * outside its heap for anything over 64 bytes. For writers that write every byte.
 */
export function pooledBytes(n: number): Uint8Array {
  const pooled = Buffer.allocUnsafe(n);
  return new Uint8Array(pooled.buffer, pooled.byteOffset, n);
}

/** Writes big-endian fields into a buffer sized in advance by an `encodingLength`. */
export class Writer {
  pos: number;

  constructor(
    readonly buf: Uint8Array,
    start = 0,
  ) {
    this.pos = start;
  }

  /**
   * A writer over a new buffer of `n` bytes, from Node's buffer pool: a pooled slice costs far
   * less than a fresh ArrayBuffer per packet. Its bytes are not zeroed; every codec writes each
   * byte of the length it computed (the round-trip properties check that).
   */
  static alloc(n: number): Writer {
    return new Writer(pooledBytes(n));
  }

  u8(v: number): void {
    this.buf[this.pos++] = v & 0xff;
  }

  u16(v: number): void {
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u24(v: number): void {
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  u32(v: number): void {
    this.buf[this.pos++] = (v >>> 24) & 0xff;
    this.buf[this.pos++] = (v >>> 16) & 0xff;
    this.buf[this.pos++] = (v >>> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }

  /** A dotted-quad IPv4 address as its 4 bytes, written in place. */
  ipv4(s: string): void {
    writeIpv4(s, this.buf, this.pos);
    this.pos += 4;
  }

  bytes(v: Uint8Array): void {
    this.buf.set(v, this.pos);
    this.pos += v.length;
  }

  /** `n` zero bytes. */
  zeros(n: number): void {
    this.buf.fill(0, this.pos, this.pos + n);
    this.pos += n;
  }
}

/** The trio every value of the codec has: decode from a reader, encode into a writer, length of a value. */
export interface Codec<T> {
  /** Decodes one value from all the bytes `r` has left. */
  decode(r: Reader): T;
  encode(w: Writer, v: T): void;
  encodingLength(v: T): number;
}

/**
 * Encodes `v` into a new buffer of exactly its length: its own, not a pooled slice, since these
 * small values (Option 82, options) may be kept for a while and must not pin a pool.
 */
export function encodeWith<T>(codec: Codec<T>, v: T): Uint8Array {
  const w = new Writer(new Uint8Array(codec.encodingLength(v)));
  codec.encode(w, v);
  return w.buf;
}

/** Decodes all of `buf` with `codec`. */
export function decodeWith<T>(codec: Codec<T>, buf: Uint8Array): T {
  return codec.decode(new Reader(buf));
}

/** Throws an EncodeError unless `n` fits in a `bits`-bit length field. */
export function checkLength(n: number, bits: 8 | 16, what: string): void {
  if (n > (bits === 8 ? 0xff : 0xffff))
    throw new EncodeError("too-long", `${what} is ${n} bytes, over ${bits}-bit length`);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

/** Up to this length, ASCII is converted in JavaScript: no call into the engine's encoder. */
const SHORT = 64;

/** UTF-8 bytes of a string. */
export function utf8(s: string): Uint8Array {
  // Short ASCII (Circuit-IDs, MACs) into a small array V8 keeps on its own heap.
  if (s.length <= SHORT) {
    const out = new Uint8Array(s.length);
    let i = 0;
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f) break;
      out[i] = c;
    }
    if (i === s.length) return out;
  }
  return encoder.encode(s);
}

/** A string from bytes (invalid UTF-8 becomes U+FFFD: logs and matchers never throw). */
export function text(b: Uint8Array): string {
  if (b.length <= SHORT) {
    let s = "";
    for (let i = 0; i < b.length; i++) {
      const c = b[i] as number;
      if (c > 0x7f) return decoder.decode(b);
      s += String.fromCharCode(c);
    }
    return s;
  }
  return decoder.decode(b);
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** Lower-case hex of bytes (the first `length` of them), with an optional separator. */
export function hex(b: Uint8Array, sep = "", length = b.length): string {
  let s = "";
  const n = Math.min(length, b.length);
  for (let i = 0; i < n; i++) {
    if (i > 0 && sep) s += sep;
    s += HEX[b[i] as number];
  }
  return s;
}

/** Bytes from hex; spaces, colons and dashes between digits are ignored. */
export function fromHex(s: string): Uint8Array {
  const clean = s.replace(/[\s:-]/g, "");
  if (!/^([0-9a-fA-F]{2})*$/.test(clean)) throw new EncodeError("bad-value", `not hex: ${s.slice(0, 40)}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Byte-wise equality. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The big-endian 16-bit number at `at`, for readers in place (no Reader, no view). */
export function u16At(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}

/** The big-endian 24-bit number at `at` (a DHCPv6 transaction-id). */
export function u24At(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 16) | ((b[at + 1] as number) << 8) | (b[at + 2] as number);
}

/** The unsigned big-endian 32-bit number at `at`. */
export function u32At(b: Uint8Array, at: number): number {
  return (b[at] as number) * 0x1000000 + u24At(b, at + 1);
}

/** Whether the `length` bytes of `a` at `at` are those of `b`, without a view of them. */
export function equalBytesAt(a: Uint8Array, at: number, length: number, b: Uint8Array): boolean {
  if (length !== b.length || at + length > a.length) return false;
  for (let i = 0; i < length; i++) if (a[at + i] !== b[i]) return false;
  return true;
}
