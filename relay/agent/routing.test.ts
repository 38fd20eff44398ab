import { describe, expect, it } from "vitest";
import { quietLog } from "../../test/support/relay-fakes.ts";
import type { Delegation } from "./delegations.ts";
import { delegationSet, forwardRuleset, KernelRoutes } from "./routing.ts";

const d = (prefix: string, vrf = "RED"): Delegation => ({
  prefix,
  vrf,
  via: "fe80::1",
  segment: "access",
  validUntil: Number.POSITIVE_INFINITY,
  learnedFrom: "reply",
});

describe("the relay's forwarding", () => {
  it("drops by default; accepts a VRF's client subnets and delegated set between its backend and the access side, its servers' DHCP replies to its clients, its clients to its services, and towers' replies", () => {
    const text = forwardRuleset({
      towers: { backends: ["eth1"], transport: "eth3", prefixes: ["100.64.1.0/24"] },
      vrfs4: [
        {
          vrf: "RED",
          backend: "eth1",
          access: ["eth0", "eth3"],
          clients: ["192.168.10.0/24"],
          servers: ["10.69.10.10"],
          ping: true,
          services: ["10.69.10.2"],
        },
        {
          vrf: "BLUE-2",
          backend: "eth2",
          access: ["eth4"],
          clients: ["192.168.10.0/24"],
          servers: [],
          ping: false,
          services: [],
        },
      ],
      vrfs6: [
        {
          vrf: "RED",
          backend: "eth1",
          access: ["eth0", "eth3"],
          prefixes: ["fd00:10::/64"],
          set: delegationSet("RED"),
        },
        { vrf: "BLUE-2", backend: "eth2", access: ["eth4"], prefixes: [], set: delegationSet("BLUE-2") },
      ],
    });
    // Made anew each start: a restarted relay leaves no stale rule.
    expect(text).toMatch(/^table inet dhcplab\ndelete table inet dhcplab\n/);
    expect(text).toContain("policy drop;");
    expect(text).toContain(
      'iifname "eth1" oifname "eth3" ip daddr 100.64.1.0/24 udp sport 67 udp dport 67 accept',
    );
    expect(text).toContain('iifname "eth1" oifname { "eth0", "eth3" } ip6 daddr { fd00:10::/64 } accept');
    expect(text).toContain('iifname { "eth0", "eth3" } oifname "eth1" ip6 saddr @delegated6_RED accept');
    expect(text).toContain("set delegated6_BLUE_2 {");
    // A VRF's services: its client subnets to them and back, through its own backend only.
    expect(text).toContain(
      'iifname { "eth0", "eth3" } oifname "eth1" ip saddr { 192.168.10.0/24 } ip daddr { 10.69.10.2 } accept',
    );
    expect(text).toContain(
      'iifname "eth1" oifname { "eth0", "eth3" } ip saddr { 10.69.10.2 } ip daddr { 192.168.10.0/24 } accept',
    );
    // A VRF's servers: DHCP (port 67 to 68) to its client subnets only (an INFORM's ACK to ciaddr).
    expect(text).toContain(
      'iifname "eth1" oifname { "eth0", "eth3" } ip saddr { 10.69.10.10 } ip daddr { 192.168.10.0/24 } udp sport 67 udp dport 68 accept',
    );
    // Servers that ping before they offer (Kea's ping_check): echo requests out, replies back.
    expect(text).toContain(
      'iifname "eth1" oifname { "eth0", "eth3" } ip saddr { 10.69.10.10 } ip daddr { 192.168.10.0/24 } icmp type echo-request accept',
    );
    expect(text).toContain(
      'iifname { "eth0", "eth3" } oifname "eth1" ip saddr { 192.168.10.0/24 } ip daddr { 10.69.10.10 } icmp type echo-reply ct state established accept',
    );
    // A VRF without servers or services forwards nothing of IPv4.
    expect(text).not.toMatch(/iifname "eth2" oifname "eth4" ip saddr/);
    expect(text).not.toMatch(/oifname "eth2" ip saddr/);
    // A VRF with no client subnets has its delegated set only, between its backend and its own
    // segment: BLUE-2 numbers its clients as RED does, and RED's segments never reach it.
    expect(text).not.toMatch(/oifname "eth2" ip6 saddr \{/);
    expect(text).toContain('iifname "eth4" oifname "eth2" ip6 saddr @delegated6_BLUE_2 accept');
    expect(text).toContain('iifname "eth2" oifname "eth4" ip6 daddr @delegated6_BLUE_2 accept');
    expect(text.split("\n").filter((l) => l.includes('"eth2"') && /"eth0"|"eth3"/.test(l))).toEqual([]);
    // No VRF on segments of its own: nothing is marked.
    expect(text).not.toContain("chain vrf_in");
  });

  it("marks the connections that come in on a VRF's own segments with its table, and the relay's answers on them", () => {
    const text = forwardRuleset({ vrfs4: [], vrfs6: [], marks: [{ devs: ["eth4"], mark: 101 }] });
    expect(text).toContain("type filter hook prerouting priority mangle; policy accept;");
    expect(text).toContain('iifname "eth4" ct mark set 101');
    expect(text).toContain("type route hook output priority mangle; policy accept;");
    expect(text).toContain("ct mark != 0 meta mark set ct mark");
  });

  it("batches a burst of route changes into one ip and one nft run, and rewrites the sets when nftables refuses", async () => {
    const runs: { program: string; input: string }[] = [];
    let refuse = false;
    const table: Delegation[] = [];
    const routes = new KernelRoutes({
      devOf: (s) => (s === "access" ? "eth0" : undefined),
      sets: new Map([
        ["RED", "delegated6_RED"],
        ["BLUE", "delegated6_BLUE"],
      ]),
      tables: new Map([
        ["RED", 100],
        ["BLUE", 101],
      ]),
      snapshot: () => table,
      log: quietLog,
      run: async (program, _args, input) => {
        runs.push({ program, input });
        if (program === "nft" && refuse && input.includes("delete element")) throw new Error("No such file");
      },
    });
    routes.install(d("fd10:100::/56"));
    routes.install(d("fd10:100:0:100::/56"));
    await new Promise((r) => setImmediate(r));
    await routes.settled();
    expect(runs.map((r) => r.program)).toEqual(["ip", "nft"]);
    expect(runs[0]?.input).toBe(
      "route replace fd10:100::/56 via fe80::1 dev eth0 proto dhcp table 100\nroute replace fd10:100:0:100::/56 via fe80::1 dev eth0 proto dhcp table 100\n",
    );
    expect(runs[1]?.input).toContain("add element inet dhcplab delegated6_RED { fd10:100:0:100::/56 }");
    refuse = true;
    table.push(d("fd10:100::/56"));
    routes.withdraw(d("fd10:100:0:100::/56"));
    await new Promise((r) => setImmediate(r));
    await routes.settled();
    expect(runs.slice(2).map((r) => r.program)).toEqual(["ip", "nft", "nft"]);
    expect(runs[4]?.input).toBe(
      "flush set inet dhcplab delegated6_RED\nflush set inet dhcplab delegated6_BLUE\nadd element inet dhcplab delegated6_RED { fd10:100::/56 }\n",
    );
  });
});
