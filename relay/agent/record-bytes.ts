// How the journal keeps a record: its fields as bytes (numbers, byte fields cut at MAX_FIELD,
// texts), written by the record's codec into a scratch buffer and read back in the same order.

/** The longest a field of bytes is kept (a DUID has at most 130, RFC 8415 §11.1); longer ones are cut. */
const MAX_FIELD = 1024;
/** A record's bytes at most: its fields, each cut to MAX_FIELD, stay well within. */
const MAX_RECORD = 16 * 1024;
const NONE = 0xffff;
/** A text kept inline (its UTF-8 after a length), not as an index into the journal's texts. */
const INLINE = 0xfffe;

/**
 * Texts the records name (segments, rules, VRFs, drop reasons, the relay's own addresses): kept
 * once each, a record holds their index. Only texts from the relay's configuration and code go
 * here; what a client chose (a downstream relay's giaddr, its own address) is written inline.
 */
export class Texts {
  private readonly index = new Map<string, number>();
  readonly all: string[] = [];

  /** The text's index, or INLINE once there are too many to keep (a policy reloaded very often). */
  of(text: string): number {
    let i = this.index.get(text);
    if (i === undefined) {
      if (this.all.length >= INLINE) return INLINE;
      i = this.all.length;
      this.all.push(text);
      this.index.set(text, i);
    }
    return i;
  }
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

/** Writes one record's fields into a scratch buffer, which the journal then copies into its ring. */
export class RecordWriter {
  readonly bytes = new Uint8Array(MAX_RECORD);
  at = 0;
  /** More than MAX_RECORD bytes were written, and the rest lost (no record made today comes near). */
  get overflowed(): boolean {
    return this.at > MAX_RECORD;
  }

  constructor(private readonly texts: Texts) {}

  u8(v: number): void {
    this.bytes[this.at++] = v;
  }

  u16(v: number): void {
    this.bytes[this.at++] = v >>> 8;
    this.bytes[this.at++] = v;
  }

  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  /** Bytes (a copy, at most MAX_FIELD of them), or none. */
  field(b: Uint8Array | undefined, length = b?.length ?? 0): void {
    if (!b) {
      this.u16(NONE);
      return;
    }
    const n = Math.min(length, b.length, MAX_FIELD);
    this.u16(n);
    for (let i = 0; i < n; i++) this.bytes[this.at++] = b[i] as number;
  }

  /** A text from the relay's configuration or code, by index. */
  text(t: string | undefined): void {
    if (t === undefined) {
      this.u16(NONE);
      return;
    }
    const i = this.texts.of(t);
    this.u16(i);
    if (i === INLINE) this.inline(t);
  }

  /** A text a client chose (an address as it came): inline, never in the journal's texts. */
  inline(t: string | undefined): void {
    if (t === undefined) {
      this.u16(NONE);
      return;
    }
    const room = this.bytes.subarray(this.at + 2, this.at + 2 + MAX_FIELD);
    const { written } = utf8.encodeInto(t, room);
    this.u16(written);
    this.at += written;
  }
}

/** Reads a record's fields back, in the order its codec wrote them. */
export class RecordReader {
  constructor(
    private readonly bytes: Uint8Array,
    private at: number,
    private readonly texts: Texts,
  ) {}

  u8(): number {
    return this.bytes[this.at++] as number;
  }

  u16(): number {
    const v = ((this.bytes[this.at] as number) << 8) | (this.bytes[this.at + 1] as number);
    this.at += 2;
    return v;
  }

  u32(): number {
    return this.u16() * 0x10000 + this.u16();
  }

  field(): Uint8Array | undefined {
    const n = this.u16();
    if (n === NONE) return undefined;
    this.at += n;
    return this.bytes.slice(this.at - n, this.at);
  }

  text(): string | undefined {
    const i = this.u16();
    if (i === NONE) return undefined;
    return i === INLINE ? this.inline() : this.texts.all[i];
  }

  inline(): string | undefined {
    const n = this.u16();
    if (n === NONE) return undefined;
    this.at += n;
    return fromUtf8.decode(this.bytes.subarray(this.at - n, this.at));
  }
}
