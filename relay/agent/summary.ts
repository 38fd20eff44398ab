import type { Logger } from "pino";
import type { Counters } from "./counters.ts";

/** Logs the counters at info every `everyMs` when they changed; returns the function that stops it. */
export function logSummaries(counters: Counters, log: Logger, everyMs = 10_000): () => void {
  let last = JSON.stringify(counters.toJSON());
  const timer = setInterval(() => {
    const now = counters.toJSON();
    const text = JSON.stringify(now);
    if (text !== last) log.info({ counters: now }, "summary");
    last = text;
  }, everyMs);
  timer.unref();
  return () => clearInterval(timer);
}
