import type { RelayDecision } from "../../lib/decision.ts";

/** A decision as the journal keeps it. */
export type JournalEntry = RelayDecision;

/**
 * The relay's recent decisions, newest last, for `dhcplab trace` and `explain`: a ring of
 * `capacity` entries, so its memory is bounded whatever the load.
 */
export class Journal {
  private readonly ring: (JournalEntry | undefined)[];
  private next = 0;

  constructor(
    readonly capacity = 4096,
    private readonly now: () => number = Date.now,
  ) {
    this.ring = new Array(capacity);
  }

  record(entry: Omit<JournalEntry, "at">): JournalEntry {
    const full = { at: new Date(this.now()).toISOString(), ...entry };
    this.ring[this.next] = full;
    this.next = (this.next + 1) % this.capacity;
    return full;
  }

  /** The entries for a client (by MAC or DUID, case-insensitive), oldest first, at most `limit`. */
  find(q: { mac?: string; duid?: string; family?: 4 | 6; limit?: number }): JournalEntry[] {
    const mac = q.mac?.toLowerCase();
    const duid = q.duid?.toLowerCase();
    const found: JournalEntry[] = [];
    for (let i = 0; i < this.capacity; i++) {
      const e = this.ring[(this.next + i) % this.capacity];
      if (!e) continue;
      if (q.family && e.family !== q.family) continue;
      if (mac && e.mac !== mac) continue;
      if (duid && e.duid !== duid) continue;
      found.push(e);
    }
    return found.slice(-(q.limit ?? 50));
  }
}
