import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { clientLines, keaSubnets, outcomeOf, poolHolding } from "./kea-log.ts";

// Lines that kea-dhcp4 and kea-dhcp6 2.6.3 and 3.0.4 wrote (the lab's images, debug level 50),
// for a relayed DHCPv4 client 00:aa:bb:cc:dd:01 and a DHCPv6 client with a DUID-LL.
const log = (version: string) =>
  readFileSync(join(import.meta.dirname, "../../test/fixtures/kea-log", `kea-${version}.txt`), "utf8");

describe("Kea's log, per client", () => {
  for (const version of ["2.6", "3.0"]) {
    it(`Kea ${version}: the DHCPv4 client's classes, subnet and lease`, () => {
      const lines = clientLines(log(version), { mac: "00:AA:BB:CC:DD:01" });
      expect(lines.every((l) => !l.text.includes("duid="))).toBe(true);
      expect(outcomeOf(lines)).toMatchObject({
        classes: ["ALL", "VENDOR_CLASS_labvendor", "lab-clients", "mac-01", "UNKNOWN"],
        matched: expect.arrayContaining(["lab-clients", "mac-01"]),
        selectedSubnetId: 7,
        address: "10.0.0.100",
        lease: "DHCP4_LEASE_ALLOC",
        lifetime: 600,
      });
      expect(lines[0]?.at).toMatch(/^2026-12-06 06:1\d:\d\d\.\d{3}$/);
    });

    it(`Kea ${version}: the DHCPv6 client's classes, subnet, address and delegated prefix`, () => {
      const lines = clientLines(log(version), { duids: ["00:03:00:01:00:aa:bb:cc:dd:61"] });
      expect(outcomeOf(lines)).toMatchObject({
        classes: ["ALL", "VENDOR_CLASS_labvendor", "lab-clients", "UNKNOWN"],
        selectedSubnetId: 9,
        address: "fd00::101",
        prefix: "fd00:ff:0:1::/64",
      });
    });
  }

  it("another client's lines are not this one's", () => {
    expect(clientLines(log("3.0"), { mac: "00:aa:bb:cc:dd:02" })).toEqual([]);
    expect(clientLines(log("3.0"), {})).toEqual([]);
  });
});

describe("Kea's subnets and pools", () => {
  const dhcp4 = {
    subnet4: [
      {
        id: 1,
        subnet: "192.168.10.0/24",
        pools: [{ pool: "192.168.10.10 - 192.168.10.99", "client-classes": ["VIDEO"] }],
      },
    ],
    "shared-networks": [
      {
        subnet4: [
          { id: 2, subnet: "192.168.11.0/24", pools: [{ pool: "192.168.11.0/25", "client-class": "DATA" }] },
        ],
      },
    ],
  };
  it("finds a subnet's pool holding an address, with the classes it admits (3.0 and 2.6 spellings)", () => {
    const [video, data] = keaSubnets(dhcp4, 4);
    expect(video && poolHolding(video, "192.168.10.23")).toEqual({
      pool: "192.168.10.10 - 192.168.10.99",
      classes: ["VIDEO"],
    });
    expect(video && poolHolding(video, "192.168.10.100")).toBeUndefined();
    expect(data && poolHolding(data, "192.168.11.7")).toEqual({ pool: "192.168.11.0/25", classes: ["DATA"] });
    expect(data && poolHolding(data, "192.168.11.200")).toBeUndefined();
  });
  it("DHCPv6: address pools by prefix, prefix pools by their delegated length", () => {
    const [s] = keaSubnets(
      {
        subnet6: [
          {
            id: 9,
            subnet: "fd00::/64",
            pools: [{ pool: "fd00::100/120" }],
            "pd-pools": [{ prefix: "fd00:ff::", "prefix-len": 48, "delegated-len": 64 }],
          },
        ],
      },
      6,
    );
    expect(s && poolHolding(s, "fd00::101")?.pool).toBe("fd00::100/120");
    expect(s && poolHolding(s, "fd00:ff:0:1::/64")?.pool).toBe("fd00:ff::/48");
  });
});
