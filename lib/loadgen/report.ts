import type { ExchangeFigures } from "./latency.ts";

// What the DHCPv4 load generator (loadgen/) prints when a run ends: the contract between it, in
// the relay's image, and the orchestrator that reads its last line.

/** What a DORA run did, in the shape perfdhcp's report has in the lab, with percentiles. */
export interface DoraReport {
  /** Completed exchanges (ACKs) per second of the run. */
  rate: number;
  /** Replies that did not decode. */
  malformed: number;
  /** Replies that matched no exchange in flight (late, duplicate, another client's). */
  orphans: number;
  naks: number;
  /** Requests the socket refused to send (counted as sent and then dropped). */
  sendFailures?: number;
  exchanges: ExchangeFigures[];
}
