import { describe, expect, it } from "vitest";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import { type Cpe, startCpe } from "../support/cpe.ts";
import { httpGetFrom, urlHost } from "../support/http.ts";
import { useTestLab } from "../support/lab.ts";

// DHCPv6 prefix delegation through the relay, on the default lab (Kea 3.0; RED delegates /56s of
// fd10:100::/48 to its VIDEO class, BLUE of fd20:100::/48): CPE routers get a prefix, Kea holds it
// as IA_PD with the relay's Interface-ID, the relay routes it via the CPE, the VRF's backend
// reaches an address inside it and another VRF does not, RELEASE takes the route away, a
// restarted relay routes what Kea still holds, and the relay sends router advertisements.

/** The /48 pd-pool a /56 came from, or why it is not a /56. */
function delegatedFrom(prefix: string): string {
  const [address = "", length] = prefix.split("/");
  return length === "56" ? networkOf6(`${address}/48`) : `a /${length}, not a /56`;
}

describe("DHCPv6 prefix delegation through the relay", () => {
  const lab = useTestLab("prefix-delegation");

  /** A VRF's Kea service. */
  const kea = (vrf: string) => `kea-${vrf.toLowerCase()}`;
  const delegations = () => lab.delegations();
  const relayRoute = async (prefix: string) =>
    (
      await lab.exec("relay", ["ip", "-6", "route", "show", "table", "all", prefix, "proto", "dhcp"])
    ).stdout.trim();
  const pdLeases = async (vrf: string) =>
    (await lab.leases({ vrf, family: 6 })).filter((l) => l.type === "IA_PD" && l.validLifetime > 0);
  /** An HTTP GET from a VRF's Kea container (its backend network) to `address`: the status code, "000" if none came. */
  const getFrom = async (vrf: string, address: string) =>
    (await httpGetFrom(lab, kea(vrf), `http://${urlHost(address)}:8080/`)).stdout;

  /**
   * The CPE takes the first address of its prefix, serves HTTP there, and routes upstream
   * through the relay, its first-hop router (instead of Docker's default route to the host; the
   * lab's RAs announce no default router, see the README).
   */
  async function serveInPrefix(cpe: Cpe, prefix: string): Promise<string> {
    const address = prefix.replace(/::\/\d+$/, "::1");
    const r = await cpe.sh(
      [
        `ip -6 addr add ${address}/128 dev lo`,
        `ip -6 route replace default via ${lab.spec.access.relay.ipv6} dev eth0`,
        `nohup python3 -m http.server --bind ${address} 8080 > /tmp/http.log 2>&1 < /dev/null &`,
        `for i in $(seq 100); do ss -ltn | grep -q '\\[${address}\\]:8080' && break; sleep 0.1; done`,
        "ip -6 route show default",
      ].join("\n"),
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`default via ${lab.spec.access.relay.ipv6} dev eth0`);
    return address;
  }

  /** A CPE of RED with its delegated prefix, serving HTTP in it: made once, by the first test that needs it. */
  let redCpe: Promise<{ cpe: Cpe; prefix: string; address: string }> | undefined;
  const servingRedCpe = () => {
    redCpe ??= (async () => {
      const cpe = await startCpe(lab, "00:aa:01:00:16:02");
      const r = await cpe.sh("dhcplab-client dhcpcd 6 --pd");
      const prefix = /^PREFIX (\S+)$/m.exec(r.stdout)?.[1];
      if (!prefix) throw new Error(`the dhcpcd CPE got no prefix:\n${r.stdout}${r.stderr}`);
      return { cpe, prefix, address: await serveInPrefix(cpe, prefix) };
    })();
    return redCpe;
  };

  it("a dhcpcd CPE of RED gets a /56 of RED's pd-pool: Kea holds it as IA_PD with the relay's Interface-ID, the relay routes it via the CPE", async () => {
    const cpe = await startCpe(lab, "00:aa:01:00:16:01");
    const r = await cpe.sh("dhcplab-client dhcpcd 6 --pd");
    const prefix = /^PREFIX (\S+)$/m.exec(r.stdout)?.[1];
    expect(prefix && delegatedFrom(prefix), r.stdout + r.stderr).toBe("fd10:100::/48");
    if (!prefix) return;
    const lease = (await pdLeases("RED")).find((l) => `${l.address}/${l.prefixLength}` === prefix);
    expect(lease, "Kea's IA_PD lease").toBeDefined();
    expect(lease?.relay?.circuitId).toBe("V6_VIDEO_LINK");
    const via = await cpe.linkLocal();
    expect(await delegations()).toContainEqual(
      expect.objectContaining({ prefix, vrf: "RED", via, segment: "access", learnedFrom: "reply" }),
    );
    expect(await relayRoute(prefix)).toMatch(
      new RegExp(`^${prefix.replace("/", "\\/")} via ${via} dev eth\\d+`),
    );
    expect(
      await lab.counter("dhcplab_relay_delegated_routes", { vrf: "RED" }),
      "the routes gauge",
    ).toBeGreaterThanOrEqual(1);
  });

  it("RED's backend reaches an address inside the prefix through the relay; BLUE's, routed through the relay too, does not", async () => {
    const red = await servingRedCpe();
    const { address } = red;
    // RED's Kea has the route to RED's delegated prefixes from the lab (DHCPLAB_ROUTES).
    await expect.poll(() => getFrom("RED", address), { timeout: 15_000, interval: 500 }).toBe("200");
    // The relay's own packets find it too (an echo reply, an ICMPv6 error to a host behind the
    // CPE): the prefix is routed in RED's table, which a VRF on every segment lends to them.
    const own = await lab.exec("relay", ["ip", "-6", "route", "get", address]);
    expect(own.stdout).toMatch(new RegExp(`via ${await red.cpe.linkLocal()} dev eth\\d+ table \\d+`));
    // BLUE's Kea is given the same route, through the relay's BLUE address: only the relay's
    // forward chain stands between BLUE and the prefix, and it drops BLUE's packets.
    const blue = lab.spec.vrfs.find((v) => v.spec.name === "BLUE");
    const route = await lab.exec(kea("BLUE"), [
      "ip",
      "-6",
      "route",
      "replace",
      red.prefix,
      "via",
      blue?.relay.ipv6 ?? "",
    ]);
    expect(route.exitCode, route.stderr).toBe(0);
    expect(await getFrom("BLUE", address)).toBe("000");
    // And RED still does, at once: the path was up while BLUE tried.
    expect(await getFrom("RED", address)).toBe("200");
  });

  it("a dhclient CPE of BLUE gets a prefix of BLUE's pool; after its RELEASE the route is gone and Kea no longer holds it", async () => {
    const releasedBefore = await lab.counter("dhcplab_relay_delegations_total", {
      vrf: "BLUE",
      event: "released",
    });
    const cpe = await startCpe(lab, "00:bb:00:00:16:02");
    const bound = await cpe.sh(
      "dhclient -6 -N -P -1 -v -lf /tmp/leases eth0 > /tmp/out 2>&1; cat /tmp/leases",
    );
    const prefix = /iaprefix (\S+) \{/.exec(bound.stdout)?.[1];
    expect(prefix && delegatedFrom(prefix), bound.stdout).toBe("fd20:100::/48");
    if (!prefix) return;
    expect((await pdLeases("BLUE")).map((l) => `${l.address}/${l.prefixLength}`)).toContain(prefix);
    const via = await cpe.linkLocal();
    expect(await relayRoute(prefix)).toContain(`via ${via}`);
    const released = await cpe.sh("dhclient -6 -r -N -P -v -lf /tmp/leases eth0 2>&1");
    expect(released.exitCode, released.stdout).toBe(0);
    await expect.poll(() => relayRoute(prefix), { timeout: 5000 }).toBe("");
    expect((await delegations()).map((d) => d.prefix)).not.toContain(prefix);
    await expect
      .poll(async () => (await pdLeases("BLUE")).map((l) => `${l.address}/${l.prefixLength}`), {
        timeout: 5000,
      })
      .not.toContain(prefix);
    expect(
      (await lab.counter("dhcplab_relay_delegations_total", { vrf: "BLUE", event: "released" })) -
        releasedBefore,
    ).toBe(1);
  });

  it("router advertisements: a dhcpcd host that waits for one (no DHCPv6 forced) asks DHCPv6 for an address because of its M flag", async () => {
    const host = await startCpe(lab, "00:aa:02:00:16:03");
    // dhcpcd solicits a router, and starts DHCPv6 only when the RA says so (managed flag).
    const r = await host.sh("timeout 40 dhcpcd -6 -1 -t 30 -f /dev/null eth0 2>&1");
    expect(r.stdout).toMatch(/Router Advertisement from fe80::/);
    expect(r.stdout).toMatch(/soliciting a DHCPv6 lease/);
    expect(r.stdout).toMatch(/adding address fd00:11::[0-9a-f]+\/128/);
    // The RA's on-link prefixes are the VRFs' client subnets.
    expect(r.stdout).toMatch(/adding route to fd00:11::\/64/);
  });

  it("perfdhcp prefix-only load through the relay: a route per delegated prefix, counters that agree with perfdhcp and Kea", async () => {
    const routes = () => lab.counter("dhcplab_relay_delegated_routes", { vrf: "RED" });
    const replies = () =>
      lab.counter("dhcplab_relay_messages_total", {
        family: 6,
        vrf: "RED",
        type: "REPLY",
        direction: "to-client",
      });
    const [routesBefore, repliesBefore] = [await routes(), await replies()];
    const mac = "00:aa:01:00:17:00";
    const load = await lab.load({
      mac,
      family: 6,
      clients: 20,
      rate: 20,
      seconds: 3,
      pd: "prefix-only",
    });
    expect(load.exitCode, load.output).toBe(0);
    const exchange = load.report.exchanges.find((e) => e.exchange === "REQUEST-REPLY");
    expect(exchange?.received).toBeGreaterThan(0);
    // Each REPLY perfdhcp received went through the relay, and the relay learned a route from it.
    expect((await replies()) - repliesBefore).toBe(exchange?.received);
    // perfdhcp's DUIDs carry the MAC (it varies the last byte): the load's prefixes in Kea, one route each in the relay.
    const duidMac = mac.slice(0, 15);
    const held = (await pdLeases("RED")).filter((l) => l.client.includes(duidMac));
    expect(held.length).toBeGreaterThan(0);
    const table = (await delegations()).map((d) => d.prefix);
    const missing = held.filter((l) => !table.includes(`${l.address}/${l.prefixLength}`));
    expect(missing, JSON.stringify(missing)).toEqual([]);
    expect((await routes()) - routesBefore).toBe(held.length);
  });

  it("a restarted relay routes the prefixes Kea still holds again, read from Kea's lease table", async () => {
    const red = await servingRedCpe();
    const { prefix, address } = red;
    await lab.stop("relay", 2);
    await lab.start("relay");
    await lab.healthy("relay", 30_000);
    await expect
      .poll(async () => (await delegations()).find((d) => d.prefix === prefix)?.learnedFrom, {
        timeout: 20_000,
      })
      .toBe("lease-table");
    expect(await relayRoute(prefix)).toContain(`via ${await red.cpe.linkLocal()}`);
    await expect.poll(() => getFrom("RED", address), { timeout: 15_000, interval: 500 }).toBe("200");
  });
});
