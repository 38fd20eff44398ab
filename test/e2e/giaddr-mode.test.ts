import { describe, expect, it } from "vitest";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { useTestLab } from "../support/lab.ts";

// Subnet selection by giaddr (BLUE) next to RFC 3527 Link Selection (RED), in one lab.

describe("a VRF in giaddr mode", () => {
  const lab = useTestLab("giaddr", async () => {
    const t = await loadTopology();
    return {
      ...t,
      vrfs: t.vrfs.map((v) => (v.name === "BLUE" ? { ...v, subnetSelection: "giaddr" as const } : v)),
    };
  });

  it("serves perfdhcp and a real client with giaddr = the link address and no Link Selection sub-option", async () => {
    const r = await lab.load({
      mac: "00:bb:01:00:00:00",
      family: 4,
      clients: 10,
      rate: 20,
      seconds: 2,
    });
    expect(completed(r.report)).toBeGreaterThan(20);
    const client = await lab.client({
      kind: "dhclient",
      family: 4,
      mac: "00:bb:02:00:00:01",
    });
    expect(client.address).toMatch(/^192\.168\.20\./);
    const blue = await lab.leases({ vrf: "BLUE", family: 4 });
    expect(blue.length).toBe(11);
    // Sub-option 5 (Link Selection, 192.168.20.1) would read 0504C0A81401 in what Kea stored.
    expect(blue.every((l) => !JSON.stringify(l.relayInfo).includes("0504C0A81401"))).toBe(true);
    // RED, in link-selection mode, still gets it.
    await lab.load({
      mac: "00:aa:01:00:00:00",
      family: 4,
      clients: 3,
      rate: 10,
      seconds: 1,
    });
    const red = await lab.leases({ vrf: "RED", family: 4 });
    expect(red.length).toBe(3);
    expect(red.every((l) => JSON.stringify(l.relayInfo).includes("0504C0A80A01"))).toBe(true);
  });
});
