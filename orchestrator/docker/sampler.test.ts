import { afterEach, describe, expect, it, vi } from "vitest";
import { sampleEverySecond } from "./sampler.ts";

describe("sampling once a second", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("takes sample n at second n, late after a slow read but never early, and one more at stop", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "performance"] });
    let reads = 0;
    const sampler = sampleEverySecond(async () => {
      reads++;
      // The third read (at 2 s) is slow: 1.5 s.
      if (reads === 3) await new Promise((r) => setTimeout(r, 1500));
      return { kea: [], relay: {} };
    });
    await vi.advanceTimersByTimeAsync(5200);
    const samples = await sampler.stop();
    // The read at 2 s ends at 3.5 s: the third second's sample is taken then.
    expect(samples.map((s) => s.t)).toEqual([0, 1, 2, 3.5, 4, 5, 5.2]);
  });
});
