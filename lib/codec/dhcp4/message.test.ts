import { describe, expect, it } from "vitest";
import { fromHex, hex, Reader, Writer } from "../bytes.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { catchDecode } from "../test-support.ts";
import { MSG, OPT } from "./codes.ts";
import { decodeDhcp4, dhcp4, encodeDhcp4, type OptionArea } from "./message.ts";
import {
  clientId,
  clientMac,
  getOption,
  hostname,
  maxMessageSizeOption,
  messageType,
  parameterRequestList,
  removeOption,
  requestedAddress,
  serverId,
  setOption,
  userClasses,
  vendorClass,
} from "./options.ts";

// A DHCPDISCOVER as a client broadcasts it (RFC 2131 §4.4.1), one field a line.
const DISCOVER = fromHex(
  [
    "01", // op BOOTREQUEST
    "01", // htype Ethernet
    "06", // hlen 6
    "00", // hops 0
    "3903f326", // xid
    "0000", // secs
    "8000", // flags: broadcast
    "00000000", // ciaddr
    "00000000", // yiaddr
    "00000000", // siaddr
    "00000000", // giaddr
    "00aa01000001", // chaddr: the MAC ...
    "00000000000000000000", // ... and 10 bytes of padding
    "00".repeat(64), // sname
    "00".repeat(128), // file
    "63825363", // magic cookie
    "350101", // 53 message type: DISCOVER
    "3204c0a80a05", // 50 requested address 192.168.10.5
    "3d0701" + "00aa01000001", // 61 client id: type 1 + MAC
    "0c046c616231", // 12 hostname "lab1"
    "3c0864686370636c6162", // 60 vendor class "dhcpclab"
    "4d0a03766964056170706c65", // 77 user class (RFC 3004): "vid", "apple"
    "3703010306", // 55 parameter request list: 1, 3, 6
    "390205dc", // 57 max message size 1500
    "ff", // END
    "000000", // padding after END
  ].join(""),
);

describe("DHCPv4 message (RFC 2131 §2)", () => {
  it("decodes every header field", () => {
    const m = decodeDhcp4(DISCOVER);
    expect(m).toMatchObject({
      op: 1,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 0x3903f326,
      secs: 0,
      flags: 0x8000,
      ciaddr: "0.0.0.0",
      yiaddr: "0.0.0.0",
      siaddr: "0.0.0.0",
      giaddr: "0.0.0.0",
    });
    expect(clientMac(m)).toBe("00:aa:01:00:00:01");
    expect(m.options.end).toBe(true);
    expect(hex(m.options.trailer)).toBe("000000");
  });

  it("reads the typed options the relay needs (RFC 2132, RFC 3004)", () => {
    const m = decodeDhcp4(DISCOVER);
    expect(messageType(m)).toBe(MSG.DISCOVER);
    expect(requestedAddress(m)).toBe("192.168.10.5");
    expect(hex(clientId(m) ?? new Uint8Array())).toBe("0100aa01000001");
    expect(hostname(m)).toBe("lab1");
    expect(vendorClass(m)).toBe("dhcpclab");
    expect(userClasses(m)).toEqual(["vid", "apple"]);
    expect(parameterRequestList(m)).toEqual([1, 3, 6]);
    expect(maxMessageSizeOption(m)).toBe(1500);
    expect(serverId(m)).toBeUndefined();
  });

  it("encodes back to the same bytes", () => {
    expect(hex(encodeDhcp4(decodeDhcp4(DISCOVER)))).toBe(hex(DISCOVER));
  });

  it("decodes and encodes at a non-zero offset of a larger buffer", () => {
    const big = new Uint8Array(DISCOVER.length + 20).fill(0xee);
    big.set(DISCOVER, 7);
    const m = dhcp4.decode(new Reader(big, 7, 7 + DISCOVER.length));
    const out = new Uint8Array(DISCOVER.length + 20).fill(0xee);
    const w = new Writer(out, 9);
    dhcp4.encode(w, m);
    expect(w.pos - 9).toBe(dhcp4.encodingLength(m));
    expect(hex(out.subarray(9, 9 + DISCOVER.length))).toBe(hex(DISCOVER));
    expect(out[8]).toBe(0xee);
    expect(out[9 + DISCOVER.length]).toBe(0xee);
  });

  it("keeps PAD between options so that the bytes survive", () => {
    const padded = DISCOVER.slice();
    // Replace the 3 bytes of option 53 by PAD PAD PAD: still a well-formed message.
    padded.set([0, 0, 0], 240);
    const m = decodeDhcp4(padded);
    expect(messageType(m)).toBeUndefined();
    expect(hex(encodeDhcp4(m))).toBe(hex(padded));
  });

  it("refuses a header shorter than 240 bytes", () => {
    expect(() => decodeDhcp4(DISCOVER.subarray(0, 239))).toThrow(DecodeError);
    expect(catchDecode(() => decodeDhcp4(DISCOVER.subarray(0, 100)))).toMatchObject({
      code: "truncated",
      offset: 0,
    });
  });

  it("refuses hlen over 16, at the hlen byte", () => {
    const bad = DISCOVER.slice();
    bad[2] = 17;
    expect(catchDecode(() => decodeDhcp4(bad))).toMatchObject({ code: "bad-hlen", offset: 2 });
  });

  it("refuses a wrong magic cookie, at the cookie", () => {
    const bad = DISCOVER.slice();
    bad[236] = 0x64;
    expect(catchDecode(() => decodeDhcp4(bad))).toMatchObject({ code: "bad-cookie", offset: 236 });
  });

  it("refuses an option whose length overruns the packet", () => {
    // 53, length 9, but only one byte follows.
    const bad = Uint8Array.of(...DISCOVER.subarray(0, 240), 53, 9, 1);
    expect(catchDecode(() => decodeDhcp4(bad))).toMatchObject({ code: "overrun", offset: 240 });
  });

  it("accepts options that run to the end without END", () => {
    const m = decodeDhcp4(Uint8Array.of(...DISCOVER.subarray(0, 240), 53, 1, 1));
    expect(m.options.end).toBe(false);
    expect(messageType(m)).toBe(1);
    expect(encodeDhcp4(m).length).toBe(243);
  });
});

describe("option overload (RFC 2132 §9.3)", () => {
  // Option 52 = 3: options continue in file, then in sname.
  const overloaded = () => {
    const b = DISCOVER.slice(0, 240);
    const file = fromHex("0c03616263ff"); // hostname "abc", END
    const sname = fromHex("0f036c6162ff"); // 15 domain name "lab", END
    b.set(sname, 44);
    b.set(file, 108);
    return Uint8Array.of(...b, ...fromHex("350101340103ff"));
  };

  it("reads options from file and sname after the options field", () => {
    const m = decodeDhcp4(overloaded());
    expect(m.file).not.toBeInstanceOf(Uint8Array);
    expect(hostname(m)).toBe("abc");
    expect(new TextDecoder().decode(getOption(m, 15))).toBe("lab");
    expect(hex(encodeDhcp4(m))).toBe(hex(overloaded()));
  });

  it("refuses overloaded options that no longer fit their field", () => {
    const m = decodeDhcp4(overloaded());
    (m.sname as OptionArea).options.push({ code: 99, data: new Uint8Array(70) });
    expect(() => encodeDhcp4(m)).toThrow(EncodeError);
  });
});

describe("long options (RFC 3396)", () => {
  it("joins split instances when read and splits values over 255 bytes when written", () => {
    const m = decodeDhcp4(DISCOVER);
    const long = new Uint8Array(300).map((_, i) => i & 0xff);
    setOption(m, 43, long);
    const bytes = encodeDhcp4(m, { maxSize: 1500 });
    const again = decodeDhcp4(bytes);
    expect(again.options.options.filter((o) => o.code === 43).map((o) => o.data.length)).toEqual([255, 45]);
    expect(getOption(again, 43)).toEqual(long);
  });

  it("removes every instance", () => {
    const m = decodeDhcp4(DISCOVER);
    setOption(m, 43, new Uint8Array(300));
    expect(removeOption(m, 43)).toBe(1);
    expect(getOption(m, 43)).toBeUndefined();
  });
});

describe("Option 82 placement and size (RFC 3046 §2.1)", () => {
  it("puts option 82 last, just before END, whatever the order it was added in", () => {
    const m = decodeDhcp4(DISCOVER);
    m.options.options.unshift({ code: OPT.relayAgentInfo, data: fromHex("0103414243") });
    const bytes = encodeDhcp4(m);
    // The options end with 82 (circuit-id "ABC"), then END, then the 3 bytes of padding.
    expect(hex(bytes.subarray(-11))).toBe("52050103414243ff000000");
  });

  it("refuses a message over 576 bytes when the client sent no option 57", () => {
    const m = decodeDhcp4(DISCOVER);
    removeOption(m, OPT.maxMessageSize);
    setOption(m, 43, new Uint8Array(290));
    expect(() => encodeDhcp4(m)).toThrow(/too-long.*576/);
  });

  it("allows up to the client's option 57", () => {
    const m = decodeDhcp4(DISCOVER);
    setOption(m, 43, new Uint8Array(290));
    expect(encodeDhcp4(m).length).toBeGreaterThan(576);
  });
});
