import type { TopLevelSpec } from "vega-lite";
import type { KeaDuration } from "../../lib/kea/statistics.ts";
import type { PerfdhcpReport } from "./perfdhcp.ts";

// A load run's report: what Kea and the relay counted once a second while it ran, and what the
// load generator measured; as JSON (report.json) and as a page of charts (report.html) drawn by
// Vega-Lite into inline SVG, so the page needs no script and no network to open.

/** One Kea server's statistics at one moment: Kea's full names (subnet[10].assigned-addresses) to values. */
export interface KeaSample {
  vrf: string;
  server: string;
  family: 4 | 6;
  values: Record<string, number>;
  /** Kea's perfmon hook's last intervals, every subnet together (absent without the hook). */
  durations?: KeaDuration[];
}

/** What was read at one second of the run. */
export interface LoadSample {
  /** Seconds since the load started. */
  t: number;
  kea: KeaSample[];
  /** The relay's counters: metric, then label text (`family="4",reason="malformed"`), then value. */
  relay: Record<string, Record<string, number>>;
}

/** A load run with its samples. */
export interface LoadReport {
  version: 1;
  lab: string;
  startedAt: string;
  load: { family: 4 | 6; engine: string; clients: number; rate: number; seconds: number; mac: string };
  samples: LoadSample[];
  result: { exitCode: number; command: string[]; report: PerfdhcpReport };
}

type Row = Record<string, string | number>;

/** A label text's labels: `family="4",vrf="RED"` to { family: "4", vrf: "RED" }. */
function labelsOf(text: string): Record<string, string> {
  return Object.fromEntries([...text.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}

/** Per second between consecutive samples: (b - a) / dt. */
function perSecond(
  samples: readonly LoadSample[],
  value: (s: LoadSample) => number,
): { t: number; rate: number }[] {
  return samples.slice(1).map((b, i) => {
    const a = samples[i] as LoadSample;
    return { t: b.t, rate: (value(b) - value(a)) / Math.max(b.t - a.t, 0.001) };
  });
}

const relaySum = (s: LoadSample, metric: string, match: Record<string, string>) =>
  Object.entries(s.relay[metric] ?? {})
    .filter(([k]) => Object.entries(match).every(([n, v]) => labelsOf(k)[n] === v))
    .reduce((n, [, v]) => n + v, 0);

const keaValue = (s: Pick<LoadSample, "kea">, vrf: string, family: number, name: string) =>
  s.kea.filter((k) => k.vrf === vrf && k.family === family).reduce((n, k) => n + (k.values[name] ?? 0), 0);

/** The servers' replies that complete an exchange: ACK (DHCPv4), REPLY (DHCPv6). */
const completed = (family: number) => (family === 4 ? "pkt4-ack-sent" : "pkt6-reply-sent");

/**
 * Offered (exchanges begun: the DISCOVERs or SOLICITs the relay sent on) and achieved (exchanges
 * completed: Kea's ACKs or REPLYs) per second, per VRF.
 */
export function rateRows(r: LoadReport): Row[] {
  const f = r.load.family;
  const vrfs = [...new Set(r.samples.flatMap((s) => s.kea.filter((k) => k.family === f).map((k) => k.vrf)))];
  const begins = f === 4 ? "DISCOVER" : "SOLICIT";
  return [
    ...perSecond(r.samples, (s) =>
      relaySum(s, "dhcplab_relay_messages_total", {
        family: String(f),
        type: begins,
        direction: "to-server",
      }),
    ).map((p) => ({ t: p.t, rate: p.rate, series: `offered: ${begins}s relayed` })),
    ...vrfs.flatMap((v) =>
      perSecond(r.samples, (s) => keaValue(s, v, f, completed(f))).map((p) => ({
        t: p.t,
        rate: p.rate,
        series: `achieved: Kea ${v}'s ${f === 4 ? "ACKs" : "REPLYs"}`,
      })),
    ),
  ];
}

/** Each subnet's assigned share of its addresses (DHCPv6: NAs), per sample and server. */
export function poolRows(r: LoadReport): Row[] {
  return r.samples.flatMap((s) =>
    s.kea
      .filter((k) => k.family === r.load.family)
      .flatMap((k) =>
        Object.entries(k.values).flatMap(([name, assigned]) => {
          const m = /^subnet\[(\d+)\]\.assigned-(addresses|nas)$/.exec(name);
          const total = m ? k.values[`subnet[${m[1]}].total-${m[2]}`] : undefined;
          return m && total
            ? [
                {
                  t: s.t,
                  percent: (100 * assigned) / total,
                  subnet: `${k.vrf} subnet ${m[1]} (v${k.family})`,
                },
              ]
            : [];
        }),
      ),
  );
}

/** Drops per second: the relay's by reason, and Kea's receive drops per VRF. */
export function dropRows(r: LoadReport): Row[] {
  const reasons = [
    ...new Set(
      r.samples.flatMap((s) =>
        Object.keys(s.relay.dhcplab_relay_drops_total ?? {}).map((k) => labelsOf(k).reason ?? ""),
      ),
    ),
  ];
  const vrfs = [...new Set(r.samples.flatMap((s) => s.kea.map((k) => `${k.vrf}/${k.family}`)))];
  return [
    ...reasons.flatMap((reason) =>
      perSecond(r.samples, (s) => relaySum(s, "dhcplab_relay_drops_total", { reason })).map((p) => ({
        t: p.t,
        rate: p.rate,
        reason: `relay: ${reason}`,
      })),
    ),
    ...vrfs.flatMap((vf) => {
      const [vrf = "", family = "4"] = vf.split("/");
      return perSecond(r.samples, (s) => keaValue(s, vrf, Number(family), `pkt${family}-receive-drop`)).map(
        (p) => ({
          t: p.t,
          rate: p.rate,
          reason: `Kea ${vrf} v${family}: receive-drop`,
        }),
      );
    }),
  ];
}

/**
 * What Kea answers each kind of client request with (RFC 2131 §4.3, RFC 8415 §18.3): a request it
 * counted as received but did not answer was refused: dropped by a hook (the limits hook's rate
 * limit drops silently, counting nothing of its own in Kea 3.0.4), or left without an address.
 * Rapid Commit (a SOLICIT answered by REPLY) is not counted apart.
 */
const ANSWERS: Record<4 | 6, { requests: string[]; answers: string[] }[]> = {
  4: [
    { requests: ["DISCOVER"], answers: ["OFFER"] },
    { requests: ["REQUEST", "INFORM"], answers: ["ACK", "NAK"] },
  ],
  6: [
    { requests: ["SOLICIT"], answers: ["ADVERTISE"] },
    {
      requests: ["REQUEST", "RENEW", "REBIND", "RELEASE", "DECLINE", "INFORMATION-REQUEST"],
      answers: ["REPLY"],
    },
  ],
};

/** Kea counts a message the relay sent to it as received, one it sent to a client as sent. */
const KEA_SIDE: Record<string, string> = { "to-server": "received", "to-client": "sent" };

/** Kea's statistic of a message type one way: NAK to-client is pkt4-nak-sent. */
export function keaStatisticOf(family: 4 | 6, type: string, direction: string): string {
  // Kea's one abbreviation: INFORMATION-REQUEST is "infrequest".
  const name = type === "INFORMATION-REQUEST" ? "infrequest" : type.toLowerCase().replace(/_/g, "-");
  return `pkt${family}-${name}-${KEA_SIDE[direction] ?? direction}`;
}

/** A message type over a run: as the relay counted it and as Kea did. */
export interface MessageCount {
  vrf: string;
  /** The message type as the relay names it: DISCOVER, NAK, DECLINE, INFORM, INFORMATION-REQUEST, ... */
  type: string;
  direction: "to-server" | "to-client";
  /** Relayed over the run. */
  relay: number;
  /** Kea's matching statistic (pkt4-nak-sent, ...) and its change over the run; absent where Kea keeps none (CONFIRM). */
  kea?: { statistic: string; count: number };
}

/** The relay's messages between two samples, per VRF, type and direction, each beside Kea's count. */
export function messageCounts(
  first: Pick<LoadSample, "kea" | "relay">,
  last: Pick<LoadSample, "kea" | "relay">,
  family: 4 | 6,
): MessageCount[] {
  // Kea's counts move per server: a server that did not answer one of the two samples (killed,
  // frozen) is left out of both, not counted from zero.
  const both = last.kea.filter(
    (k) => k.family === family && first.kea.some((f) => f.server === k.server && f.family === family),
  );
  const keaDelta = (vrf: string, statistic: string) =>
    both
      .filter((k) => k.vrf === vrf && statistic in k.values)
      .reduce((n, k) => {
        const before = first.kea.find((f) => f.server === k.server && f.family === family);
        return n + (k.values[statistic] ?? 0) - (before?.values[statistic] ?? 0);
      }, 0);
  const counts: MessageCount[] = [];
  for (const [labels, value] of Object.entries(last.relay.dhcplab_relay_messages_total ?? {})) {
    const l = labelsOf(labels);
    if (l.family !== String(family) || !l.vrf || !l.type) continue;
    if (l.direction !== "to-server" && l.direction !== "to-client") continue;
    const statistic = keaStatisticOf(family, l.type, l.direction);
    const vrf = l.vrf;
    const kept = both.some((k) => k.vrf === vrf && statistic in k.values);
    counts.push({
      vrf,
      type: l.type,
      direction: l.direction,
      relay: value - (first.relay.dhcplab_relay_messages_total?.[labels] ?? 0),
      ...(kept ? { kea: { statistic, count: keaDelta(vrf, statistic) } } : {}),
    });
  }
  // Kea's answers that do not pass the relay's DHCP path (an INFORM's ACK goes to ciaddr,
  // routed): Kea's count beside none of the relay's.
  for (const vrf of new Set(counts.map((c) => c.vrf))) {
    for (const type of ANSWERS[family].flatMap((a) => a.answers)) {
      if (counts.some((c) => c.vrf === vrf && c.type === type && c.direction === "to-client")) continue;
      const statistic = keaStatisticOf(family, type, "to-client");
      if (both.some((k) => k.vrf === vrf && statistic in k.values))
        counts.push({
          vrf,
          type,
          direction: "to-client",
          relay: 0,
          kea: { statistic, count: keaDelta(vrf, statistic) },
        });
    }
  }
  return counts;
}

/** What moved over a run: messageCounts without the types that neither the relay nor Kea saw. */
export function messagesOfRun(
  first: Pick<LoadSample, "kea" | "relay">,
  last: Pick<LoadSample, "kea" | "relay">,
  family: 4 | 6,
): MessageCount[] {
  return messageCounts(first, last, family).filter((c) => c.relay > 0 || (c.kea?.count ?? 0) > 0);
}

/** Requests Kea received over a run beside its answers to them, per VRF: what it refused. */
export interface UnansweredCount {
  vrf: string;
  /** The request types, and how many of them Kea counted as received. */
  requests: string[];
  received: number;
  /** The answer types, and how many of them Kea counted as sent. */
  answers: string[];
  answered: number;
  /** received - answered, never below 0. */
  unanswered: number;
}

/** Per VRF and kind of request, Kea's count of the requests over a run and of its answers to them. */
export function unansweredByKea(messages: readonly MessageCount[], family: 4 | 6): UnansweredCount[] {
  const vrfs = [...new Set(messages.map((m) => m.vrf))].sort();
  const sum = (vrf: string, types: string[], direction: MessageCount["direction"]) =>
    messages
      .filter((m) => m.vrf === vrf && m.direction === direction && types.includes(m.type))
      .reduce((n, m) => n + (m.kea?.count ?? 0), 0);
  return vrfs.flatMap((vrf) =>
    ANSWERS[family]
      .map(({ requests, answers }) => {
        const received = sum(vrf, requests, "to-server");
        const answered = sum(vrf, answers, "to-client");
        return { vrf, requests, received, answers, answered, unanswered: Math.max(0, received - answered) };
      })
      .filter((u) => u.received > 0),
  );
}

/** The VRFs the load reached: those the relay sent requests of its family to during the run. */
export function loadVrfs(r: LoadReport): string[] {
  const first = r.samples[0]?.relay.dhcplab_relay_messages_total ?? {};
  const last = r.samples.at(-1)?.relay.dhcplab_relay_messages_total ?? {};
  const vrfs = Object.entries(last)
    .map(([k, v]) => ({ l: labelsOf(k), n: v - (first[k] ?? 0) }))
    .filter(({ l, n }) => n > 0 && l.family === String(r.load.family) && l.direction === "to-server")
    .map(({ l }) => l.vrf ?? "");
  return [...new Set(vrfs)].sort();
}

/** Messages over the run, as the relay counted them and as Kea did, per VRF, type and direction. */
export function messageRows(r: LoadReport): Row[] {
  const first = r.samples[0];
  const last = r.samples.at(-1);
  if (!first || !last) return [];
  return messageCounts(first, last, r.load.family).flatMap((c) => {
    const message = `${c.type} ${c.direction}`;
    return [
      { message, vrf: c.vrf, count: c.relay, by: "relay" },
      ...(c.kea ? [{ message, vrf: c.vrf, count: c.kea.count, by: "Kea" }] : []),
    ];
  });
}

/** A message type as perfmon names it, without its prefix: DHCPDISCOVER, DHCPV6_SOLICIT -> DISCOVER, SOLICIT. */
const short = (type: string) => type.replace(/^DHCP(V6_)?/, "");

/**
 * Kea's per-stage mean durations per one-second interval (perfmon), each interval once, for the
 * load's family, as seconds into the run (an interval's start, read against the samples' clock).
 */
export function durationRows(r: LoadReport): Row[] {
  const start = Date.parse(r.startedAt);
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const s of r.samples) {
    for (const k of s.kea.filter((k) => k.family === r.load.family)) {
      for (const d of k.durations ?? []) {
        const key = `${k.server}|${d.query}|${d.stage}|${d.intervalStart}`;
        if (seen.has(key) || d.occurrences === 0) continue;
        seen.add(key);
        // Kea writes its interval start in UTC without a zone: "2026-12-04 19:01:18.282186".
        const at = (Date.parse(`${d.intervalStart.replace(" ", "T")}Z`) - start) / 1000;
        // perfmon keeps each stage's last interval, also one from before the run.
        if (at < -1) continue;
        rows.push({
          t: Math.round(at * 10) / 10,
          us: d.meanUs,
          stage: `${k.vrf} ${short(d.query)}-${short(d.response)} ${d.stage}`,
        });
      }
    }
  }
  return rows;
}

/** The load generator's latency histogram per exchange. */
export function latencyRows(r: LoadReport): Row[] {
  return r.result.report.exchanges.flatMap((e) =>
    (e.delayHistogram ?? []).map((b) => ({
      exchange: e.exchange,
      upTo: b.upToMs === null ? "longer" : `≤ ${b.upToMs} ms`,
      order: b.upToMs ?? Number.POSITIVE_INFINITY,
      count: b.count,
    })),
  );
}

/** The report's charts as Vega-Lite specifications, each with its title. */
export function chartSpecs(r: LoadReport): { title: string; spec: TopLevelSpec }[] {
  const base = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    width: 640,
    height: 220,
    config: { legend: { labelLimit: 320 } },
  };
  const time = { field: "t", type: "quantitative", title: "seconds into the run" } as const;
  const spec = (s: Record<string, unknown>) => ({ ...base, ...s }) as unknown as TopLevelSpec;
  /** A line per `series` over the run's seconds. */
  const overTime = (values: Row[], y: Record<string, unknown>, series: string) =>
    spec({
      data: { values },
      mark: { type: "line", point: true },
      encoding: {
        x: time,
        y: { type: "quantitative", ...y },
        color: { field: series, type: "nominal", legend: { labelLimit: 400 } },
      },
    });
  const drops = dropRows(r);
  return [
    {
      title: `Offered and achieved rate over time (the load's target: ${r.load.rate} exchanges/s)`,
      spec: overTime(rateRows(r), { field: "rate", title: "per second" }, "series"),
    },
    {
      title: `Exchange latency, DHCPv${r.load.family} to ${loadVrfs(r).join(" and ") || "no VRF"} (the load generator's timestamps)`,
      spec: spec({
        data: { values: latencyRows(r) },
        mark: "bar",
        encoding: {
          x: { field: "upTo", type: "ordinal", sort: { field: "order" }, title: "delay" },
          y: { field: "count", type: "quantitative", title: "exchanges" },
          color: { field: "exchange", type: "nominal" },
          xOffset: { field: "exchange" },
        },
      }),
    },
    ...(durationRows(r).length > 0
      ? [
          {
            title: "Kea's per-stage durations (perfmon, mean per one-second interval)",
            spec: overTime(durationRows(r), { field: "us", title: "µs", scale: { type: "log" } }, "stage"),
          },
        ]
      : []),
    {
      title: "Pool utilisation over time",
      spec: overTime(poolRows(r), { field: "percent", title: "% of the subnet assigned" }, "subnet"),
    },
    {
      title: "Drops by reason over time",
      spec: overTime(
        drops,
        {
          field: "rate",
          title: "drops per second",
          // A run without drops still gets an axis from 0 to 1, not one tick at 0.
          scale: { domain: [0, Math.max(1, ...drops.map((d) => Number(d.rate)))] },
        },
        "reason",
      ),
    },
    {
      title: "Messages over the run: the relay's count and Kea's",
      spec: spec({
        data: { values: messageRows(r) },
        mark: "bar",
        encoding: {
          x: { field: "message", type: "nominal", title: null },
          y: { field: "count", type: "quantitative", title: "messages" },
          color: { field: "by", type: "nominal" },
          xOffset: { field: "by" },
          column: { field: "vrf", type: "nominal", title: null },
        },
      }),
    },
  ];
}

const html = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The report as one self-contained HTML page: a summary table, then each chart as inline SVG. */
export async function renderReportHtml(r: LoadReport): Promise<string> {
  // Loaded when a report is drawn, not with the library (and every command) that may draw one.
  const [{ parse, View }, { compile }] = await Promise.all([import("vega"), import("vega-lite")]);
  const charts: string[] = [];
  for (const c of chartSpecs(r)) {
    const view = new View(parse(compile(c.spec).spec), { renderer: "none" });
    charts.push(`<figure><figcaption>${html(c.title)}</figcaption>${await view.toSVG()}</figure>`);
    view.finalize();
  }
  const rows = r.result.report.exchanges
    .map(
      (e) =>
        `<tr><td>${html(e.exchange)}</td><td>${e.sent}</td><td>${e.received}</td><td>${e.drops}</td><td>${e.p50Ms ?? "–"}</td><td>${e.p90Ms ?? "–"}</td><td>${e.p99Ms ?? "–"}</td></tr>`,
    )
    .join("\n");
  const l = r.load;
  const [first, last] = [r.samples[0], r.samples.at(-1)];
  const refused = first && last ? unansweredByKea(messageCounts(first, last, l.family), l.family) : [];
  const refusedRows = refused
    .map(
      (u) =>
        `<tr><td>${html(u.vrf)}</td><td>${html(u.requests.join(", "))}</td><td>${u.received}</td><td>${html(u.answers.join(", "))}</td><td>${u.answered}</td><td>${u.unanswered}</td></tr>`,
    )
    .join("\n");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>dhcplab load report: ${html(r.lab)}</title>
<style>body{font-family:sans-serif;margin:2em;max-width:1100px}table{border-collapse:collapse}td,th{padding:2px 10px;text-align:right}th{border-bottom:1px solid #999}figure{margin:2em 0}figcaption{font-weight:bold;margin-bottom:.5em}</style>
</head><body>
<h1>Load report: lab ${html(r.lab)}</h1>
<p>${html(l.engine)}, DHCPv${l.family}, ${l.clients} clients from ${html(l.mac)} at ${l.rate}/s for ${l.seconds} s, started ${html(r.startedAt)}; ${r.samples.length} samples of Kea's statistics and the relay's counters, one a second.</p>
<p>The load reached ${html(loadVrfs(r).join(" and ") || "no VRF")} (DHCPv${l.family}).</p>
<table><thead><tr><th>exchange</th><th>sent</th><th>received</th><th>drops</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th></tr></thead>
<tbody>
${rows}
</tbody></table>
<h2>Requests Kea left unanswered</h2>
<p>Kea's count of each kind of request over the run beside its count of the answers: what it refused (a rate limit of the limits hook, no address to give).</p>
<table><thead><tr><th>VRF</th><th>requests</th><th>received</th><th>answers</th><th>sent</th><th>unanswered</th></tr></thead>
<tbody>
${refusedRows}
</tbody></table>
${charts.join("\n")}
</body></html>
`;
}
