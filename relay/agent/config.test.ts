import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/yaml-config.ts";
import { homeSegment, parseRelayConfig, vrfSegments } from "./config.ts";
import { tablesBatch, vrfTables } from "./vrf-tables.ts";

// The relay's configuration is refused at load with the file, the field and the reason.

const refusal = (vrfs: string) => {
  try {
    parseRelayConfig(
      `access: { ipv4: 10.213.1.2, gateways: [192.168.10.1/24] }\nvrfs:\n${vrfs}`,
      "relay.yaml",
    );
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("the relay's configuration", () => {
  it("refuses client subnets without a backend, a ping check with no one to ping, and client subnets two VRFs share", () => {
    expect(refusal("  - { name: RED, link4: 192.168.10.1, clients4: [192.168.10.0/24] }\n")).toMatch(
      /vrfs\[0\]\.clients4: VRF RED has clients4 but no ipv4/,
    );
    expect(
      refusal(
        "  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [10.213.2.10], pingCheck4: true }\n",
      ),
    ).toMatch(/vrfs\[0\]\.pingCheck4: VRF RED has pingCheck4 but no servers4 \(who pings\) or no clients4/);
    expect(
      refusal(
        [
          "  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [10.213.2.10], clients4: [192.168.10.0/23] }",
          "  - { name: BLUE, ipv4: 10.213.3.2, link4: 192.168.11.1, servers4: [10.213.3.10], clients4: [192.168.11.0/24] }",
          "",
        ].join("\n"),
      ),
    ).toMatch(/vrfs\[1\]\.clients4\[0\]: VRF BLUE's client subnet 192\.168\.11\.0\/24 overlaps VRF RED's/);
  });

  it("runs the native datapath unless told node, and refuses any other with the field", () => {
    const vrfs = "vrfs:\n  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [10.213.2.10] }\n";
    const access = "access: { ipv4: 10.213.1.2, gateways: [192.168.10.1/24] }\n";
    expect(parseRelayConfig(access + vrfs, "relay.yaml").datapath).toBe("native");
    expect(parseRelayConfig(`${access}datapath: node\n${vrfs}`, "relay.yaml").datapath).toBe("node");
    expect(() => parseRelayConfig(`${access}datapath: dpdk\n${vrfs}`, "relay.yaml")).toThrow(
      /relay\.yaml.*datapath/s,
    );
  });

  describe("VRFs whose address spaces overlap", () => {
    const overlapping = (redSegments: string, blueSegments: string) =>
      [
        "access: { ipv4: 10.213.1.2 }",
        "segments:",
        "  - { name: red-port, ipv4: 10.213.4.2, gateways: [192.168.10.1/24] }",
        "  - { name: blue-port, ipv4: 10.213.5.2, gateways: [192.168.10.1/24] }",
        "vrfs:",
        `  - { name: RED, ipv4: 10.213.2.2, ipv6: "fd00:2::2", link4: 192.168.10.1, servers4: [10.213.2.10], clients4: [192.168.10.0/24], gateways6: ["fd00:10::1/64"]${redSegments} }`,
        `  - { name: BLUE, ipv4: 10.213.3.2, ipv6: "fd00:3::2", link4: 192.168.10.1, servers4: [10.213.3.10], clients4: [192.168.10.0/24], gateways6: ["fd00:10::1/64"]${blueSegments} }`,
        "",
      ].join("\n");
    const refused = (text: string) => {
      try {
        parseRelayConfig(text, "relay.yaml");
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error("accepted");
    };

    it("are refused on a segment both serve, with the field to fix; a segment that is not the relay's is refused", () => {
      expect(refused(overlapping("", ""))).toMatch(
        /vrfs\[1\]\.clients4\[0\]: VRF BLUE's client subnet 192\.168\.10\.0\/24 overlaps VRF RED's on a segment both serve: give each VRF segments of its own/,
      );
      expect(refused(overlapping(", segments: [red-port]", ", segments: [red-port, blue-port]"))).toMatch(
        /vrfs\[1\]\.gateways6\[0\]: VRF BLUE's client subnet fd00:10::1\/64 overlaps VRF RED's/,
      );
      expect(refused(overlapping(", segments: [red-port]", ", segments: [green-port]"))).toMatch(
        /vrfs\[1\]\.segments\[0\]: VRF BLUE's segment green-port is not one of the relay's: access, red-port, blue-port/,
      );
    });

    it("a client subnet that is no prefix, on a segment two VRFs share, is refused with its line and field", () => {
      const blue = (from: string, to: string) => {
        const text = overlapping("", "").replace(new RegExp(`(name: BLUE.*)${from}`), `$1${to}`);
        expect(text).toContain(`name: BLUE, ipv4: 10.213.3.2, ipv6: "fd00:3::2"`);
        expect(text.split("\n").find((l) => l.includes("BLUE"))).toContain(to);
        return text;
      };
      const badClients = blue("clients4: \\[192\\.168\\.10\\.0/24\\]", 'clients4: ["x"]');
      const badGateways = blue('gateways6: \\["fd00:10::1/64"\\]', 'gateways6: ["x"]');
      for (const [text, field] of [
        [badClients, /relay\.yaml:\d+: vrfs\[1\]\.clients4\[0\]: not an IPv4 prefix/],
        [badGateways, /relay\.yaml:\d+: vrfs\[1\]\.gateways6\[0\]: not an IPv6 address\/prefix/],
      ] as const) {
        expect(() => parseRelayConfig(text, "relay.yaml")).toThrow(ConfigError);
        expect(refused(text)).toMatch(field);
      }
    });

    it("are taken on segments of their own, each VRF routed in a table of its own chosen by its backend", () => {
      const config = parseRelayConfig(
        overlapping(", segments: [red-port]", ", segments: [blue-port]"),
        "relay.yaml",
      );
      const [red, blue] = config.vrfs;
      if (!red || !blue) throw new Error("two VRFs");
      expect(vrfSegments(config, blue).map((s) => s.name)).toEqual(["blue-port"]);
      expect(homeSegment(config, blue).name).toBe("blue-port");
      const devs: Record<string, string> = {
        "10.213.1.2": "eth0",
        "10.213.4.2": "eth1",
        "10.213.5.2": "eth2",
        "10.213.2.2": "eth3",
        "10.213.3.2": "eth4",
      };
      const tables = vrfTables(config, (a) => devs[a] ?? "none");
      expect(tables.map((t) => [t.vrf, t.own, t.local])).toEqual([
        ["RED", ["eth1"], false],
        ["BLUE", ["eth2"], false],
      ]);
      expect(tables.map((t) => [t.vrf, t.table, t.backend, t.routes4, t.routes6])).toEqual([
        [
          "RED",
          100,
          "eth3",
          [{ prefix: "192.168.10.0/24", dev: "eth1" }],
          [{ prefix: "fd00:10::/64", dev: "eth1" }],
        ],
        [
          "BLUE",
          101,
          "eth4",
          [{ prefix: "192.168.10.0/24", dev: "eth2" }],
          [{ prefix: "fd00:10::/64", dev: "eth2" }],
        ],
      ]);
      // A restarted relay's rules and routes go first; then each VRF's routes, then its rule.
      const v4 = tablesBatch(tables, 4);
      expect(v4.clear.split("\n").slice(0, 4)).toEqual([
        "rule del pref 1000",
        "rule del pref 2000",
        "rule del pref 3000",
        "route flush table 100",
      ]);
      // What the relay answers itself on a VRF's own segment is routed by its table, by its mark.
      expect(v4.install.split("\n").slice(0, 3)).toEqual([
        "route replace 192.168.10.0/24 dev eth1 scope link table 100",
        "rule add iif eth3 lookup 100 pref 1000",
        "rule add fwmark 100 lookup 100 pref 2000",
      ]);
      expect(tablesBatch(tables, 6).install).toContain(
        "route replace fd00:10::/64 dev eth2 scope link table 101\n",
      );
    });
  });
});
