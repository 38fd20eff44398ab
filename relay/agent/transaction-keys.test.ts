import { describe, expect, it } from "vitest";
import { key4, key6, VrfIndex } from "./transaction-keys.ts";

const mac = Uint8Array.of(0x00, 0xaa, 0x01, 0x00, 0x00, 0x01, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9);

describe("transaction keys", () => {
  it("DHCPv4: equal for the same VRF, xid and hardware address; apart when any differs", () => {
    const k = key4(0, 0xdeadbeef, mac, 6);
    expect(key4(0, 0xdeadbeef, mac.slice(), 6)).toBe(k);
    const other = mac.slice();
    other[5] = 2;
    const keys = [
      k,
      key4(1, 0xdeadbeef, mac, 6),
      key4(0, 0xdeadbeee, mac, 6),
      key4(0, 0xdeacbeef, mac, 6),
      key4(0, 0xdeadbeef, other, 6),
      // The bytes past hlen are not the address; a different hlen is a different address.
      key4(0, 0xdeadbeef, mac, 7),
      key4(0, 0xdeadbeef, mac, 5),
      key4(0, 0xdeadbeef, mac, 16),
      key4(0, 0xdeadbeef, mac, 0),
    ];
    expect(new Set(keys).size).toBe(keys.length);
    const tail = mac.slice();
    tail[6] = 1;
    expect(key4(0, 0xdeadbeef, tail, 6)).toBe(k);
    expect(key4(0, 0xdeadbeef, tail, 7)).not.toBe(key4(0, 0xdeadbeef, mac, 7));
  });

  it("DHCPv6: equal for the same VRF, address and transaction-id wherever the address lies; apart when any differs", () => {
    const address = Uint8Array.of(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0xaa, 0x01, 0xff, 0xfe, 0, 0, 1);
    const inDatagram = new Uint8Array(40);
    inDatagram.set(address, 18);
    const k = key6(2, address, 0, 0xa1b2c3);
    expect(key6(2, inDatagram, 18, 0xa1b2c3)).toBe(k);
    const other = address.slice();
    other[15] = 2;
    const keys = [
      k,
      key6(1, address, 0, 0xa1b2c3),
      key6(2, address, 0, 0xa1b2c4),
      key6(2, other, 0, 0xa1b2c3),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("VRF indexes: one per name in configured order, a name listed twice keeps its first; an unknown one is refused", () => {
    const ids = new VrfIndex(["RED", "RED", "BLUE"]);
    expect([ids.known("RED"), ids.known("BLUE")]).toEqual([0, 1]);
    expect(() => ids.known("GREEN")).toThrow(/no VRF GREEN/);
  });
});
