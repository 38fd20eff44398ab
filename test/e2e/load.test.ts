import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { macToString } from "../../lib/codec/address.ts";
import { MSG } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { messageType } from "../../lib/codec/dhcp4/options.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { useTestLab } from "../support/lab.ts";

// 1,000 perfdhcp clients per family through the relay at a steady rate: the relay loses
// nothing (its counters and perfdhcp's agree), drops nothing, and the clients hold leases.
// Then 1,000 DHCPv4 clients of the clients engine, which send as clients on the wire do:
// the relay runs its first-hop path (no downstream relay), and every client holds a lease.

const CLIENTS = 1000;
const RATE = 200;
/** perfdhcp's runs: 2,000 exchanges over the 1,000 clients. */
const PERFDHCP_SECONDS = 10;
/** The clients engine's: it goes round the 1,000 three times, so that a lost broadcast costs no client its lease. */
const SECONDS = 15;

describe("load through the relay", () => {
  // BLUE with a /20 for DHCPv4 (the default /24 holds 241 clients); DHCPv6's pool is large already.
  const lab = useTestLab("load", async () => {
    const t = await loadTopology();
    const large = join(import.meta.dirname, "..", "fixtures", "kea-configs", "BLUE-large");
    return { ...t, vrfs: t.vrfs.map((v) => (v.name === "BLUE" ? { ...v, keaConfig: large } : v)) };
  });

  it.each([
    {
      family: 4,
      mac: "00:bb:01:10:00:00",
      exchanges: [
        ["DISCOVER", "OFFER"],
        ["REQUEST", "ACK"],
      ],
      prefix: "192.168.",
    },
    {
      family: 6,
      mac: "00:bb:02:10:00:00",
      exchanges: [
        ["SOLICIT", "ADVERTISE"],
        ["REQUEST", "REPLY"],
      ],
      prefix: "fd00:20::",
    },
  ] as const)(
    `DHCPv$family: ${CLIENTS} clients at ${RATE}/s for ${PERFDHCP_SECONDS} s`,
    async ({ family, mac, exchanges, prefix }) => {
      const count = (type: string, direction: string) =>
        lab.counter("dhcplab_relay_messages_total", { family, vrf: "BLUE", type, direction });
      const before = await Promise.all(
        exchanges.flat().map((t, i) => count(t, i % 2 === 0 ? "to-server" : "to-client")),
      );
      const r = await lab.load({
        mac,
        family,
        clients: CLIENTS,
        rate: RATE,
        seconds: PERFDHCP_SECONDS,
        messages: true,
      });
      const relayedNow = async () =>
        (
          await Promise.all(exchanges.flat().map((t, i) => count(t, i % 2 === 0 ? "to-server" : "to-client")))
        ).map((n, i) => n - (before[i] ?? 0));
      // The relay's counters are read once it has handled every request perfdhcp sent.
      await expect
        .poll(async () => (await relayedNow()).filter((_, i) => i % 2 === 0), { timeout: 5000 })
        .toEqual(r.report.exchanges.map((e) => e.sent));
      const relayed = await relayedNow();

      r.report.exchanges.forEach((e, i) => {
        // Everything perfdhcp sent reached the relay and went on to Kea ...
        expect(relayed[2 * i], `${e.exchange} requests relayed`).toBe(e.sent);
        // ... and everything perfdhcp received came through the relay (a few more may have
        // arrived after perfdhcp stopped counting).
        expect(relayed[2 * i + 1], `${e.exchange} replies relayed`).toBeGreaterThanOrEqual(e.received);
        expect(relayed[2 * i + 1] ?? 0).toBeLessThanOrEqual(e.received + RATE);
      });
      // What perfdhcp counts as drops (a reply later than it waits, on two busy cores) is no
      // loss of the relay's: it relayed every request and every reply. Rates and drop ratios
      // are the benchmark's business (npm run bench), not a test's.
      expect(await lab.counter("dhcplab_relay_drops_total", { family })).toBe(0);
      // The load's own count of what crossed the relay: each request type as the relay relayed
      // it beside Kea's matching statistic; no NAK, DECLINE or INFORM. Kea received what the relay
      // sent, never more, and all but a few: on two cores shared with another lab a datagram is
      // lost on the way into Kea at times (a CI run: 6 of 1,999 DISCOVERs, the relay's sends all
      // succeeded, Kea's log counted 1,993 received; another, at a load average of 6: 21 of 1,999).
      for (const [request] of exchanges) {
        const m = r.messages?.find(
          (x) => x.vrf === "BLUE" && x.type === request && x.direction === "to-server",
        );
        const relayedByRelay = m?.relay ?? 0;
        expect(relayedByRelay, `${request} in the load's messages`).toBeGreaterThan(0);
        expect(m?.kea?.statistic).toBe(`pkt${family}-${request.toLowerCase()}-received`);
        expect(m?.kea?.count).toBeLessThanOrEqual(relayedByRelay);
        expect(m?.kea?.count).toBeGreaterThanOrEqual(Math.floor(relayedByRelay * 0.98));
      }
      expect(r.messages?.filter((x) => ["NAK", "DECLINE", "INFORM"].includes(x.type))).toEqual([]);

      // perfdhcp draws its clients at random from the 1,000: after 2,000 exchanges about 865
      // distinct ones (1 - e^-2) hold a lease, each in the subnet its MAC's rule leads to.
      // This run's clients only (MACs under the base's first four bytes; DHCPv6 DUIDs carry the MAC).
      const mine = mac.slice(0, 11);
      const leases = (await lab.leases({ vrf: "BLUE", family: family })).filter(
        (l) =>
          l.address.startsWith(prefix) &&
          (family === 4 ? l.client.startsWith(mine) : l.client.includes(mine)),
      );
      expect(leases.length).toBeGreaterThan(800);
      expect(leases.length).toBeLessThanOrEqual(CLIENTS);
    },
  );

  it(`DHCPv4 first hop: ${CLIENTS} clients of the clients engine at ${RATE}/s for ${SECONDS} s`, async () => {
    const mac = "00:bb:01:30:00:00";
    const count = (type: string, direction: string) =>
      lab.counter("dhcplab_relay_messages_total", { family: 4, vrf: "BLUE", type, direction });
    const downstream = () => lab.counter("dhcplab_relay_downstream_total", { family: 4 });
    const before = { discovers: await count("DISCOVER", "to-server"), downstream: await downstream() };
    const r = await lab.load({
      mac,
      engine: "clients",
      family: 4,
      clients: CLIENTS,
      rate: RATE,
      seconds: SECONDS,
    });
    expect(r.report.engine).toBe("clients");
    const [discoverOffer, requestAck] = r.report.exchanges;
    expect(discoverOffer?.sent).toBe(RATE * SECONDS);
    // The relay relayed the DISCOVERs that left the generator, none of them as a downstream
    // relay's (no takeover), and dropped nothing.
    const left = (discoverOffer?.sent ?? 0) - (r.report.sendFailures ?? 0);
    const relayed = async () => (await count("DISCOVER", "to-server")) - before.discovers;
    // Waits until the relay has caught up, or the deadline passes.
    for (const deadline = Date.now() + 5000; (await relayed()) < left && Date.now() < deadline; )
      await new Promise((r) => setTimeout(r, 200));
    expect(await lab.counter("dhcplab_relay_drops_total", { family: 4 })).toBe(0);
    // The relay relays every DISCOVER that reached its access interface (the lab's capture there
    // counts them; a capture that misses some only lowers the bar). Broadcasts on two cores shared
    // with another lab are lost before the relay's namespace at times (up to 4.5 % in CI, with the
    // relay's kernel counting no socket drop): what arrives must be most, not all, of what left.
    const arrived = (await lab.captured("access")).filter((d) => {
      if (d.family !== 4 || d.dstPort !== 67 || d.srcPort !== 68) return false;
      const m = decodeDhcp4(d.payload);
      // The run's clients: MACs counted up from `mac` in its low bytes, all under its first four.
      return messageType(m) === MSG.DISCOVER && macToString(m.chaddr.subarray(0, 4)) === mac.slice(0, 11);
    }).length;
    const udp = (await lab.exec("relay", ["cat", "/proc/net/snmp"])).stdout;
    const got = await relayed();
    const why = `DISCOVERs relayed of ${arrived} that reached the relay's interface, ${left} sent; the relay's UDP counters:\n${udp}`;
    expect(got, why).toBeLessThanOrEqual(left);
    expect(got, why).toBeGreaterThanOrEqual(arrived);
    expect(arrived, why).toBeGreaterThanOrEqual(Math.floor(left * 0.9));
    expect((await downstream()) - before.downstream).toBe(0);
    // Every exchange that completed was timed: percentiles in order.
    expect(requestAck?.received).toBeGreaterThan(0);
    for (const e of r.report.exchanges) {
      expect(e.p50Ms, e.exchange).toBeGreaterThan(0);
      expect(e.p50Ms ?? 0).toBeLessThanOrEqual(e.p90Ms ?? 0);
      expect(e.p90Ms ?? 0).toBeLessThanOrEqual(e.p99Ms ?? 0);
      expect(e.p99Ms ?? 0).toBeLessThanOrEqual(e.maxDelayMs);
    }
    // The engine goes round the 1,000 MACs three times: each of them holds a lease in BLUE,
    // in the subnet BLUE's Kea gives the relay's link.
    const leases = (await lab.leases({ vrf: "BLUE", family: 4 })).filter((l) =>
      l.client.startsWith("00:bb:01:30:"),
    );
    expect(new Set(leases.map((l) => l.client)).size).toBe(CLIENTS);
    expect(leases.every((l) => l.address.startsWith("192.168."))).toBe(true);
  });
});
