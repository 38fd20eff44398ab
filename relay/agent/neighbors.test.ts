import { describe, expect, it } from "vitest";
import { resolvedOn, segmentOfNeighbor } from "./neighbors.ts";

describe("which segment a link-local next hop lives on", () => {
  const segments = [
    { segment: "access", ifname: "eth0" },
    { segment: "port5", ifname: "eth3" },
  ];

  it("reads the interfaces where the neighbor table resolved the address", () => {
    expect(
      resolvedOn(
        [
          "fe80::aa:1ff:fe00:21 dev eth3 lladdr 00:aa:01:00:00:21 REACHABLE",
          "fe80::aa:1ff:fe00:21 dev eth0 FAILED",
          "",
        ].join("\n"),
      ),
    ).toEqual(["eth3"]);
  });

  it("the segment whose link answered; none when no link or several did", async () => {
    // Nothing is sent: the solicitation is the kernel's, and this test reads a table it is given.
    const table = (text: string) => async () => text;
    const quiet = { solicit: async () => {} };
    expect(
      await segmentOfNeighbor("fe80::1", segments, {
        ...quiet,
        neigh: table("fe80::1 dev eth3 lladdr 02:00:00:00:00:01 STALE"),
      }),
    ).toBe("port5");
    expect(
      await segmentOfNeighbor("fe80::1", segments, {
        ...quiet,
        timeoutMs: 200,
        neigh: table("fe80::1 dev eth0 FAILED"),
      }),
    ).toBeUndefined();
    expect(
      await segmentOfNeighbor("fe80::1", segments, {
        ...quiet,
        neigh: table(
          "fe80::1 dev eth0 lladdr 02:00:00:00:00:01 REACHABLE\nfe80::1 dev eth3 lladdr 02:00:00:00:00:02 REACHABLE",
        ),
      }),
    ).toBeUndefined();
  });
});
