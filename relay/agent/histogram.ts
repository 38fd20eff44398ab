import { familyHeader, sampleLine } from "../../lib/metrics/exposition.ts";
/** Bucket bounds in seconds for the relay's own time per datagram: 5 µs to 100 ms. */
export const PROCESSING_BUCKETS = [
  0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1,
] as const;

/**
 * A Prometheus histogram with one label set per series: per observation one bucket's count
 * goes up (the cumulative counts are made when printed), with the sum and the count.
 */
export class Histogram {
  private readonly series = new Map<string, { buckets: number[]; sum: number; count: number }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[] = PROCESSING_BUCKETS,
  ) {}

  /** Records one value (seconds) in the series of `labels` (their Prometheus text). */
  observe(labels: string, value: number): void {
    this.observeMany(labels, value, 1, value);
  }

  /** Records `n` values in the bucket of `value`, adding `sum` to the series' sum. */
  observeMany(labels: string, value: number, n: number, sum: number): void {
    const s = this.seriesOf(labels);
    let i = 0;
    while (i < this.bounds.length && value > (this.bounds[i] as number)) i++;
    s.buckets[i] = (s.buckets[i] ?? 0) + n;
    s.sum += sum;
    s.count += n;
  }

  /** Adds to a series' sum alone (values whose buckets were recorded without it). */
  addSum(labels: string, sum: number): void {
    this.seriesOf(labels).sum += sum;
  }

  private seriesOf(labels: string): { buckets: number[]; sum: number; count: number } {
    let s = this.series.get(labels);
    if (!s) {
      s = { buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.series.set(labels, s);
    }
    return s;
  }

  /** Each series' cumulative bucket counts by upper bound ("+Inf" last), for JSON. */
  buckets(): Record<string, Record<string, number>> {
    return Object.fromEntries(
      [...this.series].map(([k, s]) => {
        let cumulative = 0;
        return [
          k,
          Object.fromEntries(
            s.buckets.map((n, i) => {
              cumulative += n;
              return [i < this.bounds.length ? String(this.bounds[i]) : "+Inf", cumulative];
            }),
          ),
        ];
      }),
    );
  }

  /** The histogram in the text exposition format: cumulative buckets up to +Inf, then sum and count. */
  prometheus(): string[] {
    const out = familyHeader(this.name, "histogram", this.help);
    for (const [labels, s] of this.series) {
      const sep = labels ? `${labels},` : "";
      let cumulative = 0;
      s.buckets.forEach((n, i) => {
        cumulative += n;
        const le = i < this.bounds.length ? String(this.bounds[i]) : "+Inf";
        out.push(sampleLine(`${this.name}_bucket`, `${sep}le="${le}"`, cumulative));
      });
      out.push(
        sampleLine(`${this.name}_sum`, labels, s.sum),
        sampleLine(`${this.name}_count`, labels, s.count),
      );
    }
    return out;
  }

  /** Each series' count and sum, for JSON. */
  toJSON(): Record<string, { count: number; sum: number }> {
    return Object.fromEntries([...this.series].map(([k, s]) => [k, { count: s.count, sum: s.sum }]));
  }
}
