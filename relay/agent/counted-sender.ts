import type { Logger } from "pino";
import type { Counters } from "./counters.ts";
import type { Link, OnLink, Relayed, SendOutcome, Transport } from "./links.ts";
import { RateLimitedLog } from "./rate-limited-log.ts";

export type { Relayed } from "./links.ts";

/**
 * Sends through a transport and counts the outcome: a datagram is counted as relayed once it has
 * left, and a failed send as the drop `send-failed` with a rate-limited warning, never both.
 */
export class CountedSender implements SendOutcome {
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
    this.transport.send(bytes, port, address, via, what, this);
  }

  /** A reply framed by the relay itself (`Transport.sendOnLink`): false when the transport cannot. */
  sendOnLink(bytes: Uint8Array, port: number, frame: OnLink, via: Link, what: Relayed): boolean {
    return this.transport.sendOnLink?.(bytes, port, frame, via, what, this) ?? false;
  }

  sent(what: Relayed): void {
    this.counters.message(this.family, what.vrf, what.type, what.direction);
  }

  failed(_what: Relayed, error: string, address: string, port: number): void {
    this.counters.drop(this.family, "send-failed");
    this.failures.warn({ family: this.family, to: address, port, error }, "send failed");
  }
}
