import { createServer } from "node:http";
import { type KeaHttpEndpoint, keaHttpCommand } from "../lib/kea/http.ts";
import {
  type KeaStatisticsAnswer,
  parseStatistics,
  prometheusText,
  type ServerStatistics,
} from "../lib/kea/statistics.ts";
import { familyHeader, labelText, sampleLine } from "../lib/metrics/exposition.ts";

// dhcplab's Kea exporter: Kea's statistics as Prometheus metrics. It runs in the relay's image,
// in the network namespace of one Kea container (so it reaches Kea's control sockets on
// 127.0.0.1, where Kea takes commands), and asks each of that Kea's servers for
// statistic-get-all at every scrape: what Prometheus stores is what Kea says at that moment.
//   KEA_CONTROL             where each server takes commands: {"dhcp4":{"url":..,"service"?:..},"dhcp6":..}
//   DHCPLAB_EXPORTER_LABELS labels on every series: {"vrf":"RED","server":"kea-red"}
//   DHCPLAB_EXPORTER_PORT   the port of /metrics (default 9547)

/** What the exporter serves: from its environment, refused with the variable and the reason. */
interface Configuration {
  control: Partial<Record<"dhcp4" | "dhcp6", KeaHttpEndpoint>>;
  labels: Record<string, string>;
  port: number;
}

function configuration(): Configuration {
  const control = JSON.parse(process.env.KEA_CONTROL ?? "{}") as Configuration["control"];
  if (!control.dhcp4 && !control.dhcp6) throw new Error("KEA_CONTROL names no Kea server (dhcp4, dhcp6)");
  const labels = JSON.parse(process.env.DHCPLAB_EXPORTER_LABELS ?? "{}") as Record<string, string>;
  const port = Number(process.env.DHCPLAB_EXPORTER_PORT ?? "9547");
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`DHCPLAB_EXPORTER_PORT ${port}: not a port`);
  return { control, labels, port };
}

/** One server's statistic-get-all, within 3 s. */
async function statistics(endpoint: KeaHttpEndpoint): Promise<KeaStatisticsAnswer> {
  const answer = await keaHttpCommand<KeaStatisticsAnswer>(endpoint, "statistic-get-all");
  if (answer.result !== 0) throw new Error(answer.text ?? `result ${answer.result}`);
  return answer.arguments ?? {};
}

/** The exposition: every server's statistics, and whether each answered (dhcplab_kea_up). */
async function scrape(c: Configuration): Promise<string> {
  const servers: ServerStatistics[] = [];
  const up: string[] = [];
  for (const family of [4, 6] as const) {
    const endpoint = c.control[`dhcp${family}`];
    if (!endpoint) continue;
    const labels = labelText({ ...c.labels, family });
    try {
      servers.push({ family, labels: c.labels, statistics: parseStatistics(await statistics(endpoint)) });
      up.push(sampleLine("dhcplab_kea_up", labels, 1));
    } catch (err) {
      console.error(`kea-exporter: kea-dhcp${family} at ${endpoint.url}: ${(err as Error).message}`);
      up.push(sampleLine("dhcplab_kea_up", labels, 0));
    }
  }
  const head = familyHeader(
    "dhcplab_kea_up",
    "gauge",
    "Whether the Kea server answered statistic-get-all at this scrape.",
  );
  return `${[...head, ...up].join("\n")}\n${await haText(c)}${prometheusText(servers)}`;
}

type HaStatus = { "high-availability"?: { "ha-mode": string; "ha-servers": { local: { state: string } } }[] };

/**
 * An HA peer's state per family (status-get): dhcplab_kea_ha_normal is 1 in its mode's normal
 * state (hot-standby, load-balancing, passive-backup), 0 otherwise; nothing for a lone server.
 */
async function haText(c: Configuration): Promise<string> {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    const endpoint = c.control[`dhcp${family}`];
    if (!endpoint) continue;
    const answer = await keaHttpCommand<HaStatus>(endpoint, "status-get").catch(() => undefined);
    const ha = answer?.arguments?.["high-availability"]?.[0];
    if (!ha) continue;
    const state = ha["ha-servers"].local.state;
    const mode = ha["ha-mode"];
    lines.push(
      sampleLine(
        "dhcplab_kea_ha_normal",
        labelText({ ...c.labels, family, mode, state }),
        state === mode ? 1 : 0,
      ),
    );
  }
  if (lines.length === 0) return "";
  const head = familyHeader(
    "dhcplab_kea_ha_normal",
    "gauge",
    "Whether the HA peer is in its mode's normal state (status-get), with its mode and state.",
  );
  return `${[...head, ...lines].join("\n")}\n`;
}

function main(): void {
  const c = configuration();
  const server = createServer((req, res) => {
    if (req.method !== "GET" || req.url !== "/metrics") {
      res.writeHead(404).end("try /metrics\n");
      return;
    }
    scrape(c).then(
      (text) => res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(text),
      (err: Error) => res.writeHead(500).end(`${err.message}\n`),
    );
  });
  server.listen(c.port, () =>
    console.error(`kea-exporter: /metrics on port ${c.port} for ${JSON.stringify(c.labels)}`),
  );
  const stop = () => server.close(() => process.exit(0));
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}

main();
