import type { RelayDecision } from "../../lib/decision.ts";

/** A decision as the journal gives it. */
export type JournalEntry = RelayDecision;

/**
 * A decision as a relay path records it: the facts as they were, made into a JournalEntry only
 * when the journal is read. A record is made for every client message and read rarely (`dhcplab
 * trace`, `explain`): formatting its MAC, transaction and added options then, not per message,
 * took 40 % of the relay's own time per exchange (`npm run bench:paths`, with and without a journal).
 */
export interface Recorded {
  readonly family: 4 | 6;
  entry(): Omit<JournalEntry, "at">;
  /**
   * Where the record can be written into the journal's bytes and made again from them (the relay
   * paths' records): the journal then keeps no object of it. Without it, the object is kept.
   */
  readonly codec?: RecordCodec<Recorded>;
}

/** How a kind of record is written into the journal's bytes and read back. */
export interface RecordCodec<R extends Recorded> {
  write(record: R, w: RecordWriter): void;
  read(r: RecordReader): R;
}

/** A record already in the form it is read in (tests, and what has nothing to format). */
export function recorded(entry: Omit<JournalEntry, "at">): Recorded {
  return { family: entry.family, entry: () => entry };
}

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
class Texts {
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

/**
 * The relay's recent decisions, newest last, for `dhcplab trace` and `explain`: a ring of
 * `capacity` records, so its memory is bounded whatever the load.
 *
 * The relay paths' records are written as bytes into a second ring (`bytes`, 256 per record by
 * default) and made again when the journal is read: the journal holds no object per record. A
 * record kept as an object lives until the ring comes round, seconds under load, so every young-
 * generation collection copied it and the old generation filled with them (bench:paths: the
 * journal took 30 % of the relay's time per exchange, most of it the collector's). A record whose
 * bytes were written over before its slot was (records longer than the ring's share) is gone.
 */
export class Journal {
  /** Records kept as objects (without a codec), by slot. */
  private readonly objects: (Recorded | undefined)[];
  /** Each slot's codec (by index into `codecs`), and where its bytes start in the stream (-1: none). */
  private readonly codecOf: Uint8Array;
  private readonly startOf: Float64Array;
  private readonly codecs: RecordCodec<Recorded>[] = [];
  /** When each record was made (ms): kept apart, so a record allocates no date. */
  private readonly times: Float64Array;
  private readonly data: Uint8Array;
  /** Bytes written into `data` since the start, ring turns included: a record's place in the stream. */
  private written = 0;
  private readonly texts = new Texts();
  private readonly writer = new RecordWriter(this.texts);
  private next = 0;

  constructor(
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
    bytes = capacity * 256,
  ) {
    this.objects = new Array(capacity);
    this.codecOf = new Uint8Array(capacity);
    this.startOf = new Float64Array(capacity).fill(-1);
    this.times = new Float64Array(capacity);
    this.data = new Uint8Array(bytes);
  }

  /** Keeps a record (as given: the caller makes it for the journal and changes it no more). */
  record(r: Recorded): void {
    const slot = this.next;
    this.next = (this.next + 1) % this.capacity;
    this.times[slot] = this.now();
    const codec = r.codec;
    const w = this.writer;
    if (codec) {
      w.at = 0;
      codec.write(r, w);
    }
    if (!codec || w.at > this.data.length) {
      this.objects[slot] = r;
      this.startOf[slot] = -1;
      return;
    }
    // Each record's bytes in one piece: one that would pass the ring's end starts it again.
    let at = this.written % this.data.length;
    if (at + w.at > this.data.length) {
      this.written += this.data.length - at;
      at = 0;
    }
    this.data.set(w.bytes.subarray(0, w.at), at);
    this.objects[slot] = undefined;
    this.startOf[slot] = this.written;
    this.codecOf[slot] = this.codecIndex(codec);
    this.written += w.at;
  }

  /** The entries for a client (by MAC or DUID, case-insensitive), oldest first, at most `limit`. */
  find(q: { mac?: string; duid?: string; family?: 4 | 6; limit?: number }): JournalEntry[] {
    const mac = q.mac?.toLowerCase();
    const duid = q.duid?.toLowerCase();
    const found: JournalEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.next + i) % this.capacity;
      const r = this.read(slot);
      if (!r) continue;
      if (q.family && r.family !== q.family) continue;
      const e = r.entry();
      if (mac && e.mac !== mac) continue;
      if (duid && e.duid !== duid) continue;
      found.push({ at: new Date(this.times[slot] as number).toISOString(), ...e } as JournalEntry);
    }
    return found.slice(-(q.limit ?? 50));
  }

  /** The record in a slot: its object, or made again from its bytes while they are still there. */
  private read(slot: number): Recorded | undefined {
    const kept = this.objects[slot];
    if (kept) return kept;
    const start = this.startOf[slot] as number;
    if (start < 0 || this.written - start > this.data.length) return undefined;
    const codec = this.codecs[this.codecOf[slot] as number] as RecordCodec<Recorded>;
    return codec.read(new RecordReader(this.data, start % this.data.length, this.texts));
  }

  private codecIndex(codec: RecordCodec<Recorded>): number {
    let i = this.codecs.indexOf(codec);
    if (i < 0) i = this.codecs.push(codec) - 1;
    return i;
  }
}
