import { type IntervalHistogram, monitorEventLoopDelay, PerformanceObserver } from "node:perf_hooks";
import type { Labels } from "../../lib/metrics/exposition.ts";
import { Histogram } from "./histogram.ts";

// The relay's own stalls, so that a delay seen by clients can be pinned on the relay or not:
// how late its event loop ran (perf_hooks.monitorEventLoopDelay), and its garbage collector's
// pauses, each a Prometheus histogram (cumulative: a benchmark takes the difference of two
// readings for one run).

/** Bucket bounds in seconds for event-loop delays and GC pauses: 0.1 ms to 1 s. */
export const STALL_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
] as const;

/** How often the event loop's delay is sampled, ms. */
const RESOLUTION_MS = 10;

/** The kinds of V8's GC entries (PerformanceEntry.detail.kind), by their constants. */
const GC_KINDS: Record<number, string> = { 1: "minor", 2: "major", 4: "incremental", 8: "weakcb" };

/**
 * How many of a window's values (nanoseconds, as monitorEventLoopDelay keeps them) are at most
 * each bound, found from its percentiles: the share at or below a bound is the highest
 * percentile whose value is at most it (searched to 0.1 %).
 */
export function countsAtMost(
  h: Pick<IntervalHistogram, "count" | "percentile" | "max">,
  boundsNs: readonly number[],
): number[] {
  return boundsNs.map((bound) => {
    if (h.count === 0) return 0;
    if (h.max <= bound) return h.count;
    let lo = 0;
    let hi = 100;
    while (hi - lo > 0.1) {
      const mid = (lo + hi) / 2;
      if (h.percentile(mid) <= bound) lo = mid;
      else hi = mid;
    }
    return Math.round((h.count * lo) / 100);
  });
}

/** The relay's event-loop delay and GC pause histograms, kept from its start. */
export class RuntimeStalls {
  readonly eventLoop = new Histogram(
    "dhcplab_relay_event_loop_delay_seconds",
    "How late the relay's event loop ran, sampled every 10 ms (perf_hooks.monitorEventLoopDelay).",
    STALL_BUCKETS,
  );
  readonly gc = new Histogram(
    "dhcplab_relay_gc_pause_seconds",
    "The relay's garbage collection pauses, by kind (minor, major, incremental, weakcb).",
    STALL_BUCKETS,
  );
  private readonly stops: (() => void)[] = [];

  /** Starts watching: the loop's delays folded in once a second, each GC pause as it ends. */
  start(): this {
    const loop = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
    loop.enable();
    // The histogram holds the time between its timer's turns: the resolution plus the delay.
    const boundsNs = STALL_BUCKETS.map((b) => b * 1e9 + RESOLUTION_MS * 1e6);
    const fold = setInterval(() => {
      this.fold(loop, boundsNs);
      loop.reset();
    }, 1000);
    fold.unref();
    const observer = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) {
        const kind = GC_KINDS[(e as { detail?: { kind?: number } }).detail?.kind ?? 0] ?? "other";
        this.gc.observe(`kind="${kind}"`, e.duration / 1000);
      }
    });
    observer.observe({ entryTypes: ["gc"] });
    this.stops.push(
      () => clearInterval(fold),
      () => loop.disable(),
      () => observer.disconnect(),
    );
    return this;
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
  }

  /** A window's delays into the cumulative histogram: per bucket, those above the bound below it. */
  private fold(
    h: Pick<IntervalHistogram, "count" | "percentile" | "max" | "mean">,
    boundsNs: readonly number[],
  ): void {
    if (h.count === 0) return;
    const atMost = countsAtMost(h, boundsNs);
    let below = 0;
    atMost.forEach((n, i) => {
      const inBucket = Math.max(0, n - below);
      below = Math.max(below, n);
      this.eventLoop.observeMany("", (STALL_BUCKETS[i] as number) * 0.999, inBucket, 0);
    });
    this.eventLoop.observeMany("", Number.POSITIVE_INFINITY, Math.max(0, h.count - below), 0);
    this.eventLoop.addSum("", (Math.max(0, h.mean - RESOLUTION_MS * 1e6) * h.count) / 1e9);
  }
}

/** A run's stalls, from two readings of the relay's counters (their JSON). */
export interface StallFigures {
  /** Event-loop delay at or below which half, and 99 %, of the run's samples fell (a bucket's bound). */
  eventLoopP50Ms?: number;
  eventLoopP99Ms?: number;
  /** The bound of the highest bucket the run's delays reached (Infinity past the last). */
  eventLoopMaxMs?: number;
  /** GC pauses during the run, their total, and the bound of the longest one's bucket. */
  gcPauses: number;
  gcPauseMs: number;
  gcMaxMs?: number;
}

type CounterJson = Record<string, Record<string, number> | undefined>;

/** Per bucket bound (ms), the run's count: the difference of two cumulative readings, all labels summed. */
function bucketDeltas(before: CounterJson, after: CounterJson, name: string): [number, number][] {
  const deltas = new Map<number, number>();
  for (const [key, n] of Object.entries(after[`${name}_bucket`] ?? {})) {
    const le = /le="([^"]+)"/.exec(key)?.[1] ?? "+Inf";
    const bound = le === "+Inf" ? Number.POSITIVE_INFINITY : Number(le) * 1000;
    deltas.set(bound, (deltas.get(bound) ?? 0) + n - (before[`${name}_bucket`]?.[key] ?? 0));
  }
  return [...deltas].sort((a, b) => a[0] - b[0]);
}

/** The bound at which the cumulative share of a run's samples reaches `q`. */
function quantileBound(cumulative: [number, number][], q: number): number | undefined {
  const total = cumulative.at(-1)?.[1] ?? 0;
  if (total === 0) return undefined;
  return cumulative.find(([, n]) => n >= q * total)?.[0];
}

/** A run's event-loop and GC figures from the relay's counters before and after it. */
export function stallFigures(before: CounterJson, after: CounterJson): StallFigures {
  const loop = bucketDeltas(before, after, "dhcplab_relay_event_loop_delay_seconds");
  const gc = bucketDeltas(before, after, "dhcplab_relay_gc_pause_seconds");
  // Cumulative buckets: each bound's delta is the count at or below it; the highest reached is
  // the first bound whose count is the total.
  const highest = (b: [number, number][]) => {
    const total = b.at(-1)?.[1] ?? 0;
    if (total === 0) return undefined;
    const below = b.filter(([, n]) => n < total).at(-1)?.[0];
    return b.find(([bound, n]) => n === total && (below === undefined || bound > below))?.[0];
  };
  const sum = (name: string) =>
    Object.entries(after[name] ?? {}).reduce((s, [k, v]) => s + v - (before[name]?.[k] ?? 0), 0);
  return {
    eventLoopP50Ms: quantileBound(loop, 0.5),
    eventLoopP99Ms: quantileBound(loop, 0.99),
    eventLoopMaxMs: highest(loop),
    gcPauses: sum("dhcplab_relay_gc_pause_seconds_count"),
    gcPauseMs: sum("dhcplab_relay_gc_pause_seconds_sum") * 1000,
    gcMaxMs: highest(gc),
  };
}

/**
 * The relay's memory as the process sees it, a gauge's samples by kind: `rss` (resident, shared
 * libraries' pages included), `heap_total` and `heap_used` (V8's heap), `external` (memory V8's
 * objects hold outside it, the datapath's rings among it) and `array_buffers` (of that, ArrayBuffers).
 */
export function memorySamples(): Array<[Labels, number]> {
  const m = process.memoryUsage();
  return [
    [{ kind: "rss" }, m.rss],
    [{ kind: "heap_total" }, m.heapTotal],
    [{ kind: "heap_used" }, m.heapUsed],
    [{ kind: "external" }, m.external],
    [{ kind: "array_buffers" }, m.arrayBuffers],
  ];
}
