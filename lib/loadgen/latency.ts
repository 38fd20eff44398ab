/** What a load run reports of one request/reply exchange (DISCOVER-OFFER, REQUEST-ACK, ...). */
export interface ExchangeFigures {
  exchange: string;
  sent: number;
  received: number;
  /** Sent and never answered within the timeout. */
  drops: number;
  minDelayMs: number;
  avgDelayMs: number;
  maxDelayMs: number;
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
}

/** The p-th percentile (0 < p <= 100) of ascending `sorted`, by the nearest-rank method. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}

/** p50, p90 and p99 of `samples` (ms), rounded to microseconds; none when there are no samples. */
export function percentiles(samples: readonly number[]): Pick<ExchangeFigures, "p50Ms" | "p90Ms" | "p99Ms"> {
  if (samples.length === 0) return {};
  const sorted = Float64Array.from(samples).sort();
  const at = (p: number) => round(percentile(sorted as unknown as number[], p));
  return { p50Ms: at(50), p90Ms: at(90), p99Ms: at(99) };
}

/** Counts and delays of one exchange over a run. */
export class Exchange {
  private sent = 0;
  private dropped = 0;
  private readonly delays: number[] = [];

  constructor(readonly name: string) {}

  started(): void {
    this.sent++;
  }

  answered(delayMs: number): void {
    this.delays.push(delayMs);
  }

  lost(): void {
    this.dropped++;
  }

  figures(): ExchangeFigures {
    const d = this.delays;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let max = 0;
    for (const x of d) {
      sum += x;
      if (x < min) min = x;
      if (x > max) max = x;
    }
    return {
      exchange: this.name,
      sent: this.sent,
      received: d.length,
      drops: this.dropped,
      minDelayMs: d.length ? round(min) : 0,
      avgDelayMs: d.length ? round(sum / d.length) : 0,
      maxDelayMs: d.length ? round(max) : 0,
      ...percentiles(d),
    };
  }
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
