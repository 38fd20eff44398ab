import { familyHeader, labelText, type MetricType, sampleLine } from "../metrics/exposition.ts";

// Kea's statistics (statistic-get-all, Kea ARM "Statistics") as dhcplab reads them, and as
// Prometheus metrics (the text exposition format, version 0.0.4). Pure: no I/O.

/** One statistic's latest value: its name without the subnet and pool scope, and that scope. */
export interface KeaStatistic {
  /** The statistic's own name: pkt4-received, assigned-addresses, ... */
  name: string;
  value: number;
  /** The subnet's id, for subnet[ID].NAME and deeper. */
  subnet?: number;
  /** The address pool's index, for subnet[ID].pool[N].NAME. */
  pool?: number;
  /** The prefix delegation pool's index, for subnet[ID].pd-pool[N].NAME. */
  pdPool?: number;
  /** When Kea last changed it, as Kea writes it ("2026-12-04 18:46:52.784155"). */
  at?: string;
}

/** statistic-get-all's arguments: each statistic's samples, newest first, as [value, timestamp]. */
export type KeaStatisticsAnswer = Record<string, [number, string][]>;

const SCOPED = /^subnet\[(\d+)\]\.(?:(pool|pd-pool)\[(\d+)\]\.)?(.+)$/;

/** The latest value of every statistic in statistic-get-all's arguments, in Kea's order. */
export function parseStatistics(answer: KeaStatisticsAnswer): KeaStatistic[] {
  return Object.entries(answer).flatMap(([full, samples]) => {
    const latest = samples[0];
    if (!latest || typeof latest[0] !== "number") return [];
    const m = SCOPED.exec(full);
    const scope = m
      ? {
          subnet: Number(m[1]),
          ...(m[2] === "pool" ? { pool: Number(m[3]) } : m[2] === "pd-pool" ? { pdPool: Number(m[3]) } : {}),
        }
      : {};
    return [{ name: m ? (m[4] as string) : full, value: latest[0], ...scope, at: latest[1] }];
  });
}

/** The statistic's name as Kea prints it: subnet[10].pool[0].assigned-addresses. */
export function statisticName(s: KeaStatistic): string {
  if (s.subnet === undefined) return s.name;
  const pool =
    s.pool !== undefined ? `pool[${s.pool}].` : s.pdPool !== undefined ? `pd-pool[${s.pdPool}].` : "";
  return `subnet[${s.subnet}].${pool}${s.name}`;
}

/**
 * Counters only grow (until statistic-reset): packets, allocation failures, cumulative and
 * reclaimed counts, reuses and conflicts. The others are gauges: assigned, total and declined
 * addresses, NAs and PDs, now.
 */
function isCounter(name: string): boolean {
  return /^(pkt[46]-|v[46]-allocation-fail|cumulative-|reclaimed-|v[46]-lease-reuses|v[46]-reservation-conflicts)/.test(
    name,
  );
}

/** The Prometheus metric of a statistic: kea_dhcp4_pkt4_received_total, kea_dhcp4_assigned_addresses. */
export function metricName(family: 4 | 6, name: string): string {
  const base = `kea_dhcp${family}_${name.replace(/[^A-Za-z0-9_]/g, "_")}`;
  return isCounter(name) ? `${base}_total` : base;
}

/** One server's statistics, with the labels that say whose they are (vrf, server). */
export interface ServerStatistics {
  family: 4 | 6;
  labels: Record<string, string>;
  statistics: KeaStatistic[];
}

/** Every server's statistics in the Prometheus text format: one HELP and TYPE per metric. */
export function prometheusText(servers: readonly ServerStatistics[]): string {
  const metrics = new Map<string, { type: MetricType; help: string; lines: string[] }>();
  for (const server of servers) {
    for (const s of server.statistics) {
      const metric = metricName(server.family, s.name);
      let m = metrics.get(metric);
      if (!m) {
        m = {
          type: isCounter(s.name) ? "counter" : "gauge",
          help: `Kea's statistic ${s.name} (kea-dhcp${server.family}, statistic-get-all)`,
          lines: [],
        };
        metrics.set(metric, m);
      }
      const labels: Record<string, string> = {
        ...server.labels,
        ...(s.subnet !== undefined ? { subnet: String(s.subnet) } : {}),
        ...(s.pool !== undefined ? { pool: String(s.pool) } : {}),
        ...(s.pdPool !== undefined ? { pd_pool: String(s.pdPool) } : {}),
      };
      m.lines.push(sampleLine(metric, labelText(labels), s.value));
    }
  }
  return [...metrics]
    .map(([name, m]) => `${[...familyHeader(name, m.type, m.help), ...m.lines].join("\n")}\n`)
    .join("");
}

/** One perfmon duration: a stage of one kind of exchange over one interval (Kea's perfmon hook). */
export interface KeaDuration {
  query: string;
  response: string;
  /** From which event to which: buffer_read-mt_queued, ..., composite-total_response. */
  stage: string;
  /** 0: every subnet together. */
  subnet: number;
  intervalStart: string;
  occurrences: number;
  minUs: number;
  maxUs: number;
  meanUs: number;
}

/**
 * perfmon-get-all-durations' result set (result-set-format), read by position: Kea 3.0.4 names
 * its last two columns as one ("total-duration-usecsmean-duration-usecs") yet sends both values.
 */
export function parseDurations(answer: { "durations-result-set"?: { rows?: unknown[][] } }): KeaDuration[] {
  return (answer["durations-result-set"]?.rows ?? []).flatMap((row) => {
    const [query, response, start, end, subnet, intervalStart, occurrences, min, max, , mean] = row;
    if (typeof query !== "string" || typeof mean !== "number") return [];
    return [
      {
        query,
        response: String(response),
        stage: `${start}-${end}`,
        subnet: Number(subnet),
        intervalStart: String(intervalStart),
        occurrences: Number(occurrences),
        minUs: Number(min),
        maxUs: Number(max),
        meanUs: mean,
      },
    ];
  });
}
