import { describe, expect, it, vi } from "vitest";
import { ScannedDhcp4 } from "../../lib/codec/dhcp4/scan.ts";
import { differential4, fuzzRelayPath } from "../../test/fuzz/relay-paths.ts";

// A short run of what `npm run fuzz` does a million times per family.
describe("relay paths under random and mutated datagrams", () => {
  it.each([4, 6] as const)(
    "DHCPv%s: every datagram is relayed or counted as one drop, and none throws",
    (family) => {
      const r = fuzzRelayPath(family, 20_000, 20261123);
      expect(r.failures).toEqual([]);
      expect(r.unaccounted).toEqual([]);
      expect(r.relayed + r.dropped).toBe(r.inputs);
      // The seeds make both outcomes common: the run reaches past the decoder.
      expect(r.relayed).toBeGreaterThan(r.inputs / 100);
      expect(r.dropped).toBeGreaterThan(r.inputs / 100);
    },
  );

  it("DHCPv6 on a relay without DHCPv6 servers: every datagram counted as one drop, none relayed", () => {
    const r = fuzzRelayPath(6, 5_000, 20261206, { v4Only: true });
    expect(r.failures).toEqual([]);
    expect(r.unaccounted).toEqual([]);
    expect(r.dropped).toBe(r.inputs);
  });

  it.each<Record<string, string>>([
    { existingOption82: "append" },
    {
      existingOption82: "replace",
      relayedClients: "takeover",
      trustedRelays: "[10.0.0.0/8, 192.168.0.0/16]",
    },
    { existingOption82: "forward", relayedClients: "forward", trustedRelays: "[10.0.0.0/8, 192.168.0.0/16]" },
  ])(
    "DHCPv4 read in place relays, drops and records exactly as decoding every message whole: %o",
    (settings) => {
      const scan = vi.spyOn(ScannedDhcp4, "scan");
      const r = differential4(20_000, 20261207, settings);
      expect(r.differences).toEqual([]);
      expect(r.counters).toBeUndefined();
      // The path under test read most messages in place, and met a request with no room for Option 82.
      expect(scan.mock.results.filter((x) => x.value !== undefined).length).toBeGreaterThan(r.inputs / 4);
      expect(r.noRoom).toBeGreaterThan(0);
      scan.mockRestore();
      // The run reaches past the trust rules and the transactions table, both ways.
      expect(r.relayed.client).toBeGreaterThan(r.inputs / 20);
      expect(r.relayed.server).toBeGreaterThan(r.inputs / 100);
    },
  );
});
