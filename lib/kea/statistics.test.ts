import { describe, expect, it } from "vitest";
import { metricName, parseDurations, parseStatistics, prometheusText, statisticName } from "./statistics.ts";

// What Kea 3.0's statistic-get-all answered in the default lab (trimmed: two samples kept).
const ANSWER = {
  "pkt4-received": [
    [204, "2026-12-04 18:46:54.661671"],
    [203, "2026-12-04 18:46:54.645081"],
  ],
  "subnet[10].assigned-addresses": [[5, "2026-12-04 18:46:52.784155"]],
  "subnet[10].pool[0].total-addresses": [[241, "2026-12-04 18:46:47.189344"]],
  "subnet[20].pd-pool[1].assigned-pds": [[2, "2026-12-04 18:46:47.189344"]],
  "v4-allocation-fail-classes": [[0, "2026-12-04 18:46:47.189344"]],
} as Record<string, [number, string][]>;

describe("Kea's statistics", () => {
  it("are read newest sample first, their subnet and pool scope apart from their name", () => {
    const stats = parseStatistics(ANSWER);
    expect(stats.map((s) => [statisticName(s), s.value])).toEqual([
      ["pkt4-received", 204],
      ["subnet[10].assigned-addresses", 5],
      ["subnet[10].pool[0].total-addresses", 241],
      ["subnet[20].pd-pool[1].assigned-pds", 2],
      ["v4-allocation-fail-classes", 0],
    ]);
    expect(stats[2]).toMatchObject({ name: "total-addresses", subnet: 10, pool: 0 });
  });

  it("become Prometheus metrics: counters for packets and failures, gauges for addresses, scope as labels", () => {
    expect(metricName(4, "pkt4-received")).toBe("kea_dhcp4_pkt4_received_total");
    expect(metricName(6, "assigned-nas")).toBe("kea_dhcp6_assigned_nas");
    const text = prometheusText([
      { family: 4, labels: { vrf: "RED", server: "kea-red" }, statistics: parseStatistics(ANSWER) },
      { family: 4, labels: { vrf: "BLUE", server: "kea-blue" }, statistics: parseStatistics(ANSWER) },
    ]);
    expect(text).toContain("# TYPE kea_dhcp4_pkt4_received_total counter\n");
    expect(text).toContain('kea_dhcp4_pkt4_received_total{vrf="RED",server="kea-red"} 204\n');
    expect(text).toContain('kea_dhcp4_pkt4_received_total{vrf="BLUE",server="kea-blue"} 204\n');
    expect(text).toContain("# TYPE kea_dhcp4_total_addresses gauge\n");
    expect(text).toContain(
      'kea_dhcp4_total_addresses{vrf="RED",server="kea-red",subnet="10",pool="0"} 241\n',
    );
    expect(text).toContain('kea_dhcp4_assigned_pds{vrf="RED",server="kea-red",subnet="20",pd_pool="1"} 2\n');
    // One HELP and TYPE per metric, whatever the number of servers.
    expect(text.match(/# TYPE kea_dhcp4_pkt4_received_total /g)).toHaveLength(1);
  });
});

describe("Kea's perfmon durations", () => {
  it("are read by position: Kea 3.0.4 names two columns as one but sends both values", () => {
    const answer = {
      "durations-result-set": {
        columns: [
          "query-type",
          "response-type",
          "start-event",
          "end-event",
          "subnet-id",
          "interval-start",
          "occurences",
          "min-duration-usecs",
          "max-duration-usecs",
          "total-duration-usecsmean-duration-usecs",
        ],
        rows: [
          [
            "DHCPDISCOVER",
            "DHCPOFFER",
            "composite",
            "total_response",
            0,
            "2026-12-04 19:01:18.282194",
            51,
            555,
            2279,
            44304,
            868,
          ],
        ],
      },
    };
    expect(parseDurations(answer)).toEqual([
      {
        query: "DHCPDISCOVER",
        response: "DHCPOFFER",
        stage: "composite-total_response",
        subnet: 0,
        intervalStart: "2026-12-04 19:01:18.282194",
        occurrences: 51,
        minUs: 555,
        maxUs: 2279,
        meanUs: 868,
      },
    ]);
    expect(parseDurations({})).toEqual([]);
  });
});
