import { describe, expect, it } from "vitest";
import { interfaceWith, parseSocketSpecs } from "./sockets.ts";

describe("the sockets the launcher hands over", () => {
  it("reads DHCPLAB_SOCKETS, and refuses to start without it or with a bad entry", () => {
    expect(parseSocketSpecs("eth0:4:3,eth0:6:4,eth1:4:5")).toEqual([
      { ifname: "eth0", family: 4, fd: 3 },
      { ifname: "eth0", family: 6, fd: 4 },
      { ifname: "eth1", family: 4, fd: 5 },
    ]);
    expect(() => parseSocketSpecs(undefined)).toThrow(/start the relay through dhcplab-bind/);
    expect(() => parseSocketSpecs("eth0:5:3")).toThrow(/"eth0:5:3" is not IFNAME:FAMILY:FD/);
  });
});

describe("interfaceWith", () => {
  it("finds an address's interface however the address is written", () => {
    const info = (address: string, family: "IPv4" | "IPv6") =>
      ({ address, family, netmask: "", mac: "", internal: false, cidr: null }) as never;
    const interfaces = {
      eth0: [info("10.213.0.2", "IPv4"), info("fd64:6c61:6200::2", "IPv6")],
      eth1: [info("10.213.1.2", "IPv4")],
    };
    expect(interfaceWith("fd64:6c61:6200:0::2", interfaces)).toBe("eth0");
    expect(interfaceWith("10.213.1.2", interfaces)).toBe("eth1");
    expect(() => interfaceWith("10.213.9.2", interfaces)).toThrow(/no interface holds 10\.213\.9\.2/);
  });
});
