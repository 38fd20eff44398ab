import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ipv4ToBytes,
  ipv4ToString,
  ipv6ToBytes,
  ipv6ToString,
  macFromEui64,
  macToBytes,
  macToString,
} from "./address.ts";
import { hex } from "./bytes.ts";

describe("addresses", () => {
  it("writes IPv6 as RFC 5952 says: longest zero run as ::, lower case", () => {
    for (const [text, canon] of [
      ["fe80::2aa:1ff:fe00:1", "fe80::2aa:1ff:fe00:1"],
      ["FD00:10:0:0:0:0:0:1", "fd00:10::1"],
      ["::", "::"],
      ["1:0:0:2:0:0:0:3", "1:0:0:2::3"],
      ["ff02::1:2", "ff02::1:2"],
      ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
      ["::1", "::1"],
      ["1::", "1::"],
      ["fd64:6c61:6200:7::", "fd64:6c61:6200:7::"],
    ] as const) {
      expect(ipv6ToString(ipv6ToBytes(text))).toBe(canon);
    }
  });

  it("reads back what it writes, for any address", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        (b6, b4) => {
          expect(ipv6ToBytes(ipv6ToString(b6))).toEqual(b6);
          expect(ipv4ToBytes(ipv4ToString(b4))).toEqual(b4);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("refuses malformed addresses", () => {
    expect(() => ipv6ToBytes("1::2::3")).toThrow(/not an IPv6/);
    for (const bad of [
      "1:2:3",
      ":1::",
      "1:::2",
      "12345::",
      "1:2:3:4:5:6:7:8:9",
      "1::2:3:4:5:6:7:8",
      "",
      "g::",
      "1:",
    ]) {
      expect(() => ipv6ToBytes(bad), bad).toThrow(/not an IPv6/);
    }
    expect(() => ipv4ToBytes("10.0.0.256")).toThrow(/not an IPv4/);
    expect(() => macToBytes("00:zz")).toThrow(/not a link-layer/);
  });

  it("recovers the MAC of a modified EUI-64 link-local address (RFC 4291 App. A)", () => {
    expect(macToString(macFromEui64(ipv6ToBytes("fe80::2aa:1ff:fe00:1")) ?? new Uint8Array())).toBe(
      "00:aa:01:00:00:01",
    );
    expect(macFromEui64(ipv6ToBytes("fe80::1"))).toBeUndefined();
    expect(hex(macToBytes("00-AA-01-00-00-01"))).toBe("00aa01000001");
  });
});
