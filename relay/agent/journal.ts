import type { RelayDecision } from "../../lib/decision.ts";
import { RecordReader, RecordWriter, Texts } from "./record-bytes.ts";

export type { RecordReader, RecordWriter } from "./record-bytes.ts";

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
    const codec = r.codec;
    const w = this.writer;
    if (codec) {
      w.at = 0;
      codec.write(r, w);
    }
    // The slot is taken once the record is written: a write that threw leaves the journal as it was.
    const slot = this.next;
    this.next = (this.next + 1) % this.capacity;
    this.times[slot] = this.now();
    if (!codec || w.overflowed || w.at > this.data.length) {
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
