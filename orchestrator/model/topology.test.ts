import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/yaml-config.ts";
import { parseRelayConfig } from "../../relay/agent/config.ts";
import { ROOT } from "../paths.ts";
import { poolSlots } from "../spec/build.ts";
import { readKeaConfigs } from "./kea-config.ts";
import {
  bootRoutes,
  keaRoutes,
  planLab,
  relaySysctls,
  renderRelayConfig,
  renderTowerConfig,
  type TowerPlan,
  vrfClients4,
} from "./plan.ts";
import { slotSubnets } from "./subnets.ts";
import { KEA_VERSIONS, keaVersionOf, loadTopology, parseTopology, withKea } from "./topology.ts";

function refusal(text: string): ConfigError {
  try {
    parseTopology(text, "lab.yaml", "/tmp");
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("accepted");
}

describe("topology model", () => {
  it("the embedded default is the classic RED/BLUE lab on Kea 3.0, with both families and a Kea folder per version", async () => {
    const t = await loadTopology();
    expect(t.kea).toBe("3.0");
    expect(t.vrfs.map((v) => [v.name, v.link4, v.link6, v.families])).toEqual([
      ["RED", "192.168.10.1", "fd00:10::1", [4, 6]],
      ["BLUE", "192.168.20.1", "fd00:20::1", [4, 6]],
    ]);
    for (const version of KEA_VERSIONS) {
      const configs = await readKeaConfigs(withKea(t, version));
      expect(configs.map((k) => [k.vrf, k.version, Object.keys(k.files).sort()])).toEqual(
        ["RED", "BLUE"].map((vrf) => [
          vrf,
          version,
          [...(version === "2.6" ? ["kea-ctrl-agent.conf"] : []), "kea-dhcp4.conf", "kea-dhcp6.conf"],
        ]),
      );
      // 3.0 guards pools with client-classes (a list), 2.6 with client-class.
      const red4 = configs[0]?.files["kea-dhcp4.conf"]?.toString() ?? "";
      expect(red4).toContain(version === "3.0" ? '"client-classes": [ "VIDEO" ]' : '"client-class": "VIDEO"');
    }
  });

  it("a VRF names its Kea version, or takes the lab's; a folder without that version is refused", async () => {
    const t = parseTopology(
      "kea: '2.6'\nvrfs:\n  - { name: RED, keaConfig: kea-configs/RED, kea: '3.0', families: [4], link4: 10.9.0.1 }\n  - { name: BLUE, keaConfig: kea-configs/BLUE, families: [4], link4: 10.9.1.1 }\n",
      "lab.yaml",
      ROOT,
    );
    expect(t.vrfs.map((v) => keaVersionOf(t, v))).toEqual(["3.0", "2.6"]);
    expect(refusal("kea: '2.7'\nvrfs: []\n").message).toMatch(
      /^lab\.yaml:1: kea: kea "2\.7" is not one of 2\.6, 3\.0/,
    );
    const only30 = parseTopology(
      "vrfs:\n  - { name: GREEN, keaConfig: test/fixtures/consumer/kea/GREEN, kea: '2.6', families: [4], link4: 10.9.0.1 }\n",
      "lab.yaml",
      ROOT,
    );
    await expect(readKeaConfigs(only30)).rejects.toThrow(
      /GREEN \(Kea 2\.6\): .*kea-ctrl-agent\.conf is missing/,
    );
  });

  it("reads a file: paths relative to it, defaults filled in", () => {
    const t = parseTopology(
      "vrfs:\n  - { name: GREEN, keaConfig: kea/green, families: [4], link4: 10.9.0.1 }\n",
      "lab.yaml",
      "/labs",
    );
    expect(t.vrfs[0]).toMatchObject({
      keaConfig: "/labs/kea/green",
      servers: 1,
      subnetSelection: "link-selection",
    });
  });

  it("refuses bad files with the file, line, field and reason", () => {
    expect(refusal("vrfs:\n  - { name: RED, keaConfig: x, link4: 1.2.3, link6: ::1 }\n").message).toBe(
      "lab.yaml:2: vrfs[0].link4: not an IPv4 address",
    );
    expect(
      refusal(
        "vrfs:\n  - { name: RED, keaConfig: x, families: [4], link4: 1.2.3.4, subnetSelection: relay }\n",
      ).message,
    ).toMatch(
      /^lab\.yaml:2: vrfs\[0\]\.subnetSelection: subnetSelection "relay" is not one of link-selection, giaddr$/,
    );
    expect(refusal("vrfs: []\n").message).toMatch(/lab\.yaml:1: vrfs: a lab has at least one VRF/);
    expect(refusal("vrfs:\n  - { name: RED, keaConfig: x, families: [6] }\n").message).toMatch(
      /DHCPv6 needs link6/,
    );
    expect(
      refusal(
        "vrfs:\n  - { name: A, keaConfig: x, families: [4], link4: 1.1.1.1 }\n  - { name: a, keaConfig: y, families: [4], link4: 1.1.1.2 }\n",
      ).message,
    ).toMatch(/lab\.yaml:3: vrfs\[1\]\.name: duplicate VRF a/);
    expect(refusal("vrf: []\n").message).toMatch(/vrf/);
    expect(
      refusal("vrfs:\n  - { name: RED, keaConfig: x, servers: 2, link4: 1.1.1.1, link6: 'fd00::1' }\n")
        .message,
    ).toMatch(/^lab\.yaml:2: vrfs\[0\]\.servers: servers: 2 with DHCPv4: .*each ACK the same client/);
    expect(
      parseTopology(
        "vrfs:\n  - { name: RED, keaConfig: x, servers: 2, families: [6], link6: 'fd00::1' }\n",
        "lab.yaml",
        "/tmp",
      ).vrfs[0]?.servers,
    ).toBe(2);
  });
});

describe("lab plan", () => {
  it("puts the relay at .2 on every network and Kea at .10 on its VRF's, with a fixed MAC and its link-local", async () => {
    const t = await loadTopology();
    const plan = planLab("x", t, poolSlots(t, 5));
    expect(plan.access).toMatchObject({
      network: "x-access",
      relay: { ipv4: "10.213.5.2", ipv6: "fd64:6c61:6200:5::2" },
    });
    expect(plan.vrfs[1]).toMatchObject({
      network: "x-blue",
      relay: { ipv4: "10.213.7.2" },
      keas: [
        {
          container: "x-kea-blue",
          ipv4: "10.213.7.10",
          ipv6: "fd64:6c61:6200:7::a",
          mac: "02:00:00:00:00:0a",
          linkLocal: "fe80::ff:fe00:a",
        },
      ],
    });
  });

  it("renders a relay configuration the relay accepts", async () => {
    const t0 = await loadTopology();
    const plan = planLab("x", t0, poolSlots(t0, 5));
    const c = parseRelayConfig(renderRelayConfig(plan), "relay.yaml");
    expect(c.access).toMatchObject({ ipv4: "10.213.5.2" });
    expect(c.vrfs.map((v) => [v.name, v.link4, v.servers4, v.servers6])).toEqual([
      ["RED", "192.168.10.1", ["10.213.6.10"], ["fe80::ff:fe00:a"]],
      ["BLUE", "192.168.20.1", ["10.213.7.10"], ["fe80::ff:fe00:a"]],
    ]);
  });

  it("carries IPv6 gateways, router advertisements and where the relay reads delegated prefixes into the relay's configuration, and Kea's routes through the relay", async () => {
    const t = await loadTopology();
    const plan = planLab("x", t, poolSlots(t, 5));
    const c = parseRelayConfig(
      renderRelayConfig(plan, {
        backendControl6: { RED: { port: 8006 }, BLUE: { port: 8000, service: "dhcp6" } },
      }),
      "relay.yaml",
    );
    expect(c.vrfs.map((v) => [v.name, v.gateways6, v.leases6])).toEqual([
      ["RED", ["fd00:10::1/64", "fd00:11::1/64"], [{ url: "http://10.213.6.10:8006/" }]],
      ["BLUE", ["fd00:20::1/64"], [{ url: "http://10.213.7.10:8000/", service: "dhcp6" }]],
    ]);
    expect(c.routerAdvertisements).toEqual({
      managed: true,
      other: true,
      prefixes: true,
      interval: 10,
      lifetime: 0,
    });
    const [red] = plan.vrfs;
    if (!red) throw new Error("RED");
    expect(
      keaRoutes(plan, red, { delegatedPools: ["fd10:100::/48"], clients4: vrfClients4(plan, red, []) }),
    ).toEqual([
      "192.168.10.0/24 via 10.213.6.2",
      "192.168.11.0/24 via 10.213.6.2",
      "fd00:10::/64 via fd64:6c61:6200:6::2",
      "fd00:11::/64 via fd64:6c61:6200:6::2",
      "fd10:100::/48 via fd64:6c61:6200:6::2",
    ]);
    expect(
      refusal(
        "vrfs:\n  - { name: RED, keaConfig: x, link4: 192.168.10.1, families: [4], gateways6: ['fd00:10::1/64'] }",
      ).message,
    ).toMatch(/vrfs\[0\]\.gateways6: gateways6 without DHCPv6/);
    expect(
      refusal(
        "vrfs:\n  - { name: RED, keaConfig: x, link6: 'fd00:10::1', families: [6], gateways6: ['fd00:10::1/48'] }",
      ).message,
    ).toMatch(/an IPv6 gateway is address\/64/);
  });

  it("gives each access segment a network and a relay address; the first holds the VRFs' gateways too", async () => {
    const t = parseTopology(
      [
        "segments:",
        "  - { name: access }",
        "  - { name: port5, vlan: 105, gateways: [192.168.11.1/24] }",
        "vrfs:",
        "  - { name: RED, keaConfig: x, link4: 192.168.10.1, link6: 'fd00:10::1', gateways: [192.168.10.1/24] }",
        "relay: { hostname: edge-1 }",
      ].join("\n"),
      "lab.yaml",
      "/tmp",
    );
    const plan = planLab("x", t, (key) => slotSubnets({ access: 5, port5: 8, red: 6 }[key] ?? -1));
    expect(plan.segments.map((g) => [g.network, g.relay.ipv4, g.gateways])).toEqual([
      ["x-access", "10.213.5.2", ["192.168.10.1/24"]],
      ["x-port5", "10.213.8.2", ["192.168.11.1/24"]],
    ]);
    const [red] = plan.vrfs;
    if (!red) throw new Error("RED");
    // RED's clients: its gateways, and a segment's where its kea-dhcp4 serves that subnet.
    expect(vrfClients4(plan, red, [])).toEqual(["192.168.10.0/24"]);
    const clients4 = vrfClients4(plan, red, ["192.168.10.0/24", "192.168.11.0/24"]);
    expect(clients4).toEqual(["192.168.10.0/24", "192.168.11.0/24"]);
    // A segment's subnet inside a wider subnet4 of Kea's is served too.
    expect(vrfClients4(plan, red, ["192.168.10.0/23"])).toEqual(["192.168.10.0/24", "192.168.11.0/24"]);
    const c = parseRelayConfig(renderRelayConfig(plan, { clients4: { RED: clients4 } }), "relay.yaml");
    expect(c.vrfs[0]?.clients4).toEqual(["192.168.10.0/24", "192.168.11.0/24"]);
    expect(c.access).toMatchObject({ name: "access", ipv4: "10.213.5.2", gateways: ["192.168.10.1/24"] });
    expect(c.segments).toEqual([
      {
        name: "port5",
        vlan: 105,
        ipv4: "10.213.8.2",
        ipv6: "fd64:6c61:6200:8::2",
        gateways: ["192.168.11.1/24"],
      },
    ]);
    expect(t.relay.hostname).toBe("edge-1");
    // Without segments, the lab has its one access network.
    expect((await loadTopology()).segments).toEqual([{ name: "access", gateways: [] }]);
  });

  it("refuses a duplicate segment, one named like a VRF, and a VLAN out of range, with line and field", () => {
    const vrfs = "vrfs:\n  - { name: RED, keaConfig: x, link4: 192.168.10.1, link6: 'fd00:10::1' }\n";
    expect(refusal(`segments:\n  - { name: a }\n  - { name: A }\n${vrfs}`).message).toMatch(
      /lab\.yaml:3: segments\[1\]\.name: duplicate segment A/,
    );
    expect(refusal(`segments:\n  - { name: red }\n${vrfs}`).message).toMatch(
      /segments\[0\]\.name: segment red has a VRF's name/,
    );
    expect(refusal(`segments:\n  - { name: a, vlan: 5000 }\n${vrfs}`).message).toMatch(
      /segments\[0\]\.vlan: a VLAN is 1 to 4094/,
    );
  });

  describe("VRFs numbered alike (overlapping address spaces)", () => {
    const overlapping = (red: string, blue: string, segments = "") =>
      [
        "segments:",
        "  - { name: access }",
        "  - { name: red-port }",
        `  - { name: blue-port${segments} }`,
        "vrfs:",
        `  - { name: RED, keaConfig: x, link4: 192.168.10.1, link6: 'fd00:10::1', gateways: [192.168.10.1/24], gateways6: ['fd00:10::1/64']${red} }`,
        `  - { name: BLUE, keaConfig: y, link4: 192.168.10.1, link6: 'fd00:10::1', gateways: [192.168.10.1/24], gateways6: ['fd00:10::1/64']${blue} }`,
      ].join("\n");

    it("are refused where a segment would carry both, or a segment name is unknown, with line and field", () => {
      expect(refusal(overlapping("", "")).message).toMatch(
        /lab\.yaml:\d+: vrfs\[1\]\.gateways\[0\]: 192\.168\.10\.1\/24 overlaps VRF RED's client subnets on a segment both serve: VRFs numbered alike each need segments of their own/,
      );
      expect(
        refusal(overlapping(", segments: [red-port]", ", segments: [blue-port, red-port]")).message,
      ).toMatch(/vrfs\[1\]\.gateways6\[0\]: fd00:10::1\/64 overlaps VRF RED's/);
      expect(refusal(overlapping(", segments: [red-port]", ", segments: [green]")).message).toMatch(
        /vrfs\[1\]\.segments\[0\]: segment green is not one of the topology's: access, red-port, blue-port/,
      );
      // A segment's own gateway in the subnet of a VRF held there: one subnet, one link.
      expect(
        refusal(
          overlapping(", segments: [red-port]", ", segments: [blue-port]", ", gateways: [192.168.10.254/24]"),
        ).message,
      ).toMatch(
        /segments\[2\]\.gateways\[0\]: 192\.168\.10\.254\/24 overlaps 192\.168\.10\.1\/24 of VRF BLUE/,
      );
    });

    it("a gateway that is no prefix is refused with its line and field, whichever other check meets it", () => {
      const lab = (blue: string, bluePort = "") =>
        [
          "segments:",
          "  - { name: access }",
          "  - { name: red-port }",
          `  - { name: blue-port${bluePort} }`,
          "vrfs:",
          "  - { name: RED, keaConfig: x, link4: 192.168.10.1, link6: 'fd00:10::1', gateways: [192.168.10.1/24], gateways6: ['fd00:10::1/64'], segments: [red-port] }",
          // A boot server's address is checked against its VRF's gateways.
          `  - { name: BLUE, keaConfig: y, link4: 192.168.10.1, link6: 'fd00:10::1', bootServer: { address: 172.31.10.9, files: tftp }, ${blue} }`,
        ].join("\n");
      for (const [text, field] of [
        [lab("gateways: [999.1.1.1/24]"), /lab\.yaml:7: vrfs\[1\]\.gateways\[0\]: /],
        [lab("gateways: [192.168.10.1/24], gateways6: ['x/64']"), /lab\.yaml:7: vrfs\[1\]\.gateways6\[0\]: /],
        [
          lab("gateways: [192.168.10.1/24], segments: [blue-port]", ", gateways: [x]"),
          /lab\.yaml:4: segments\[2\]\.gateways\[0\]: /,
        ],
      ] as const) {
        expect(refusal(text)).toBeInstanceOf(ConfigError);
        expect(refusal(text).message).toMatch(field);
      }
    });

    it("on segments of their own: each VRF's gateways on its segment, its relay configuration naming it, the relay's reverse-path check loose", () => {
      const t = parseTopology(
        overlapping(", segments: [red-port]", ", segments: [blue-port]"),
        "lab.yaml",
        "/tmp",
      );
      const plan = planLab("x", t, (key) =>
        slotSubnets({ access: 5, "red-port": 8, "blue-port": 9, red: 6, blue: 7 }[key] ?? -1),
      );
      expect(plan.segments.map((g) => [g.spec.name, g.gateways])).toEqual([
        ["access", []],
        ["red-port", ["192.168.10.1/24"]],
        ["blue-port", ["192.168.10.1/24"]],
      ]);
      const c = parseRelayConfig(renderRelayConfig(plan), "relay.yaml");
      expect(c.vrfs.map((v) => [v.name, v.segments, v.clients4])).toEqual([
        ["RED", ["red-port"], ["192.168.10.0/24"]],
        ["BLUE", ["blue-port"], ["192.168.10.0/24"]],
      ]);
      expect(relaySysctls(t)["net.ipv4.conf.all.rp_filter"]).toBe("2");
    });
  });

  it("towers: a subscriber segment each, the transport network, the central relay's trust and each edge relay's configuration", async () => {
    const t = await loadTopology(join(ROOT, "examples/towers/topology.yaml"));
    const plan = planLab("x", t, poolSlots(t, 5));
    expect(plan.towers.map((w) => [w.container, w.network, w.transport.ipv4, w.prefix])).toEqual([
      ["x-tower-a", "x-tower-a", "10.213.8.20", "100.64.1.0/24"],
      ["x-tower-b", "x-tower-b", "10.213.8.21", "100.64.2.0/24"],
      ["x-tower-c", "x-tower-c", "10.213.8.22", "100.64.3.0/24"],
    ]);
    const central = parseRelayConfig(renderRelayConfig(plan), "relay.yaml");
    expect(central.transport).toEqual({
      ipv4: "10.213.8.2",
      ipv6: "fd64:6c61:6200:8::2",
      towers: [
        { name: "tower-a", source: "10.213.8.20", giaddr: "100.64.1.0/24", source6: "fd64:6c61:6200:8::14" },
        { name: "tower-b", source: "10.213.8.21", giaddr: "100.64.2.0/24", source6: "fd64:6c61:6200:8::15" },
        { name: "tower-c", source: "10.213.8.22", giaddr: "100.64.3.0/24" },
      ],
    });
    const edge = parseRelayConfig(renderTowerConfig(plan, plan.towers[1] as TowerPlan), "tower-b.yaml");
    expect(edge.access).toMatchObject({
      name: "port-5",
      vlan: 100,
      ipv4: "10.213.10.2",
      gateways: ["100.64.2.1/24"],
    });
    expect(edge.vrfs).toMatchObject([
      {
        name: "central",
        subnetSelection: "giaddr",
        link4: "100.64.2.1",
        servers4: ["10.213.8.2"],
        acceptFrom: ["10.213.6.0/24", "10.213.7.0/24"],
        link6: "fd00:b::1",
        servers6: ["fd64:6c61:6200:8::2"],
      },
    ]);
  });

  it("refuses a tower named like a VRF or a segment, and a policy on an isc-dhcp-relay tower", () => {
    const vrfs = "vrfs:\n  - { name: RED, keaConfig: x, link4: 192.168.10.1, link6: 'fd00:10::1' }\n";
    expect(
      refusal(`${vrfs}towers:\n  - { name: red, kind: dhcplab, address: 100.64.1.1/24 }\n`).message,
    ).toMatch(
      /lab\.yaml:4: towers\[0\]\.name: tower red has the name of a segment, a VRF or the transport network/,
    );
    expect(
      refusal(
        `${vrfs}towers:\n  - { name: t, kind: isc-dhcp-relay, address: 100.64.1.1/24, policy: p.yaml }\n`,
      ).message,
    ).toMatch(/towers\[0\]\.policy: isc-dhcp-relay takes no policy/);
    expect(refusal(`${vrfs}towers:\n  - { name: t, kind: cisco, address: 100.64.1.1/24 }\n`).message).toMatch(
      /towers\[0\]\.kind: kind "cisco" is not one of isc-dhcp-relay, dhcplab/,
    );
  });

  it("DNS and RADIUS servers: one per VRF with one on its backend; that VRF's Kea routes the service address to it, not through the relay", async () => {
    const t = await loadTopology(join(ROOT, "examples/ddns/topology.yaml"));
    expect(t.vrfs[0]?.dnsServer).toEqual({
      address: "172.31.10.53",
      files: join(ROOT, "examples/ddns/dns/RED"),
    });
    const plan = planLab("x", t, poolSlots(t, 5));
    expect(plan.vrfs.map((v) => [v.dns?.container, v.dns?.ipv4, v.dns?.address])).toEqual([
      ["x-dns-red", "10.213.6.31", "172.31.10.53"],
      [undefined, undefined, undefined],
    ]);
    const [red, blue] = plan.vrfs as [(typeof plan.vrfs)[number], (typeof plan.vrfs)[number]];
    expect(keaRoutes(plan, red, { delegatedPools: [], clients4: [] })).toContain(
      "172.31.10.53/32 via 10.213.6.31",
    );
    expect(keaRoutes(plan, blue, { delegatedPools: [], clients4: [] }).join()).not.toContain("172.31.10.53");
    const radius = await loadTopology(join(ROOT, "examples/radius/topology.yaml"));
    const radiusPlan = planLab("x", radius, poolSlots(radius, 5));
    const withRadius = radiusPlan.vrfs[1] as (typeof radiusPlan.vrfs)[number];
    expect(withRadius.radius?.container).toBe("x-radius-blue");
    expect(keaRoutes(radiusPlan, withRadius, { delegatedPools: [], clients4: [] })).toContain(
      `172.31.20.18/32 via ${withRadius.radius?.ipv4}`,
    );
    // Routed to the server on the backend, a service address may not be a client's or the link's.
    const ddnsText = await readFile(join(ROOT, "examples/ddns/topology.yaml"), "utf8");
    for (const [address, reason] of [
      ["192.168.11.53", "in the client subnet of gateway 192.168.11.1/24"],
      ["192.168.10.1", "in the client subnet of gateway 192.168.10.1/24"],
    ])
      expect(() =>
        parseTopology(ddnsText.replace("address: 172.31.10.53", `address: ${address}`), "t.yaml", ROOT),
      ).toThrow(`the DNS server's address is ${reason}: give it one behind the relay`);
    // A service address is one server's: a boot server and a DNS server may not share it.
    const shared = (await readFile(join(ROOT, "examples/ddns/topology.yaml"), "utf8")).replace(
      "    dnsServer:",
      "    bootServer: { address: 172.31.10.53, files: dns/RED }\n    dnsServer:",
    );
    expect(() => parseTopology(shared, "t.yaml", join(ROOT, "examples/ddns"))).toThrow(
      /vrfs\[0\]\.dnsServer\.address: 172\.31\.10\.53 is VRF RED's bootServer already/,
    );
  });

  it("boot servers: one per VRF on its backend, the relay routing the VRF's client subnets to its address only; IPv4 forwarding where a VRF serves DHCPv4", async () => {
    const t = await loadTopology(join(ROOT, "examples/pxe.yaml"));
    expect(t.vrfs[0]?.bootServer).toEqual({
      address: "10.69.10.2",
      files: join(ROOT, "examples/pxe/boot/RED"),
    });
    const plan = planLab("x", t, poolSlots(t, 5));
    expect(plan.vrfs.map((v) => [v.boot?.container, v.boot?.ipv4, v.boot?.address])).toEqual([
      ["x-boot-red", "10.213.6.30", "10.69.10.2"],
      ["x-boot-blue", "10.213.7.30", "10.69.20.2"],
    ]);
    const c = parseRelayConfig(renderRelayConfig(plan), "relay.yaml");
    expect(c.vrfs.map((v) => [v.name, v.clients4, v.services4])).toEqual([
      ["RED", ["192.168.10.0/24"], [{ address: "10.69.10.2", via: "10.213.6.30" }]],
      ["BLUE", ["192.168.20.0/24"], [{ address: "10.69.20.2", via: "10.213.7.30" }]],
    ]);
    expect(bootRoutes(plan.vrfs[0] as (typeof plan.vrfs)[number])).toEqual([
      "192.168.10.0/24 via 10.213.6.2",
    ]);
    expect(relaySysctls(t)["net.ipv4.ip_forward"]).toBe("1");
    // The default lab serves DHCPv4: forwarding on (behind the chain). Without DHCPv4 (or
    // towers) the relay routes no IPv4 at all.
    const v6only = await loadTopology();
    expect(relaySysctls(v6only)["net.ipv4.ip_forward"]).toBe("1");
    expect(
      relaySysctls({ ...v6only, vrfs: v6only.vrfs.map((v) => ({ ...v, families: [6] })) })[
        "net.ipv4.ip_forward"
      ],
    ).toBe("0");
  });

  it("refuses a boot server without DHCPv4 or gateways, inside a client subnet or the lab's networks, or shared by two VRFs", () => {
    const vrf = (name: string, extra: string) =>
      `  - { name: ${name}, keaConfig: x, link4: 192.168.10.1, families: [4], ${extra} }\n`;
    const boot = (a: string) => `bootServer: { address: ${a}, files: boot }`;
    expect(
      refusal(`vrfs:\n${vrf("RED", `gateways: [192.168.10.1/24], ${boot("10.213.1.5")}`)}`).message,
    ).toMatch(/vrfs\[0\]\.bootServer\.address: a unicast address outside the lab's own networks/);
    expect(
      refusal(`vrfs:\n${vrf("RED", `gateways: [192.168.10.1/24], ${boot("192.168.10.9")}`)}`).message,
    ).toMatch(
      /bootServer\.address: the boot server's address is in the client subnet of gateway 192\.168\.10\.1\/24/,
    );
    expect(refusal(`vrfs:\n${vrf("RED", boot("10.69.10.2"))}`).message).toMatch(
      /vrfs\[0\]\.bootServer: a boot server needs the VRF's gateways/,
    );
    expect(
      refusal(
        `vrfs:\n  - { name: RED, keaConfig: x, link6: 'fd00:10::1', families: [6], gateways: [192.168.10.1/24], ${boot("10.69.10.2")} }\n`,
      ).message,
    ).toMatch(/a boot server without DHCPv4/);
    expect(
      refusal(
        `vrfs:\n${vrf("RED", `gateways: [192.168.10.1/24], ${boot("10.69.10.2")}`)}${vrf("BLUE", `gateways: [192.168.20.1/24], ${boot("10.69.10.2")}`)}`,
      ).message,
    ).toMatch(
      /vrfs\[1\]\.bootServer\.address: 10\.69\.10\.2 is VRF RED's bootServer already: each server has a service address of its own/,
    );
  });

  it("slot subnets never overlap and stay inside the pool", () => {
    expect(slotSubnets(0).ipv4Subnet).toBe("10.213.0.0/24");
    expect(slotSubnets(255).ipv6Subnet).toBe("fd64:6c61:6200:ff::/64");
    expect(() => slotSubnets(256)).toThrow(RangeError);
  });
});
