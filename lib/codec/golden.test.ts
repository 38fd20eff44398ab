import { describe, expect, it } from "vitest";
import { goldenPackets } from "../../test/support/golden.ts";
import { hex } from "./bytes.ts";
import { decodeDhcp4, encodeDhcp4 } from "./dhcp4/message.ts";
import { decodeDhcp6, encodeDhcp6 } from "./dhcp6/message.ts";
import { DecodeError } from "./errors.ts";
import { catchDecode } from "./test-support.ts";

// Packets captured from perfdhcp, dhclient, udhcpc and Kea in the lab (see
// test/fixtures/packets/capture.ts), plus deliberately malformed relay packets.
const packets = goldenPackets();

function roundTrip(family: 4 | 6, bytes: Uint8Array): Uint8Array {
  return family === 4
    ? encodeDhcp4(decodeDhcp4(bytes), { maxSize: Infinity })
    : encodeDhcp6(decodeDhcp6(bytes));
}

describe("golden packets", () => {
  it("include both families, every client captured, and malformed relay packets", () => {
    const names = packets.map((p) => p.name).join(" ");
    for (const tool of [
      "perfdhcp-v4",
      "perfdhcp-v6",
      "dhclient-v4",
      "dhclient-v6",
      "udhcpc-v4",
      "dhcpcd-v4",
      "dhcpcd-v6",
    ])
      expect(names).toContain(tool);
    expect(packets.filter((p) => p.malformed).length).toBeGreaterThanOrEqual(1);
  });

  for (const p of packets.filter((p) => !p.malformed)) {
    it(`${p.name}: decode then encode gives back the same bytes`, () => {
      expect(hex(roundTrip(p.family, p.bytes))).toBe(hex(p.bytes));
    });
  }

  for (const p of packets.filter((p) => p.malformed)) {
    const expected = /^expect: ([a-z-]+) at (\d+)$/.exec(p.notes.find((n) => n.startsWith("expect:")) ?? "");
    it(`${p.name}: refused with ${expected?.[1]} at byte ${expected?.[2]}`, () => {
      expect(expected, "the fixture names the error it expects").not.toBeNull();
      const err = catchDecode(() => (p.family === 4 ? decodeDhcp4(p.bytes) : decodeDhcp6(p.bytes)));
      expect(err).toBeInstanceOf(DecodeError);
      expect({ code: err.code, offset: err.offset }).toEqual({
        code: expected?.[1],
        offset: Number(expected?.[2]),
      });
    });
  }
});
