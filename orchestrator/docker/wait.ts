import { setTimeout as sleep } from "node:timers/promises";

// One idiom for every "until ready" of the lab: a condition polled until it holds, fails for
// good, or a deadline passes; the error says what was awaited and what was last seen.

/** What one poll found: done, not yet (with what was seen), or a failure that no waiting mends. */
export type Poll<T> = { done: true; value: T } | { done: false; seen: string } | { failed: string };

/** Polls `check` every `intervalMs` until it is done; throws on a failure or at the deadline. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<Poll<T>>,
  o: { timeoutMs: number; intervalMs: number },
): Promise<T> {
  const deadline = Date.now() + o.timeoutMs;
  for (;;) {
    const poll = await check();
    if ("failed" in poll) throw new Error(`${what}: ${poll.failed}`);
    if (poll.done) return poll.value;
    if (Date.now() > deadline)
      throw new Error(`${what}: not after ${Math.round(o.timeoutMs / 1000)} s (${poll.seen})`);
    await sleep(o.intervalMs);
  }
}
