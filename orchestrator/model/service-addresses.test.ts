import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import { readKeaConfigs } from "./kea-config.ts";
import { serviceAddressWarnings } from "./service-addresses.ts";
import { loadTopology } from "./topology.ts";

describe("where a VRF's Kea sends to its DNS and RADIUS servers", () => {
  it("the examples send to their VRF's own servers: no warning", async () => {
    for (const example of ["ddns", "radius"]) {
      const t = await loadTopology(join(ROOT, "examples", example, "topology.yaml"));
      expect(serviceAddressWarnings(t, await readKeaConfigs(t))).toEqual([]);
    }
  });

  it("an address that is not the VRF's server, or a VRF without one, is named with its file and field", async () => {
    const ddns = await loadTopology(join(ROOT, "examples/ddns/topology.yaml"));
    const keas = await readKeaConfigs(ddns);
    const moved = {
      ...ddns,
      vrfs: ddns.vrfs.map((v) =>
        v.dnsServer ? { ...v, dnsServer: { ...v.dnsServer, address: "172.31.10.54" } } : v,
      ),
    };
    const warnings = serviceAddressWarnings(moved, keas);
    expect(warnings).toHaveLength(5);
    expect(warnings[0]).toBe(
      `${join(ROOT, "examples/ddns/kea/RED/kea-dhcp-ddns.conf")}: DhcpDdns.forward-ddns.ddns-domains[0].dns-servers[0].ip-address is 172.31.10.53, not VRF RED's dnsServer 172.31.10.54: it reaches no server`,
    );
    const radius = await loadTopology(join(ROOT, "examples/radius/topology.yaml"));
    const none = { ...radius, vrfs: radius.vrfs.map((v) => ({ ...v, radiusServer: undefined })) };
    expect(serviceAddressWarnings(none, await readKeaConfigs(radius))).toEqual([
      expect.stringMatching(
        /kea\/BLUE\/kea-dhcp4\.conf: Dhcp4\.hooks-libraries\[2\]\.parameters\.access\.servers\[0\]\.name is 172\.31\.20\.18, but VRF BLUE has no radiusServer/,
      ),
      expect.stringMatching(
        /parameters\.accounting\.servers\[0\]\.name is 172\.31\.20\.18, but VRF BLUE has no radiusServer/,
      ),
    ]);
  });
});
