import { describe, expect, it } from "vitest";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { addressIn, expectUdhcpcRenewRelease, PRINT_ADDRESSES, runScript } from "../support/cases.ts";
import { useTestLab } from "../support/lab.ts";
import { policyFile } from "../support/policy-file.ts";

// Two access segments on the relay: the default `access`, and `port5` (VLAN 105), each its own
// network. The policy classifies by segment and writes Circuit-IDs from {relay}, {segment} and
// {vlan}; RED's Kea (the default configuration) picks DATA by that Circuit-ID, so where a lease
// comes from proves the segment was seen. The same MAC prefix elsewhere lands in VIDEO.
// This lab's relay runs the fallback datapath (`datapath: node`, Node's dgram); every other lab's
// runs the native one, so the suites cover both.

const POLICY = `version: 1
rules:
  - name: port5
    match: { segment: port5, vlan: 105, mac: "00:aa:*" }
    vrf: RED
    option82: { circuitId: DATA_CIRCUIT, remoteId: "{relay}:{segment}:vlan-{vlan}" }
    dhcp6: { interfaceId: V6_DATA_LINK, remoteId: { enterprise: 2393, id: "{relay}:{segment}:vlan-{vlan}" } }
  - name: red
    match: { mac: "00:aa:*" }
    vrf: RED
    option82: { circuitId: VIDEO_CIRCUIT, remoteId: "{relay}:{segment}" }
    dhcp6: { interfaceId: V6_VIDEO_LINK }
`;

describe("access segments", () => {
  const lab = useTestLab("segments", async () => {
    const t = await loadTopology();
    return {
      ...t,
      // RED DATA's router is on port5; RED VIDEO's stays on the first segment.
      segments: [
        { name: "access", gateways: [] },
        { name: "port5", vlan: 105, gateways: ["192.168.11.1/24"] },
      ],
      vrfs: t.vrfs.map((v) => (v.name === "RED" ? { ...v, gateways: ["192.168.10.1/24"] } : v)),
      relay: { hostname: "central", policy: await policyFile(POLICY), datapath: "node" as const },
    };
  });
  const leaseOf = async (family: 4 | 6, address: string | undefined) =>
    (await lab.leases({ family: family })).find((l) => l.address === address);

  it("a DHCPv4 client is classified by the segment it is on, with the Circuit-ID and Remote-ID the templates make", async () => {
    const [onPort5, onAccess] = await Promise.all([
      lab.client({
        kind: "dhclient",
        family: 4,
        mac: "00:aa:05:00:00:01",
        segment: "port5",
      }),
      lab.client({
        kind: "dhclient",
        family: 4,
        mac: "00:aa:05:00:00:02",
      }),
    ]);
    expect(onPort5.address, onPort5.output).toMatch(/^192\.168\.11\./);
    expect(onAccess.address, onAccess.output).toMatch(/^192\.168\.10\./);
    expect((await leaseOf(4, onPort5.address))?.relay).toMatchObject({
      circuitId: "DATA_CIRCUIT",
      remoteId: "central:port5:vlan-105",
    });
    expect((await leaseOf(4, onAccess.address))?.relay).toMatchObject({
      circuitId: "VIDEO_CIRCUIT",
      remoteId: "central:access",
    });
    expect(await lab.counter("dhcplab_relay_decisions_total", { family: 4, rule: "port5" })).toBeGreaterThan(
      0,
    );
    // The fallback datapath served it, as the topology asked.
    expect(await lab.counter("dhcplab_relay_datapath", { kind: "node" })).toBe(1);
  });

  it("udhcpc on port5 renews by unicast to the relay's port5 address and releases through it", async () => {
    const output = await expectUdhcpcRenewRelease(lab, "00:aa:05:00:00:03", "192.168.11.", "port5");
    // RFC 5107: the server identifier the client sees is the relay's address on its own segment.
    const relayOnPort5 = lab.spec.segments.find((g) => g.spec.name === "port5")?.relay.ipv4;
    expect(relayOnPort5).toMatch(/^10\.213\./);
    expect(output).toContain(`sending renew to server ${relayOnPort5}`);
  });

  it("a DHCPv6 client on port5 gets its REPLY on port5 and lands where the segment's Interface-ID says", async () => {
    const r = await runScript(
      lab,
      "00:aa:05:00:00:04",
      [
        "for i in $(seq 50); do ip -6 addr show dev eth0 tentative | grep -q . || break; sleep 0.1; done",
        "dhclient -6 -1 -v -lf /tmp/leases eth0 > /tmp/out 2>&1",
        PRINT_ADDRESSES("-6"),
        "cat /tmp/out",
      ],
      false,
      "port5",
    );
    const address = addressIn(r.output, "fd00:11::");
    expect(address, r.output).toBeDefined();
    expect((await leaseOf(6, address))?.relay).toMatchObject({
      circuitId: "V6_DATA_LINK",
      remoteId: "central:port5:vlan-105",
    });
  });

  it("a segment the lab does not have is refused with the ones it has", async () => {
    await expect(
      lab.client({
        kind: "udhcpc",
        family: 4,
        mac: "00:aa:05:00:00:05",
        segment: "port9",
      }),
    ).rejects.toThrow(/has no segment port9: it has access, port5/);
  });
});
