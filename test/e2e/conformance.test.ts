import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { readCaptures, startCaptureIn } from "../support/artifacts.ts";
import { useTestLab } from "../support/lab.ts";
import { type UdpDatagram, udpDatagrams } from "../support/pcap.ts";
import { policyFile } from "../support/policy-file.ts";

// The relay as a reference: packets crafted outside the project (scapy, not dhcplab's codec)
// on the access network and on a VRF's backend network, each one the RFCs or the README say
// must be dropped. Every Kea's traffic is captured in its own network namespace: none of the
// offending packets may reach a Kea it must not reach, and each is counted by its reason.

const CRAFT = join(import.meta.dirname, "conformance", "craft.py");

/** A packet for craft.py; "marker" names the bytes that identify it in a capture. */
type Packet = Record<string, string | number | undefined>;

const macBytes = (mac: string) => Uint8Array.from(mac.split(":").map((h) => Number.parseInt(h, 16)));

function carries(d: UdpDatagram, marker: Uint8Array): boolean {
  const p = d.payload;
  outer: for (let i = 0; i + marker.length <= p.length; i++) {
    for (let j = 0; j < marker.length; j++) if (p[i + j] !== marker[j]) continue outer;
    return true;
  }
  return false;
}

/** No datagram carries any case's marker; a failure names the case's reason. */
function expectNoneCarry(datagrams: UdpDatagram[], cases: { reason: string; marker: Uint8Array }[]): void {
  for (const c of cases)
    expect(
      datagrams.filter((d) => carries(d, c.marker)),
      c.reason,
    ).toEqual([]);
}

describe("relay conformance: crafted packets at every boundary", () => {
  const lab = useTestLab("conformance", async () => ({
    ...(await loadTopology()),
    // append keeps a client's own sub-options: the case where precedence matters.
    relay: {
      hostname: "relay",
      policy: await policyFile(DEFAULT_POLICY.replace(/^existingOption82: .*$/m, "existingOption82: append")),
    },
  }));
  const kea = new Map<string, string>();
  let craftScript = "";

  beforeAll(async () => {
    craftScript = await readFile(CRAFT, "utf8");
    for (const v of lab.spec.vrfs) {
      const id = v.keas[0]?.container ?? "";
      kea.set(
        v.spec.name,
        await startCaptureIn(lab.docker, {
          containerId: id,
          image: lab.clientImage,
          name: "kea",
          lab: lab.spec.name,
          labels: { [LABEL.managed]: "true" },
        }),
      );
    }
  });

  const plan = () => lab.spec;
  const vrf = (name: string) => {
    const v = plan().vrfs.find((x) => x.spec.name === name);
    if (!v) throw new Error(`no VRF ${name}`);
    return v;
  };
  /** What reached a VRF's Kea, read from the capture in its network namespace. */
  const atKea = async (name: string): Promise<UdpDatagram[]> => {
    const files = await readCaptures(lab.docker, kea.get(name) ?? "");
    const pcap = files.get("kea.pcap");
    return pcap && pcap.length > 24 ? udpDatagrams(pcap) : [];
  };
  /** What went to clients' ports on the access network (the crafted packets themselves go to 67 and 547). */
  const toClients = async () =>
    (await lab.captured("access")).filter((d) => d.dstPort === 68 || d.dstPort === 546);
  const drops = (family: 4 | 6, reason: string) =>
    lab.counter("dhcplab_relay_drops_total", { family, reason });

  /** Runs craft.py in a one-shot container on a lab network (by key: access, red, ...), sending `packets` in order. */
  async function craft(network: string, packets: Packet[]): Promise<string> {
    const r = await lab.run(["sh", "-c", `${WAIT_FOR_LINK} exec python3 -c "$CRAFT" "$PACKETS"`], {
      network,
      env: { CRAFT: craftScript, PACKETS: JSON.stringify(packets) },
      capAdd: ["NET_ADMIN", "NET_RAW"],
    });
    expect(r.output).not.toMatch(/Traceback/);
    expect(r.exitCode).toBe(0);
    return r.output;
  }

  /** The relay's MAC on the access network: the next hop for its other addresses. */
  async function relayAccessMac(): Promise<string> {
    const id = plan().relay.container;
    const info = await lab.docker.getContainer(id).inspect();
    return info.NetworkSettings.Networks[plan().access.network]?.MacAddress ?? "";
  }

  it("on the access network: forged replies, forged and own giaddrs, hop limits: dropped, counted, never at a Kea", async () => {
    const red = vrf("RED");
    const redKea = red.keas[0];
    if (!redKea) throw new Error("RED has no Kea");
    const relay = plan().access.relay;
    const inFlight = { xid: 0x0c0f0001, chaddr: "00:aa:03:00:00:01" };
    const cases: { reason: string; family: 4 | 6; packet: Packet; marker: Uint8Array }[] = [
      {
        // An OFFER claiming to be RED's Kea, for a request in flight, sent to the relay's access address.
        reason: "server-message-from-client",
        family: 4,
        packet: {
          v: 4,
          op: 2,
          type: "offer",
          ...inFlight,
          yiaddr: "192.168.10.77",
          src: redKea.ipv4,
          dst: relay.ipv4,
          sport: 67,
        },
        marker: Uint8Array.of(192, 168, 10, 77),
      },
      {
        // The same, to the relay's RED backend address (which the access link also reaches).
        reason: "server-message-from-client",
        family: 4,
        packet: {
          v: 4,
          op: 2,
          type: "offer",
          ...inFlight,
          yiaddr: "192.168.10.78",
          src: redKea.ipv4,
          dst: red.relay.ipv4,
          sport: 67,
          ether: await relayAccessMac(),
        },
        marker: Uint8Array.of(192, 168, 10, 78),
      },
      {
        // A BLUE client claiming RED's Kea as its downstream relay: BLUE's reply would go onto RED's link.
        reason: "untrusted-relay",
        family: 4,
        packet: {
          v: 4,
          xid: 0x0c0f0002,
          chaddr: "00:bb:01:00:0c:02",
          giaddr: redKea.ipv4,
          hops: 1,
          dst: "255.255.255.255",
        },
        marker: macBytes("00:bb:01:00:0c:02"),
      },
      {
        reason: "own-giaddr",
        family: 4,
        packet: {
          v: 4,
          xid: 0x0c0f0003,
          chaddr: "00:aa:01:00:0c:03",
          // From 0.0.0.0: the kernel itself drops a datagram whose source is one of its own addresses.
          giaddr: relay.ipv4,
          hops: 1,
          dst: "255.255.255.255",
        },
        marker: macBytes("00:aa:01:00:0c:03"),
      },
      {
        reason: "hops-exceeded",
        family: 4,
        packet: { v: 4, xid: 0x0c0f0005, chaddr: "00:aa:01:00:0c:05", hops: 5, dst: "255.255.255.255" },
        marker: macBytes("00:aa:01:00:0c:05"),
      },
      {
        reason: "server-message-from-client",
        family: 6,
        packet: {
          v: 6,
          msg: "relay-repl",
          xid: 0x0c0f06,
          mac: "00:aa:01:00:0c:06",
          peer: "fe80::1",
          dst: "ff02::1:2",
        },
        marker: macBytes("00:aa:01:00:0c:06"),
      },
      {
        reason: "hops-exceeded",
        family: 6,
        packet: {
          v: 6,
          msg: "relay-forw",
          hops: 8,
          xid: 0x0c0f07,
          mac: "00:aa:01:00:0c:07",
          peer: "fe80::1",
          dst: "ff02::1:2",
        },
        marker: macBytes("00:aa:01:00:0c:07"),
      },
    ];
    // Controls: a request at the hop limit (relayed, RFC 1542 §4.1.1) and a plain SOLICIT reach RED's
    // Kea, a plain DISCOVER BLUE's: once they are in, both captures are current.
    const controls: { vrf: "RED" | "BLUE"; packet: Packet; marker: Uint8Array }[] = [
      {
        vrf: "RED",
        packet: { v: 4, xid: 0x0c0f0004, chaddr: "00:aa:01:00:0c:04", hops: 4, dst: "255.255.255.255" },
        marker: macBytes("00:aa:01:00:0c:04"),
      },
      {
        vrf: "RED",
        packet: { v: 6, msg: "solicit", xid: 0x0c0f08, mac: "00:aa:01:00:0c:08", dst: "ff02::1:2" },
        marker: macBytes("00:aa:01:00:0c:08"),
      },
      {
        vrf: "BLUE",
        packet: { v: 4, xid: 0x0c0f0009, chaddr: "00:bb:01:00:0c:09", dst: "255.255.255.255" },
        marker: macBytes("00:bb:01:00:0c:09"),
      },
    ];
    const expected = new Map<string, number>();
    for (const c of cases)
      expected.set(`${c.family}/${c.reason}`, (expected.get(`${c.family}/${c.reason}`) ?? 0) + 1);
    const before = new Map<string, number>();
    for (const k of expected.keys()) {
      const [family, reason] = k.split("/");
      before.set(k, await drops(Number(family) as 4 | 6, reason ?? ""));
    }

    // The request in flight first (rule "red": RED's Kea has no class for it, so it stays unanswered).
    await craft("access", [
      { v: 4, type: "discover", ...inFlight, dst: "255.255.255.255" },
      ...cases.map((c) => c.packet),
      ...controls.map((c) => c.packet),
    ]);

    for (const [k, n] of expected) {
      const [family, reason] = k.split("/");
      await expect
        .poll(() => drops(Number(family) as 4 | 6, reason ?? ""), { timeout: 10_000 })
        .toBe((before.get(k) ?? 0) + n);
    }
    await expect
      .poll(
        async () => {
          const seen = { RED: await atKea("RED"), BLUE: await atKea("BLUE") };
          return controls.every((c) => seen[c.vrf].some((x) => carries(x, c.marker)));
        },
        {
          timeout: 10_000,
        },
      )
      .toBe(true);
    expectNoneCarry([...(await atKea("RED")), ...(await atKea("BLUE"))], cases);
    // Nothing was delivered to a client: no forged OFFER left the relay onto the access network.
    expectNoneCarry(await toClients(), cases);
  });

  it("on a VRF's backend network: client messages and replies from no server are dropped, counted, and never cross to another VRF", async () => {
    const red = vrf("RED");
    const cases: { reason: string; family: 4 | 6; packet: Packet; marker: Uint8Array }[] = [
      {
        reason: "client-message-on-backend",
        family: 4,
        // To the backend subnet's broadcast address from the sender's own: Docker's isolation of
        // internal networks would drop 255.255.255.255 from 0.0.0.0 before any relay saw it.
        packet: {
          v: 4,
          xid: 0x0c0f1001,
          chaddr: "00:bb:01:00:0d:01",
          src: "auto",
          dst: red.subnets.ipv4Subnet.replace(/\.0\/24$/, ".255"),
          ether: "ff:ff:ff:ff:ff:ff",
        },
        marker: macBytes("00:bb:01:00:0d:01"),
      },
      {
        reason: "client-message-on-backend",
        family: 6,
        packet: { v: 6, msg: "solicit", xid: 0x0c0f12, mac: "00:bb:01:00:0d:02", dst: red.relay.ipv6 },
        marker: macBytes("00:bb:01:00:0d:02"),
      },
      {
        reason: "unknown-server",
        family: 4,
        packet: {
          v: 4,
          op: 2,
          type: "offer",
          xid: 0x0c0f1003,
          chaddr: "00:aa:01:00:0d:03",
          yiaddr: "192.168.10.79",
          src: "auto",
          dst: red.relay.ipv4,
          sport: 67,
        },
        marker: Uint8Array.of(192, 168, 10, 79),
      },
    ];
    const before = await Promise.all(cases.map((c) => drops(c.family, c.reason)));
    await craft(
      "red",
      cases.map((c) => c.packet),
    );

    const want = new Map<string, number>();
    cases.forEach((c, i) => {
      const k = `${c.family}/${c.reason}`;
      want.set(k, (want.get(k) ?? before[i] ?? 0) + 1);
    });
    for (const [k, n] of want) {
      const [family, reason] = k.split("/");
      await expect.poll(() => drops(Number(family) as 4 | 6, reason ?? ""), { timeout: 10_000 }).toBe(n);
    }
    // A control through the access network reaches BLUE's Kea, so BLUE's capture is current.
    const control = macBytes("00:bb:01:00:0d:09");
    await craft("access", [{ v: 4, xid: 0x0c0f1009, chaddr: "00:bb:01:00:0d:09", dst: "255.255.255.255" }]);
    await expect
      .poll(() => atKea("BLUE").then((d) => d.some((x) => carries(x, control))), { timeout: 10_000 })
      .toBe(true);
    expectNoneCarry(await atKea("BLUE"), cases);
    expectNoneCarry(await toClients(), cases);
  });

  it("Option 82 precedence (append): a client's forged Circuit-ID and Link Selection do not choose its Kea class", async () => {
    // udhcpc sends its own Option 82: Circuit-ID DATA_CIRCUIT and Link Selection 192.168.11.1,
    // both naming RED DATA; the policy says VIDEO for 00:aa:01:*, so the lease is VIDEO's.
    const forged = `010c${Buffer.from("DATA_CIRCUIT").toString("hex")}0504c0a80b01`;
    const mac = "00:aa:01:00:0e:01";
    const r = await lab.run(
      ["sh", "-c", `${WAIT_FOR_LINK} udhcpc -i eth0 -n -q -f -t 5 -T 2 -x 0x52:${forged}; echo EXIT $?`],
      { mac, capAdd: ["NET_ADMIN", "NET_RAW"] },
    );
    expect(r.output).toMatch(/EXIT 0/);
    const lease = (await lab.leases({ family: 4 })).find((l) => l.client === mac);
    expect(lease?.vrf).toBe("RED");
    expect(lease?.address).toMatch(/^192\.168\.10\./);
    const stored = JSON.stringify(lease?.relayInfo ?? {}).toUpperCase();
    expect(stored).toContain(Buffer.from("VIDEO_CIRCUIT").toString("hex").toUpperCase());
    expect(stored).not.toContain(Buffer.from("DATA_CIRCUIT").toString("hex").toUpperCase());
  });
});
