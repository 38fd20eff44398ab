import { describe, expect, it } from "vitest";
import { Counters } from "./counters.ts";
import { countsAtMost, memorySamples, RuntimeStalls, STALL_BUCKETS, stallFigures } from "./runtime.ts";

/** A window of delays as monitorEventLoopDelay keeps them (nanoseconds), with its percentiles. */
function windowOf(delaysNs: number[]) {
  const sorted = [...delaysNs].sort((a, b) => a - b);
  return {
    count: sorted.length,
    max: sorted.at(-1) ?? 0,
    mean: sorted.reduce((a, b) => a + b, 0) / Math.max(1, sorted.length),
    percentile: (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? 0,
  };
}

describe("the relay's stalls", () => {
  it("counts a window's event-loop delays at or below each bound from its percentiles", () => {
    // 90 delays of 0.2 ms, 9 of 3 ms, one of 300 ms.
    const w = windowOf([...Array(90).fill(200_000), ...Array(9).fill(3_000_000), 300_000_000]);
    const atMost = countsAtMost(w, [250_000, 5_000_000, 500_000_000]);
    expect(atMost).toEqual([90, 99, 100]);
    expect(countsAtMost(windowOf([]), [1])).toEqual([0]);
  });

  it("are histograms among the relay's counters: Prometheus text and, in JSON, cumulative buckets", async () => {
    const counters = new Counters();
    const stalls = new RuntimeStalls().start();
    try {
      counters.histogram(stalls.eventLoop);
      counters.histogram(stalls.gc);
      stalls.gc.observe('kind="minor"', 0.0004);
      expect(counters.prometheus()).toContain("# TYPE dhcplab_relay_gc_pause_seconds histogram");
      const json = counters.toJSON();
      expect(json.dhcplab_relay_gc_pause_seconds_count).toEqual({ 'kind="minor"': 1 });
      expect(json.dhcplab_relay_gc_pause_seconds_bucket?.['kind="minor",le="0.0005"']).toBe(1);
      expect(json.dhcplab_relay_gc_pause_seconds_bucket?.['kind="minor",le="0.00025"']).toBe(0);
      expect(Object.keys(json.dhcplab_relay_gc_pause_seconds_bucket ?? {})).toHaveLength(
        STALL_BUCKETS.length + 1,
      );
    } finally {
      stalls.stop();
    }
  });

  it("give a run's event-loop quantiles and GC pauses from two readings of the counters", () => {
    const reading = (loop: number[], gc: number[], gcSum: number) => {
      const counters = new Counters();
      const stalls = new RuntimeStalls();
      counters.histogram(stalls.eventLoop);
      counters.histogram(stalls.gc);
      for (const d of loop) stalls.eventLoop.observe("", d);
      for (const d of gc) stalls.gc.observe('kind="minor"', d);
      stalls.gc.addSum('kind="minor"', gcSum - gc.reduce((a, b) => a + b, 0));
      return counters.toJSON();
    };
    const before = reading([0.0002], [], 0);
    // The run: 98 delays of 0.2 ms, one of 3 ms, one of 300 ms; two GC pauses, 1 ms and 20 ms.
    const after = reading([0.0002, ...Array(98).fill(0.0002), 0.003, 0.3], [0.001, 0.02], 0.021);
    expect(stallFigures(before, after)).toEqual({
      eventLoopP50Ms: 0.25,
      eventLoopP99Ms: 5,
      eventLoopMaxMs: 500,
      gcPauses: 2,
      gcPauseMs: 21,
      gcMaxMs: 25,
    });
  });
});

describe("the relay's memory gauge", () => {
  it("reads the process's memory by kind, as /metrics and /counters print it", () => {
    const counters = new Counters();
    counters.gauge("dhcplab_relay_memory_bytes", "memory", memorySamples);
    const byKind = counters.toJSON().dhcplab_relay_memory_bytes ?? {};
    expect(Object.keys(byKind)).toEqual([
      'kind="rss"',
      'kind="heap_total"',
      'kind="heap_used"',
      'kind="external"',
      'kind="array_buffers"',
    ]);
    const kept = new Uint8Array(4 << 20);
    const after = Object.fromEntries(memorySamples().map(([l, v]) => [l.kind, v]));
    expect(after.array_buffers).toBeGreaterThanOrEqual(kept.byteLength);
    expect(after.rss).toBeGreaterThan(after.heap_total as number);
    expect(after.heap_total).toBeGreaterThanOrEqual(after.heap_used as number);
    expect(counters.prometheus()).toMatch(/^dhcplab_relay_memory_bytes\{kind="heap_used"\} \d+$/m);
  });
});
