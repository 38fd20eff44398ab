import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { PathName, Report } from "./relays.ts";

const fmt = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits);

/** The report as Markdown: the ratios that matter, then every median, then the soaks. */
export function renderMarkdown(r: Report): string {
  const v4 =
    r.v4Engine === "clients"
      ? "DHCPv4 from dhcplab's clients engine (clients as on the wire: broadcast from port 68, giaddr 0), so every relay runs its first-hop path"
      : "DHCPv4 from perfdhcp (itself a relay: dhcplab takes its packets over, isc-dhcp-relay forwards them)";
  const lines = [
    `### Relay benchmark, ${r.date}`,
    "",
    `Machine: ${r.machine}. ${v4}; DHCPv6 from perfdhcp (a client on the link). ${r.clients} clients, ${r.seconds} s per run, medians of ${r.repeats} runs, paths alternated in one lab (A B C A B C, each path once before any twice).`,
    "",
    "| family | highest rate < 2.5 % drops: direct / dhcplab / isc-dhcp-relay | dhcplab / direct | dhcplab / isc | added delay at half dhcplab's ceiling: p50 / p99 / avg | dhcplab's CPU per exchange / isc-dhcp-relay's |",
    "| --- | --- | --- | --- | --- | --- |",
    ...r.ratios.map(
      (x) =>
        `| DHCPv${x.family} | ${fmt(x.ceiling.direct, 0)} / ${fmt(x.ceiling.dhcplab, 0)} / ${fmt(x.ceiling["isc-dhcp-relay"], 0)} /s | ${fmt(x.ceilingVsDirect, 2)} | ${fmt(x.ceiling.dhcplab / x.ceiling["isc-dhcp-relay"], 2)} | ${fmt(x.addedP50Ms, 2)} / ${fmt(x.addedP99Ms, 2)} / ${fmt(x.addedDelayMs, 2)} ms at ${fmt(x.halfRate, 0)}/s | ${fmt(x.cpuVsIsc, 2)} |`,
    ),
    "",
    ...(r.ratios.some((x) => x.ceiling["node-floor"] !== undefined)
      ? [
          `node-floor (test/bench/floor-relay.mjs) is the least a relay on Node does per datagram, on dhcplab's own datapath: no policy, journal, metrics or trust rules. What it costs is the cost of running on Node; what dhcplab's relay costs beyond it is dhcplab's logic.${floorFlags(r.floorNodeFlags)}`,
          "",
          "| family | node-floor's ceiling /s | node-floor / isc | node-floor's CPU per exchange / isc-dhcp-relay's | dhcplab's CPU / node-floor's |",
          "| --- | --- | --- | --- | --- |",
          ...r.ratios.map(
            (x) =>
              `| DHCPv${x.family} | ${fmt(x.ceiling["node-floor"], 0)} | ${fmt((x.ceiling["node-floor"] ?? Number.NaN) / x.ceiling["isc-dhcp-relay"], 2)} | ${fmt(x.floorCpuVsIsc, 2)} | ${fmt(x.cpuVsFloor, 2)} |`,
          ),
          "",
        ]
      : []),
    ...(r.ceilings.length > 0
      ? [
          "Ceilings by bisection (the highest offered rate with drops under 2.5 %, to within the bench's precision, from the ladder's last passing and first failing rates; one run per step, paths alternated):",
          "",
          "| family | path | ceiling /s | lowest failing /s | steps (offered /s: drops %) |",
          "| --- | --- | --- | --- | --- |",
          ...r.ceilings.map(
            (c) =>
              `| v${c.family} | ${c.path} | ${c.rate} | ${c.failedAt ?? "none (at least the ladder's top)"} | ${c.steps.map(([rate, drops]) => `${rate}: ${drops.toFixed(2)}`).join(", ") || "–"} |`,
          ),
          "",
        ]
      : []),
    "| family | path | offered /s | achieved /s | drops % | p50 ms | p90 ms | p99 ms | avg ms | max ms | CPU µs / exchange | peak memory MiB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...r.rows.map(
      (x) =>
        `| v${x.family} | ${x.path} | ${x.rate} | ${fmt(x.achievedRate, 0)} | ${fmt(x.dropPercent, 2)} | ${fmt(x.p50Ms, 2)} | ${fmt(x.p90Ms, 2)} | ${fmt(x.p99Ms, 2)} | ${fmt(x.avgDelayMs, 2)} | ${fmt(x.maxDelayMs, 1)} | ${fmt(x.cpuMicrosPerExchange)} | ${fmt(x.peakMemoryMiB)} |`,
    ),
    "",
    "dhcplab's relay, in itself: how late its event loop ran (p99 of the median run, the worst run's longest) and its garbage collector's pauses (per run, the median; the longest in any run), from its own histograms (bucket bounds, so \"≤\"). A client's delay far above these is not the relay's.",
    "",
    "| family | offered /s | event loop p99 ms | event loop longest ms | GC pauses per run | GC ms per run | longest GC pause ms |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...r.rows
      .filter((x) => x.stalls)
      .map(
        (x) =>
          `| v${x.family} | ${x.rate} | ≤ ${fmt(x.stalls?.eventLoopP99Ms, 2)} | ≤ ${fmt(x.stalls?.eventLoopMaxMs, 1)} | ${fmt(x.stalls?.gcPauses, 0)} | ${fmt(x.stalls?.gcPauseMs, 1)} | ≤ ${fmt(x.stalls?.gcMaxMs, 1)} |`,
      ),
    "",
    ...(r.soaks.length > 0
      ? [
          "| family | relay | soak rate /s | seconds | achieved /s | drops % | resident memory MiB, first / last / max sample | of it anonymous MiB, first / last / max |",
          "| --- | --- | --- | --- | --- | --- | --- | --- |",
          ...r.soaks.map((k) => {
            const mib = k.rssMiB.map(([, m]) => m);
            const anon = (k.anonMiB ?? []).map(([, m]) => m);
            const anonCell =
              anon.length > 0 ? `${fmt(anon[0])} / ${fmt(anon.at(-1))} / ${fmt(Math.max(...anon))}` : "–";
            return `| v${k.family} | ${k.path} | ${k.rate} | ${k.seconds} | ${fmt(k.achievedRate, 0)} | ${fmt(k.dropPercent, 2)} | ${fmt(mib[0])} / ${fmt(mib.at(-1))} / ${fmt(Math.max(...mib))} | ${anonCell} |`;
          }),
          "",
        ]
      : []),
    "Delays are per exchange, the two halves summed (DISCOVER-OFFER + REQUEST-ACK, SOLICIT-ADVERTISE + REQUEST-REPLY): each half's percentile from every exchange's timestamps (the clients engine's own, perfdhcp's `-x t`), added. CPU is the relay container's cgroup CPU time (user and kernel, less what it spends idle) over completed exchanges. Resident memory is every process of the relay's container, from the host's process table every 5 s; anonymous memory is the processes' own (RssAnon in /proc: heaps, stacks, buffers), the rest being files' pages, most of them the shared libraries' code (libnode's, for a relay on Node).",
    "",
  ];
  return lines.join("\n");
}

/** Rate vs. delay and drops per path and family, as SVG, drawn by Vega-Lite. */
export async function renderChart(r: Report): Promise<string> {
  const values = r.rows.map((x) => ({ ...x, family: `DHCPv${x.family}`, path: x.path as PathName }));
  const layer = (field: string, title: string): Record<string, unknown> => ({
    mark: { type: "line", point: true },
    encoding: {
      x: { field: "rate", type: "quantitative", scale: { type: "log" }, title: "offered exchanges/s" },
      y: { field, type: "quantitative", title },
      color: { field: "path", type: "nominal" },
    },
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    data: { values },
    facet: { row: { field: "family", type: "nominal", title: null } },
    spec: {
      hconcat: [
        { width: 260, height: 200, ...layer("p50Ms", "p50 delay (ms)") },
        { width: 260, height: 200, ...layer("p99Ms", "p99 delay (ms)") },
        { width: 260, height: 200, ...layer("dropPercent", "drops (%)") },
      ],
    },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}

/** The sentence on node-floor's Node flags (none when the report does not record them). */
function floorFlags(flags: string[] | undefined): string {
  if (flags === undefined) return "";
  return flags.length > 0 ? ` It ran with \`${flags.join(" ")}\`.` : " It ran with Node's default flags.";
}
