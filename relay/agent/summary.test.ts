import type { Logger } from "pino";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Counters } from "./counters.ts";
import { logSummaries } from "./summary.ts";

describe("the relay's periodic summary", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is logged when a count changed, with the gauges beside it, and not while only gauges move", () => {
    vi.useFakeTimers();
    const counters = new Counters();
    let memory = 0;
    counters.gauge("dhcplab_relay_memory_bytes", "memory", () => {
      memory += 4096;
      return [[{ kind: "rss" }, memory]];
    });
    const lines: unknown[] = [];
    const log = { info: (o: unknown) => lines.push(o) } as unknown as Logger;
    const stop = logSummaries(counters, log, 1000);
    vi.advanceTimersByTime(5000);
    expect(lines).toEqual([]);
    counters.evicted(4, "expired");
    vi.advanceTimersByTime(1000);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      counters: {
        dhcplab_relay_inflight_evictions_total: { 'family="4",why="expired"': 1 },
        dhcplab_relay_memory_bytes: { 'kind="rss"': expect.any(Number) },
      },
    });
    vi.advanceTimersByTime(3000);
    expect(lines).toHaveLength(1);
    stop();
  });
});
