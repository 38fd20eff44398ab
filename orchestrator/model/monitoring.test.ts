import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { poolSlots } from "../spec/build.ts";
import { prometheusConfig } from "./monitoring.ts";
import { planLab } from "./plan.ts";
import { loadTopology } from "./topology.ts";

describe("Prometheus's configuration", () => {
  it("scrapes the relay on the first backend and each Kea's exporter at its address, named by VRF and server", async () => {
    const t0 = await loadTopology();
    const plan = planLab("x", t0, poolSlots(t0, 5));
    const config = parse(prometheusConfig(plan)) as {
      scrape_configs: {
        job_name: string;
        honor_labels?: boolean;
        static_configs: { targets: string[]; labels: Record<string, string> }[];
      }[];
    };
    expect(
      config.scrape_configs.map((j) => [j.job_name, j.static_configs.map((s) => [s.targets, s.labels])]),
    ).toEqual([
      ["relay", [[["10.213.6.2:9100"], { lab: "x" }]]],
      [
        "kea",
        [
          [["10.213.6.10:9547"], { lab: "x", vrf: "RED", server: "kea-red" }],
          [["10.213.7.10:9547"], { lab: "x", vrf: "BLUE", server: "kea-blue" }],
        ],
      ],
    ]);
    expect(config.scrape_configs[1]?.honor_labels).toBe(true);
  });
});
