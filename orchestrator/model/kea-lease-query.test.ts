import { describe, expect, it } from "vitest";
import { parseKeaJson } from "./kea-json.ts";
import { leaseQueryOf, withRequester } from "./kea-lease-query.ts";

const HOOK = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_query.so";
const config = (family: 4 | 6, parameters: Record<string, unknown>) =>
  `// a comment Kea allows\n${JSON.stringify({
    [`Dhcp${family}`]: {
      "hooks-libraries": [
        { library: "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" },
        { library: HOOK, parameters },
      ],
    },
  })}`;
const bulk = { "bulk-query-enabled": true, "lease-query-ip": "::", "lease-query-tcp-port": 5470 };

describe("the lease_query hook's configuration", () => {
  it("says whether a server takes lease queries, and where DHCPv6 takes bulk ones", () => {
    expect(leaseQueryOf("f", config(4, { requesters: [] }), 4)).toEqual({ index: 1 });
    expect(leaseQueryOf("f", config(6, { requesters: [], advanced: bulk }), 6)).toEqual({
      index: 1,
      bulkPort: 5470,
    });
    expect(leaseQueryOf("f", JSON.stringify({ Dhcp4: {} }), 4)).toBeUndefined();
    expect(
      leaseQueryOf(
        "f",
        config(4, { advanced: { "bulk-query-enabled": true, "lease-query-ip": "0.0.0.0" } }),
        4,
      ),
    ).toEqual({ index: 1, bulkPort: 67 });
    expect(() => leaseQueryOf("f", config(4, { advanced: { "bulk-query-enabled": true } }), 4)).toThrow(
      `"127.0.0.1": the relay asks from the VRF's backend network: set "0.0.0.0"`,
    );
  });

  it("refuses DHCPv6 queries the relay cannot ask, naming the file and field", () => {
    expect(() => leaseQueryOf("/k/kea-dhcp6.conf", config(6, { requesters: [] }), 6)).toThrow(
      "/k/kea-dhcp6.conf: Dhcp6.hooks-libraries[1].parameters.advanced.bulk-query-enabled: the relay asks DHCPv6 lease queries over TCP",
    );
    expect(() =>
      leaseQueryOf("/k/kea-dhcp6.conf", config(6, { advanced: { "bulk-query-enabled": true } }), 6),
    ).toThrow(
      `Dhcp6.hooks-libraries[1].parameters.advanced.lease-query-ip: "::1": the relay asks from the VRF's backend network`,
    );
  });

  it("adds the relay to the requesters once, keeping the user's, and leaves a file without the hook as it is", () => {
    const text = config(4, { requesters: ["192.0.2.7"] });
    const written = withRequester("/k/kea-dhcp4.conf", text, 4, "10.213.5.2");
    expect(written).toMatch(
      /^\/\/ Written by dhcplab from \/k\/kea-dhcp4\.conf, with the relay's 10\.213\.5\.2/,
    );
    const hook = (parseKeaJson(written, "w").Dhcp4 as { "hooks-libraries": { parameters: unknown }[] })[
      "hooks-libraries"
    ][1];
    expect(hook?.parameters).toEqual({ requesters: ["192.0.2.7", "10.213.5.2"] });
    expect(withRequester("w", written, 4, "10.213.5.2")).toBe(written);
    const plain = JSON.stringify({ Dhcp4: { "hooks-libraries": [] } });
    expect(withRequester("p", plain, 4, "10.213.5.2")).toBe(plain);
  });
});
