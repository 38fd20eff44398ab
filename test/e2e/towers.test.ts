import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { expectDhclient6ObtainRelease, expectUdhcpcRenewRelease } from "../support/cases.ts";
import { httpGetFrom } from "../support/http.ts";
import { useTestLab } from "../support/lab.ts";

// examples/towers/topology.yaml as shipped: tower-a and tower-c are Debian's isc-dhcp-relay,
// tower-b is dhcplab's relay as an edge relay; the central relay forwards their requests as RFC
// 3046 says, Kea picks each tower's pool by giaddr (tower-c has none: the default pool), and the
// central relay routes Kea's replies to the towers' subscriber prefixes, and nothing else.

const BIN = join(ROOT, "bin", "dhcplab.js");

describe("towers: downstream relays in front of subscriber segments (examples/towers)", () => {
  const lab = useTestLab("towers", () => loadTopology(join(ROOT, "examples/towers/topology.yaml")));
  const leaseOf = async (address: string | undefined) =>
    (await lab.leases({ vrf: "RED", family: 4 })).find((l) => l.address === address);
  const client = (segment: string, mac: string, kind: "udhcpc" | "dhclient" = "udhcpc") =>
    lab.client({ kind, family: 4, mac, segment });

  it("each tower's clients lease from its pool by giaddr, an unmapped tower's from the default pool, with the tower's Option 82 stored", async () => {
    const forwardedBefore = await lab.counter("dhcplab_relay_downstream_total", {
      family: 4,
      handling: "forward",
    });
    const [a, b, c] = await Promise.all([
      client("tower-a", "00:aa:0a:00:00:01", "dhclient"),
      client("tower-b", "00:aa:0b:00:00:01", "dhclient"),
      client("tower-c", "00:aa:0c:00:00:01"),
    ]);
    expect(a.address, a.output).toMatch(/^100\.64\.1\./);
    expect(b.address, b.output).toMatch(/^100\.64\.2\./);
    expect(c.address, c.output).toMatch(/^100\.64\.250\./);
    // isc-dhcp-relay -a: Circuit-ID is its subscriber interface; dhcplab's edge relay: its policy's.
    expect((await leaseOf(a.address))?.relay).toMatchObject({ circuitId: "eth0" });
    expect((await leaseOf(b.address))?.relay).toMatchObject({
      circuitId: "tower-b:port-5:vlan-100",
      remoteId: "00:aa:0b:00:00:01",
    });
    expect((await leaseOf(c.address))?.relay).toMatchObject({ circuitId: "eth0" });
    // The central relay added nothing of its own (no Link Selection, no Server ID Override of its).
    for (const l of [a, b, c]) expect((await leaseOf(l.address))?.relay?.linkSelection).toBeUndefined();
    expect(
      (await lab.counter("dhcplab_relay_downstream_total", { family: 4, handling: "forward" })) -
        forwardedBefore,
    ).toBeGreaterThanOrEqual(6);
    expect(await lab.counter("dhcplab_relay_drops_total", { family: 4, reason: "untrusted-relay" })).toBe(0);
  });

  it("udhcpc renews and releases through both hops, behind isc-dhcp-relay and behind dhcplab's edge relay", async () => {
    // tower-a: Kea names the tower as server identifier, so the renewal is unicast to the tower.
    const viaA = await expectUdhcpcRenewRelease(lab, "00:aa:0a:00:00:02", "100.64.1.", "tower-a");
    expect(viaA).toContain("sending renew to server 100.64.1.1");
    // tower-b: the edge relay's RFC 5107 override, its own address on the subscriber segment.
    const towerB = lab.spec.towers.find((w) => w.spec.name === "tower-b");
    const viaB = await expectUdhcpcRenewRelease(lab, "00:aa:0b:00:00:02", "100.64.2.", "tower-b");
    expect(viaB).toContain(`sending renew to server ${towerB?.subscriber.ipv4}`);
  });

  it("DHCPv6 through nested relays: each tower's RELAY-FORW wrapped again by the central relay; Kea selects by the tower's link-address", async () => {
    const leases6 = () => lab.leases({ vrf: "RED", family: 6 });
    // Obtain (and keep) one address behind each tower, to read what Kea stored while it holds them.
    const [ra, rb] = await Promise.all(
      (["tower-a", "tower-b"] as const).map((segment, i) =>
        lab.client({
          kind: "dhclient",
          family: 6,
          mac: `00:aa:0${i === 0 ? "a" : "b"}:00:00:06`,
          segment,
        }),
      ),
    );
    const [a, b] = [ra?.address, rb?.address];
    expect(a, ra?.output).toMatch(/^fd00:a::/);
    expect(b, rb?.output).toMatch(/^fd00:b::/);
    // A release goes back through both relays, and Kea lets the address go.
    await expectDhclient6ObtainRelease(lab, "00:aa:0a:00:00:07", "fd00:a::", "tower-a");
    // The relay closest to the client, as Kea stored it: the tower's link-address, and for isc's
    // dhcrelay -I its Interface-ID (4 binary bytes, not text).
    const byAddress = new Map((await leases6()).map((l) => [l.address, l]));
    expect(byAddress.get(a ?? "")?.relay).toMatchObject({ link: "fd00:a::1" });
    expect(byAddress.get(a ?? "")?.relay?.circuitId).toMatch(/^0x[0-9a-f]{8}$/);
    expect(byAddress.get(b ?? "")?.relay).toMatchObject({ link: "fd00:b::1" });
    expect(
      await lab.counter("dhcplab_relay_downstream_total", { family: 6, handling: "nested" }),
    ).toBeGreaterThan(0);
    expect(await lab.counter("dhcplab_relay_drops_total", { family: 6, reason: "untrusted-relay" })).toBe(0);
  });

  it("load behind a tower: the clients engine's DHCPv4 clients lease from the tower's pool; perfdhcp (a relay itself) is refused there", async () => {
    const r = await lab.load({
      mac: "00:aa:0a:01:00:00",
      engine: "clients",
      segment: "tower-a",
      family: 4,
      clients: 10,
      rate: 10,
      seconds: 1,
    });
    expect(r.report.exchanges.at(-1)?.received, r.output).toBeGreaterThanOrEqual(9);
    const mine = (await lab.leases({ vrf: "RED", family: 4 })).filter((l) =>
      l.client.startsWith("00:aa:0a:01:"),
    );
    expect(mine.length).toBeGreaterThanOrEqual(9);
    expect(mine.every((l) => l.address.startsWith("100.64.1."))).toBe(true);
    await expect(
      lab.load({
        mac: "00:aa:0a:02:00:00",
        family: 4,
        clients: 1,
        rate: 1,
        seconds: 1,
        segment: "tower-a",
      }),
    ).rejects.toThrow(/not on segment tower-a: use --engine clients there/);
  });

  it("a client on the central relay's own segment reaches it directly and is classified by segment", async () => {
    const r = await client("access", "00:aa:0d:00:00:01");
    expect(r.address, r.output).toMatch(/^192\.168\.10\./);
    expect((await leaseOf(r.address))?.relay).toMatchObject({ circuitId: "central:access" });
  });

  it("the central relay forwards Kea's DHCP replies to the towers and nothing else: VRFs stay isolated", async () => {
    const towerB = lab.spec.towers.find((w) => w.spec.name === "tower-b");
    const blue = lab.spec.vrfs.find((v) => v.spec.name === "BLUE");
    if (!towerB || !blue) throw new Error("the towers lab has tower-b and BLUE");
    const url = `http://${towerB.spec.address.split("/")[0]}:9100/healthz`;
    const curl = (service: string) => httpGetFrom(lab, service, url);
    // tower-b's relay answers HTTP on its subscriber-side address: the central relay itself reaches it.
    expect((await curl("relay")).stdout).toBe("200");
    // A host on BLUE routing through the relay does not, though both ends route through it (so
    // that only the relay's chain stands between them): only UDP 67 to 67 is forwarded there.
    const routes = [
      await lab.exec("kea-blue", ["ip", "route", "replace", towerB.prefix, "via", blue.relay.ipv4]),
      await lab.exec("tower-b", [
        "ip",
        "route",
        "replace",
        blue.subnets.ipv4Subnet,
        "via",
        lab.spec.transport?.relay.ipv4 ?? "",
      ]),
    ];
    for (const r of routes) expect(r.exitCode, r.stderr).toBe(0);
    const fromBlue = await curl("kea-blue");
    expect(fromBlue.exitCode).not.toBe(0);
    expect(fromBlue.stdout).toBe("000");
    // The relay says why it may forward at all: the chain is in place, and its only IPv4 rules
    // are the servers' replies to the towers, and each VRF's Kea's DHCP to its own clients on
    // the access side (an INFORM's ACK); its IPv6 rules are the VRFs' client prefixes.
    const chain = await lab.exec("relay", ["nft", "list", "chain", "inet", "dhcplab", "forward"]);
    expect(chain.stdout).toMatch(/policy drop;/);
    const accepts = chain.stdout.split("\n").filter((l) => /\bip (daddr|saddr)\b.*\baccept\b/.test(l));
    const toTowers = accepts.filter((r) =>
      /ip daddr 100\.64\.\d+\.0\/24 udp sport (67|bootps) udp dport (67|bootps) accept/.test(r),
    );
    expect(toTowers.length).toBeGreaterThan(0);
    const keas = lab.spec.vrfs.map((v) => v.keas[0]?.ipv4);
    expect(
      accepts
        .filter((r) => !toTowers.includes(r))
        .map((r) =>
          /ip saddr (\S+) ip daddr (\S+) udp sport (?:67|bootps) udp dport (?:68|bootpc) accept/
            .exec(r)
            ?.slice(1),
        ),
    ).toEqual([
      [keas[0], "192.168.10.0/24"],
      [keas[1], "192.168.20.0/24"],
    ]);
  });

  it("dhcplab graph --name draws the running lab: each tower on its subscriber segment and the transport, with the addresses it got", async () => {
    const r = await execa("node", [BIN, "graph", "--name", lab.spec.name, "--format", "dot", "--json"]);
    const { graph } = JSON.parse(r.stdout) as { graph: string };
    const transport = lab.spec.transport;
    expect(transport).toBeDefined();
    for (const w of lab.spec.towers) {
      expect(graph).toContain(`"${w.container}" -- "${w.network}" [label="${w.subscriber.ipv4}"];`);
      expect(graph).toContain(`"${w.container}" -- "${transport?.network}" [label="${w.transport.ipv4}"];`);
      expect(graph).toContain(`clients -- "${w.network}";`);
    }
    expect(graph).toContain(
      `"${lab.spec.relay.container}" -- "${transport?.network}" [label="${transport?.relay.ipv4}"];`,
    );
    // The subnets this lab got, not the Compose lab's.
    expect(graph).toContain(lab.spec.access.subnets.ipv4Subnet);
  });
});
