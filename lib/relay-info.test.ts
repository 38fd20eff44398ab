import { describe, expect, it } from "vitest";
import { decodeRelayInfo, relayInfoText } from "./relay-info.ts";

// What Kea 2.6 stored for leases the relay's default policy produced (captured from `dhcplab leases --json`).
describe("the relay information Kea stored, decoded", () => {
  it("DHCPv4: Circuit-ID and Remote-ID as text, Link Selection and Server ID Override as addresses", () => {
    const info = decodeRelayInfo({
      "relay-agent-info": {
        "remote-id": "30303A61613A30313A30303A30303A3030",
        "sub-options":
          "0x010D564944454F5F43495243554954021130303A61613A30313A30303A30303A30300504C0A80A010B040AD58302",
      },
    });
    expect(info).toEqual({
      circuitId: "VIDEO_CIRCUIT",
      remoteId: "00:aa:01:00:00:00",
      linkSelection: "192.168.10.1",
      subscriberId: undefined,
      serverIdOverride: "10.213.131.2",
    });
    expect(relayInfoText(info)).toBe(
      "circuit-id=VIDEO_CIRCUIT remote-id=00:aa:01:00:00:00 link-selection=192.168.10.1 server-id-override=10.213.131.2",
    );
  });

  it("DHCPv6: Interface-ID, Remote-ID with its enterprise number, link and peer", () => {
    const info = decodeRelayInfo({
      "relay-info": [
        {
          hop: 0,
          link: "fd00:10::1",
          options: "0x0012000D56365F564944454F5F4C494E4B002500150000095930303A61613A30313A30303A30303A3030",
          peer: "fd64:6c61:6200:83::1:0",
        },
      ],
    });
    expect(info).toMatchObject({
      circuitId: "V6_VIDEO_LINK",
      remoteId: "00:aa:01:00:00:00",
      remoteIdEnterprise: 2393,
      link: "fd00:10::1",
      peer: "fd64:6c61:6200:83::1:0",
    });
  });

  it("binary identifiers as 0x-hex; nothing, or something unreadable, as undefined", () => {
    expect(decodeRelayInfo({ "relay-agent-info": { "sub-options": "0x01020001" } })?.circuitId).toBe(
      "0x0001",
    );
    expect(decodeRelayInfo(undefined)).toBeUndefined();
    expect(decodeRelayInfo({ "relay-agent-info": { "sub-options": "0x0105" } })).toBeUndefined();
  });
});
