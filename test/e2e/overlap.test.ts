import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { addressIn, held, PRINT_ADDRESSES, runScript } from "../support/cases.ts";
import { type Cpe, startCpe } from "../support/cpe.ts";
import { urlHost } from "../support/http.ts";
import { useTestLab } from "../support/lab.ts";

// Overlapping address spaces (issue #32), from examples/overlap: RED and BLUE both number their
// clients 192.168.10.0/24 and fd00:10::/64 and delegate /56s of fd10:100::/48, each from its own
// Kea 3.0, RED's clients on red-port and BLUE's on blue-port. The relay holds each tenant's
// gateways on its port only, routes each VRF in a table of its own, and sends RFC 6607 VSS, which
// each Kea requires of its pools (so a lease proves the VPN arrived). The same address is leased
// in both tenants at once; each renews and releases through its own port, and the other keeps it.

const TENANTS = [
  { vrf: "RED", segment: "red-port", kea: "kea-red" },
  { vrf: "BLUE", segment: "blue-port", kea: "kea-blue" },
] as const;

describe("overlapping VRFs: two tenants numbered alike", () => {
  const lab = useTestLab("overlap", () => loadTopology(join(ROOT, "examples", "overlap", "topology.yaml")));

  const segmentOf = (name: string) => {
    const s = lab.spec.segments.find((g) => g.spec.name === name);
    if (!s) throw new Error(`no segment ${name}`);
    return s;
  };
  const vrfOf = (name: string) => {
    const v = lab.spec.vrfs.find((x) => x.spec.name === name);
    if (!v) throw new Error(`no VRF ${name}`);
    return v;
  };
  const relayed = (family: 4 | 6, vrf: string, type: string) =>
    lab.counter("dhcplab_relay_messages_total", { family, vrf, type, direction: "to-server" });
  const leaseOf = async (family: 4 | 6, vrf: string, address: string | undefined) =>
    (await lab.leases({ family, vrf })).find((l) => l.address === address && l.validLifetime > 0);
  /** The relay's interface on a segment: the one holding its Docker address there. */
  const relayDev = async (segment: string) => {
    const r = await lab.exec("relay", ["ip", "-o", "-4", "addr", "show"]);
    const line = r.stdout.split("\n").find((l) => l.includes(` ${segmentOf(segment).relay.ipv4}/`));
    return line?.split(/\s+/)[1] ?? "";
  };

  it("the relay holds each tenant's gateways on its port, and routes each VRF in a table of its own chosen by its backend", async () => {
    for (const t of TENANTS) {
      const dev = await relayDev(t.segment);
      const addrs = await lab.exec("relay", ["ip", "-o", "addr", "show", "dev", dev]);
      expect(addrs.stdout).toContain(" 192.168.10.1/24 ");
      expect(addrs.stdout).toContain(" fd00:10::1/64 ");
      const backend = vrfOf(t.vrf).relay.ipv4;
      const rules = (await lab.exec("relay", ["ip", "-4", "rule"])).stdout;
      const backendDev = (await lab.exec("relay", ["ip", "-o", "-4", "addr", "show"])).stdout
        .split("\n")
        .find((l) => l.includes(` ${backend}/`))
        ?.split(/\s+/)[1];
      const table = new RegExp(`iif ${backendDev} lookup (\\d+)`).exec(rules)?.[1];
      expect(table, rules).toBeDefined();
      for (const family of ["-4", "-6"]) {
        const routes = (await lab.exec("relay", ["ip", family, "route", "show", "table", table ?? ""]))
          .stdout;
        expect(routes).toMatch(
          new RegExp(`^${family === "-4" ? "192\\.168\\.10\\.0/24" : "fd00:10::/64"} dev ${dev} `, "m"),
        );
      }
    }
  });

  it("DHCPv4: each tenant's udhcpc leases the same address from its own Kea, with its VPN; RED's renews by unicast through the gateway both hold and releases, and BLUE keeps its lease", async () => {
    const blue = await lab.client({ kind: "udhcpc", mac: "00:bb:01:00:40:01", segment: "blue-port" });
    expect(blue.address, blue.output).toMatch(/^192\.168\.10\./);
    const blueLease = await leaseOf(4, "BLUE", blue.address);
    expect(blueLease?.relay).toMatchObject({ vss: "BLUE", circuitId: "relay:blue-port" });
    const requests = await relayed(4, "RED", "REQUEST");
    const releases = await relayed(4, "RED", "RELEASE");
    const relayAccess = segmentOf("red-port").relay.ipv4;
    const r = await runScript(
      lab,
      "00:aa:01:00:40:01",
      [
        "udhcpc -f -i eth0 -t 5 -T 2 > /tmp/out 2>&1 & pid=$!",
        "for i in $(seq 100); do ip -o -4 addr show dev eth0 | grep -qF ' inet 192.168.10.' && break; sleep 0.1; done",
        PRINT_ADDRESSES("-4"),
        // The relay's address on the port is no longer on-link: the renewal goes through the gateway.
        // udhcpc's script adds the router after the address: wait for it too (a clean-clone run
        // asked in between, when nothing routed to the relay's address yet).
        "for i in $(seq 100); do ip -4 route show default | grep -qF ' via ' && break; sleep 0.1; done",
        `echo "ROUTE $(ip -4 route get ${relayAccess})"`,
        "kill -USR1 $pid",
        "for i in $(seq 100); do [ \"$(grep -c 'lease of' /tmp/out)\" -ge 2 ] && break; sleep 0.1; done",
        "kill -USR2 $pid",
        "for i in $(seq 50); do ip -o -4 addr show dev eth0 | grep -qF ' inet 192.168.10.' || break; sleep 0.1; done",
        "kill $pid; wait $pid",
        "cat /tmp/out",
      ],
      false,
      "red-port",
    );
    const red = addressIn(r.output, "192.168.10.");
    // The same address, leased in both tenants at once.
    expect(red, r.output).toBe(blue.address);
    expect(r.output).toMatch(
      new RegExp(`^ROUTE ${relayAccess.replaceAll(".", "\\.")} via 192\\.168\\.10\\.1 dev eth0`, "m"),
    );
    expect(r.output).toMatch(new RegExp(`sending renew to server ${relayAccess.replaceAll(".", "\\.")}`));
    expect(r.output.match(/lease of .* obtained/g)?.length, r.output).toBeGreaterThanOrEqual(2);
    // The first REQUEST and the renewal, both RED's.
    expect(await relayed(4, "RED", "REQUEST")).toBeGreaterThanOrEqual(requests + 2);
    await expect.poll(() => relayed(4, "RED", "RELEASE"), { timeout: 5000 }).toBeGreaterThan(releases);
    await expect.poll(() => held(lab, 4, red, "RED"), { timeout: 5000 }).toBe(false);
    expect(await held(lab, 4, blue.address, "BLUE")).toBe(true);
  });

  it("DHCPv6: each tenant's dhclient leases the same address from its own Kea, with its VPN; RED's renews at T1 and releases, and BLUE keeps its lease", async () => {
    const blue = await lab.client({
      kind: "dhclient",
      family: 6,
      mac: "00:bb:01:00:40:02",
      segment: "blue-port",
    });
    expect(blue.address, blue.output).toMatch(/^fd00:10::/);
    expect((await leaseOf(6, "BLUE", blue.address))?.relay).toMatchObject({ vss: "BLUE" });
    const renews = await relayed(6, "RED", "RENEW");
    const r = await runScript(
      lab,
      "00:aa:01:00:40:02",
      [
        WAIT_FOR_LINK,
        "dhclient -6 -d -v -lf /tmp/leases eth0 > /tmp/out 2>&1 & pid=$!",
        // The example's T1 is 5 s: a RENEW and its Reply come within seconds of the bind.
        "for i in $(seq 200); do grep -q '^XMT: Renew' /tmp/out && [ \"$(grep -c '^RCV: Reply' /tmp/out)\" -ge 2 ] && break; sleep 0.1; done",
        PRINT_ADDRESSES("-6"),
        "kill $pid; wait $pid",
        "dhclient -6 -r -v -lf /tmp/leases eth0 >> /tmp/out 2>&1",
        "cat /tmp/out",
      ],
      false,
      "red-port",
    );
    const red = addressIn(r.output, "fd00:10::");
    expect(red, r.output).toBe(blue.address);
    expect(r.output).toMatch(/^XMT: Renew/m);
    expect(r.output.match(/^RCV: Reply/gm)?.length, r.output).toBeGreaterThanOrEqual(2);
    expect(await relayed(6, "RED", "RENEW")).toBeGreaterThan(renews);
    await expect.poll(() => held(lab, 6, red, "RED"), { timeout: 5000 }).toBe(false);
    expect(await held(lab, 6, blue.address, "BLUE")).toBe(true);
  });

  describe("prefix delegation: a dhcpcd CPE of each tenant", () => {
    /** Each tenant's CPE with its delegated prefix, serving its VRF's name over HTTP at the prefix's first address. */
    let cpes: Promise<Record<string, { cpe: Cpe; prefix: string; address: string }>> | undefined;
    const servingCpes = () => {
      cpes ??= (async () => {
        const out: Record<string, { cpe: Cpe; prefix: string; address: string }> = {};
        for (const [i, t] of TENANTS.entries()) {
          const cpe = await startCpe(
            lab,
            `00:${t.vrf === "RED" ? "aa" : "bb"}:01:00:41:0${i + 1}`,
            t.segment,
          );
          const r = await cpe.sh("dhcplab-client dhcpcd 6 --pd");
          const prefix = /^PREFIX (\S+)$/m.exec(r.stdout)?.[1];
          if (!prefix) throw new Error(`${t.vrf}'s CPE got no prefix:\n${r.stdout}${r.stderr}`);
          const address = prefix.replace(/::\/\d+$/, "::1");
          const served = await cpe.sh(
            [
              `ip -6 addr add ${address}/128 dev lo`,
              `ip -6 route replace default via ${segmentOf(t.segment).relay.ipv6} dev eth0`,
              `mkdir -p /tmp/www && echo ${t.vrf} > /tmp/www/index.html`,
              `nohup python3 -m http.server --directory /tmp/www --bind ${address} 8080 > /tmp/http.log 2>&1 < /dev/null &`,
              `for i in $(seq 100); do ss -ltn | grep -q '\\[${address}\\]:8080' && break; sleep 0.1; done`,
            ].join("\n"),
          );
          expect(served.exitCode, served.stderr).toBe(0);
          out[t.vrf] = { cpe, prefix, address };
        }
        return out;
      })();
      return cpes;
    };
    /** What a VRF's Kea container gets from `address`:8080, or "" when nothing answered within 2 s. */
    const getFrom = async (kea: string, address: string) =>
      (
        await lab.exec(kea, ["curl", "-sS", "--max-time", "2", `http://${urlHost(address)}:8080/`])
      ).stdout.trim();

    it("each gets a /56 of fd10:100::/48 from its own Kea, which the relay routes in that VRF's table via the CPE on its port", async () => {
      const got = await servingCpes();
      const delegations = await lab.delegations();
      for (const t of TENANTS) {
        const { cpe, prefix } = got[t.vrf] ?? { prefix: "" };
        expect(prefix).toMatch(/^fd10:100:[0-9a-f:]*\/56$/);
        const via = await cpe?.linkLocal();
        expect(delegations).toContainEqual(
          expect.objectContaining({ prefix, vrf: t.vrf, via, segment: t.segment, learnedFrom: "reply" }),
        );
        const route = (
          await lab.exec("relay", ["ip", "-6", "route", "show", "table", "all", prefix, "proto", "dhcp"])
        ).stdout;
        expect(route).toMatch(new RegExp(`via ${via} dev ${await relayDev(t.segment)} table \\d+`));
      }
    });

    it("each VRF's backend reaches its own CPE's prefix and never the other tenant's, even where the prefixes are the same", async () => {
      const got = await servingCpes();
      const red = got.RED;
      const blue = got.BLUE;
      if (!red || !blue) throw new Error("both CPEs");
      await expect
        .poll(() => getFrom("kea-red", red.address), { timeout: 15_000, interval: 500 })
        .toBe("RED");
      await expect
        .poll(() => getFrom("kea-blue", blue.address), { timeout: 15_000, interval: 500 })
        .toBe("BLUE");
      // Kea's pools are alike: each tenant's first CPE usually gets the same prefix, and then each
      // VRF's Kea, asking for the other's address, reaches its own CPE. Where they differ, the other
      // tenant's address is unreachable from it.
      const same = red.prefix === blue.prefix;
      expect(await getFrom("kea-blue", red.address)).toBe(same ? "BLUE" : "");
      expect(await getFrom("kea-red", blue.address)).toBe(same ? "RED" : "");
    });

    it("isolation: BLUE's CPE, from its prefix, reaches BLUE's Kea and not RED's, whatever address it claims", async () => {
      const got = await servingCpes();
      const blue = got.BLUE;
      if (!blue) throw new Error("BLUE's CPE");
      // An ICMPv6 echo from the CPE's address in its prefix (the client image has scapy, not ping).
      const ping = async (to: string) =>
        (
          await blue.cpe.sh(
            [
              "python3 - <<'PY'",
              "from scapy.all import ICMPv6EchoRequest, IPv6, conf, sr1",
              "conf.verb = 0",
              `print('reached' if sr1(IPv6(src='${blue.address}', dst='${to}') / ICMPv6EchoRequest(), timeout=2) else 'not')`,
              "PY",
            ].join("\n"),
          )
        ).stdout.trim();
      expect(await ping(vrfOf("BLUE").keas[0]?.ipv6 ?? "")).toBe("reached");
      expect(await ping(vrfOf("RED").keas[0]?.ipv6 ?? "")).toBe("not");
    });
  });

  it("isolation: a BLUE host numbered in the shared subnet reaches its gateway on the relay, and neither tenant's Kea", async () => {
    const probe = [
      "from scapy.all import ICMP, IP, conf, sr1",
      "conf.verb = 0",
      `for name, to in (('gateway', '192.168.10.1'), ('kea-blue', '${vrfOf("BLUE").keas[0]?.ipv4 ?? ""}'), ('kea-red', '${vrfOf("RED").keas[0]?.ipv4 ?? ""}')):`,
      "    print(name, sr1(IP(dst=to) / ICMP(), timeout=2) is not None)",
    ].join("\n");
    const r = await lab.run(
      [
        "sh",
        "-c",
        `ip addr flush dev eth0 scope global && ip addr add 192.168.10.77/24 dev eth0 && ip route replace default via 192.168.10.1 && python3 - <<'PY'\n${probe}\nPY`,
      ],
      { mac: "00:bb:01:00:0f:01", segment: "blue-port", capAdd: ["NET_ADMIN", "NET_RAW"] },
    );
    expect(r.output.trim().split("\n").slice(-3)).toEqual([
      "gateway True",
      "kea-blue False",
      "kea-red False",
    ]);
  });
});
