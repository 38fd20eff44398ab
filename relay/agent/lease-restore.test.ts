import { describe, expect, it } from "vitest";
import { delegationsOf, delegationsOfBindings } from "./lease-restore.ts";

const now = 1_800_000_000;
const pd = (address: string, relay: Record<string, unknown>, over: Record<string, unknown> = {}) => ({
  type: "IA_PD",
  "ip-address": address,
  "prefix-len": 56,
  cltt: now - 100,
  "valid-lft": 4000,
  state: 0,
  "user-context": { ISC: { "relay-info": [relay] } },
  ...over,
});

describe("delegations read from Kea's lease table", () => {
  it("routes each live IA_PD lease via this relay's peer, on the segment its Interface-ID names, the transport for towers", () => {
    const found = delegationsOf(
      "RED",
      [
        pd("fd10:100::", {
          hop: 0,
          link: "fd00:10::1",
          peer: "fe80::1",
          options: "0x0012000b56365f564944454f5f4c494e4b",
        }),
        // Interface-ID "port5": a segment of this relay.
        pd("fd10:100:0:100::", { peer: "fe80::2", options: "0x00120005706f727435" }),
        pd("fd10:100:0:200::", { peer: "fd64:6c61:6200:9::20" }),
        pd("fd10:100:0:300::", { peer: "fe80::3" }, { state: 2 }),
        pd("fd10:100:0:400::", { peer: "fe80::4" }, { cltt: now - 5000 }),
        pd("fd00:10::1000", { peer: "fe80::5" }, { type: "IA_NA", "prefix-len": 128 }),
        pd("fd10:100:0:500::", { link: "fd00:10::1" }),
      ],
      {
        segments: ["access", "port5", "transport"],
        towers: new Set(["fd64:6c61:6200:9::20"]),
        nowSeconds: now,
      },
    );
    expect(found).toEqual([
      {
        prefix: "fd10:100::/56",
        vrf: "RED",
        via: "fe80::1",
        segment: "access",
        validUntil: (now + 3900) * 1000,
      },
      {
        prefix: "fd10:100:0:100::/56",
        vrf: "RED",
        via: "fe80::2",
        segment: "port5",
        validUntil: (now + 3900) * 1000,
      },
      {
        prefix: "fd10:100:0:200::/56",
        vrf: "RED",
        via: "fd64:6c61:6200:9::20",
        segment: "transport",
        validUntil: (now + 3900) * 1000,
      },
    ]);
  });
});

describe("delegations from bulk leasequery (RFC 5460)", () => {
  it("each delegated prefix routed to its relay data's peer, on the segment its Interface-ID names, for its remaining lifetime", () => {
    const o = { segments: ["access", "port5"], towers: new Set(["10.213.9.20"]), nowSeconds: 1000 };
    const found = delegationsOfBindings(
      "RED",
      [
        {
          addresses: ["fd00:10::1000"],
          prefixes: ["fd10:100::/56"],
          lifetimes: { "fd00:10::1000": 4000, "fd10:100::/56": 3600 },
          relay: { circuitId: "V6_VIDEO_LINK", peer: "fe80::2aa:1ff:fe00:43", link: "fd00:10::1" },
        },
        {
          addresses: [],
          prefixes: ["fd10:100:100::/56"],
          lifetimes: { "fd10:100:100::/56": 60 },
          relay: { circuitId: "port5", peer: "fe80::1" },
        },
        {
          addresses: [],
          prefixes: ["fd11:100::/56"],
          lifetimes: { "fd11:100::/56": 60 },
          relay: { peer: "10.213.9.20" },
        },
        // No relay data, or no lifetime left: nothing to route.
        { addresses: [], prefixes: ["fd10:100:200::/56"], lifetimes: { "fd10:100:200::/56": 60 } },
        {
          addresses: [],
          prefixes: ["fd10:100:300::/56"],
          lifetimes: { "fd10:100:300::/56": 0 },
          relay: { peer: "fe80::2" },
        },
      ],
      o,
    );
    expect(found).toEqual([
      {
        prefix: "fd10:100::/56",
        vrf: "RED",
        via: "fe80::2aa:1ff:fe00:43",
        segment: "access",
        validUntil: 4_600_000,
      },
      { prefix: "fd10:100:100::/56", vrf: "RED", via: "fe80::1", segment: "port5", validUntil: 1_060_000 },
      {
        prefix: "fd11:100::/56",
        vrf: "RED",
        via: "10.213.9.20",
        segment: "transport",
        validUntil: 1_060_000,
      },
    ]);
  });
});
