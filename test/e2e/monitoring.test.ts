import { beforeAll, describe, expect, it } from "vitest";
import { metricName, statisticName } from "../../lib/kea/statistics.ts";
import type { Lab } from "../../orchestrator/api.ts";
import { useTestLab } from "../support/lab.ts";

// The default lab with monitoring: an exporter beside each Kea, Prometheus on its monitoring
// network and every backend, scraping the exporters and the relay. Prometheus is asked from the
// host at the URL the lab gives, as a user opens it.

/** A series' value in a Prometheus text exposition, by metric name and the label text it contains. */
function valueIn(text: string, metric: string, labels: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${metric}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

describe("monitoring: Kea's statistics and the relay's metrics in Prometheus", () => {
  const lab = useTestLab("monitoring", undefined, { monitoring: true });
  const api: Lab = lab;
  let prometheus: string;
  beforeAll(async () => {
    prometheus = (await api.status()).monitoring?.prometheus.url ?? "";
    // Leases in both VRFs, so that Kea's counters are not all zero.
    const clients = await Promise.all([
      api.client({ kind: "udhcpc", mac: "00:aa:01:00:0d:01" }),
      api.client({ kind: "udhcpc", mac: "00:aa:01:00:0d:02" }),
      api.client({ kind: "udhcpc", mac: "00:bb:01:00:0d:01" }),
    ]);
    for (const c of clients) if (!c.address) throw new Error(`no lease:\n${c.output}`);
  });
  const promQuery = async (query: string) => {
    const res = await fetch(`${prometheus}api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as {
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    return body.data.result;
  };

  it("each exporter's text is valid exposition format (promtool) and says what statistic-get-all says", async () => {
    const red = lab.spec.vrfs.find((v) => v.spec.name === "RED")?.keas[0];
    // Two RED leases now: Kea's counters start from zero again when it restarts.
    for (const mac of ["00:aa:01:00:0d:11", "00:aa:01:00:0d:12"]) {
      const c = await api.client({ kind: "udhcpc", mac });
      expect(c.address, c.output).toBeDefined();
    }
    const scrape = await lab.exec("prometheus", [
      "sh",
      "-c",
      `curl -fsS http://${red?.ipv4}:9547/metrics > /tmp/kea.prom && promtool check metrics < /tmp/kea.prom && cat /tmp/kea.prom`,
    ]);
    expect(scrape.exitCode, scrape.stderr).toBe(0);
    const [v4] = await api.statistics({ server: "kea-red" });
    expect(v4?.family).toBe(4);
    const acks = v4?.statistics.find((s) => s.name === "pkt4-ack-sent")?.value;
    expect(acks).toBeGreaterThanOrEqual(2);
    // Every DHCPv4 statistic of RED's Kea, counters and gauges, has its value in the exporter's text.
    for (const s of v4?.statistics ?? []) {
      const scope = [
        s.subnet !== undefined ? `subnet="${s.subnet}"` : "",
        s.pool !== undefined ? `pool="${s.pool}"` : "",
      ].filter(Boolean);
      const labels = ['vrf="RED"', 'server="kea-red"', ...scope].join(",");
      expect(valueIn(scrape.stdout, metricName(4, s.name), `${labels}}`), statisticName(s)).toBe(s.value);
    }
    expect(scrape.stdout).toContain('dhcplab_kea_up{vrf="RED",server="kea-red",family="6"} 1');
  });

  it("Prometheus, reached from the host, has every target up, Kea's counters as the lab shows them and the relay's processing-time histogram", async () => {
    expect(prometheus).toMatch(/^http:\/\/10\.213\.\d+\.\d+:9090\/$/);
    await expect
      .poll(
        async () => {
          const res = await fetch(`${prometheus}api/v1/targets`);
          const body = (await res.json()) as {
            data: { activeTargets: { labels: Record<string, string>; health: string }[] };
          };
          return body.data.activeTargets
            .map((t) => `${t.labels.job}/${t.labels.vrf ?? "-"}:${t.health}`)
            .sort();
        },
        { timeout: 20_000, interval: 500 },
      )
      .toEqual(["kea/BLUE:up", "kea/RED:up", "relay/-:up"]);
    const shown = (await api.statistics({ vrf: "RED" }))
      .find((r) => r.family === 4)
      ?.statistics.find((s) => s.name === "pkt4-ack-sent")?.value;
    await expect
      .poll(async () => (await promQuery('kea_dhcp4_pkt4_ack_sent_total{vrf="RED"}'))[0]?.value[1], {
        timeout: 20_000,
        interval: 500,
      })
      .toBe(String(shown));
    // Every datagram the relay handled is in its histogram: at least each client's four messages.
    const count = await promQuery('dhcplab_relay_processing_seconds_count{family="4"}');
    expect(Number(count[0]?.value[1])).toBeGreaterThanOrEqual(12);
    const p99 = await promQuery(
      'histogram_quantile(0.99, dhcplab_relay_processing_seconds_bucket{family="4"})',
    );
    expect(Number(p99[0]?.value[1])).toBeGreaterThan(0);
  });

  it("Prometheus through dhcplab forward's listener (the way from another host than the Engine's): the same answers", async () => {
    const forward = await api.forward("prometheus", 9090);
    try {
      // The tests run in random order: this one may come before Prometheus's first scrape, when
      // `up` has no series yet, so it asks until every target has been scraped once.
      const jobs = async () => {
        const res = await fetch(`http://127.0.0.1:${forward.port}/api/v1/query?query=up`);
        const body = (await res.json()) as {
          status: string;
          data: { result: { metric: { job: string } }[] };
        };
        expect(body.status).toBe("success");
        return body.data.result.map((r) => r.metric.job).sort();
      };
      await expect.poll(jobs, { timeout: 20_000, interval: 500 }).toEqual(["kea", "kea", "relay"]);
    } finally {
      await forward.close();
    }
  });

  it("a Kea stopped and started again is scraped again: its exporter follows it into its new namespace", async () => {
    await api.stop("kea-red");
    await api.start("kea-red");
    const health = async () =>
      (await api.status()).monitoring?.exporters.map((e) => `${e.vrf}:${e.health}`).sort();
    await expect.poll(health, { timeout: 30_000, interval: 500 }).toEqual(["BLUE:healthy", "RED:healthy"]);
    // Kea starts its statistics from zero: Prometheus sees RED's ACKs (two or more before) at 0
    // only through the exporter in the new namespace.
    await expect
      .poll(async () => (await promQuery('kea_dhcp4_pkt4_ack_sent_total{vrf="RED"}'))[0]?.value[1], {
        timeout: 30_000,
        interval: 500,
      })
      .toBe("0");
  });

  it("the alert rules pass promtool; a frozen Kea and a cut path fire their alerts, which clear once the fault is undone", async () => {
    const check = await lab.exec("prometheus", [
      "promtool",
      "check",
      "rules",
      "/etc/prometheus/dhcplab-rules.yml",
    ]);
    expect(check.exitCode, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toMatch(/SUCCESS: 5 rules found/);
    const firing = async (name: string) =>
      (await api.status()).alerts.filter((a) => a.name === name && a.state === "firing").map((a) => a.labels);
    // Nothing is wrong at first (the relay's drops of unmatched clients are no alert; a pool may
    // be full from another test of this file).
    await expect
      .poll(async () => (await api.status()).alerts.filter((a) => a.name !== "KeaPoolNearlyFull"), {
        timeout: 30_000,
        interval: 1000,
      })
      .toEqual([]);

    await api.pause("kea-blue");
    try {
      await expect
        .poll(() => firing("KeaNotAnswering"), { timeout: 40_000, interval: 1000 })
        .toEqual(expect.arrayContaining([expect.objectContaining({ vrf: "BLUE" })]));
    } finally {
      await api.unpause("kea-blue");
    }
    await expect.poll(() => firing("KeaNotAnswering"), { timeout: 40_000, interval: 1000 }).toEqual([]);

    // The relay's path to RED's Kea cut: what it cannot send is dropped, and RelayDropsRising fires.
    await api.disconnect("relay", "red", { from: "kea-red" });
    try {
      await api.client({ kind: "udhcpc", mac: "00:aa:01:00:0d:01" });
      await expect
        .poll(() => firing("RelayDropsRising"), { timeout: 40_000, interval: 1000 })
        .toEqual([expect.objectContaining({ family: "4", reason: "send-failed" })]);
    } finally {
      await api.connect("relay", "red", { from: "kea-red" });
    }
    // The increase over 30 s runs out: it clears.
    await expect.poll(() => firing("RelayDropsRising"), { timeout: 60_000, interval: 1000 }).toEqual([]);
  }, 200_000);

  it("a pool more than 80 % assigned fires KeaPoolNearlyFull for its subnet", async () => {
    // BLUE's pool has 241 addresses: 220 clients take more than 80 % of them.
    const r = await api.load({ mac: "00:bb:02:00:00:00", clients: 220, rate: 110, seconds: 3 });
    expect(r.report.exchanges[1]?.received ?? 0, r.output).toBeGreaterThan(200);
    await expect
      .poll(
        async () =>
          (await api.status()).alerts
            .filter((a) => a.name === "KeaPoolNearlyFull" && a.state === "firing")
            .map((a) => [a.labels.vrf, a.labels.subnet]),
        { timeout: 40_000, interval: 1000 },
      )
      .toEqual([["BLUE", "20"]]);
  });

  it("Prometheus, on every VRF's backend, forwards nothing between them", async () => {
    const r = await lab.exec("prometheus", [
      "cat",
      "/proc/sys/net/ipv4/ip_forward",
      "/proc/sys/net/ipv6/conf/all/forwarding",
    ]);
    expect(r.stdout.split("\n").filter(Boolean)).toEqual(["0", "0"]);
  });
});
