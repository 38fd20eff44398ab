import { describe, expect, it } from "vitest";
import { completed, parsePerfdhcp } from "./perfdhcp.ts";

// Trimmed output of `perfdhcp -4 -r 50 -n 100 -R 100 10.213.7.2` against Kea 2.6.3.
const OUTPUT = `Running: perfdhcp -4 -r 50 -n 100 -R 100 -b mac=00:aa:01:00:00:00 10.213.7.2
Scenario: basic.
***Rate statistics***
Rate: 49.4803 4-way exchanges/second, expected rate: 50

***Malformed Packets***
Malformed packets: 0
***Statistics for: DISCOVER-OFFER***
sent packets: 100
received packets: 99
drops: 1
drops ratio: 1 %
orphans: 0
rejected leases: 0
non unique addresses: 0

min delay: 0.639 ms
avg delay: 1.029 ms
max delay: 4.370 ms
std deviation: 0.466 ms
collected packets: 0

***Statistics for: REQUEST-ACK***
sent packets: 99
received packets: 98
drops: 1
drops ratio: 0.000 %
orphans: 2
rejected leases: 0
non unique addresses: 0

min delay: 0.332 ms
avg delay: 0.825 ms
max delay: 4.195 ms
`;

describe("parsePerfdhcp", () => {
  it("reads the rate and every exchange's figures", () => {
    const report = parsePerfdhcp(OUTPUT);
    expect(report.rate).toBeCloseTo(49.4803);
    expect(report.malformed).toBe(0);
    expect(report.exchanges.map((e) => e.exchange)).toEqual(["DISCOVER-OFFER", "REQUEST-ACK"]);
    expect(report.exchanges[0]).toMatchObject({ sent: 100, received: 99, drops: 1, avgDelayMs: 1.029 });
    expect(report.exchanges[1]).toMatchObject({ sent: 99, received: 98, orphans: 2, maxDelayMs: 4.195 });
    expect(completed(report)).toBe(98);
  });

  it("takes percentiles of every exchange from the timestamps `-x t` prints", () => {
    // The shape of perfdhcp 2.6.3's `-x t` output (seconds.microseconds since the start).
    const stamps = (name: string, delaysUs: number[]) =>
      [
        `***Timestamps for packets: ${name}***`,
        ...delaysUs.map(
          (d, i) =>
            `sent / received: 000000.${String(i * 1000).padStart(6, "0")} / 000000.${String(i * 1000 + d).padStart(6, "0")}`,
        ),
      ].join("\n");
    const ten = [1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 9000];
    const report = parsePerfdhcp(
      `${OUTPUT}\n${stamps("DISCOVER-OFFER", ten)}\n${stamps("REQUEST-ACK", [500])}`,
    );
    expect(report.exchanges[0]).toMatchObject({ p50Ms: 1.4, p90Ms: 1.8, p99Ms: 9 });
    expect(report.exchanges[1]).toMatchObject({ p50Ms: 0.5, p99Ms: 0.5 });
    // Without `-x t` there are no percentiles, rather than made-up ones.
    expect(parsePerfdhcp(OUTPUT).exchanges[0]?.p50Ms).toBeUndefined();
  });

  it("refuses output without statistics, quoting it", () => {
    expect(() => parsePerfdhcp("perfdhcp: unable to open socket")).toThrow(
      /no statistics.*unable to open socket/s,
    );
  });
});
