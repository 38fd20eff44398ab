import type { LoadSample } from "../model/load-report.ts";

/**
 * Samples `read` once a second from now until `stop()`, each sample stamped with the seconds
 * since the start (a slow read delays the next, never overlaps it). `stop()` takes one last
 * sample, so the run's end is in the report, and returns them all.
 */
export function sampleEverySecond(read: () => Promise<Omit<LoadSample, "t">>): {
  stop(): Promise<LoadSample[]>;
} {
  const started = performance.now();
  const samples: LoadSample[] = [];
  let running = true;
  let wake: (() => void) | undefined;
  const take = async () => {
    const t = (performance.now() - started) / 1000;
    samples.push({ t: Math.round(t * 1000) / 1000, ...(await read()) });
  };
  const loop = (async () => {
    for (let n = 0; running; n++) {
      await take();
      // The next second of the run; a timer may fire a millisecond early, so wait until it is.
      const target = started + (n + 1) * 1000;
      while (running && performance.now() < target)
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.ceil(target - performance.now()));
        });
    }
  })();
  return {
    async stop() {
      running = false;
      wake?.();
      await loop;
      await take();
      return samples;
    },
  };
}
