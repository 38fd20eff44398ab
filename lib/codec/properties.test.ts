import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fuzz } from "../../test/fuzz/mutate.ts";
import { dhcp4Message, dhcp6Message } from "../../test/support/arbitraries.ts";
import { goldenPackets } from "../../test/support/golden.ts";
import { hex } from "./bytes.ts";
import { decodeDhcp4, encodeDhcp4 } from "./dhcp4/message.ts";
import { decodeDhcp6, encodeDhcp6 } from "./dhcp6/message.ts";

describe("round trips over generated messages", () => {
  it("DHCPv4: encode, decode, encode gives the same bytes", () => {
    fc.assert(
      fc.property(dhcp4Message, (m) => {
        const bytes = encodeDhcp4(m, { maxSize: Infinity });
        expect(hex(encodeDhcp4(decodeDhcp4(bytes), { maxSize: Infinity }))).toBe(hex(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it("DHCPv6: encode, decode, encode gives the same bytes, relays nested", () => {
    fc.assert(
      fc.property(dhcp6Message, (m) => {
        const bytes = encodeDhcp6(m);
        expect(hex(encodeDhcp6(decodeDhcp6(bytes)))).toBe(hex(bytes));
      }),
      { numRuns: 500 },
    );
  });
});

// The million-input run is `npm run fuzz`; this is its share in the default test run.
describe("fuzzing: decode returns or throws DecodeError, nothing else", () => {
  const seeds = goldenPackets();
  for (const family of [4, 6] as const) {
    it(`DHCPv${family}: 20,000 random and mutated inputs`, () => {
      const r = fuzz(
        family,
        20_000,
        0xd4c9 + family,
        seeds.filter((s) => s.family === family).map((s) => s.bytes),
      );
      expect(r.failures).toEqual([]);
      expect(r.decoded + r.rejected).toBe(20_000);
      // Mutations of real packets must also produce some that decode, or the fuzzer is not reaching deep.
      expect(r.decoded).toBeGreaterThan(100);
    });
  }
});
