const SWEEP_EVERY_MS = 1000;

/**
 * How long a request waits for its reply. A client that got none retransmits after 4 s (RFC 2131
 * §4.1) or after about 1 s (RFC 8415 §15, SOL_TIMEOUT and REQ_TIMEOUT of §7.6), which sets its
 * entry anew, so this bounds only a server's answer to one message: Kea's come in milliseconds.
 * Every request unanswered at a rate stays this long; at 60 s a relay dropping 270 of 1,500
 * requests a second held 16,000 of them.
 */
export const IN_FLIGHT_TTL_MS = 10_000;
/** At most this many at once (oldest go first, counted as evicted "full"): about 23 MiB. */
export const IN_FLIGHT_MAX = 50_000;

/**
 * Transactions in flight, each kept for `ttlMs` and at most `max` at once (oldest go first).
 * `onEvict` hears of every entry forgotten before anyone read it: a request whose reply never came.
 */
export class Transactions<T> {
  private readonly entries = new Map<string, { at: number; value: T; read: boolean }>();
  /** When expired entries were last swept: at most once a second, not on every set. */
  private sweptAt = Number.NEGATIVE_INFINITY;

  private readonly ttlMs: number;
  private readonly max: number;
  private readonly now: () => number;
  private readonly onEvict: (why: "expired" | "full") => void;

  constructor(
    o: {
      ttlMs?: number;
      max?: number;
      now?: () => number;
      onEvict?: (why: "expired" | "full") => void;
    } = {},
  ) {
    this.ttlMs = o.ttlMs ?? IN_FLIGHT_TTL_MS;
    this.max = o.max ?? IN_FLIGHT_MAX;
    this.now = o.now ?? Date.now;
    this.onEvict = o.onEvict ?? (() => {});
  }

  set(key: string, value: T): void {
    const at = this.now();
    this.entries.delete(key);
    this.entries.set(key, { at, value, read: false });
    if (this.entries.size <= this.max && at - this.sweptAt < SWEEP_EVERY_MS) return;
    this.sweptAt = at;
    // Map keeps insertion order: expired and surplus entries are at the front.
    for (const [k, e] of this.entries) {
      const expired = at - e.at >= this.ttlMs;
      if (this.entries.size <= this.max && !expired) break;
      this.entries.delete(k);
      if (!e.read) this.onEvict(expired ? "expired" : "full");
    }
  }

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at >= this.ttlMs) {
      this.entries.delete(key);
      if (!e.read) this.onEvict("expired");
      return undefined;
    }
    e.read = true;
    return e.value;
  }

  /** Forgets a transaction that is over (its final reply relayed): it is no eviction. */
  delete(key: string): void {
    this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
