import { beforeEach, describe, expect, it } from "vitest";
import { hex, text, utf8 } from "../codec/bytes.ts";
import { MSG, OP, OPT } from "../codec/dhcp4/codes.ts";
import { type Dhcp4Message, decodeDhcp4, encodeDhcp4, FLAG_BROADCAST } from "../codec/dhcp4/message.ts";
import { getOption, messageType, serverId, setOption } from "../codec/dhcp4/options.ts";
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  relayAgentFields,
} from "../codec/dhcp4/relay-agent-info.ts";
import type { Policy } from "../policy/policy.ts";
import { Counters } from "./counters.ts";
import { FakeTransport, golden, policyWith, quietLog } from "./fakes.ts";
import { Relay4 } from "./relay4.ts";

const ACCESS = "10.213.1.2";
const RED_SERVER = "10.213.2.10";
const BLUE_SERVER = "10.213.3.10";
const CLIENT_SOURCE = "10.213.1.200";

// dhclient's DISCOVER as captured in the lab: giaddr 0, MAC 00:aa:01:00:00:01.
const dhclientDiscover = () => golden("dhclient-v4-01-discover");
// perfdhcp's DISCOVER: giaddr = perfdhcp's address, hops 1, MAC 00:aa:01:00:00:10.
const perfdhcpDiscover = () => golden("perfdhcp-v4-01-discover");

function withMac(bytes: Uint8Array, mac: number[]): Uint8Array {
  const m = decodeDhcp4(bytes);
  m.chaddr.set(mac);
  return encodeDhcp4(m, { maxSize: 1500 });
}

/** The server's answer to a relayed request: what Kea does, Option 82 echoed (RFC 3046 §2.2). */
function offerFor(
  relayed: Uint8Array,
  type: number = MSG.OFFER,
  edit?: (m: Dhcp4Message) => void,
): Uint8Array {
  const m = decodeDhcp4(relayed);
  m.op = OP.BOOTREPLY;
  m.yiaddr = "192.168.10.10";
  const rai = getOption(m, OPT.relayAgentInfo);
  m.options.options = [
    { code: OPT.messageType, data: Uint8Array.of(type) },
    { code: OPT.serverId, data: Uint8Array.of(192, 168, 10, 1) },
  ];
  if (rai) m.options.options.push({ code: OPT.relayAgentInfo, data: rai });
  edit?.(m);
  return encodeDhcp4(m, { maxSize: 1500 });
}

describe("DHCPv4 path", () => {
  let transport: FakeTransport;
  let counters: Counters;
  let policy: Policy;
  let relay: Relay4;
  const make = () =>
    new Relay4({
      accessAddress: ACCESS,
      accessBroadcast: "10.213.1.255",
      gateways: ["192.168.10.1/24"],
      vrfs: [
        {
          name: "RED",
          relayAddress: "10.213.2.2",
          link: "192.168.10.1",
          subnetSelection: "link-selection",
          serverIdOverride: true,
          servers: [RED_SERVER],
        },
        {
          name: "BLUE",
          relayAddress: "10.213.3.2",
          link: "192.168.20.1",
          subnetSelection: "giaddr",
          serverIdOverride: false,
          servers: [BLUE_SERVER, "10.213.3.11"],
        },
      ],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
    });
  const drops = (reason: string) => counters.get("dhcplab_relay_drops_total", { family: 4, reason });

  beforeEach(() => {
    transport = new FakeTransport();
    counters = new Counters();
    policy = policyWith();
    relay = make();
  });

  it("forwards a client's DISCOVER to its VRF's server with hops + 1, giaddr and the policy's Option 82", () => {
    relay.handle(dhclientDiscover(), CLIENT_SOURCE);
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 67, address: RED_SERVER });
    const m = decodeDhcp4(out?.bytes ?? new Uint8Array());
    expect(m.hops).toBe(1);
    // Link-selection mode: giaddr is the relay's backend address, the link goes in sub-option 5 (RFC 3527).
    expect(m.giaddr).toBe("10.213.2.2");
    const f = relayAgentFields(decodeRelayAgentInfo(getOption(m, OPT.relayAgentInfo) ?? new Uint8Array()));
    expect(text(f.circuitId ?? new Uint8Array())).toBe("VIDEO_CIRCUIT");
    expect(text(f.remoteId ?? new Uint8Array())).toBe("00:aa:01:00:00:01");
    expect(f.linkSelection).toBe("192.168.10.1");
    // RFC 5107: the relay's access address, so that renewals come back through it.
    expect(f.serverIdOverride).toBe(ACCESS);
    // RFC 3046 §2.1: Option 82 last, just before END.
    const codes = m.options.options.filter((o) => o.code !== 0).map((o) => o.code);
    expect(codes.at(-1)).toBe(OPT.relayAgentInfo);
    expect(
      counters.get("dhcplab_relay_messages_total", {
        family: 4,
        vrf: "RED",
        type: "DISCOVER",
        direction: "to-server",
      }),
    ).toBe(1);
  });

  it("sends to every server of the VRF, and puts the link in giaddr in giaddr mode", () => {
    relay.handle(withMac(dhclientDiscover(), [0, 0xbb, 1, 0, 0, 1]), CLIENT_SOURCE);
    const sent = transport.take();
    expect(sent.map((s) => s.address)).toEqual([BLUE_SERVER, "10.213.3.11"]);
    const m = decodeDhcp4(sent[0]?.bytes ?? new Uint8Array());
    expect(m.giaddr).toBe("192.168.20.1");
    const f = relayAgentFields(decodeRelayAgentInfo(getOption(m, OPT.relayAgentInfo) ?? new Uint8Array()));
    expect(f.linkSelection).toBeUndefined();
    expect(f.serverIdOverride).toBeUndefined();
  });

  it("brings the OFFER back without the Option 82 it added, broadcast to a client with no address", () => {
    relay.handle(dhclientDiscover(), CLIENT_SOURCE);
    const [req] = transport.take();
    relay.handle(offerFor(req?.bytes ?? new Uint8Array()), RED_SERVER);
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 68, address: "10.213.1.255" });
    const m = decodeDhcp4(out?.bytes ?? new Uint8Array());
    expect(getOption(m, OPT.relayAgentInfo)).toBeUndefined();
    expect(messageType(m)).toBe(MSG.OFFER);
    // RFC 5107: the client sees the relay as its server, and renews and releases through it.
    expect(serverId(m)).toBe(ACCESS);
    expect(m.flags & FLAG_BROADCAST).toBe(FLAG_BROADCAST);
    expect(
      counters.get("dhcplab_relay_messages_total", {
        family: 4,
        vrf: "RED",
        type: "OFFER",
        direction: "to-client",
      }),
    ).toBe(1);
  });

  it.each([
    { ciaddr: "192.168.10.10", to: "192.168.10.10", why: "ciaddr, through the gateway the relay holds" },
    { ciaddr: "172.30.0.9", to: CLIENT_SOURCE, why: "where it came from, when no gateway covers ciaddr" },
  ])("answers a renewing client (ciaddr $ciaddr) by unicast to $why (RFC 2131 §4.1)", ({ ciaddr, to }) => {
    const m = decodeDhcp4(dhclientDiscover());
    m.ciaddr = ciaddr;
    setOption(m, OPT.messageType, Uint8Array.of(MSG.REQUEST));
    relay.handle(encodeDhcp4(m), CLIENT_SOURCE);
    const [req] = transport.take();
    relay.handle(
      offerFor(req?.bytes ?? new Uint8Array(), MSG.ACK, (r) => {
        r.ciaddr = ciaddr;
      }),
      RED_SERVER,
    );
    expect(transport.take()[0]).toMatchObject({ port: 68, address: to });
  });

  describe("packets from a downstream relay (giaddr set)", () => {
    it("takeover: applies the policy, and returns the reply to the downstream giaddr on port 67", () => {
      relay.handle(perfdhcpDiscover(), "10.213.1.99");
      const [req] = transport.take();
      const fwd = decodeDhcp4(req?.bytes ?? new Uint8Array());
      expect(fwd.giaddr).toBe("10.213.2.2");
      expect(fwd.hops).toBe(2);
      relay.handle(offerFor(req?.bytes ?? new Uint8Array()), RED_SERVER);
      const [out] = transport.take();
      const down = decodeDhcp4(perfdhcpDiscover()).giaddr;
      expect(out).toMatchObject({ port: 67, address: down });
      expect(decodeDhcp4(out?.bytes ?? new Uint8Array()).giaddr).toBe(down);
    });

    it("forward (RFC 3046's default): sends it on unchanged but for hops", () => {
      policy = policyWith({ relayedClients: "forward" });
      relay.handle(perfdhcpDiscover(), "10.213.1.99");
      const [req] = transport.take();
      const original = decodeDhcp4(perfdhcpDiscover());
      const fwd = decodeDhcp4(req?.bytes ?? new Uint8Array());
      expect(fwd.giaddr).toBe(original.giaddr);
      expect(fwd.hops).toBe(original.hops + 1);
      expect(getOption(fwd, OPT.relayAgentInfo)).toBeUndefined();
    });
  });

  describe("Option 82 a client sent itself (giaddr 0) is untrusted (RFC 3046 §2.1)", () => {
    const theirs = encodeRelayAgentInfo([{ code: 1, data: utf8("FAKE") }]);
    const withTheirs = () => {
      const m = decodeDhcp4(dhclientDiscover());
      setOption(m, OPT.relayAgentInfo, theirs);
      return encodeDhcp4(m);
    };
    const sentSubs = () =>
      decodeRelayAgentInfo(
        getOption(decodeDhcp4(transport.take()[0]?.bytes ?? new Uint8Array()), OPT.relayAgentInfo) ??
          new Uint8Array(),
      );

    it("discard (default): dropped and counted", () => {
      relay.handle(withTheirs(), CLIENT_SOURCE);
      expect(transport.sent).toHaveLength(0);
      expect(drops("untrusted-option82")).toBe(1);
    });

    it("append: theirs kept, ours after them; the reply gets theirs back", () => {
      policy = policyWith({ existingOption82: "append" });
      relay.handle(withTheirs(), CLIENT_SOURCE);
      const req = transport.sent[0]?.bytes ?? new Uint8Array();
      expect(
        sentSubs()
          .map((s) => text(s.data))
          .slice(0, 2),
      ).toEqual(["FAKE", "VIDEO_CIRCUIT"]);
      relay.handle(offerFor(req), RED_SERVER);
      expect(
        hex(
          getOption(decodeDhcp4(transport.take()[0]?.bytes ?? new Uint8Array()), OPT.relayAgentInfo) ??
            new Uint8Array(),
        ),
      ).toBe(hex(theirs));
    });

    it("replace: theirs removed, ours instead", () => {
      policy = policyWith({ existingOption82: "replace" });
      relay.handle(withTheirs(), CLIENT_SOURCE);
      expect(text(sentSubs()[0]?.data ?? new Uint8Array())).toBe("VIDEO_CIRCUIT");
    });

    it("forward: theirs forwarded, nothing added", () => {
      policy = policyWith({ existingOption82: "forward" });
      relay.handle(withTheirs(), CLIENT_SOURCE);
      expect(sentSubs().map((s) => text(s.data))).toEqual(["FAKE"]);
    });
  });

  describe("drops, each counted by reason", () => {
    it("a client that no rule matches", () => {
      relay.handle(withMac(dhclientDiscover(), [0, 0xcc, 0, 0, 0, 1]), CLIENT_SOURCE);
      expect(transport.sent).toHaveLength(0);
      expect(drops("unmatched")).toBe(1);
    });

    it("hops over the limit (RFC 1542 §4.1.1)", () => {
      policy = policyWith({ maxHops: 4 });
      const m = decodeDhcp4(dhclientDiscover());
      m.hops = 4;
      relay.handle(encodeDhcp4(m), CLIENT_SOURCE);
      expect(drops("hops-exceeded")).toBe(1);
      m.hops = 3;
      relay.handle(encodeDhcp4(m), CLIENT_SOURCE);
      expect(transport.sent).toHaveLength(1);
    });

    it("op neither BOOTREQUEST nor BOOTREPLY on the client side", () => {
      const m = decodeDhcp4(dhclientDiscover());
      m.op = 3;
      relay.handle(encodeDhcp4(m), CLIENT_SOURCE);
      expect(drops("not-bootrequest")).toBe(1);
    });

    it("a reply from anything but a configured server", () => {
      relay.handle(dhclientDiscover(), CLIENT_SOURCE);
      const [req] = transport.take();
      relay.handle(offerFor(req?.bytes ?? new Uint8Array()), "10.213.2.99");
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-server")).toBe(1);
    });

    it("a reply from the server of another VRF, or for no request in flight", () => {
      relay.handle(dhclientDiscover(), CLIENT_SOURCE);
      const [req] = transport.take();
      relay.handle(offerFor(req?.bytes ?? new Uint8Array()), BLUE_SERVER);
      relay.handle(offerFor(withMac(dhclientDiscover(), [0, 0xaa, 1, 9, 9, 9])), RED_SERVER);
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-transaction")).toBe(2);
    });

    it("a reply whose Option 82 is not the one this relay added", () => {
      relay.handle(dhclientDiscover(), CLIENT_SOURCE);
      const [req] = transport.take();
      relay.handle(
        offerFor(req?.bytes ?? new Uint8Array(), MSG.OFFER, (m) =>
          setOption(m, OPT.relayAgentInfo, encodeRelayAgentInfo([{ code: 1, data: utf8("OTHER") }])),
        ),
        RED_SERVER,
      );
      expect(transport.sent).toHaveLength(0);
      expect(drops("option82-mismatch")).toBe(1);
    });

    it("a malformed packet, from either side; the relay keeps serving", () => {
      relay.handle(Uint8Array.of(1, 2, 3), CLIENT_SOURCE);
      relay.handle(dhclientDiscover().subarray(0, 250), RED_SERVER);
      expect(drops("malformed")).toBe(2);
      relay.handle(dhclientDiscover(), CLIENT_SOURCE);
      expect(transport.sent).toHaveLength(1);
    });

    it("no room for Option 82: forwarded without it, and counted", () => {
      const m = decodeDhcp4(dhclientDiscover());
      m.options.options = m.options.options.filter((o) => o.code !== OPT.maxMessageSize);
      m.options.trailer = new Uint8Array(0);
      // Grow the request to exactly 576 bytes with a 200-byte option and a filler: nothing more fits.
      setOption(m, 250, new Uint8Array(200));
      setOption(m, 251, new Uint8Array(576 - encodeDhcp4(m, { maxSize: 2000 }).length - 2));
      const full = encodeDhcp4(m);
      expect(full.length).toBe(576);
      relay.handle(full, CLIENT_SOURCE);
      const [out] = transport.take();
      expect(getOption(decodeDhcp4(out?.bytes ?? new Uint8Array()), OPT.relayAgentInfo)).toBeUndefined();
      expect(counters.get("dhcplab_relay_notices_total", { family: 4, notice: "no-room-for-option82" })).toBe(
        1,
      );
    });
  });
});
