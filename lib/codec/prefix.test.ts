import { describe, expect, it } from "vitest";
import { inPrefix, isPrefix, prefixesOverlap, prefixesOverlap6 } from "./prefix.ts";

describe("prefixes", () => {
  it("isPrefix takes address/length of its family and nothing else", () => {
    for (const p of ["192.168.10.1/24", "0.0.0.0/0", "10.0.0.1/32"]) expect(isPrefix(p, 4)).toBe(true);
    for (const p of ["fd00:10::1/64", "::/0", "fe80::1/128"]) expect(isPrefix(p, 6)).toBe(true);
    for (const p of [
      "999.1.1.1/24",
      "192.168.10.1",
      "192.168.10.1/33",
      "192.168.10.1/2x",
      "1.2.3.4/24/1",
      "x",
    ])
      expect(isPrefix(p, 4), p).toBe(false);
    for (const p of ["x/64", "fd00::1", "fd00::1/129", "192.168.10.1/24"])
      expect(isPrefix(p, 6), p).toBe(false);
  });

  it("what isPrefix accepts, the overlap functions take without throwing", () => {
    expect(prefixesOverlap("192.168.10.1/24", "192.168.10.0/23")).toBe(true);
    expect(prefixesOverlap("192.168.10.1/24", "192.168.11.1/24")).toBe(false);
    expect(inPrefix("192.168.10.9", "192.168.10.1/24")).toBe(true);
    expect(prefixesOverlap6("fd00:10::1/64", "fd00:10::/48")).toBe(true);
    expect(prefixesOverlap6("fd00:10::1/64", "fd00:11::1/64")).toBe(false);
    expect(() => prefixesOverlap("999.1.1.1/24", "192.168.10.1/24")).toThrow();
  });
});
