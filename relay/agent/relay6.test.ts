import { beforeEach, describe, expect, it } from "vitest";
import { fromHex, hex, text, utf8 } from "../../lib/codec/bytes.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeDhcp6,
  getOption6,
  isRelay,
  relayedMessage,
} from "../../lib/codec/dhcp6/message.ts";
import { type Policy, parsePolicy } from "../../lib/policy/policy.ts";
import { FakeTransport, golden, policyWith, quietLog, replyTo } from "../../test/support/relay-fakes.ts";
import { Counters } from "./counters.ts";
import { ACCESS, accessLink, type Link, vrfLink } from "./links.ts";
import { Relay6 } from "./relay6.ts";

const RED_SERVER = "fe80::ff:fe00:a%eth1";
const BLUE_SERVER = "fe80::ff:fe00:a%eth2";
const PEER = "fe80::2aa:1ff:fe00:1";
const RED = vrfLink("RED");
const BLUE = vrfLink("BLUE");

// dhclient -6's SOLICIT as captured in the lab: DUID-LLT with MAC 02:42:..., so the
// tests give it a DUID-LLT of 00:aa:01:00:00:01 or a DUID-LL where they need one.
function solicit(duid = "0001000100000000" + "00aa01000001"): Uint8Array {
  const m = decodeDhcp6(golden("dhclient-v6-01-solicit"));
  if (isRelay(m)) throw new Error("expected a client message");
  m.options = m.options.map((o) => (o.code === OPT6.clientId ? { code: o.code, data: fromHex(duid) } : o));
  return encodeDhcp6(m);
}

describe("DHCPv6 path", () => {
  let transport: FakeTransport;
  let counters: Counters;
  let policy: Policy;
  let relay: Relay6;
  const drops = (reason: string) => counters.get("dhcplab_relay_drops_total", { family: 6, reason });

  beforeEach(() => {
    transport = new FakeTransport();
    counters = new Counters();
    policy = policyWith();
    relay = new Relay6({
      vrfs: [
        { name: "RED", link: "fd00:10::1", servers: [RED_SERVER] },
        { name: "BLUE", link: "fd00:20::1", servers: [BLUE_SERVER] },
      ],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
    });
  });

  it("wraps a SOLICIT in RELAY-FORW with the VRF's link-address, the peer and the policy's options (RFC 8415 §19.1.1)", () => {
    const bytes = solicit();
    relay.handle(bytes, `${PEER}%eth0`, ACCESS);
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 547, address: RED_SERVER });
    const f = decodeDhcp6(out?.bytes ?? new Uint8Array());
    if (!isRelay(f)) throw new Error("expected RELAY-FORW");
    expect(f).toMatchObject({
      type: MSG6.RELAY_FORW,
      hopCount: 0,
      linkAddress: "fd00:10::1",
      peerAddress: PEER,
    });
    expect(text(getOption6(f, OPT6.interfaceId) ?? new Uint8Array())).toBe("V6_VIDEO_LINK");
    // RFC 4649: enterprise number 2393, then the id.
    expect(hex(getOption6(f, OPT6.remoteId) ?? new Uint8Array())).toBe(
      `00000959${hex(utf8("00:aa:01:00:00:01"))}`,
    );
    // The client's message is carried byte for byte.
    expect(hex(encodeDhcp6(relayedMessage(f) as Dhcp6Message))).toBe(hex(bytes));
  });

  it("sends DUID-LL clients of RED as DATA", () => {
    relay.handle(solicit("0003000100aa01000001"), PEER, ACCESS);
    const f = decodeDhcp6(transport.take()[0]?.bytes ?? new Uint8Array());
    expect(text(getOption6(f, OPT6.interfaceId) ?? new Uint8Array())).toBe("V6_DATA_LINK");
  });

  it("derives the MAC from an EUI-64 link-local source when the DUID holds none (DUID-EN)", () => {
    relay.handle(solicit("0002000009590102030405"), "fe80::2bb:1ff:fe00:9", ACCESS);
    expect(transport.take()[0]?.address).toBe(BLUE_SERVER);
  });

  it("unwraps RELAY-REPL and sends the inner message to the peer on port 546 (RFC 8415 §19.2)", () => {
    relay.handle(solicit(), PEER, ACCESS);
    const [forw] = transport.take();
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 546, address: PEER });
    expect(decodeDhcp6(out?.bytes ?? new Uint8Array()).type).toBe(MSG6.ADVERTISE);
    expect(
      counters.get("dhcplab_relay_messages_total", {
        family: 6,
        vrf: "RED",
        type: "ADVERTISE",
        direction: "to-client",
      }),
    ).toBe(1);
  });

  it("matches a reply to its request by the peer-address's bytes, and sends it where the request came from, however written", () => {
    // The same address as PEER, written long and in capitals: one client, one transaction.
    const written = "FE80:0:0:0:2AA:1FF:FE00:1%eth0";
    relay.handle(solicit(), written, ACCESS);
    const [forw] = transport.take();
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 546, address: "FE80:0:0:0:2AA:1FF:FE00:1" });
    // A reply to another peer-address is no reply to it.
    relay.handle(solicit(), written, ACCESS);
    const [again] = transport.take();
    const other = replyTo(again?.bytes ?? new Uint8Array(), (r) => {
      r.peerAddress = "fe80::2aa:1ff:fe00:2";
    });
    relay.handle(other, RED_SERVER, RED);
    expect(transport.take()).toEqual([]);
    expect(drops("unknown-transaction")).toBe(1);
  });

  it("wraps a downstream relay's RELAY-FORW again with hop-count + 1, and answers it on port 547", () => {
    const downstream: Dhcp6RelayMessage = {
      type: MSG6.RELAY_FORW,
      hopCount: 2,
      linkAddress: "fd00:99::1",
      peerAddress: PEER,
      options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
    };
    relay.handle(encodeDhcp6(downstream), "fe80::99", ACCESS);
    const [forw] = transport.take();
    const f = decodeDhcp6(forw?.bytes ?? new Uint8Array());
    expect(isRelay(f) && f.hopCount).toBe(3);
    expect(isRelay(f) && f.peerAddress).toBe("fe80::99");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    expect(transport.take()[0]).toMatchObject({ port: 547, address: "fe80::99" });
  });

  it("re-wraps a relay's message from a global source with link-address 0 and an Interface-ID (RFC 8415 §19.1.2)", () => {
    const downstream: Dhcp6RelayMessage = {
      type: MSG6.RELAY_FORW,
      hopCount: 0,
      linkAddress: "fd00:99::1",
      peerAddress: PEER,
      options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit("0002000009590102030405")) }],
    };
    // DUID-EN, no MAC: the unmatched client of a policy that sends everything to BLUE.
    policy = parsePolicy("version: 1\nunmatched: { vrf: BLUE }\n", "all-blue.yaml", ["RED", "BLUE"]);
    relay.handle(encodeDhcp6(downstream), "fd00:99::2", ACCESS);
    const [forw] = transport.take();
    const f = decodeDhcp6(forw?.bytes ?? new Uint8Array());
    expect(isRelay(f) && f.linkAddress).toBe("::");
    expect(text(getOption6(f, OPT6.interfaceId) ?? new Uint8Array())).toBe("access");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), BLUE_SERVER, BLUE);
    expect(transport.take()[0]).toMatchObject({ port: 547, address: "fd00:99::2", via: "access" });
  });

  it("passes the server's inner message to the client byte for byte", () => {
    relay.handle(solicit(), PEER, ACCESS);
    const [forw] = transport.take();
    const repl = replyTo(forw?.bytes ?? new Uint8Array());
    relay.handle(repl, RED_SERVER, RED);
    const decoded = decodeDhcp6(repl);
    const inner = isRelay(decoded) ? decoded.options.find((o) => o.code === OPT6.relayMessage) : undefined;
    expect(inner && "bytes" in inner && hex(inner.bytes ?? new Uint8Array())).toBe(
      hex(transport.take()[0]?.bytes ?? Uint8Array.of(0)),
    );
  });

  describe("which link a datagram came in on decides what it may be", () => {
    it("a RELAY-REPL on the access link is never delivered, even from a server's address", () => {
      relay.handle(solicit(), PEER, ACCESS);
      const [forw] = transport.take();
      relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER, ACCESS);
      expect(transport.sent).toHaveLength(0);
      expect(drops("server-message-from-client")).toBe(1);
    });

    it("a client's message or a RELAY-FORW on a backend link is never relayed", () => {
      relay.handle(solicit(), "fe80::99%eth1", RED);
      relay.handle(
        encodeDhcp6({
          type: MSG6.RELAY_FORW,
          hopCount: 0,
          linkAddress: "::",
          peerAddress: PEER,
          options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
        }),
        RED_SERVER,
        RED,
      );
      expect(transport.sent).toHaveLength(0);
      expect(drops("client-message-on-backend")).toBe(2);
    });

    it("a RELAY-REPL from an address that is no server of the link's VRF", () => {
      relay.handle(solicit(), PEER, ACCESS);
      const [forw] = transport.take();
      relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), "fe80::66%eth1", RED);
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-server")).toBe(1);
    });

    it("anything on an interface the configuration does not name", () => {
      relay.handle(solicit(), PEER, { side: "unknown", name: "eth9" } satisfies Link);
      expect(drops("unknown-interface")).toBe(1);
    });
  });

  describe("drops, each counted by reason", () => {
    it("a client a rule drops, and a VRF with no DHCPv6 server", () => {
      policy = parsePolicy(
        "version: 1\nunmatched: { vrf: GREEN }\nrules:\n  - { name: no-video, match: { mac: '00:aa:01:*' }, drop: true }\n",
        "drop.yaml",
        ["RED", "BLUE", "GREEN"],
      );
      relay.handle(solicit(), PEER, ACCESS);
      relay.handle(solicit("0003000100cc01000001"), PEER, ACCESS);
      expect(transport.sent).toHaveLength(0);
      expect(drops("policy-drop")).toBe(1);
      expect(drops("no-servers")).toBe(1);
    });

    it("a send that fails is counted as send-failed, not as relayed", () => {
      transport.unreachable.add(RED_SERVER);
      relay.handle(solicit(), PEER, ACCESS);
      expect(drops("send-failed")).toBe(1);
      expect(counters.sum("dhcplab_relay_messages_total", { family: 6 })).toBe(0);
    });

    it("RELAY-FORW at the hop-count limit (RFC 8415 §19.1.2)", () => {
      const at = (hopCount: number): Dhcp6RelayMessage => ({
        type: MSG6.RELAY_FORW,
        hopCount,
        linkAddress: "::",
        peerAddress: PEER,
        options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
      });
      relay.handle(encodeDhcp6(at(8)), "fe80::99", ACCESS);
      expect(drops("hops-exceeded")).toBe(1);
      relay.handle(encodeDhcp6(at(7)), "fe80::99", ACCESS);
      expect(transport.sent).toHaveLength(1);
    });

    it("a server's message type from the client side", () => {
      for (const type of [MSG6.ADVERTISE, MSG6.REPLY, MSG6.RECONFIGURE]) {
        relay.handle(encodeDhcp6({ type, transactionId: 1, options: [] }), PEER, ACCESS);
      }
      expect(drops("server-message-from-client")).toBe(3);
    });

    it("anything but RELAY-REPL from a server, and RELAY-REPL without a Relay-Message", () => {
      relay.handle(encodeDhcp6({ type: MSG6.ADVERTISE, transactionId: 1, options: [] }), RED_SERVER, RED);
      expect(drops("not-relay-repl")).toBe(1);
      relay.handle(
        encodeDhcp6({
          type: MSG6.RELAY_REPL,
          hopCount: 0,
          linkAddress: "::",
          peerAddress: PEER,
          options: [],
        }),
        RED_SERVER,
        RED,
      );
      expect(drops("no-relay-message")).toBe(1);
    });

    it("a RELAY-REPL whose Interface-ID is not the one sent", () => {
      relay.handle(solicit(), PEER, ACCESS);
      const [forw] = transport.take();
      const bad = replyTo(forw?.bytes ?? new Uint8Array(), (r) => {
        r.options = r.options.map((o) =>
          o.code === OPT6.interfaceId ? { code: o.code, data: utf8("V6_DATA_LINK") } : o,
        );
      });
      relay.handle(bad, RED_SERVER, RED);
      const missing = replyTo(forw?.bytes ?? new Uint8Array(), (r) => {
        r.options = r.options.filter((o) => o.code !== OPT6.interfaceId);
      });
      relay.handle(missing, RED_SERVER, RED);
      expect(transport.sent).toHaveLength(0);
      expect(drops("interface-id-mismatch")).toBe(2);
    });

    it("a RELAY-REPL from another VRF's server, or for nothing in flight", () => {
      relay.handle(solicit(), PEER, ACCESS);
      const [forw] = transport.take();
      relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), BLUE_SERVER, BLUE);
      expect(drops("unknown-transaction")).toBe(1);
    });

    it("a client no rule matches, and malformed packets; the relay keeps serving", () => {
      relay.handle(solicit("0003000100cc01000001"), "fe80::1", ACCESS);
      expect(drops("unmatched")).toBe(1);
      relay.handle(Uint8Array.of(12, 0, 1), PEER, ACCESS);
      relay.handle(golden("malformed-v6-relay-forw-overrun"), PEER, ACCESS);
      relay.handle(golden("malformed-v6-relay-forw-empty-relay-message"), RED_SERVER, RED);
      expect(drops("malformed")).toBe(3);
      relay.handle(solicit(), PEER, ACCESS);
      expect(transport.sent).toHaveLength(1);
    });
  });
});

describe("DHCPv6 servers reached through ff02::1:2 on their link", () => {
  it("sends there, and accepts RELAY-REPL from any link-local address on that link only", () => {
    const transport = new FakeTransport();
    const counters = new Counters();
    const policy = policyWith();
    const relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers: ["ff02::1:2%eth3"] }],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
    });
    relay.handle(solicit(), PEER, ACCESS);
    const [forw] = transport.take();
    expect(forw?.address).toBe("ff02::1:2%eth3");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), "fe80::42:aff:fe00:5%eth4", vrfLink("BLUE"));
    expect(transport.take()).toHaveLength(0);
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), "fe80::42:aff:fe00:5%eth3", vrfLink("RED"));
    expect(transport.take()[0]).toMatchObject({ port: 546, address: PEER });
  });
});

describe("DHCPv6 transactions end at their REPLY", () => {
  const relayWith = (servers: string[]) => {
    const transport = new FakeTransport();
    const counters = new Counters();
    const policy = policyWith();
    const relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers }],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
    });
    relay.handle(solicit(), PEER, ACCESS);
    const [forw] = transport.take();
    return { relay, transport, counters, forw: forw?.bytes ?? new Uint8Array() };
  };

  it("forgets one at the reply of a VRF's only server, ADVERTISE or REPLY; a late copy is then unknown", () => {
    for (const type of [MSG6.ADVERTISE, MSG6.REPLY]) {
      const { relay, transport, counters, forw } = relayWith([RED_SERVER]);
      expect(relay.inFlightCount).toBe(1);
      relay.handle(replyTo(forw, undefined, type), RED_SERVER, RED);
      expect(relay.inFlightCount).toBe(0);
      expect(transport.take()).toHaveLength(1);
      relay.handle(replyTo(forw, undefined, type), RED_SERVER, RED);
      expect(transport.take()).toHaveLength(0);
      expect(counters.get("dhcplab_relay_drops_total", { family: 6, reason: "unknown-transaction" })).toBe(1);
    }
  });

  it("keeps it when the servers are a multicast group, where several may answer", () => {
    const { relay, transport, forw } = relayWith(["ff02::1:2%eth1"]);
    relay.handle(replyTo(forw, undefined, MSG6.REPLY), "fe80::a%eth1", RED);
    relay.handle(replyTo(forw, undefined, MSG6.REPLY), "fe80::b%eth1", RED);
    expect(transport.take()).toHaveLength(2);
  });
});

describe("DHCPv6 on access segments", () => {
  it("answers on the segment the client's message came in on, and matches and fills in that segment", () => {
    const transport = new FakeTransport();
    const policy = parsePolicy(
      [
        "version: 1",
        "rules:",
        "  - name: port5",
        "    match: { segment: port5 }",
        "    vrf: RED",
        '    dhcp6: { interfaceId: "{relay}/{segment}/{vlan}" }',
      ].join("\n"),
      "segments.yaml",
      ["RED"],
    );
    const relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers: [RED_SERVER] }],
      hostname: "edge-6",
      policy: () => policy,
      transport,
      counters: new Counters(),
      log: quietLog,
    });
    relay.handle(solicit(), `${PEER}%eth3`, accessLink("port5", 105));
    const [forw] = transport.take();
    const m = decodeDhcp6(forw?.bytes ?? new Uint8Array());
    expect(text(getOption6(m, OPT6.interfaceId) ?? new Uint8Array())).toBe("edge-6/port5/105");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array(), undefined, MSG6.REPLY), RED_SERVER, RED);
    expect(transport.take()[0]).toMatchObject({ address: PEER, port: 546, via: "access:port5" });
    // Unmatched on the first segment: the policy has no rule for it.
    relay.handle(solicit(), PEER, ACCESS);
    expect(transport.take()).toHaveLength(0);
  });

  it("on the transport network accepts only the configured towers' RELAY-FORWs, wrapped with link-address 0 and Interface-ID transport", () => {
    const transport = new FakeTransport();
    const counters = new Counters();
    const policy = parsePolicy("version: 1\nunmatched: { vrf: RED }\n", "all-red.yaml", ["RED"]);
    const relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers: [RED_SERVER] }],
      towers: ["fd64:6c61:6200:8:0::14"],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
    });
    const TRANSPORT = accessLink("transport");
    const fromTower: Dhcp6RelayMessage = {
      type: MSG6.RELAY_FORW,
      hopCount: 0,
      linkAddress: "fd00:a::1",
      peerAddress: PEER,
      options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
    };
    relay.handle(encodeDhcp6(fromTower), "fd64:6c61:6200:8::14", TRANSPORT);
    const [forw] = transport.take();
    const f = decodeDhcp6(forw?.bytes ?? new Uint8Array());
    expect(isRelay(f) && f.linkAddress).toBe("::");
    expect(text(getOption6(f, OPT6.interfaceId) ?? new Uint8Array())).toBe("transport");
    // Another source, or a client's own message, on the transport network: untrusted.
    relay.handle(encodeDhcp6(fromTower), "fd64:6c61:6200:8::16", TRANSPORT);
    relay.handle(solicit(), PEER, TRANSPORT);
    expect(transport.sent).toHaveLength(0);
    expect(counters.get("dhcplab_relay_drops_total", { family: 6, reason: "untrusted-relay" })).toBe(2);
  });
});

describe("DHCPv6 path: overlapping VRFs and RFC 6607 VSS", () => {
  const RED_PORT = accessLink("red-port");
  const BLUE_PORT = accessLink("blue-port");
  let transport: FakeTransport;
  let counters: Counters;
  const make = (policyText: string) =>
    new Relay6({
      vrfs: [
        { name: "RED", link: "fd00:10::1", servers: [RED_SERVER], segments: new Set(["red-port"]) },
        { name: "BLUE", link: "fd00:10::1", servers: [BLUE_SERVER], segments: new Set(["blue-port"]) },
      ],
      policy: () => parsePolicy(policyText, "overlap.yaml", ["RED", "BLUE"]),
      transport,
      counters,
      log: quietLog,
    });
  const bySegment = (extra = "") =>
    [
      "version: 1",
      extra,
      "rules:",
      '  - { name: red, match: { segment: red-port }, vrf: RED, vss: "{vrf}" }',
      '  - { name: blue, match: { segment: blue-port }, vrf: BLUE, vss: "{vrf}" }',
      "  - { name: stray, vrf: RED }",
      "",
    ].join("\n");
  const drops = (reason: string) => counters.get("dhcplab_relay_drops_total", { family: 6, reason });
  /** Kea's answer with OPTION_VSS returned, as a server that processed it answers. */
  const withVss = (forw: Uint8Array) =>
    replyTo(forw, (r) => {
      const sent = getOption6(decodeDhcp6(forw), OPT6.vss);
      if (sent) r.options.unshift({ code: OPT6.vss, data: sent });
    });

  beforeEach(() => {
    transport = new FakeTransport();
    counters = new Counters();
  });

  it("the same client on each segment goes to its segment's VRF with its VSS, and each reply back out its own segment", () => {
    const relay = make(bySegment());
    relay.handle(solicit(), PEER, RED_PORT);
    relay.handle(solicit(), PEER, BLUE_PORT);
    const [toRed, toBlue] = transport.take();
    expect([toRed?.address, toBlue?.address]).toEqual([RED_SERVER, BLUE_SERVER]);
    expect(
      hex(getOption6(decodeDhcp6(toBlue?.bytes ?? new Uint8Array()), OPT6.vss) ?? new Uint8Array()),
    ).toBe(`00${hex(utf8("BLUE"))}`);
    relay.handle(withVss(toBlue?.bytes ?? new Uint8Array()), BLUE_SERVER, BLUE);
    relay.handle(withVss(toRed?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    expect(transport.take().map((t) => [t.address, t.via])).toEqual([
      [PEER, "access:blue-port"],
      [PEER, "access:red-port"],
    ]);
  });

  it("a client the policy sends to a VRF that serves other segments is dropped (vrf-not-on-segment)", () => {
    make(bySegment()).handle(solicit(), PEER, ACCESS);
    expect(transport.sent).toHaveLength(0);
    expect(drops("vrf-not-on-segment")).toBe(1);
  });

  it("strict: a RELAY-REPL without OPTION_VSS is dropped (vss-not-supported); lenient: relayed, and a notice counted", () => {
    const strict = make(bySegment());
    strict.handle(solicit(), PEER, RED_PORT);
    strict.handle(replyTo(transport.take()[0]?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    expect(transport.sent).toHaveLength(0);
    expect(drops("vss-not-supported")).toBe(1);
    const lenient = make(bySegment("vssReplies: lenient"));
    lenient.handle(solicit(), PEER, RED_PORT);
    lenient.handle(replyTo(transport.take()[0]?.bytes ?? new Uint8Array()), RED_SERVER, RED);
    expect(transport.take()).toHaveLength(1);
    expect(counters.get("dhcplab_relay_notices_total", { family: 6, notice: "vss-not-supported" })).toBe(1);
  });
});
