import type { Logger } from "pino";
import type { Counters } from "./counters.ts";
import type { Link, Transport } from "./links.ts";
import { RateLimitedLog } from "./rate-limited-log.ts";

/** What a relayed datagram is, for its counter. */
export interface Relayed {
  vrf: string;
  type: string;
  direction: "to-server" | "to-client";
}

/**
 * Sends through a transport and counts the outcome: a datagram is counted as relayed once it has
 * left, and a failed send as the drop `send-failed` with a rate-limited warning, never both.
 */
export class CountedSender {
  private readonly failures: RateLimitedLog;

  constructor(
    private readonly family: 4 | 6,
    private readonly transport: Transport,
    private readonly counters: Counters,
    log: Logger,
    now?: () => number,
  ) {
    this.failures = new RateLimitedLog(log, 1000, now);
  }

  send(bytes: Uint8Array, port: number, address: string, via: Link, what: Relayed): void {
    this.transport.send(bytes, port, address, via, (err) => {
      if (!err) {
        this.counters.message(this.family, what.vrf, what.type, what.direction);
        return;
      }
      this.counters.drop(this.family, "send-failed");
      this.failures.warn({ family: this.family, to: address, port, error: err.message }, "send failed");
    });
  }
}
