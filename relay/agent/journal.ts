import type { RelayInfo } from "../../lib/relay-info.ts";

/** What the relay did with one client message: the rule and VRF, or why it dropped it. */
export interface JournalEntry {
  /** When (ISO 8601). */
  at: string;
  family: 4 | 6;
  /** The client's message type (DISCOVER, SOLICIT, ...), also inside a downstream relay's packet. */
  type: string;
  /** The client's MAC: DHCPv4 chaddr; DHCPv6 from its DUID, Client Link-Layer Address or link-local address. */
  mac?: string;
  /** DHCPv6: the client's DUID, hex with colons. */
  duid?: string;
  /** DHCPv4 xid / DHCPv6 transaction-id, hex. */
  transaction: string;
  /** The access segment it came in on. */
  segment: string;
  /** A downstream relay's giaddr (DHCPv4), when one relayed it here. */
  downstream?: string;
  action: "relay" | "drop";
  /** The policy rule that decided; `(unmatched)` when none matched and `unmatched` sent it on. */
  rule?: string;
  vrf?: string;
  /** Why it was dropped (a drop counter's reason). */
  reason?: string;
  /** What the relay added, as the VRF's servers see it. */
  added?: RelayInfo;
  /** DHCPv4: the giaddr the servers see. */
  giaddr?: string;
}

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
