import { beforeEach, describe, expect, it } from "vitest";
import { hex, text, utf8 } from "../../lib/codec/bytes.ts";
import { MSG, OP, OPT } from "../../lib/codec/dhcp4/codes.ts";
import {
  type Dhcp4Message,
  decodeDhcp4,
  encodeDhcp4,
  FLAG_BROADCAST,
} from "../../lib/codec/dhcp4/message.ts";
import { getOption, messageType, removeOption, serverId, setOption } from "../../lib/codec/dhcp4/options.ts";
import {
  decodeRelayAgentInfo,
  encodeRelayAgentInfo,
  relayAgentFields,
} from "../../lib/codec/dhcp4/relay-agent-info.ts";
import { LEASEQUERY4, leaseQuery4 } from "../../lib/leasequery.ts";
import { type Policy, parsePolicy } from "../../lib/policy/policy.ts";
import {
  FakeTransport,
  golden,
  offerFor,
  policyWith,
  quietLog,
  RED_VRF4,
} from "../../test/support/relay-fakes.ts";
import { Counters } from "./counters.ts";
import { ACCESS as ACCESS_LINK, accessLink, type Link, vrfLink } from "./links.ts";
import { Relay4, type Relay4Options } from "./relay4.ts";

const ACCESS = "10.213.1.2";
const RED_SERVER = "10.213.2.10";
const BLUE_SERVER = "10.213.3.10";
const CLIENT_SOURCE = "10.213.1.200";
const RED = vrfLink("RED");
const BLUE = vrfLink("BLUE");

// dhclient's DISCOVER as captured in the lab: giaddr 0, MAC 00:aa:01:00:00:01.
const dhclientDiscover = () => golden("dhclient-v4-01-discover");
// perfdhcp's DISCOVER: giaddr = perfdhcp's address, hops 1, MAC 00:aa:01:00:00:10.
const perfdhcpDiscover = () => golden("perfdhcp-v4-01-discover");

function withMac(bytes: Uint8Array, mac: number[]): Uint8Array {
  const m = decodeDhcp4(bytes);
  m.chaddr.set(mac);
  return encodeDhcp4(m, { maxSize: 1500 });
}

describe("DHCPv4 path", () => {
  let transport: FakeTransport;
  let counters: Counters;
  let policy: Policy;
  let relay: Relay4;
  const make = (extra: Partial<Relay4Options> = {}) =>
    new Relay4({
      segments: [{ name: "access", address: ACCESS, gateways: ["192.168.10.1/24"] }],
      ownAddresses: [ACCESS, "10.213.2.2", "10.213.3.2", "192.168.10.1", "192.168.20.1"],
      vrfs: [
        RED_VRF4,
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
      ...extra,
    });
  const drops = (reason: string) => counters.get("dhcplab_relay_drops_total", { family: 4, reason });
  const totalDrops = () => counters.sum("dhcplab_relay_drops_total", { family: 4 });
  const fromClient = (bytes: Uint8Array, source = CLIENT_SOURCE) => relay.handle(bytes, source, ACCESS_LINK);
  const fromServer = (bytes: Uint8Array, source = RED_SERVER, link: Link = RED) =>
    relay.handle(bytes, source, link);
  /** Relays dhclient's DISCOVER and returns what went to RED's server. */
  const relayedDiscover = (bytes = dhclientDiscover(), source = CLIENT_SOURCE) => {
    fromClient(bytes, source);
    const [req] = transport.take();
    if (!req) throw new Error("nothing was relayed");
    return req.bytes;
  };
  const sub82 = (m: Dhcp4Message) =>
    relayAgentFields(decodeRelayAgentInfo(getOption(m, OPT.relayAgentInfo) ?? new Uint8Array()));

  beforeEach(() => {
    transport = new FakeTransport();
    counters = new Counters();
    policy = policyWith();
    relay = make();
  });

  it("forwards a client's DISCOVER to its VRF's server, out of that VRF's link, with hops + 1, giaddr and the policy's Option 82", () => {
    fromClient(dhclientDiscover());
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 67, address: RED_SERVER, via: "vrf:RED" });
    const m = decodeDhcp4(out?.bytes ?? new Uint8Array());
    expect(m.hops).toBe(1);
    // Link-selection mode: giaddr is the relay's backend address, the link goes in sub-option 5 (RFC 3527).
    expect(m.giaddr).toBe("10.213.2.2");
    const f = sub82(m);
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
    fromClient(withMac(dhclientDiscover(), [0, 0xbb, 1, 0, 0, 1]));
    const sent = transport.take();
    expect(sent.map((s) => [s.address, s.via])).toEqual([
      [BLUE_SERVER, "vrf:BLUE"],
      ["10.213.3.11", "vrf:BLUE"],
    ]);
    const m = decodeDhcp4(sent[0]?.bytes ?? new Uint8Array());
    expect(m.giaddr).toBe("192.168.20.1");
    expect(sub82(m).linkSelection).toBeUndefined();
    expect(sub82(m).serverIdOverride).toBeUndefined();
  });

  it("brings the OFFER back without the Option 82 it added, to the limited broadcast on the access link where its transport cannot frame (RFC 1542 §4.1.2), flags untouched", () => {
    fromServer(offerFor(relayedDiscover()));
    const [out] = transport.take();
    expect(out).toMatchObject({ port: 68, address: "255.255.255.255", via: "access" });
    const m = decodeDhcp4(out?.bytes ?? new Uint8Array());
    expect(getOption(m, OPT.relayAgentInfo)).toBeUndefined();
    expect(messageType(m)).toBe(MSG.OFFER);
    // RFC 5107: the client sees the relay as its server, and renews and releases through it.
    expect(serverId(m)).toBe(ACCESS);
    // The server did not set the broadcast bit, and the relay does not either.
    expect(m.flags & FLAG_BROADCAST).toBe(0);
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
    const req = relayedDiscover(encodeDhcp4(m));
    fromServer(
      offerFor(req, MSG.ACK, (r) => {
        r.ciaddr = ciaddr;
      }),
    );
    expect(transport.take()[0]).toMatchObject({ port: 68, address: to, via: "access" });
  });

  describe("on a transport that frames replies itself (the native datapath): RFC 1542 §4.1.2", () => {
    beforeEach(() => {
      transport = new FakeTransport(true);
      relay = make();
    });
    const chaddr = Uint8Array.of(0, 0xaa, 1, 0, 0, 1);
    const replyWith = (type: number, flags: number) =>
      offerFor(relayedDiscover(), type, (m) => {
        m.flags = flags;
      });

    it("sends the OFFER and ACK of a client that did not ask for broadcast to its yiaddr at its chaddr, from the relay's address on the segment", () => {
      for (const type of [MSG.OFFER, MSG.ACK]) {
        fromServer(replyWith(type, 0));
        const [out] = transport.take();
        expect(out).toMatchObject({ port: 68, address: "192.168.10.10", via: "access" });
        expect(out?.frame).toEqual({ source: ACCESS, destination: "192.168.10.10", hardware: chaddr });
        const m = decodeDhcp4(out?.bytes ?? new Uint8Array());
        expect(messageType(m)).toBe(type);
        expect(getOption(m, OPT.relayAgentInfo)).toBeUndefined();
      }
      expect(counters.sum("dhcplab_relay_messages_total", { family: 4, direction: "to-client" })).toBe(2);
    });

    it.each([
      { why: "the client set BROADCAST", type: MSG.OFFER, flags: FLAG_BROADCAST },
      { why: "a NAK (RFC 2131 §4.1)", type: MSG.NAK, flags: 0 },
    ])("broadcasts on the link when $why", ({ type, flags }) => {
      fromServer(replyWith(type, flags));
      const [out] = transport.take();
      expect(out).toMatchObject({ port: 68, address: "255.255.255.255", via: "access" });
      expect(out?.frame).toEqual({ source: ACCESS, destination: "255.255.255.255", hardware: undefined });
      expect(decodeDhcp4(out?.bytes ?? new Uint8Array()).flags).toBe(flags);
    });

    it.each([
      {
        why: "its hardware type is not Ethernet's",
        edit: (m: Dhcp4Message) => {
          m.htype = 6;
        },
      },
      {
        why: "its chaddr is not 6 bytes long",
        edit: (m: Dhcp4Message) => {
          m.hlen = 8;
        },
      },
      {
        why: "the reply has no yiaddr",
        edit: (m: Dhcp4Message) => {
          m.yiaddr = "0.0.0.0";
        },
      },
    ])("broadcasts when $why", ({ edit }) => {
      // The client's request as the reply's fields say (its transaction is found by xid and chaddr).
      const discover = decodeDhcp4(dhclientDiscover());
      edit(discover);
      fromServer(offerFor(relayedDiscover(encodeDhcp4(discover, { maxSize: 1500 })), MSG.OFFER, edit));
      const [out] = transport.take();
      expect(out?.frame).toEqual({ source: ACCESS, destination: "255.255.255.255", hardware: undefined });
    });

    it("answers a renewing client (ciaddr) through the UDP socket, as without framing", () => {
      const m = decodeDhcp4(dhclientDiscover());
      m.ciaddr = "192.168.10.10";
      setOption(m, OPT.messageType, Uint8Array.of(MSG.REQUEST));
      fromServer(
        offerFor(relayedDiscover(encodeDhcp4(m)), MSG.ACK, (r) => {
          r.ciaddr = "192.168.10.10";
        }),
      );
      const [out] = transport.take();
      expect(out).toMatchObject({ port: 68, address: "192.168.10.10", via: "access" });
      expect(out?.frame).toBeUndefined();
    });
  });

  describe("which link a datagram came in on decides what it may be", () => {
    it("a BOOTREPLY on the access link is never delivered, even from a server's address", () => {
      const offer = offerFor(relayedDiscover());
      fromClient(offer, RED_SERVER);
      expect(transport.sent).toHaveLength(0);
      expect(drops("server-message-from-client")).toBe(1);
    });

    it("a BOOTREQUEST on a backend link is never relayed", () => {
      fromServer(dhclientDiscover(), "10.213.2.99");
      fromServer(dhclientDiscover(), RED_SERVER);
      expect(transport.sent).toHaveLength(0);
      expect(drops("client-message-on-backend")).toBe(2);
    });

    it("a reply accepted only from the VRF's own server on the VRF's own link", () => {
      const req = relayedDiscover();
      // RED's server's address on BLUE's link, and BLUE's server on RED's link: both refused.
      fromServer(offerFor(req), RED_SERVER, BLUE);
      fromServer(offerFor(req), BLUE_SERVER, RED);
      fromServer(offerFor(req), "10.213.2.99", RED);
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-server")).toBe(3);
      fromServer(offerFor(req));
      expect(transport.take()).toHaveLength(1);
    });

    it("anything on an interface the configuration does not name", () => {
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, { side: "unknown", name: "eth9" });
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-interface")).toBe(1);
    });
  });

  describe("packets from a downstream relay (giaddr set)", () => {
    const down = () => decodeDhcp4(perfdhcpDiscover()).giaddr;

    it("takeover: applies the policy, and returns the reply to the downstream giaddr on port 67", () => {
      const req = relayedDiscover(perfdhcpDiscover(), down());
      const fwd = decodeDhcp4(req);
      expect(fwd.giaddr).toBe("10.213.2.2");
      expect(fwd.hops).toBe(2);
      fromServer(offerFor(req));
      const [out] = transport.take();
      expect(out).toMatchObject({ port: 67, address: down(), via: "access" });
      expect(decodeDhcp4(out?.bytes ?? new Uint8Array()).giaddr).toBe(down());
      expect(counters.get("dhcplab_relay_downstream_total", { family: 4, handling: "takeover" })).toBe(1);
    });

    it("a client's own request (giaddr 0) is no downstream relay's", () => {
      fromClient(dhclientDiscover());
      expect(transport.take()).toHaveLength(1);
      expect(counters.sum("dhcplab_relay_downstream_total")).toBe(0);
    });

    it("forward (RFC 3046's default): sends it on unchanged but for hops", () => {
      policy = policyWith({ relayedClients: "forward" });
      const fwd = decodeDhcp4(relayedDiscover(perfdhcpDiscover(), down()));
      const original = decodeDhcp4(perfdhcpDiscover());
      expect(fwd.giaddr).toBe(original.giaddr);
      expect(fwd.hops).toBe(original.hops + 1);
      expect(getOption(fwd, OPT.relayAgentInfo)).toBeUndefined();
      // Its server answers the downstream relay at giaddr: nothing waits here for a reply.
      expect(relay.inFlightCount).toBe(0);
    });

    it("a giaddr that is not the sender's own address is untrusted, unless inside trustedRelays", () => {
      // A client claiming RED's server as its relay, while the policy sends it to BLUE.
      const m = decodeDhcp4(withMac(dhclientDiscover(), [0, 0xbb, 1, 0, 0, 1]));
      m.giaddr = RED_SERVER;
      fromClient(encodeDhcp4(m));
      expect(transport.sent).toHaveLength(0);
      expect(drops("untrusted-relay")).toBe(1);
      policy = policyWith({ trustedRelays: '["10.213.2.0/24"]' });
      fromClient(encodeDhcp4(m));
      expect(transport.take().map((s) => s.via)).toEqual(["vrf:BLUE", "vrf:BLUE"]);
    });

    it("a tower is trusted by its source address and giaddr prefix: its request goes on with giaddr and its Option 82", () => {
      policy = policyWith({ relayedClients: "forward" });
      relay = make({ towers: [{ source: "10.213.9.21", giaddr: "100.64.1.0/24" }] });
      const m = decodeDhcp4(dhclientDiscover());
      m.giaddr = "100.64.1.1";
      m.hops = 1;
      setOption(m, OPT.relayAgentInfo, encodeRelayAgentInfo([{ code: 1, data: utf8("eth0") }]));
      const bytes = encodeDhcp4(m, { maxSize: 1500 });
      fromClient(bytes, "10.213.9.21");
      const [out] = transport.take();
      const fwd = decodeDhcp4(out?.bytes ?? new Uint8Array());
      expect(fwd.giaddr).toBe("100.64.1.1");
      expect(fwd.hops).toBe(2);
      expect(text(sub82(fwd).circuitId ?? new Uint8Array())).toBe("eth0");
      expect(sub82(fwd).serverIdOverride).toBeUndefined();
      // The same giaddr from another source, or another giaddr from the tower, is not trusted.
      fromClient(bytes, "10.213.9.22");
      m.giaddr = "100.64.2.1";
      fromClient(encodeDhcp4(m, { maxSize: 1500 }), "10.213.9.21");
      expect(transport.sent).toHaveLength(0);
      expect(drops("untrusted-relay")).toBe(2);
      // A client's own request on the transport network is no tower's.
      relay = make({
        segments: [
          { name: "access", address: ACCESS, gateways: [] },
          { name: "transport", address: "10.213.9.2", gateways: [] },
        ],
      });
      relay.handle(dhclientDiscover(), "10.213.9.30", accessLink("transport"));
      expect(transport.sent).toHaveLength(0);
      expect(drops("untrusted-relay")).toBe(3);
    });

    it("an edge relay accepts replies from the servers behind its upstream relay (acceptFrom), and from no one else", () => {
      relay = make({ vrfs: [{ ...RED_VRF4, servers: ["10.213.9.2"], acceptFrom: ["10.213.2.0/24"] }] });
      const req = relayedDiscover();
      fromServer(offerFor(req), RED_SERVER);
      expect(transport.take()).toHaveLength(1);
      fromServer(offerFor(req), "10.213.3.10");
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-server")).toBe(1);
    });

    it.each(["10.213.2.2", ACCESS, "192.168.10.1", "192.168.20.1"])(
      "a giaddr that is one of the relay's own addresses (%s) is discarded (RFC 3046 §2.1.1)",
      (own) => {
        const m = decodeDhcp4(perfdhcpDiscover());
        m.giaddr = own;
        fromClient(encodeDhcp4(m), own);
        expect(transport.sent).toHaveLength(0);
        expect(drops("own-giaddr")).toBe(1);
      },
    );
  });

  describe("Option 82 a client sent itself (giaddr 0) is untrusted (RFC 3046 §2.1)", () => {
    // A forged Circuit-ID and Link Selection: neither may reach Kea as the relay's.
    const theirs = encodeRelayAgentInfo([
      { code: 1, data: utf8("FAKE") },
      { code: 5, data: Uint8Array.of(192, 168, 11, 1) },
      { code: 9, data: utf8("keep me") },
    ]);
    const withTheirs = () => {
      const m = decodeDhcp4(dhclientDiscover());
      setOption(m, OPT.relayAgentInfo, theirs);
      return encodeDhcp4(m);
    };
    const subsOf = (bytes: Uint8Array) =>
      decodeRelayAgentInfo(getOption(decodeDhcp4(bytes), OPT.relayAgentInfo) ?? new Uint8Array());

    it("discard (default): dropped and counted", () => {
      fromClient(withTheirs());
      expect(transport.sent).toHaveLength(0);
      expect(drops("untrusted-option82")).toBe(1);
    });

    it("append: theirs kept but for the codes the relay sets, so Kea reads the relay's; the reply gets theirs back", () => {
      policy = policyWith({ existingOption82: "append" });
      const req = relayedDiscover(withTheirs());
      const subs = subsOf(req);
      expect(subs.filter((s) => s.code === 1).map((s) => text(s.data))).toEqual(["VIDEO_CIRCUIT"]);
      expect(subs.filter((s) => s.code === 5).map((s) => [...s.data])).toEqual([[192, 168, 10, 1]]);
      expect(subs.find((s) => s.code === 9)?.data).toEqual(utf8("keep me"));
      fromServer(offerFor(req));
      expect(
        hex(
          getOption(decodeDhcp4(transport.take()[0]?.bytes ?? new Uint8Array()), OPT.relayAgentInfo) ??
            new Uint8Array(),
        ),
      ).toBe(hex(theirs));
    });

    it("replace: theirs removed, ours instead", () => {
      policy = policyWith({ existingOption82: "replace" });
      const subs = subsOf(relayedDiscover(withTheirs()));
      expect(subs.map((s) => s.code).sort((a, b) => a - b)).toEqual([1, 2, 5, 11]);
      expect(text(subs.find((s) => s.code === 1)?.data ?? new Uint8Array())).toBe("VIDEO_CIRCUIT");
    });

    it("forward: theirs forwarded but for the relay's own sub-options (Link Selection, Server ID Override)", () => {
      policy = policyWith({ existingOption82: "forward" });
      const subs = subsOf(relayedDiscover(withTheirs()));
      expect(subs.filter((s) => s.code === 1).map((s) => text(s.data))).toEqual(["FAKE"]);
      expect(subs.filter((s) => s.code === 5).map((s) => [...s.data])).toEqual([[192, 168, 10, 1]]);
    });
  });

  describe("drops, each counted by reason", () => {
    it("a client that no rule matches", () => {
      fromClient(withMac(dhclientDiscover(), [0, 0xcc, 0, 0, 0, 1]));
      expect(transport.sent).toHaveLength(0);
      expect(drops("unmatched")).toBe(1);
    });

    it("a client a rule drops", () => {
      policy = parsePolicy(
        "version: 1\nrules:\n  - { name: no-video, match: { mac: '00:aa:01:*' }, drop: true }\n",
        "drop.yaml",
        ["RED", "BLUE"],
      );
      fromClient(dhclientDiscover());
      expect(transport.sent).toHaveLength(0);
      expect(drops("policy-drop")).toBe(1);
    });

    it("a VRF the relay has no DHCPv4 server for", () => {
      policy = parsePolicy("version: 1\nunmatched: { vrf: GREEN }\n", "green.yaml", ["RED", "BLUE", "GREEN"]);
      fromClient(dhclientDiscover());
      expect(transport.sent).toHaveLength(0);
      expect(drops("no-servers")).toBe(1);
    });

    it("hops over the limit (RFC 1542 §4.1.1: discarded when hops exceeds it, relayed at it)", () => {
      expect(policy.settings.maxHops).toBe(4);
      const m = decodeDhcp4(dhclientDiscover());
      m.hops = 5;
      fromClient(encodeDhcp4(m));
      expect(drops("hops-exceeded")).toBe(1);
      m.hops = 4;
      fromClient(encodeDhcp4(m));
      expect(transport.sent).toHaveLength(1);
    });

    it("op neither BOOTREQUEST nor BOOTREPLY, on either side", () => {
      const m = decodeDhcp4(dhclientDiscover());
      m.op = 3;
      fromClient(encodeDhcp4(m));
      expect(drops("not-bootrequest")).toBe(1);
      fromServer(encodeDhcp4(m));
      expect(drops("not-bootreply")).toBe(1);
    });

    it("a lease query's answer is the relay's own: taken by its querier, else dropped; its query goes to the VRF's servers, counted", () => {
      const taken: string[] = [];
      relay = make({
        leaseQueryAnswer: (m, source, vrf) => {
          if (m.xid !== 42) return false;
          taken.push(`${source} ${vrf}`);
          return true;
        },
      });
      relay.sendLeaseQuery(
        "RED",
        leaseQuery4({ by: "ip", value: "192.168.10.10", giaddr: "10.213.2.2", xid: 42 }),
      );
      const [q] = transport.take();
      expect(q).toMatchObject({ port: 67, address: RED_SERVER, via: "vrf:RED" });
      expect(
        counters.get("dhcplab_relay_messages_total", {
          family: 4,
          vrf: "RED",
          type: "LEASEQUERY",
          direction: "to-server",
        }),
      ).toBe(1);
      const answer = decodeDhcp4(q?.bytes ?? new Uint8Array());
      answer.op = OP.BOOTREPLY;
      setOption(answer, OPT.messageType, Uint8Array.of(LEASEQUERY4.UNASSIGNED));
      expect(fromServer(encodeDhcp4(answer))).toBeUndefined();
      expect(taken).toEqual([`${RED_SERVER} RED`]);
      answer.xid = 43;
      expect(fromServer(encodeDhcp4(answer))).toBe("unknown-transaction");
      // Not from a server of the VRF: dropped before anything else.
      expect(fromServer(encodeDhcp4(answer), "10.213.2.99")).toBe("unknown-server");
      expect(transport.sent).toHaveLength(0);
    });

    it("a reply for no request in flight, or for another VRF's request", () => {
      const req = relayedDiscover();
      fromServer(offerFor(req), BLUE_SERVER, BLUE);
      fromServer(offerFor(withMac(dhclientDiscover(), [0, 0xaa, 1, 9, 9, 9])));
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-transaction")).toBe(2);
    });

    it("a reply whose Option 82 is not exactly the one this relay sent, or has none (RFC 3046 §2.2)", () => {
      const req = relayedDiscover();
      fromServer(
        offerFor(req, MSG.OFFER, (m) =>
          setOption(m, OPT.relayAgentInfo, encodeRelayAgentInfo([{ code: 1, data: utf8("OTHER") }])),
        ),
      );
      fromServer(offerFor(req, MSG.OFFER, (m) => removeOption(m, OPT.relayAgentInfo)));
      expect(transport.sent).toHaveLength(0);
      expect(drops("option82-mismatch")).toBe(2);
    });

    it("a malformed packet, from either side; the relay keeps serving", () => {
      fromClient(Uint8Array.of(1, 2, 3));
      fromServer(dhclientDiscover().subarray(0, 250));
      expect(drops("malformed")).toBe(2);
      fromClient(dhclientDiscover());
      expect(transport.sent).toHaveLength(1);
    });

    it("a send that fails is counted as send-failed, not as relayed, and the relay keeps serving", () => {
      transport.unreachable.add(RED_SERVER);
      fromClient(dhclientDiscover());
      expect(drops("send-failed")).toBe(1);
      expect(counters.sum("dhcplab_relay_messages_total", { family: 4 })).toBe(0);
      transport.unreachable.clear();
      fromClient(dhclientDiscover());
      expect(transport.sent).toHaveLength(1);
      expect(counters.sum("dhcplab_relay_messages_total", { family: 4 })).toBe(1);
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
      fromClient(full);
      const [out] = transport.take();
      expect(getOption(decodeDhcp4(out?.bytes ?? new Uint8Array()), OPT.relayAgentInfo)).toBeUndefined();
      expect(counters.get("dhcplab_relay_notices_total", { family: 4, notice: "no-room-for-option82" })).toBe(
        1,
      );
      expect(totalDrops()).toBe(0);
    });
  });

  it("counts requests forgotten before their reply came, and exports how many are in flight", () => {
    let now = 0;
    relay = make({ now: () => now });
    fromClient(dhclientDiscover());
    expect(relay.inFlightCount).toBe(1);
    now = 9_999; // still waiting for its reply
    fromClient(withMac(dhclientDiscover(), [0, 0xaa, 1, 0, 0, 3]));
    expect(relay.inFlightCount).toBe(2);
    now = 11_000; // the first one's 10 s are over (the table sweeps at most once a second)
    fromClient(withMac(dhclientDiscover(), [0, 0xaa, 1, 0, 0, 2]));
    expect(relay.inFlightCount).toBe(2);
    expect(counters.get("dhcplab_relay_inflight_evictions_total", { family: 4, why: "expired" })).toBe(1);
  });

  it("forgets a transaction at its ACK when the VRF has one server; a late copy is then unknown", () => {
    const req = relayedDiscover();
    fromServer(offerFor(req, MSG.OFFER));
    expect(relay.inFlightCount).toBe(1);
    fromServer(offerFor(req, MSG.ACK));
    expect(relay.inFlightCount).toBe(0);
    transport.take();
    fromServer(offerFor(req, MSG.ACK));
    expect(transport.sent).toHaveLength(0);
    expect(drops("unknown-transaction")).toBe(1);
    expect(counters.sum("dhcplab_relay_inflight_evictions_total")).toBe(0);
  });

  it("relays the ACK when the OFFER to a retransmitted DISCOVER comes after the REQUEST (same xid)", () => {
    // DISCOVER, its retransmission, OFFER, REQUEST (the DISCOVER's xid, RFC 2131 §4.4.1), the
    // second OFFER, ACK: a slow server under load. Every reply reaches the client.
    const discover = relayedDiscover();
    relayedDiscover();
    const toClient: Uint8Array[] = [];
    fromServer(offerFor(discover, MSG.OFFER));
    toClient.push(...transport.take().map((d) => d.bytes));
    const request = relayedDiscover();
    fromServer(offerFor(discover, MSG.OFFER));
    fromServer(offerFor(request, MSG.ACK));
    toClient.push(...transport.take().map((d) => d.bytes));
    expect(toClient.map((b) => decodeDhcp4(b).options.options[0]?.data[0])).toEqual([
      MSG.OFFER,
      MSG.OFFER,
      MSG.ACK,
    ]);
    expect(totalDrops()).toBe(0);
    expect(relay.inFlightCount).toBe(0);
  });

  it("keeps a transaction after the ACK where servers behind an upstream relay may answer too (acceptFrom)", () => {
    relay = make({ vrfs: [{ ...RED_VRF4, servers: ["10.213.9.2"], acceptFrom: ["10.213.2.0/24"] }] });
    const req = relayedDiscover();
    fromServer(offerFor(req, MSG.ACK), "10.213.2.10");
    fromServer(offerFor(req, MSG.ACK), "10.213.2.11");
    expect(transport.take()).toHaveLength(2);
    expect(totalDrops()).toBe(0);
  });

  it("keeps it where another server of the VRF may still answer (BLUE has two)", () => {
    fromClient(withMac(dhclientDiscover(), [0, 0xbb, 1, 0, 0, 1]));
    const [req] = transport.take();
    fromServer(offerFor(req?.bytes ?? new Uint8Array(), MSG.ACK), BLUE_SERVER, BLUE);
    expect(transport.take()).toHaveLength(1);
    fromServer(offerFor(req?.bytes ?? new Uint8Array(), MSG.ACK), "10.213.3.11", BLUE);
    expect(transport.take()).toHaveLength(1);
  });

  describe("access segments", () => {
    const PORT5 = accessLink("port5", 105);
    const segmentPolicy = () =>
      parsePolicy(
        [
          "version: 1",
          "rules:",
          "  - name: tower-port",
          "    match: { segment: port5, vlan: 105 }",
          "    vrf: RED",
          '    option82: { circuitId: "{relay}:{segment}:vlan-{vlan}", remoteId: "{mac}" }',
          "  - name: red",
          '    match: { mac: "00:aa:*" }',
          "    vrf: RED",
        ].join("\n"),
        "segments.yaml",
        ["RED", "BLUE"],
      );
    const twoSegments = () =>
      make({
        hostname: "edge-1",
        segments: [
          { name: "access", address: ACCESS, gateways: ["192.168.10.1/24"] },
          { name: "port5", address: "10.213.9.2", gateways: ["192.168.11.1/24"] },
        ],
      });

    it("match on the segment and VLAN a request came in on, and fill {relay}, {segment} and {vlan} into Option 82", () => {
      policy = segmentPolicy();
      relay = twoSegments();
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, PORT5);
      const [out] = transport.take();
      const f = sub82(decodeDhcp4(out?.bytes ?? new Uint8Array()));
      expect(text(f.circuitId ?? new Uint8Array())).toBe("edge-1:port5:vlan-105");
      // RFC 5107: the override is the relay's address on that segment, so renewals come back there.
      expect(f.serverIdOverride).toBe("10.213.9.2");
      // The same client on the first segment matches the next rule.
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, ACCESS_LINK);
      const [other] = transport.take();
      expect(sub82(decodeDhcp4(other?.bytes ?? new Uint8Array())).circuitId).toBeUndefined();
      expect(counters.get("dhcplab_relay_decisions_total", { family: 4, rule: "tower-port" })).toBe(1);
    });

    it("send the reply out the segment the request came in on, with that segment's server identifier and gateways", () => {
      policy = segmentPolicy();
      relay = twoSegments();
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, PORT5);
      const [req] = transport.take();
      fromServer(offerFor(req?.bytes ?? new Uint8Array()));
      const [offer] = transport.take();
      expect(offer).toMatchObject({ address: "255.255.255.255", port: 68, via: "access:port5" });
      expect(serverId(decodeDhcp4(offer?.bytes ?? new Uint8Array()))).toBe("10.213.9.2");
      // A bound client on port5's subnet gets its ACK by unicast through port5's gateway.
      const renewing = decodeDhcp4(dhclientDiscover());
      renewing.ciaddr = "192.168.11.20";
      relay.handle(encodeDhcp4(renewing, { maxSize: 1500 }), "192.168.11.20", PORT5);
      const [renewal] = transport.take();
      fromServer(offerFor(renewal?.bytes ?? new Uint8Array(), MSG.ACK));
      expect(transport.take()[0]).toMatchObject({ address: "192.168.11.20", via: "access:port5" });
    });

    it("drop what arrives on a segment the relay was not configured with", () => {
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, accessLink("port9"));
      expect(transport.sent).toHaveLength(0);
      expect(drops("unknown-interface")).toBe(1);
    });
  });

  describe("overlapping VRFs: RED and BLUE number their clients alike, each on segments of its own", () => {
    const RED_PORT = accessLink("red-port");
    const BLUE_PORT = accessLink("blue-port");
    const overlapping = () => {
      policy = parsePolicy(
        [
          "version: 1",
          "rules:",
          "  - { name: red, match: { segment: red-port }, vrf: RED, option82: { circuitId: '{segment}' } }",
          "  - { name: blue, match: { segment: blue-port }, vrf: BLUE, option82: { circuitId: '{segment}' } }",
          "  - { name: stray, match: { segment: access }, vrf: BLUE }",
          "",
        ].join("\n"),
        "overlap.yaml",
        ["RED", "BLUE"],
      );
      return make({
        segments: [
          { name: "access", address: ACCESS, gateways: [] },
          { name: "red-port", address: "10.213.4.2", gateways: ["192.168.10.1/24"] },
          { name: "blue-port", address: "10.213.5.2", gateways: ["192.168.10.1/24"] },
        ],
        vrfs: [
          { ...RED_VRF4, segments: new Set(["red-port"]) },
          {
            name: "BLUE",
            relayAddress: "10.213.3.2",
            link: "192.168.10.1",
            subnetSelection: "link-selection",
            serverIdOverride: true,
            servers: [BLUE_SERVER],
            segments: new Set(["blue-port"]),
          },
        ],
      });
    };

    it("the same client on each segment is two transactions: each reply goes back out its own segment, by unicast to the same address", () => {
      relay = overlapping();
      const renewing = decodeDhcp4(dhclientDiscover());
      renewing.ciaddr = "192.168.10.20";
      setOption(renewing, OPT.messageType, Uint8Array.of(MSG.REQUEST));
      const bytes = encodeDhcp4(renewing, { maxSize: 1500 });
      relay.handle(bytes, "192.168.10.20", RED_PORT);
      relay.handle(bytes, "192.168.10.20", BLUE_PORT);
      const [toRed, toBlue] = transport.take();
      expect([toRed?.address, toBlue?.address]).toEqual([RED_SERVER, BLUE_SERVER]);
      // Each server sees the relay's address on the client's own segment as its identifier.
      const red = decodeDhcp4(toRed?.bytes ?? new Uint8Array());
      expect([text(sub82(red).circuitId ?? new Uint8Array()), sub82(red).serverIdOverride]).toEqual([
        "red-port",
        "10.213.4.2",
      ]);
      // BLUE answers first: its ACK goes to BLUE's segment, and RED's transaction is still open.
      const ack = (req: Uint8Array | undefined) =>
        offerFor(req ?? new Uint8Array(), MSG.ACK, (r) => {
          r.ciaddr = "192.168.10.20";
        });
      fromServer(ack(toBlue?.bytes), BLUE_SERVER, BLUE);
      fromServer(ack(toRed?.bytes), RED_SERVER, RED);
      expect(transport.take().map((t) => [t.address, t.via, serverId(decodeDhcp4(t.bytes))])).toEqual([
        ["192.168.10.20", "access:blue-port", "10.213.5.2"],
        ["192.168.10.20", "access:red-port", "10.213.4.2"],
      ]);
      expect(totalDrops()).toBe(0);
    });

    describe("RFC 6607 VSS, as the policy asks", () => {
      const vssPolicy = (replies: "strict" | "lenient") =>
        parsePolicy(
          `version: 1\nvssReplies: ${replies}\nrules:\n  - { name: red, vrf: RED, vss: "{vrf}", option82: { circuitId: c } }\n`,
          "vss.yaml",
          ["RED", "BLUE"],
        );
      const relayedWithVss = () => {
        const req = relayedDiscover();
        const subs = decodeRelayAgentInfo(
          getOption(decodeDhcp4(req), OPT.relayAgentInfo) ?? new Uint8Array(),
        );
        return { req, subs };
      };

      it("adds VSS (type 0, the VPN's name) and VSS-Control, and relays the reply of a server that processed it (all but VSS-Control echoed)", () => {
        policy = vssPolicy("strict");
        const { req, subs } = relayedWithVss();
        expect(subs.map((o) => [o.code, hex(o.data)])).toContainEqual([151, `00${hex(utf8("RED"))}`]);
        expect(subs.map((o) => [o.code, hex(o.data)])).toContainEqual([152, ""]);
        fromServer(
          offerFor(req, MSG.OFFER, (r) => {
            setOption(r, OPT.relayAgentInfo, encodeRelayAgentInfo(subs.filter((o) => o.code !== 152)));
          }),
        );
        const [offer] = transport.take();
        expect(offer?.address).toBe("255.255.255.255");
        // What the relay added is gone from the reply, VSS with it.
        expect(getOption(decodeDhcp4(offer?.bytes ?? new Uint8Array()), OPT.relayAgentInfo)).toBeUndefined();
      });

      it("strict: drops the reply of a server that echoed VSS-Control (it did not process VSS: vss-not-supported)", () => {
        policy = vssPolicy("strict");
        fromServer(offerFor(relayedWithVss().req));
        expect(transport.sent).toHaveLength(0);
        expect(drops("vss-not-supported")).toBe(1);
      });

      it("lenient: relays it, and counts a notice", () => {
        policy = vssPolicy("lenient");
        fromServer(offerFor(relayedWithVss().req));
        expect(transport.take()).toHaveLength(1);
        expect(totalDrops()).toBe(0);
        expect(counters.get("dhcplab_relay_notices_total", { family: 4, notice: "vss-not-supported" })).toBe(
          1,
        );
      });

      it("an RFC 2685 VPN-ID is type 1 with its 7 bytes", () => {
        policy = parsePolicy(
          "version: 1\nrules:\n  - { name: red, vrf: RED, vss: { vpnId: '00000a:00000001' } }\n",
          "vpn-id.yaml",
          ["RED", "BLUE"],
        );
        const { subs } = relayedWithVss();
        expect(hex(subs.find((o) => o.code === 151)?.data ?? new Uint8Array())).toBe("0100000a00000001");
      });
    });

    it("a client the policy sends to a VRF that serves other segments is dropped (vrf-not-on-segment)", () => {
      relay = overlapping();
      relay.handle(dhclientDiscover(), CLIENT_SOURCE, ACCESS_LINK);
      expect(transport.sent).toHaveLength(0);
      expect(drops("vrf-not-on-segment")).toBe(1);
    });
  });
});
