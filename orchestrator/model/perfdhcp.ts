import { type ExchangeFigures, percentiles } from "../../lib/loadgen/latency.ts";
/**
 * Figures of one exchange (DISCOVER-OFFER, REQUEST-ACK, SOLICIT-ADVERTISE, ...): what both load
 * generators report (counts, delays, percentiles; perfdhcp's from its `-x t` timestamps), and
 * what perfdhcp alone tells apart per exchange.
 */
export interface ExchangeStats extends ExchangeFigures {
  orphans: number;
  rejectedLeases: number;
  /** How many exchanges took up to each bound (ms; null: beyond the last), from perfdhcp's timestamps. */
  delayHistogram?: { upToMs: number | null; count: number }[];
}

/** The latency histogram's bounds in ms: log-spaced from 0.1 ms to 1 s. */
export const DELAY_BOUNDS_MS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] as const;

/** Delays (ms) counted into DELAY_BOUNDS_MS's buckets (not cumulative), the last for longer ones. */
export function delayHistogram(delays: readonly number[]): { upToMs: number | null; count: number }[] {
  const counts = new Array<number>(DELAY_BOUNDS_MS.length + 1).fill(0);
  for (const d of delays) {
    const i = DELAY_BOUNDS_MS.findIndex((b) => d <= b);
    const at = i < 0 ? DELAY_BOUNDS_MS.length : i;
    counts[at] = (counts[at] ?? 0) + 1;
  }
  return counts.map((count, i) => ({ upToMs: DELAY_BOUNDS_MS[i] ?? null, count }));
}

/** What one load run reported (perfdhcp's figures, or the clients engine's in the same shape). */
export interface PerfdhcpReport {
  /** Which load generator ran. */
  engine?: "perfdhcp" | "clients";
  /** Achieved rate in exchanges per second, where perfdhcp printed one. */
  rate?: number;
  malformed: number;
  /** Requests the load generator's socket refused to send (the clients engine counts them). */
  sendFailures?: number;
  exchanges: ExchangeStats[];
}

const FIELDS: Record<string, keyof Omit<ExchangeStats, "exchange" | "delayHistogram">> = {
  "sent packets": "sent",
  "received packets": "received",
  drops: "drops",
  orphans: "orphans",
  "rejected leases": "rejectedLeases",
  "min delay": "minDelayMs",
  "avg delay": "avgDelayMs",
  "max delay": "maxDelayMs",
};

/** Parses perfdhcp's final statistics; throws when the output holds none. */
export function parsePerfdhcp(output: string): PerfdhcpReport {
  const report: PerfdhcpReport = { malformed: 0, exchanges: [] };
  let current: ExchangeStats | undefined;
  /** Delays (ms) by exchange, from "sent / received" lines under "Timestamps for packets". */
  const delays = new Map<string, number[]>();
  let timed: number[] | undefined;
  for (const raw of output.split("\n")) {
    const line = raw.trim();
    const stamps = /^\*\*\*Timestamps for packets: (.+)\*\*\*$/.exec(line);
    if (stamps?.[1]) {
      timed = [];
      delays.set(stamps[1], timed);
      continue;
    }
    const pair = /^sent \/ received: ([\d.]+) \/ ([\d.]+)$/.exec(line);
    if (pair && timed) {
      timed.push((Number(pair[2]) - Number(pair[1])) * 1000);
      continue;
    }
    const section = /^\*\*\*Statistics for: (.+)\*\*\*$/.exec(line);
    if (section?.[1]) {
      current = {
        exchange: section[1],
        sent: 0,
        received: 0,
        drops: 0,
        orphans: 0,
        rejectedLeases: 0,
        minDelayMs: 0,
        avgDelayMs: 0,
        maxDelayMs: 0,
      };
      report.exchanges.push(current);
      continue;
    }
    const rate = /^Rate: ([\d.]+)/.exec(line);
    if (rate?.[1]) report.rate = Number(rate[1]);
    const malformed = /^Malformed packets: (\d+)/.exec(line);
    if (malformed?.[1]) report.malformed = Number(malformed[1]);
    const field = /^([a-z ]+): ([\d.]+)/.exec(line);
    const key = field?.[1] ? FIELDS[field[1]] : undefined;
    if (current && key && field?.[2]) current[key] = Number(field[2]);
  }
  if (report.exchanges.length === 0)
    throw new Error(`perfdhcp printed no statistics:\n${output.slice(-2000)}`);
  for (const e of report.exchanges) {
    const timedDelays = delays.get(e.exchange) ?? [];
    Object.assign(e, percentiles(timedDelays));
    if (timedDelays.length > 0) e.delayHistogram = delayHistogram(timedDelays);
  }
  return report;
}

/** Completed exchanges: what the last exchange of the scenario (ACK or REPLY) received. */
export function completed(report: PerfdhcpReport): number {
  return report.exchanges.at(-1)?.received ?? 0;
}
