import type { RelayDecision } from "../../lib/decision.ts";

/** A decision as the journal keeps it. */
export type JournalEntry = RelayDecision;

/**
 * The relay's recent decisions, newest last, for `dhcplab trace` and `explain`: a ring of
 * `capacity` entries, so its memory is bounded whatever the load.
 */
export class Journal {
  private readonly ring: (Omit<JournalEntry, "at"> | undefined)[];
  /** When each entry was recorded (ms): kept apart, so a record allocates no date and no copy. */
  private readonly times: Float64Array;
  private next = 0;

  constructor(
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array(capacity);
    this.times = new Float64Array(capacity);
  }

  /** Records a decision (the object is kept as given: the caller makes it for the journal). */
  record(entry: Omit<JournalEntry, "at">): void {
    this.ring[this.next] = entry;
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
      const e = this.ring[slot];
      if (!e) continue;
      if (q.family && e.family !== q.family) continue;
      if (mac && e.mac !== mac) continue;
      if (duid && e.duid !== duid) continue;
      found.push({ at: new Date(this.times[slot] as number).toISOString(), ...e } as JournalEntry);
    }
    return found.slice(-(q.limit ?? 50));
  }
}
