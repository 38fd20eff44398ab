import { describe, expect, it } from "vitest";
import { delegationsOf } from "./lease-restore.ts";

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
