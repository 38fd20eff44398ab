import { describe, expect, it } from "vitest";
import { parseRelayConfig } from "./config.ts";

// The relay's configuration is refused at load with the file, the field and the reason.

const refusal = (vrfs: string) => {
  try {
    parseRelayConfig(
      `access: { ipv4: 10.213.1.2, gateways: [192.168.10.1/24] }\nvrfs:\n${vrfs}`,
      "relay.yaml",
    );
  } catch (err) {
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("the relay's configuration", () => {
  it("refuses client subnets without a backend, a ping check with no one to ping, and client subnets two VRFs share", () => {
    expect(refusal("  - { name: RED, link4: 192.168.10.1, clients4: [192.168.10.0/24] }\n")).toMatch(
      /vrfs\[0\]\.clients4: VRF RED has clients4 but no ipv4/,
    );
    expect(
      refusal(
        "  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [10.213.2.10], pingCheck4: true }\n",
      ),
    ).toMatch(/vrfs\[0\]\.pingCheck4: VRF RED has pingCheck4 but no servers4 \(who pings\) or no clients4/);
    expect(
      refusal(
        [
          "  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [10.213.2.10], clients4: [192.168.10.0/23] }",
          "  - { name: BLUE, ipv4: 10.213.3.2, link4: 192.168.11.1, servers4: [10.213.3.10], clients4: [192.168.11.0/24] }",
          "",
        ].join("\n"),
      ),
    ).toMatch(/vrfs\[1\]\.clients4\[0\]: VRF BLUE's client subnet 192\.168\.11\.0\/24 overlaps VRF RED's/);
  });
});
