/** Transactions in flight, each kept for `ttlMs` and at most `max` at once (oldest go first). */
export class Transactions<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();

  constructor(
    private readonly ttlMs = 60_000,
    private readonly max = 200_000,
    private readonly now: () => number = Date.now,
  ) {}

  set(key: string, value: T): void {
    const at = this.now();
    this.entries.delete(key);
    this.entries.set(key, { at, value });
    // Map keeps insertion order: expired and surplus entries are at the front.
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.max && at - e.at < this.ttlMs) break;
      this.entries.delete(k);
    }
  }

  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (this.now() - e.at >= this.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e.value;
  }

  get size(): number {
    return this.entries.size;
  }
}
