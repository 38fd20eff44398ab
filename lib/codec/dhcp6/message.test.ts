import { describe, expect, it } from "vitest";
import { ipv6ToBytes } from "../address.ts";
import { fromHex, hex, Reader, text, utf8, Writer } from "../bytes.ts";
import { EncodeError } from "../errors.ts";
import { catchDecode } from "../test-support.ts";
import { DUID, MAX_RELAY_DEPTH, MSG6, OPT6 } from "./codes.ts";
import { decodeDuid, duid, duidMac } from "./duid.ts";
import { decodeValue, iaAddress, iaPrefix, iaTa, iaWithTimers } from "./ia.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  dhcp6,
  encodeDhcp6,
  encodeRelayForw,
  getOption6,
  innermost,
  isRelay,
  relayedMessage,
} from "./message.ts";
import {
  classTexts,
  clientLinkLayerAddress,
  clientLinkLayerMac,
  decodeOption,
  remoteId6,
  userClass6,
  vendorClass6,
} from "./options.ts";

// A SOLICIT as dhclient -6 sends it (RFC 8415 §18.2.1), one option a line.
const SOLICIT = fromHex(
  [
    "01", // SOLICIT
    "a1b2c3", // transaction-id
    "0001000e" + "0001" + "0001" + "2a2b2c2d" + "00aa01000001", // 1 Client-ID: DUID-LLT, Ethernet, time, MAC
    "00030028" + "00000001" + "00000000" + "00000000", // 3 IA_NA: IAID 1, T1 0, T2 0 ...
    "00050018" + "fd000010000000000000000000000005" + "00000e10" + "00001c20", // ... with IAADDR fd00:10::5
    "00060004" + "00170018", // 6 ORO: 23, 24
    "00080002" + "0000", // 8 Elapsed Time 0
  ].join(""),
);

/** Wraps a message in a RELAY-FORW, the way a relay agent does (RFC 8415 §19.1). */
function relayForw(inner: Dhcp6Message, hopCount = 0): Dhcp6RelayMessage {
  return {
    type: MSG6.RELAY_FORW,
    hopCount,
    linkAddress: "fd00:10::1",
    peerAddress: "fe80::2aa:1ff:fe00:1",
    options: [
      { code: OPT6.interfaceId, data: new TextEncoder().encode("V6_VIDEO_LINK") },
      { code: OPT6.relayMessage, message: inner },
    ],
  };
}

describe("DHCPv6 client/server messages (RFC 8415 §8)", () => {
  it("decodes type, transaction id and options, and encodes back the same bytes", () => {
    const m = decodeDhcp6(SOLICIT);
    expect(m.type).toBe(MSG6.SOLICIT);
    expect(isRelay(m)).toBe(false);
    expect(m.options.map((o) => o.code)).toEqual([1, 3, 6, 8]);
    expect(hex(encodeDhcp6(m))).toBe(hex(SOLICIT));
  });

  it("decodes and encodes at a non-zero offset of a larger buffer", () => {
    const big = new Uint8Array(SOLICIT.length + 10).fill(0xee);
    big.set(SOLICIT, 5);
    const m = dhcp6.decode(new Reader(big, 5, 5 + SOLICIT.length));
    const out = new Uint8Array(SOLICIT.length + 10).fill(0xee);
    dhcp6.encode(new Writer(out, 3), m);
    expect(hex(out.subarray(3, 3 + SOLICIT.length))).toBe(hex(SOLICIT));
    expect(out[3 + SOLICIT.length]).toBe(0xee);
  });

  it("refuses an option that overruns the message, at its code", () => {
    const bad = Uint8Array.of(...SOLICIT.subarray(0, 4), 0, 1, 0, 40, 0, 1);
    expect(catchDecode(() => decodeDhcp6(bad))).toMatchObject({ code: "overrun", offset: 4 });
  });

  it("refuses a message shorter than its header", () => {
    expect(catchDecode(() => decodeDhcp6(Uint8Array.of(1, 2)))).toMatchObject({
      code: "truncated",
      offset: 1,
    });
  });
});

describe("relay messages (RFC 8415 §9)", () => {
  it("wraps and unwraps a client message through Relay-Message (RFC 8415 §21.10)", () => {
    const forw = relayForw(decodeDhcp6(SOLICIT));
    const bytes = encodeDhcp6(forw);
    expect(bytes.length).toBe(34 + 4 + 13 + 4 + SOLICIT.length);
    const back = decodeDhcp6(bytes);
    expect(isRelay(back)).toBe(true);
    if (!isRelay(back)) return;
    expect(back).toMatchObject({
      hopCount: 0,
      linkAddress: "fd00:10::1",
      peerAddress: "fe80::2aa:1ff:fe00:1",
    });
    expect(text(getOption6(back, OPT6.interfaceId) ?? new Uint8Array())).toBe("V6_VIDEO_LINK");
    expect(hex(encodeDhcp6(relayedMessage(back) as Dhcp6Message))).toBe(hex(SOLICIT));
    expect(hex(encodeDhcp6(back))).toBe(hex(bytes));
  });

  it("writes a RELAY-FORW from its parts as bytes as the codec writes the whole message, and refuses an address that is not 16 bytes", () => {
    const options = [
      { code: OPT6.interfaceId, data: utf8("V6_VIDEO_LINK") },
      { code: OPT6.remoteId, data: Uint8Array.of(0, 0, 9, 0x59, 0, 0xaa, 1) },
      { code: OPT6.relayMessage, data: SOLICIT },
    ];
    for (const [link, peer, hops] of [
      ["fd00:10::1", "fe80::2aa:1ff:fe00:1", 0],
      ["::", "2001:db8::15", 7],
      ["fd64:6c61:6200::ffff", "fe80::1", 31],
    ] as const) {
      const whole: Dhcp6RelayMessage = {
        type: MSG6.RELAY_FORW,
        hopCount: hops,
        linkAddress: link,
        peerAddress: peer,
        options,
      };
      expect(hex(encodeRelayForw(hops, ipv6ToBytes(link), ipv6ToBytes(peer), options))).toBe(
        hex(encodeDhcp6(whole)),
      );
    }
    expect(() => encodeRelayForw(0, new Uint8Array(4), ipv6ToBytes("fe80::1"), options)).toThrow(EncodeError);
  });

  it("nests relay messages as deep as the input has them, up to the limit", () => {
    let m: Dhcp6Message = decodeDhcp6(SOLICIT);
    for (let i = 0; i < MAX_RELAY_DEPTH; i++) m = relayForw(m, i);
    const back = decodeDhcp6(encodeDhcp6(m));
    expect(innermost(back)?.type).toBe(MSG6.SOLICIT);
    const tooDeep = encodeDhcp6(relayForw(m, MAX_RELAY_DEPTH));
    expect(catchDecode(() => decodeDhcp6(tooDeep))).toMatchObject({ code: "too-deep" });
  });

  it("refuses an empty Relay-Message option, at its value", () => {
    const bytes = fromHex(
      "0c00" + "fd000010000000000000000000000001" + "fe800000000000000000000000000001" + "00090000",
    );
    expect(catchDecode(() => decodeDhcp6(bytes))).toMatchObject({ code: "empty-relay-message", offset: 38 });
  });

  it("refuses a relay header cut short", () => {
    expect(catchDecode(() => decodeDhcp6(fromHex("0c00fd00")))).toMatchObject({ code: "truncated" });
  });
});

describe("DUIDs (RFC 8415 §11)", () => {
  it("decodes DUID-LLT with its link-layer address (§11.2)", () => {
    const d = decodeDuid(fromHex("0001" + "0001" + "2a2b2c2d" + "00aa01000001"));
    expect(d).toMatchObject({ type: DUID.LLT, hwtype: 1, time: 0x2a2b2c2d });
    expect(duidMac(d)).toBe("00:aa:01:00:00:01");
  });

  it("decodes DUID-EN (§11.3)", () => {
    const d = decodeDuid(fromHex("0002" + "00000959" + "0102030405"));
    expect(d).toMatchObject({ type: DUID.EN, enterprise: 2393 });
    expect(duidMac(d)).toBeUndefined();
  });

  it("decodes DUID-LL (§11.4)", () => {
    const d = decodeDuid(fromHex("0003" + "0001" + "00aa02000007"));
    expect(d).toMatchObject({ type: DUID.LL, hwtype: 1 });
    expect(duidMac(d)).toBe("00:aa:02:00:00:07");
  });

  it("decodes DUID-UUID (RFC 6355 §4)", () => {
    const d = decodeDuid(fromHex(`0004${"11".repeat(16)}`));
    expect(d.type).toBe(DUID.UUID);
    expect(catchDecode(() => decodeDuid(fromHex(`0004${"11".repeat(15)}`)))).toMatchObject({
      code: "bad-duid",
    });
  });

  it("keeps unknown DUID types as bytes, and every type encodes back", () => {
    for (const h of [
      "0009abcdef",
      "000100012a2b2c2d00aa01000001",
      "0002000009590102",
      "0003000100aa02000007",
    ]) {
      const d = decodeDuid(fromHex(h));
      const w = Writer.alloc(duid.encodingLength(d));
      duid.encode(w, d);
      expect(hex(w.buf)).toBe(h);
    }
  });

  it("refuses DUIDs over 128 bytes after the type (§11.1)", () => {
    expect(catchDecode(() => decodeDuid(new Uint8Array(131)))).toMatchObject({
      code: "duid-too-long",
      offset: 0,
    });
    expect(decodeDuid(Uint8Array.of(0, 9, ...new Uint8Array(128))).type).toBe(9);
  });
});

describe("identity associations", () => {
  it("decodes IA_NA with IAADDR (RFC 8415 §21.4, §21.6)", () => {
    const ia = decodeValue(iaWithTimers, getOption6(decodeDhcp6(SOLICIT), OPT6.iaNa) as Uint8Array);
    expect(ia).toMatchObject({ iaid: 1, t1: 0, t2: 0 });
    const addr = decodeValue(iaAddress, ia.options[0]?.data as Uint8Array);
    expect(addr).toMatchObject({ address: "fd00:10::5", preferredLifetime: 3600, validLifetime: 7200 });
  });

  it("decodes IA_TA (RFC 8415 §21.5)", () => {
    const ta = decodeValue(
      iaTa,
      fromHex("00000007" + "00050018" + "fd000011000000000000000000000009" + "0000000a0000000b"),
    );
    expect(ta.iaid).toBe(7);
    expect(decodeValue(iaAddress, ta.options[0]?.data as Uint8Array).address).toBe("fd00:11::9");
  });

  it("decodes IA_PD with IAPREFIX (RFC 8415 §21.21, §21.22)", () => {
    const pd = decodeValue(
      iaWithTimers,
      fromHex(
        "00000002" +
          "00000e10" +
          "00001518" +
          "001a0019" +
          "00000e10" +
          "00001c20" +
          "38" +
          "fd000020000100000000000000000000",
      ),
    );
    expect(pd).toMatchObject({ iaid: 2, t1: 3600, t2: 5400 });
    const prefix = decodeValue(iaPrefix, pd.options[0]?.data as Uint8Array);
    expect(prefix).toMatchObject({ prefixLength: 56, prefix: "fd00:20:1::", validLifetime: 7200 });
  });

  it("refuses an IA_NA shorter than its fixed fields", () => {
    expect(catchDecode(() => decodeValue(iaWithTimers, fromHex("0000000100")))).toMatchObject({
      code: "truncated",
      offset: 4,
    });
  });
});

describe("relay and class options", () => {
  it("decodes Remote-ID with its enterprise number (RFC 4649 §3)", () => {
    const r = decodeOption(remoteId6, fromHex("00000959" + "4142"));
    expect(r.enterprise).toBe(2393);
    expect(text(r.id)).toBe("AB");
  });

  it("carries Subscriber-ID (RFC 4580 §2) and Interface-ID (RFC 8415 §21.18) as opaque bytes", () => {
    const forw = relayForw(decodeDhcp6(SOLICIT));
    forw.options.unshift({ code: OPT6.subscriberId, data: fromHex("737562") });
    const back = decodeDhcp6(encodeDhcp6(forw));
    expect(text(getOption6(back, OPT6.subscriberId) ?? new Uint8Array())).toBe("sub");
    expect(text(getOption6(back, OPT6.interfaceId) ?? new Uint8Array())).toBe("V6_VIDEO_LINK");
  });

  it("decodes Client Link-Layer Address (RFC 6939 §4)", () => {
    const c = decodeOption(clientLinkLayerAddress, fromHex("0001" + "00aa01000001"));
    expect(c.hwtype).toBe(1);
    expect(clientLinkLayerMac(c)).toBe("00:aa:01:00:00:01");
  });

  it("decodes Vendor Class (RFC 8415 §21.16) and User Class (§21.15)", () => {
    const v = decodeOption(vendorClass6, fromHex("00000959" + "0003" + "616263" + "0001" + "78"));
    expect(v.enterprise).toBe(2393);
    expect(classTexts(v.classes)).toEqual(["abc", "x"]);
    expect(classTexts(decodeOption(userClass6, fromHex("0003766964")))).toEqual(["vid"]);
    expect(catchDecode(() => decodeOption(userClass6, fromHex("0009766964")))).toMatchObject({
      code: "overrun",
    });
  });

  it("keeps unknown options as bytes", () => {
    const m = decodeDhcp6(Uint8Array.of(...SOLICIT, 0xfe, 0xed, 0, 2, 0xab, 0xcd));
    expect(hex(getOption6(m, 0xfeed) ?? new Uint8Array())).toBe("abcd");
  });
});
