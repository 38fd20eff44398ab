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
}

/** A record already in the form it is read in (tests, and what has nothing to format). */
export function recorded(entry: Omit<JournalEntry, "at">): Recorded {
  return { family: entry.family, entry: () => entry };
}

/**
 * The relay's recent decisions, newest last, for `dhcplab trace` and `explain`: a ring of
 * `capacity` records, so its memory is bounded whatever the load.
 */
export class Journal {
  private readonly ring: (Recorded | undefined)[];
  /** When each record was made (ms): kept apart, so a record allocates no date. */
  private readonly times: Float64Array;
  private next = 0;

  constructor(
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Keeps a record (as given: the caller makes it for the journal and changes it no more). */
  record(r: Recorded): void {
    this.ring[this.next] = r;
    this.times[this.next] = this.now();
    this.next = (this.next + 1) % this.capacity;
  }

  /** The entries for a client (by MAC or DUID, case-insensitive), oldest first, at most `limit`. */
  find(q: { mac?: string; duid?: string; family?: 4 | 6; limit?: number }): JournalEntry[] {
    const mac = q.mac?.toLowerCase();
    const duid = q.duid?.toLowerCase();
    const found: JournalEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const slot = (this.next + i) % this.capacity;
      const r = this.ring[slot];
      if (!r) continue;
      if (q.family && r.family !== q.family) continue;
      const e = r.entry();
      if (mac && e.mac !== mac) continue;
      if (duid && e.duid !== duid) continue;
      found.push({ at: new Date(this.times[slot] as number).toISOString(), ...e } as JournalEntry);
    }
    return found.slice(-(q.limit ?? 50));
  }
}
