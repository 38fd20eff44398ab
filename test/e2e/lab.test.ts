import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openLab, removeLabs } from "../../orchestrator/api.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { DEFAULT_LAB_CASES, expectLeasesOfClass } from "../support/cases.ts";
import { httpGetFrom, urlHost } from "../support/http.ts";
import { startTestLab, type TestLab, useTestLab } from "../support/lab.ts";
import { udpDatagrams } from "../support/pcap.ts";

// The default lab end to end: perfdhcp and real clients through the relay to each VRF's
// Kea, leases read through the control agents, and the relay's counters.

describe("the default lab", () => {
  const lab = useTestLab("lab");

  // Each VRF and family: what perfdhcp's clients leased, where, and what the relay added that Kea stored.
  it.each(DEFAULT_LAB_CASES)(
    "DHCPv$family $mac: perfdhcp's clients get leases only from $vrf, in $prefix, with $added stored",
    (c) => expectLeasesOfClass(lab, c),
  );

  it("the relay's counters agree with what perfdhcp saw, and it dropped nothing", async () => {
    const count = (direction: string) =>
      lab.counter("dhcplab_relay_messages_total", { family: 4, vrf: "BLUE", direction });
    const [toServer, toClient, drops] = await Promise.all([
      count("to-server"),
      count("to-client"),
      lab.counter("dhcplab_relay_drops_total"),
    ]);
    const r = await lab.load({
      mac: "00:bb:01:00:01:00",
      family: 4,
      clients: 20,
      rate: 20,
      seconds: 2,
    });
    const sent = r.report.exchanges.reduce((n, e) => n + e.sent, 0);
    const received = r.report.exchanges.reduce((n, e) => n + e.received, 0);
    expect(received).toBeGreaterThan(0);
    // Every request perfdhcp sent was relayed to BLUE's one server ...
    await expect.poll(() => count("to-server"), { timeout: 5000 }).toBe(toServer + sent);
    // ... and every reply it received came through the relay (Kea may answer a few after perfdhcp stops).
    const replies = (await count("to-client")) - toClient;
    expect(replies).toBeGreaterThanOrEqual(received);
    expect(replies).toBeLessThanOrEqual(sent);
    expect(await lab.counter("dhcplab_relay_drops_total")).toBe(drops);
    // The default lab's relay moves them through its native datapath (recvmmsg/sendmmsg).
    expect(await lab.counter("dhcplab_relay_datapath", { kind: "native" })).toBe(1);
  });

  it("a client that no rule matches gets nothing and is counted as dropped", async () => {
    const before = await lab.counter("dhcplab_relay_drops_total", { family: 4, reason: "unmatched" });
    const r = await lab.load({
      mac: "00:cc:01:00:00:00",
      family: 4,
      clients: 5,
      rate: 5,
      seconds: 1,
    });
    expect(completed(r.report)).toBe(0);
    const sent = r.report.exchanges[0]?.sent ?? 0;
    expect(sent).toBeGreaterThan(0);
    await expect
      .poll(() => lab.counter("dhcplab_relay_drops_total", { family: 4, reason: "unmatched" }), {
        timeout: 5000,
      })
      .toBe(before + sent);
  });

  it("survives a barrage of random datagrams on both ports, counting each, while a real client gets a lease", async () => {
    const relay4 = lab.spec.access.relay.ipv4;
    const relay6 = lab.spec.access.relay.ipv6;
    const dropsBefore = await lab.counter("dhcplab_relay_drops_total");
    // 150 datagrams of random bytes and length per port (mutated real packets: the unit tests' fuzzing).
    const script = [
      "n=0",
      "for i in $(seq 150); do",
      `  head -c $((RANDOM % 600 + 1)) /dev/urandom > /dev/udp/${relay4}/67 && n=$((n+1))`,
      `  head -c $((RANDOM % 300 + 1)) /dev/urandom > /dev/udp/${relay6}/547 && n=$((n+1))`,
      "done",
      "echo SENT $n",
    ].join("\n");
    const [barrage, client] = await Promise.all([
      lab.run(["bash", "-c", script]),
      lab.client({
        kind: "dhclient",
        family: 4,
        mac: "00:aa:01:00:02:01",
      }),
    ]);
    expect(barrage.output).toContain("SENT 300");
    expect(client.address).toMatch(/^192\.168\.10\./);
    // Every garbage datagram was dropped and counted under some reason.
    await expect
      .poll(() => lab.counter("dhcplab_relay_drops_total"), { timeout: 5000 })
      .toBe(dropsBefore + 300);
    const after = await lab.client({
      kind: "udhcpc",
      family: 4,
      mac: "00:bb:01:00:02:02",
    });
    expect(after.address).toMatch(/^192\.168\.20\./);
  });

  it("keeps, for a failed test, every container's log and a capture of each lab network", async () => {
    // Traffic of both families to RED, for the captures to hold.
    for (const family of [4, 6] as const)
      await lab.load({ mac: "00:aa:01:00:03:00", family, clients: 2, rate: 2, seconds: 1 });
    const dir = await lab.saveArtifacts("artifacts-check");
    try {
      const files = await readdir(dir);
      expect(files).toEqual(
        expect.arrayContaining(["access.pcap", "red.pcap", "blue.pcap", `${lab.spec.relay.container}.log`]),
      );
      // That traffic is in the captures: the access network saw DHCPv4 and DHCPv6, RED's Kea answered.
      const access = udpDatagrams(await readFile(join(dir, "access.pcap")));
      expect(access.some((d) => d.dstPort === 67)).toBe(true);
      expect(access.some((d) => d.dstPort === 547)).toBe(true);
      expect(
        udpDatagrams(await readFile(join(dir, "red.pcap"))).some((d) => d.srcPort === 547 && d.family === 6),
      ).toBe(true);
      expect(await readFile(join(dir, `${lab.spec.relay.container}.log`), "utf8")).toContain("relay serving");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  // The DHCP half of isolation (nothing a host on one VRF's network sends crosses to another
  // VRF's Kea through the relay) is proved with crafted packets in conformance.test.ts.
  it("VRFs are isolated at the IP layer, IPv4 and IPv6: BLUE's Kea cannot reach RED's network, and the relay forwards only behind its chain", async () => {
    const red = lab.spec.vrfs.find((v) => v.spec.name === "RED");
    if (!red) throw new Error("the default lab has RED");
    const blue = lab.spec.vrfs.find((v) => v.spec.name === "BLUE");
    // The relay's HTTP port listens on its address in every network: BLUE's Kea reaches it on
    // BLUE's network, and not on RED's (Docker's internal networks drop what would cross).
    const healthz = (address: string) =>
      httpGetFrom(lab, "kea-blue", `http://${urlHost(address)}:${lab.spec.relay.httpPort}/healthz`);
    expect((await healthz(blue?.relay.ipv4 ?? "")).stdout).toBe("200");
    expect((await healthz(blue?.relay.ipv6 ?? "")).stdout).toBe("200");
    // IPv6 too: Docker gives the internal network a default route via its bridge, and the host
    // forwards IPv6; the lab's ip6tables rules keep each bridge's IPv6 to itself (firewall.ts).
    for (const address of [red.relay.ipv4, red.relay.ipv6]) {
      const acrossVrfs = await healthz(address);
      expect(acrossVrfs.exitCode, address).not.toBe(0);
      expect(acrossVrfs.stdout, address).toBe("000");
    }
    // The relay forwards IPv6 (delegated prefixes, client subnets) and IPv4 only behind its
    // nftables chain, whose policy is drop; of IPv4 (without towers or boot servers) only each
    // VRF's Kea's DHCP to that VRF's clients (an INFORM's ACK, exchanges.test.ts).
    const read = async (file: string) => (await lab.exec("relay", ["cat", file])).stdout.trim();
    expect(await read("/proc/sys/net/ipv4/ip_forward")).toBe("1");
    expect(await read("/proc/sys/net/ipv6/conf/all/forwarding")).toBe("1");
    const chain = await lab.exec("relay", ["nft", "list", "chain", "inet", "dhcplab", "forward"]);
    expect(chain.stdout).toMatch(/policy drop;/);
    const rules4 = chain.stdout.split("\n").filter((l) => / ip (saddr|daddr) /.test(l));
    expect(
      rules4.map((l) => /ip saddr (\S+) ip daddr (.+) udp sport 67 udp dport 68 accept/.exec(l)?.slice(1)),
    ).toEqual([
      [red.keas[0]?.ipv4, "{ 192.168.10.0/23 }"],
      [blue?.keas[0]?.ipv4, "192.168.20.0/24"],
    ]);
    // A RED host routing through the relay reaches the relay, and not RED's Kea.
    const probe = [
      "from scapy.all import ICMP, IP, conf, sr1",
      "conf.verb = 0",
      `for name, to in (('relay', '192.168.10.1'), ('kea', '${red.keas[0]?.ipv4 ?? ""}')):`,
      "    print(name, sr1(IP(dst=to) / ICMP(), timeout=2) is not None)",
    ].join("\n");
    const r = await lab.run(
      [
        "sh",
        "-c",
        `ip addr add 192.168.10.77/24 dev eth0 && ip route replace default via 192.168.10.1 && python3 - <<'PY'\n${probe}\nPY`,
      ],
      { mac: "00:aa:01:00:0f:01", capAdd: ["NET_ADMIN", "NET_RAW"] },
    );
    expect(r.output.trim().split("\n").slice(-2)).toEqual(["relay True", "kea False"]);
  });
});

describe("labs side by side", () => {
  it("two labs with different names serve at the same time, and down --all removes them entirely", async () => {
    // down --all removes every dhcplab lab on the host; here it is scoped to this test's two labs,
    // so that it leaves the other test files' labs alone.
    const group = { "dev.dhcplab.test-group": `side-${process.pid}` };
    const [a, b] = await Promise.all([
      startTestLab("side-a", undefined, group),
      startTestLab("side-b", undefined, group),
    ]);
    try {
      const subnets = (l: TestLab) =>
        l.spec.networks.flatMap((n) => [n.subnets.ipv4Subnet, n.subnets.ipv6Subnet]);
      expect(subnets(a).some((s) => subnets(b).includes(s))).toBe(false);
      const [ra, rb] = await Promise.all([
        a.load({
          mac: "00:aa:01:00:00:00",
          family: 4,
          clients: 10,
          rate: 20,
          seconds: 2,
        }),
        b.load({
          mac: "00:bb:01:00:00:00",
          family: 4,
          clients: 10,
          rate: 20,
          seconds: 2,
        }),
      ]);
      expect(completed(ra.report)).toBeGreaterThan(20);
      expect(completed(rb.report)).toBeGreaterThan(20);
    } finally {
      const removed = await removeLabs(undefined, { label: `dev.dhcplab.test-group=side-${process.pid}` });
      // Per lab: Kea RED, Kea BLUE, the relay, its reaper, the test's capture sidecar; the access
      // and two backend networks.
      expect(removed).toEqual({ containers: 10, networks: 6 });
    }
    for (const name of [a.spec.name, b.spec.name]) {
      await expect(openLab(name, { docker: a.docker })).rejects.toThrow(/no lab named/);
      const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`] });
      expect(await a.docker.listContainers({ all: true, filters })).toEqual([]);
      expect(await a.docker.listNetworks({ filters })).toEqual([]);
    }
    // Removing what is gone already is not an error.
    expect(await removeLabs(a.spec.name)).toEqual({
      containers: 0,
      networks: 0,
    });
  });
});
