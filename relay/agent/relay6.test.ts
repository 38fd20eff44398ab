import { beforeEach, describe, expect, it } from "vitest";
import { fromHex, hex, text, utf8 } from "../codec/bytes.ts";
import { MSG6, OPT6 } from "../codec/dhcp6/codes.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeDhcp6,
  getOption6,
  innermost,
  isRelay,
  relayedMessage,
} from "../codec/dhcp6/message.ts";
import type { Policy } from "../policy/policy.ts";
import { Counters } from "./counters.ts";
import { FakeTransport, golden, policyWith, quietLog } from "./fakes.ts";
import { Relay6 } from "./relay6.ts";

const RED_SERVER = "fe80::ff:fe00:a%eth1";
const BLUE_SERVER = "fe80::ff:fe00:a%eth2";
const PEER = "fe80::2aa:1ff:fe00:1";

// dhclient -6's SOLICIT as captured in the lab: DUID-LLT with MAC 02:42:..., so the
// tests give it a DUID-LLT of 00:aa:01:00:00:01 or a DUID-LL where they need one.
function solicit(duid = "0001000100000000" + "00aa01000001"): Uint8Array {
  const m = decodeDhcp6(golden("dhclient-v6-01-solicit"));
  if (isRelay(m)) throw new Error("expected a client message");
  m.options = m.options.map((o) => (o.code === OPT6.clientId ? { code: o.code, data: fromHex(duid) } : o));
  return encodeDhcp6(m);
}

/** What Kea answers: a RELAY-REPL echoing the relay's Interface-ID around an ADVERTISE. */
function replyTo(forw: Uint8Array, edit?: (r: Dhcp6RelayMessage) => void): Uint8Array {
  const f = decodeDhcp6(forw);
  if (!isRelay(f)) throw new Error("expected RELAY-FORW");
  const inner = relayedMessage(f) as Dhcp6Message;
  const advertise: Dhcp6Message = {
    type: MSG6.ADVERTISE,
    transactionId: innermost(inner)?.transactionId ?? 0,
    options: [{ code: OPT6.serverId, data: fromHex("000300010200000000aa") }],
  };
  const repl: Dhcp6RelayMessage = {
    type: MSG6.RELAY_REPL,
    hopCount: f.hopCount,
    linkAddress: f.linkAddress,
    peerAddress: f.peerAddress,
    options: [
      ...f.options.filter((o) => o.code === OPT6.interfaceId),
      {
        code: OPT6.relayMessage,
        message: isRelay(inner)
          ? { ...inner, type: MSG6.RELAY_REPL, options: [{ code: OPT6.relayMessage, message: advertise }] }
          : advertise,
      },
    ],
  };
  edit?.(repl);
  return encodeDhcp6(repl);
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
    relay.handle(bytes, `${PEER}%eth0`);
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
    relay.handle(solicit("0003000100aa01000001"), PEER);
    const f = decodeDhcp6(transport.take()[0]?.bytes ?? new Uint8Array());
    expect(text(getOption6(f, OPT6.interfaceId) ?? new Uint8Array())).toBe("V6_DATA_LINK");
  });

  it("derives the MAC from an EUI-64 link-local source when the DUID holds none (DUID-EN)", () => {
    relay.handle(solicit("0002000009590102030405"), "fe80::2bb:1ff:fe00:9");
    expect(transport.take()[0]?.address).toBe(BLUE_SERVER);
  });

  it("unwraps RELAY-REPL and sends the inner message to the peer on port 546 (RFC 8415 §19.2)", () => {
    relay.handle(solicit(), PEER);
    const [forw] = transport.take();
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER);
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

  it("wraps a downstream relay's RELAY-FORW again with hop-count + 1, and answers it on port 547", () => {
    const downstream: Dhcp6RelayMessage = {
      type: MSG6.RELAY_FORW,
      hopCount: 2,
      linkAddress: "fd00:99::1",
      peerAddress: PEER,
      options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
    };
    relay.handle(encodeDhcp6(downstream), "fe80::99");
    const [forw] = transport.take();
    const f = decodeDhcp6(forw?.bytes ?? new Uint8Array());
    expect(isRelay(f) && f.hopCount).toBe(3);
    expect(isRelay(f) && f.peerAddress).toBe("fe80::99");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), RED_SERVER);
    expect(transport.take()[0]).toMatchObject({ port: 547, address: "fe80::99" });
  });

  describe("drops, each counted by reason", () => {
    it("RELAY-FORW at the hop-count limit (RFC 8415 §19.1.2)", () => {
      const at = (hopCount: number): Dhcp6RelayMessage => ({
        type: MSG6.RELAY_FORW,
        hopCount,
        linkAddress: "::",
        peerAddress: PEER,
        options: [{ code: OPT6.relayMessage, message: decodeDhcp6(solicit()) }],
      });
      relay.handle(encodeDhcp6(at(8)), "fe80::99");
      expect(drops("hops-exceeded")).toBe(1);
      relay.handle(encodeDhcp6(at(7)), "fe80::99");
      expect(transport.sent).toHaveLength(1);
    });

    it("a server's message type from the client side", () => {
      for (const type of [MSG6.ADVERTISE, MSG6.REPLY, MSG6.RECONFIGURE]) {
        relay.handle(encodeDhcp6({ type, transactionId: 1, options: [] }), PEER);
      }
      expect(drops("server-message-from-client")).toBe(3);
    });

    it("anything but RELAY-REPL from a server, and RELAY-REPL without a Relay-Message", () => {
      relay.handle(solicit(), RED_SERVER);
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
      );
      expect(drops("no-relay-message")).toBe(1);
    });

    it("a RELAY-REPL whose Interface-ID is not the one sent", () => {
      relay.handle(solicit(), PEER);
      const [forw] = transport.take();
      const bad = replyTo(forw?.bytes ?? new Uint8Array(), (r) => {
        r.options = r.options.map((o) =>
          o.code === OPT6.interfaceId ? { code: o.code, data: utf8("V6_DATA_LINK") } : o,
        );
      });
      relay.handle(bad, RED_SERVER);
      const missing = replyTo(forw?.bytes ?? new Uint8Array(), (r) => {
        r.options = r.options.filter((o) => o.code !== OPT6.interfaceId);
      });
      relay.handle(missing, RED_SERVER);
      expect(transport.sent).toHaveLength(0);
      expect(drops("interface-id-mismatch")).toBe(2);
    });

    it("a RELAY-REPL from another VRF's server, or for nothing in flight", () => {
      relay.handle(solicit(), PEER);
      const [forw] = transport.take();
      relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), BLUE_SERVER);
      expect(drops("unknown-transaction")).toBe(1);
    });

    it("a client no rule matches, and malformed packets; the relay keeps serving", () => {
      relay.handle(solicit("0003000100cc01000001"), "fe80::1");
      expect(drops("unmatched")).toBe(1);
      relay.handle(Uint8Array.of(12, 0, 1), PEER);
      relay.handle(golden("malformed-v6-relay-forw-overrun"), PEER);
      relay.handle(golden("malformed-v6-relay-forw-empty-relay-message"), RED_SERVER);
      expect(drops("malformed")).toBe(3);
      relay.handle(solicit(), PEER);
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
    relay.handle(solicit(), PEER);
    const [forw] = transport.take();
    expect(forw?.address).toBe("ff02::1:2%eth3");
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), "fe80::42:aff:fe00:5%eth4");
    expect(transport.take()).toHaveLength(0);
    relay.handle(replyTo(forw?.bytes ?? new Uint8Array()), "fe80::42:aff:fe00:5%eth3");
    expect(transport.take()[0]).toMatchObject({ port: 546, address: PEER });
  });
});
