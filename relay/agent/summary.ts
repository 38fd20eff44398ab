import type { Logger } from "pino";
import type { Counters } from "./counters.ts";

/**
 * Logs the counters at info every `everyMs` when a count changed (a packet handled, a reload), with
 * every gauge and histogram beside them; returns the function that stops it. Gauges and the stall
 * histograms change by themselves (the event loop is sampled every 10 ms, memory moves), so an idle
 * relay that compared them would log a summary every period.
 */
export function logSummaries(counters: Counters, log: Logger, everyMs = 10_000): () => void {
  let last = JSON.stringify(counters.counts());
  const timer = setInterval(() => {
    const text = JSON.stringify(counters.counts());
    if (text !== last) log.info({ counters: counters.toJSON() }, "summary");
    last = text;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
