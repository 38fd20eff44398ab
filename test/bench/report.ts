import { parse, View } from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { PathName, Report } from "./relays.ts";

const fmt = (x: number | undefined, digits = 1) =>
  x === undefined || Number.isNaN(x) ? "–" : x.toFixed(digits);

/** The report as Markdown: the ratios that matter, then every median. */
export function renderMarkdown(r: Report): string {
  const lines = [
    `### Relay benchmark, ${r.date}`,
    "",
    `Machine: ${r.machine}. perfdhcp with ${r.clients} clients, ${r.seconds} s per run, medians of ${r.repeats} runs, paths alternated (A B C A B C) in one lab.`,
    "",
    "| family | highest rate < 2.5 % drops: direct / dhcplab / isc-dhcp-relay | dhcplab / direct | dhcplab's added avg delay at half its ceiling | dhcplab's CPU per exchange / isc-dhcp-relay's |",
    "| --- | --- | --- | --- | --- |",
    ...r.ratios.map(
      (x) =>
        `| DHCPv${x.family} | ${fmt(x.ceiling.direct, 0)} / ${fmt(x.ceiling.dhcplab, 0)} / ${fmt(x.ceiling["isc-dhcp-relay"], 0)} /s | ${fmt(x.ceilingVsDirect, 2)} | ${fmt(x.addedDelayMs, 2)} ms | ${fmt(x.cpuVsIsc, 2)} |`,
    ),
    "",
    "| family | path | offered /s | achieved /s | drops % | avg delay ms | max delay ms | CPU µs / exchange | peak memory MiB |",
    "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ...r.rows.map(
      (x) =>
        `| v${x.family} | ${x.path} | ${x.rate} | ${fmt(x.achievedRate, 0)} | ${fmt(x.dropPercent, 2)} | ${fmt(x.avgDelayMs, 2)} | ${fmt(x.maxDelayMs, 1)} | ${fmt(x.cpuMicrosPerExchange)} | ${fmt(x.peakMemoryMiB)} |`,
    ),
    "",
    "Delays are the sums of perfdhcp's per-exchange averages (DISCOVER-OFFER + REQUEST-ACK, SOLICIT-ADVERTISE + REQUEST-REPLY); perfdhcp prints no percentiles. CPU is the relay container's cgroup CPU time (user and kernel, less what it spends idle) over completed exchanges; isc-dhcp-relay's DHCPv4 replies are routed back to perfdhcp by its container's kernel (perfdhcp sends as a relay, so isc-dhcp-relay forwards its requests per RFC 3046), which its CPU figure does not include.",
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
        { width: 320, height: 200, ...layer("avgDelayMs", "avg delay (ms)") },
        { width: 320, height: 200, ...layer("dropPercent", "drops (%)") },
      ],
    },
  } as unknown as TopLevelSpec;
  const view = new View(parse(compile(spec).spec), { renderer: "none" });
  return view.toSVG();
}
