import { describe, expect, it } from "vitest";
import { decodeDhcp4, encodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { type Dhcp6ClientMessage, decodeDhcp6, encodeDhcp6, isRelay } from "../../lib/codec/dhcp6/message.ts";
import { FakeTransport, golden, policyWith, quietLog, RED_VRF4 } from "../../test/support/relay-fakes.ts";
import { Counters } from "./counters.ts";
import { Journal } from "./journal.ts";
import { ACCESS } from "./links.ts";
import { Recorded4, Recorded6 } from "./recorded.ts";
import { Relay4 } from "./relay4.ts";
import { Relay6 } from "./relay6.ts";

// The journal's entries, as `dhcplab trace` shows them (and scripts read them with --json): each
// field and the order of the fields, for every kind of record the DHCPv4 and DHCPv6 paths make.

const relay4 = (journal: Journal, settings: Record<string, string> = {}) => {
  const policy = policyWith(settings);
  return new Relay4({
    segments: [{ name: "access", address: "10.213.1.2", gateways: ["192.168.10.1/24"] }],
    ownAddresses: ["10.213.1.2", "10.213.2.2", "192.168.10.1"],
    vrfs: [RED_VRF4],
    policy: () => policy,
    transport: new FakeTransport(),
    counters: new Counters(),
    journal,
    log: quietLog,
  });
};

const withMac = (bytes: Uint8Array, mac: number[], edit?: (m: ReturnType<typeof decodeDhcp4>) => void) => {
  const m = decodeDhcp4(bytes);
  m.chaddr.set(mac);
  edit?.(m);
  return encodeDhcp4(m, { maxSize: 1500 });
};

/** The entries without their time, as JSON: the order of the fields is part of what is compared. */
const entries = (j: Journal) => j.find({}).map(({ at: _, ...e }) => JSON.stringify(e));

describe("the journal's records", () => {
  it("DHCPv4: relayed with what was added, dropped with the rule that decided, taken over from a downstream relay, forwarded unchanged", () => {
    const j = new Journal();
    const relay = relay4(j);
    relay.handle(golden("dhclient-v4-01-discover"), "0.0.0.0", ACCESS);
    relay.handle(withMac(golden("dhclient-v4-01-discover"), [0, 0xcc, 0, 0, 0, 1]), "0.0.0.0", ACCESS);
    // BLUE's rule decides; this relay has no BLUE.
    relay.handle(withMac(golden("dhclient-v4-01-discover"), [0, 0xbb, 0, 0, 0, 1]), "0.0.0.0", ACCESS);
    // perfdhcp is a relay itself: giaddr its source, taken over, then forwarded unchanged.
    relay.handle(golden("perfdhcp-v4-01-discover"), "10.213.2.129", ACCESS);
    relay4(j, { relayedClients: "forward" }).handle(
      golden("perfdhcp-v4-01-discover"),
      "10.213.2.129",
      ACCESS,
    );
    expect(entries(j)).toEqual(EXPECTED4);
  });

  it("DHCPv4: the client's hardware address as long as hlen says, none, short, Ethernet's or longer", () => {
    const j = new Journal();
    const relay = relay4(j);
    const chaddr = [0, 0xaa, 1, 0xff, 0xfe, 0x80, 9, 10, 11, 12, 13, 14, 15, 16, 17, 0xff];
    for (const hlen of [0, 1, 5, 6, 7, 16]) {
      relay.handle(
        withMac(golden("dhclient-v4-01-discover"), chaddr, (m) => {
          m.hlen = hlen;
        }),
        "0.0.0.0",
        ACCESS,
      );
    }
    const hex = (n: number) =>
      chaddr
        .slice(0, n)
        .map((b) => b.toString(16).padStart(2, "0"))
        .join(":");
    expect(j.find({}).map((e) => e.mac)).toEqual([0, 1, 5, 6, 7, 16].map(hex));
  });

  it("DHCPv6: relayed with what the RELAY-FORW carries, and dropped", () => {
    const j = new Journal();
    const policy = policyWith();
    const relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers: ["fe80::ff:fe00:a%eth1"] }],
      policy: () => policy,
      transport: new FakeTransport(),
      counters: new Counters(),
      journal: j,
      log: quietLog,
    });
    relay.handle(golden("dhclient-v6-01-solicit"), "fe80::2aa:1ff:fe00:1%eth0", ACCESS);
    // A DUID-LL no rule matches.
    const m = decodeDhcp6(golden("dhclient-v6-01-solicit"));
    if (isRelay(m)) throw new Error("expected a SOLICIT");
    const duid = Uint8Array.of(0, 3, 0, 1, 0, 0xcc, 0, 0, 0, 1);
    const other = {
      ...m,
      options: m.options.map((o) => (o.code === OPT6.clientId ? { code: o.code, data: duid } : o)),
    };
    relay.handle(encodeDhcp6(other as Dhcp6ClientMessage), "fe80::2cc:ff:fe00:1%eth0", ACCESS);
    expect(entries(j)).toEqual(EXPECTED6);
  });

  it("are written into the journal's bytes: when those come round, the oldest records go, the rest read back whole", () => {
    const discover = (i: number) =>
      withMac(golden("dhclient-v4-01-discover"), [0, 0xaa, 1, 0, 0, 1], (m) => {
        m.xid = i;
      });
    // Room for 16 records, bytes for about four of them.
    const j = new Journal(16, () => 0, 400);
    const relay = relay4(j);
    for (let i = 1; i <= 10; i++) relay.handle(discover(i), "0.0.0.0", ACCESS);
    const kept = j.find({});
    expect(kept.length).toBeGreaterThanOrEqual(3);
    expect(kept.length).toBeLessThan(10);
    // The newest, in order, each as a journal with room for all of them has it.
    const all = new Journal(16, () => 0);
    const again = relay4(all);
    for (let i = 1; i <= 10; i++) again.handle(discover(i), "0.0.0.0", ACCESS);
    expect(kept).toEqual(all.find({}).slice(-kept.length));
    expect(kept.at(-1)?.transaction).toBe("0000000a");
  });

  it("every kind of record reads back from the journal's bytes as it was made: BOOTP, nothing added, no MAC or DUID", () => {
    const bootp = new Recorded4(
      { messageType: undefined, chaddr: new Uint8Array(16), hlen: 0, xid: 1, giaddr: "10.9.8.7" },
      "port5",
    ).relayed("10.9.8.7", undefined);
    const forwarded = new Recorded4(
      {
        messageType: 1,
        chaddr: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
        hlen: 8,
        xid: 0xffffffff,
        giaddr: "0.0.0.0",
      },
      "access",
    );
    forwarded.rule = "forwarded";
    forwarded.vrf = "RED";
    forwarded.relayed("10.213.2.2", null);
    const dropped6 = new Recorded6("access");
    dropped6.client(1, 0xabcdef);
    dropped6.rule = "nobody";
    dropped6.dropped("no-rule");
    const relayed6 = new Recorded6("access");
    relayed6.client(3, 7);
    relayed6.identified(Uint8Array.of(0, 0xaa, 1, 0, 0, 1), Uint8Array.of(0, 3, 0, 1, 0, 0xaa, 1, 0, 0, 1));
    relayed6.vrf = "RED";
    relayed6.relayed([{ code: OPT6.interfaceId, data: new TextEncoder().encode("port5") }], "::", "fe80::1");
    const records = [bootp.dropped("hops-exceeded"), forwarded, dropped6, relayed6];
    const j = new Journal(8, () => 0);
    for (const r of records) j.record(r);
    expect(entries(j)).toEqual(records.map((r) => JSON.stringify(r.entry())));
  });

  it("a record longer than the journal's bytes is kept whole", () => {
    const j = new Journal(4, () => 0, 16);
    relay4(j).handle(golden("dhclient-v4-01-discover"), "0.0.0.0", ACCESS);
    expect(entries(j)).toEqual([EXPECTED4[0]]);
  });
});

// What the journal recorded before its records were formatted on reading (commit 6d9b44e).
const EXPECTED4 = [
  {
    family: 4,
    type: "DISCOVER",
    mac: "00:aa:01:00:00:01",
    transaction: "3f10a979",
    segment: "access",
    action: "relay",
    rule: "red-video",
    vrf: "RED",
    added: {
      circuitId: "VIDEO_CIRCUIT",
      remoteId: "00:aa:01:00:00:01",
      linkSelection: "192.168.10.1",
      serverIdOverride: "10.213.1.2",
    },
    giaddr: "10.213.2.2",
  },
  {
    family: 4,
    type: "DISCOVER",
    mac: "00:cc:00:00:00:01",
    transaction: "3f10a979",
    segment: "access",
    action: "drop",
    reason: "unmatched",
  },
  {
    family: 4,
    type: "DISCOVER",
    mac: "00:bb:00:00:00:01",
    transaction: "3f10a979",
    segment: "access",
    rule: "blue",
    vrf: "BLUE",
    action: "drop",
    reason: "no-servers",
  },
  {
    family: 4,
    type: "DISCOVER",
    mac: "00:aa:01:00:00:10",
    transaction: "00000000",
    segment: "access",
    downstream: "10.213.2.129",
    action: "relay",
    rule: "red-video",
    vrf: "RED",
    added: {
      circuitId: "VIDEO_CIRCUIT",
      remoteId: "00:aa:01:00:00:10",
      linkSelection: "192.168.10.1",
      serverIdOverride: "10.213.1.2",
    },
    giaddr: "10.213.2.2",
  },
  {
    family: 4,
    type: "DISCOVER",
    mac: "00:aa:01:00:00:10",
    transaction: "00000000",
    segment: "access",
    downstream: "10.213.2.129",
    action: "relay",
    rule: "red-video",
    vrf: "RED",
    giaddr: "10.213.2.129",
  },
].map((e) => JSON.stringify(e));

const EXPECTED6 = [
  {
    family: 6,
    type: "SOLICIT",
    transaction: "6a1777",
    segment: "access",
    mac: "00:aa:01:00:00:01",
    duid: "00:01:00:01:32:95:90:c8:00:aa:01:00:00:01",
    rule: "red-video",
    vrf: "RED",
    action: "relay",
    added: {
      link: "fd00:10::1",
      peer: "fe80::2aa:1ff:fe00:1",
      circuitId: "V6_VIDEO_LINK",
      remoteId: "00:aa:01:00:00:01",
      remoteIdEnterprise: 2393,
    },
  },
  {
    family: 6,
    type: "SOLICIT",
    transaction: "6a1777",
    segment: "access",
    mac: "00:cc:00:00:00:01",
    duid: "00:03:00:01:00:cc:00:00:00:01",
    action: "drop",
    reason: "unmatched",
  },
].map((e) => JSON.stringify(e));
