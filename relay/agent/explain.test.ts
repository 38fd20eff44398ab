import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { parsePolicy } from "../../lib/policy/policy.ts";
import { parseRelayConfig } from "./config.ts";
import { explain } from "./explain.ts";
import { Journal, recorded } from "./journal.ts";
import { createRelays } from "./relays.ts";
import type { ResolvedVrf } from "./resolve.ts";

// explain runs the relay's own paths on the message such a client sends, and sends nothing.

const config = parseRelayConfig(
  `
access: { ipv4: 10.213.1.2, gateways: [192.168.10.1/24] }
segments: [{ name: port5, vlan: 105, ipv4: 10.213.9.2 }]
vrfs:
  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, link6: "fd00:10::1", servers4: [10.213.2.10], servers6: ["fd64::10"] }
  - { name: BLUE, ipv4: 10.213.3.2, link4: 192.168.20.1, servers4: [10.213.3.10] }
`,
  "relay.yaml",
);
const vrfs = config.vrfs as ResolvedVrf[];
const policy = parsePolicy(DEFAULT_POLICY, "policy.yaml", ["RED", "BLUE"]);
const make = (deps: Parameters<Parameters<typeof explain>[2]>[0]) =>
  createRelays(config, vrfs, { ...deps, policy: () => policy });

describe("explain", () => {
  it("names the rule, the VRF and the Option 82 a RED DATA client gets, with Link Selection and Server ID Override", () => {
    const e = explain({ mac: "00:aa:02:00:00:07" }, config, make);
    expect(e).toMatchObject({
      family: 4,
      type: "DISCOVER",
      mac: "00:aa:02:00:00:07",
      segment: "access",
      action: "relay",
      rule: "red-data",
      vrf: "RED",
      giaddr: "10.213.2.2",
      servers: ["10.213.2.10"],
      added: {
        circuitId: "DATA_CIRCUIT",
        remoteId: "00:aa:02:00:00:07",
        linkSelection: "192.168.10.1",
        serverIdOverride: "10.213.1.2",
      },
    });
  });

  it("DHCPv6: the Interface-ID and Remote-ID in the RELAY-FORW, by the DUID type asked", () => {
    const llt = explain({ family: 6, mac: "00:aa:01:00:00:01", duidType: "LLT" }, config, make);
    expect(llt).toMatchObject({
      family: 6,
      type: "SOLICIT",
      rule: "red-video",
      vrf: "RED",
      added: { circuitId: "V6_VIDEO_LINK", remoteIdEnterprise: 2393, link: "fd00:10::1" },
    });
    // The DUID-LL rule comes first for DUID-LL clients.
    expect(explain({ family: 6, mac: "00:aa:01:00:00:01" }, config, make)).toMatchObject({
      rule: "red-duid-ll",
      added: { circuitId: "V6_DATA_LINK" },
    });
  });

  it("says that none matched, and which segment and template values apply", () => {
    expect(explain({ mac: "00:cc:00:00:00:01" }, config, make)).toMatchObject({
      action: "drop",
      reason: "unmatched",
    });
    expect(explain({ mac: "00:bb:00:00:00:09", segment: "port5" }, config, make)).toMatchObject({
      rule: "blue",
      vrf: "BLUE",
      segment: "port5",
      added: { circuitId: "BLUE_00:bb:00:00:00:09" },
    });
    // BLUE has no DHCPv6 servers: the decision is made, and nothing could be sent.
    expect(explain({ family: 6, mac: "00:bb:00:00:00:09" }, config, make)).toMatchObject({
      action: "drop",
      rule: "blue",
      reason: "no-servers",
    });
  });

  it("refuses what is not a client: a bad MAC, an unknown segment", () => {
    expect(() => explain({ mac: "00:aa" }, config, make)).toThrow(/not a MAC address/);
    expect(() => explain({ mac: "00:aa:02:00:00:07", segment: "port9" }, config, make)).toThrow(
      /segment port9: the relay has access, port5/,
    );
  });
});

describe("journal", () => {
  it("keeps the newest entries within its capacity, found by client", () => {
    const j = new Journal(3, () => 0);
    for (let i = 0; i < 5; i++)
      j.record(
        recorded({
          family: 4,
          type: "DISCOVER",
          mac: `00:aa:00:00:00:0${i % 2}`,
          transaction: `${i}`,
          segment: "access",
          action: "relay",
        }),
      );
    expect(j.find({}).map((e) => e.transaction)).toEqual(["2", "3", "4"]);
    expect(j.find({ mac: "00:AA:00:00:00:00" }).map((e) => e.transaction)).toEqual(["2", "4"]);
    expect(j.find({ limit: 1 }).map((e) => e.transaction)).toEqual(["4"]);
  });
});
