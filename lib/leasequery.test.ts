import { describe, expect, it } from "vitest";
import { fromHex, Writer } from "./codec/bytes.ts";
import { OPT } from "./codec/dhcp4/codes.ts";
import { decodeDhcp4 } from "./codec/dhcp4/message.ts";
import { getOption, messageType } from "./codec/dhcp4/options.ts";
import { iaAddress, iaPrefix } from "./codec/dhcp6/ia.ts";
import { encodeDhcp6, options6, type RawOption6 } from "./codec/dhcp6/message.ts";
import {
  bulkLeaseQuery4,
  bulkLeaseQuery6,
  bulkLeaseQueryAnswer4,
  bulkLeaseQueryAnswer6,
  header6,
  isLeaseQueryAnswer4,
  LEASEQUERY4,
  leaseQuery4,
  leaseQueryAnswer4,
  splitFramed,
} from "./leasequery.ts";

describe("DHCPv4 lease queries (RFC 4388)", () => {
  it("ask by exactly one of ciaddr, chaddr and client identifier, from giaddr", () => {
    const byIp = decodeDhcp4(leaseQuery4({ by: "ip", value: "192.168.10.10", giaddr: "10.213.5.2", xid: 7 }));
    expect([messageType(byIp), byIp.ciaddr, byIp.giaddr, byIp.hlen, byIp.xid]).toEqual([
      LEASEQUERY4.QUERY,
      "192.168.10.10",
      "10.213.5.2",
      0,
      7,
    ]);
    const byMac = decodeDhcp4(
      leaseQuery4({ by: "mac", value: "00:aa:01:00:00:42", giaddr: "10.213.5.2", xid: 8 }),
    );
    expect([
      byMac.ciaddr,
      byMac.htype,
      byMac.hlen,
      Buffer.from(byMac.chaddr.subarray(0, 6)).toString("hex"),
    ]).toEqual(["0.0.0.0", 1, 6, "00aa01000042"]);
    const byId = decodeDhcp4(
      leaseQuery4({ by: "client-id", value: "01:00:aa:01:00:00:42", giaddr: "10.213.5.2", xid: 9 }),
    );
    expect(Buffer.from(getOption(byId, OPT.clientId) ?? []).toString("hex")).toBe("0100aa01000042");
    expect(() => leaseQuery4({ by: "client-id", value: "nope", giaddr: "10.213.5.2", xid: 1 })).toThrow(
      /not hex/,
    );
    expect(() => leaseQuery4({ by: "ip", value: "192.168.10", giaddr: "10.213.5.2", xid: 1 })).toThrow();
  });

  it("read an active lease's answer as Kea 3.0.4 sends it: address, MAC, client-id, times, what the relay added", () => {
    // DHCPLEASEACTIVE as Kea 3.0.4 answered a query by MAC in the lab (options as it sent them).
    const m = decodeDhcp4(
      leaseQuery4({ by: "mac", value: "00:aa:01:00:00:42", giaddr: "10.213.195.50", xid: 1 }),
    );
    m.op = 2;
    m.ciaddr = "192.168.10.10";
    m.options.options = [
      { code: 53, data: Uint8Array.of(13) },
      { code: 51, data: fromHex("00000e08") },
      { code: 61, data: fromHex("0100aa01000042") },
      { code: 91, data: fromHex("00000008") },
      {
        code: 82,
        data: fromHex(
          "010d564944454f5f434952435549540211" +
            Buffer.from("00:aa:01:00:00:42").toString("hex") +
            "0504c0a80a01",
        ),
      },
    ];
    expect(isLeaseQueryAnswer4(m)).toBe(true);
    expect(leaseQueryAnswer4(m)).toEqual({
      status: "active",
      bindings: [
        {
          addresses: ["192.168.10.10"],
          prefixes: [],
          mac: "00:aa:01:00:00:42",
          clientId: "0100aa01000042",
          leaseTime: 3592,
          lastTransaction: 8,
          relay: expect.objectContaining({
            circuitId: "VIDEO_CIRCUIT",
            remoteId: "00:aa:01:00:00:42",
            linkSelection: "192.168.10.1",
          }),
        },
      ],
    });
    m.options.options = [{ code: 53, data: Uint8Array.of(LEASEQUERY4.UNASSIGNED) }];
    expect(leaseQueryAnswer4(m)).toEqual({ status: "unassigned", bindings: [] });
    m.options.options = [{ code: 53, data: Uint8Array.of(LEASEQUERY4.UNKNOWN) }];
    expect(leaseQueryAnswer4(m)).toEqual({ status: "unknown", bindings: [] });
  });
});

describe("DHCPv4 bulk lease queries (RFC 6926)", () => {
  it("ask by Remote-ID or Relay-ID in an Option 82, htype and hlen 0, framed for TCP", () => {
    const { messages, rest } = splitFramed(
      bulkLeaseQuery4({ by: "remote-id", value: "00:aa:01:00:00:42", xid: 5 }),
    );
    expect(rest).toHaveLength(0);
    const m = decodeDhcp4(messages[0] as Uint8Array);
    expect([messageType(m), m.htype, m.hlen, m.ciaddr, m.giaddr, m.xid]).toEqual([
      14,
      0,
      0,
      "0.0.0.0",
      "0.0.0.0",
      5,
    ]);
    expect(Buffer.from(getOption(m, OPT.relayAgentInfo) ?? []).toString()).toBe("\x02\x1100:aa:01:00:00:42");
    const byRelay = decodeDhcp4(
      splitFramed(bulkLeaseQuery4({ by: "relay-id", value: "01:02:03", xid: 6 })).messages[0] as Uint8Array,
    );
    expect(Buffer.from(getOption(byRelay, OPT.relayAgentInfo) ?? []).toString("hex")).toBe("0c03010203");
    expect(() => bulkLeaseQuery4({ by: "relay-id", value: "xyz", xid: 7 })).toThrow(/not hex/);
  });

  it("read each DHCPLEASEACTIVE until DHCPLEASEQUERYDONE, and DONE's status-code when it refuses", () => {
    const active = decodeDhcp4(
      leaseQuery4({ by: "mac", value: "00:aa:01:00:00:42", giaddr: "0.0.0.0", xid: 5 }),
    );
    active.op = 2;
    active.ciaddr = "192.168.10.10";
    active.options.options = [{ code: 53, data: Uint8Array.of(LEASEQUERY4.ACTIVE) }];
    const done = decodeDhcp4(leaseQuery4({ by: "ip", value: "0.0.0.0", giaddr: "0.0.0.0", xid: 5 }));
    done.op = 2;
    done.options.options = [{ code: 53, data: Uint8Array.of(LEASEQUERY4.DONE) }];
    expect(bulkLeaseQueryAnswer4([active, done])).toEqual({
      status: "active",
      bindings: [{ addresses: ["192.168.10.10"], prefixes: [], mac: "00:aa:01:00:00:42" }],
    });
    expect(bulkLeaseQueryAnswer4([done])).toEqual({ status: "unknown", bindings: [] });
    done.options.options.push({
      code: 151,
      data: Uint8Array.of(4, ...Buffer.from("VPNs are not supported")),
    });
    expect(bulkLeaseQueryAnswer4([done])).toEqual({
      status: "unknown",
      bindings: [],
      message: "VPNs are not supported",
    });
  });
});

describe("DHCPv6 bulk lease queries (RFC 5460, RFC 5007)", () => {
  const requester = fromHex("0003000102aabbccdd01");

  it("frame a LEASEQUERY with the requester's DUID and the query for TCP", () => {
    const framed = bulkLeaseQuery6({ by: "link", value: "fd00:10::1" }, requester, 0x123456);
    const { messages, rest } = splitFramed(framed);
    expect(rest).toHaveLength(0);
    expect(messages).toHaveLength(1);
    expect(header6(messages[0] as Uint8Array)).toEqual({ type: 14, xid: 0x123456 });
    const hex = Buffer.from(messages[0] as Uint8Array).toString("hex");
    // CLIENTID (1) with the requester's DUID, then LQ_QUERY (44): type 4 (link), the link-address.
    expect(hex).toContain("0001000a0003000102aabbccdd01");
    expect(hex).toContain(`002c0011` + "04" + "fd000010000000000000000000000001");
    const remote = Buffer.from(
      bulkLeaseQuery6({ by: "remote-id", value: "00:aa:01:00:00:43", enterprise: 2393 }, requester, 1),
    ).toString("hex");
    expect(remote).toContain(`0025001500000959${Buffer.from("00:aa:01:00:00:43").toString("hex")}`);
  });

  it("read the REPLY, each DATA and DONE into bindings, a partial frame kept for later", () => {
    // Kea 3.0.4's answer to a query by link in the lab: REPLY (the first client, an address), DATA
    // (the same client's delegated prefix), DONE.
    const enc = <T>(codec: { encodingLength(v: T): number; encode(w: Writer, v: T): void }, v: T) => {
      const w = Writer.alloc(codec.encodingLength(v));
      codec.encode(w, v);
      return w.buf;
    };
    const duid = fromHex("0001000132a8110600aa01000043");
    const message = (type: number, options: RawOption6[]) => encodeDhcp6({ type, transactionId: 1, options });
    const address = enc(iaAddress, {
      address: "fd00:10::1000",
      preferredLifetime: 3000,
      validLifetime: 4000,
      options: [],
    });
    const prefix = enc(iaPrefix, {
      prefix: "fd10:100::",
      prefixLength: 56,
      preferredLifetime: 3000,
      validLifetime: 4000,
      options: [],
    });
    const clientData = (options: RawOption6[]) => ({ code: 45, data: enc(options6, options) });
    const reply = message(15, [
      { code: 1, data: requester },
      { code: 13, data: Uint8Array.of(0, 0, ...Buffer.from("active lease(s) found")) },
      clientData([
        { code: 1, data: duid },
        { code: 5, data: address },
        { code: 46, data: fromHex("00000010") },
      ]),
    ]);
    // The relay data: the peer-address, then the RELAY-FORW as Kea received it (Interface-ID, link).
    const forw = encodeDhcp6({
      type: 12,
      hopCount: 0,
      linkAddress: "fd00:10::1",
      peerAddress: "fe80::2aa:1ff:fe00:43",
      options: [{ code: 18, data: Uint8Array.from(Buffer.from("V6_VIDEO_LINK")) }],
    });
    const relayData = { code: 47, data: Uint8Array.from([...new Uint8Array(16), ...forw]) };
    const data = message(17, [clientData([{ code: 1, data: duid }, { code: 26, data: prefix }, relayData])]);
    const done = message(16, []);
    const frame = (m: Uint8Array) => Buffer.concat([Buffer.from([m.length >> 8, m.length & 0xff]), m]);
    const stream = Buffer.concat([frame(reply), frame(data), frame(done)]);
    const partial = splitFramed(stream.subarray(0, stream.length - 3));
    expect(partial.messages).toHaveLength(2);
    const { messages } = splitFramed(stream);
    expect(bulkLeaseQueryAnswer6(messages)).toEqual({
      status: "active",
      message: "active lease(s) found",
      bindings: [
        {
          addresses: ["fd00:10::1000"],
          prefixes: [],
          duid: "0001000132a8110600aa01000043",
          lastTransaction: 16,
          lifetimes: { "fd00:10::1000": 4000 },
        },
        {
          addresses: [],
          prefixes: ["fd10:100::/56"],
          duid: "0001000132a8110600aa01000043",
          lifetimes: { "fd10:100::/56": 4000 },
          relay: { circuitId: "V6_VIDEO_LINK", link: "fd00:10::1", peer: "fe80::2aa:1ff:fe00:43" },
        },
      ],
    });
  });
});
