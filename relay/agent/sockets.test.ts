import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { ACCESS, vrfLink } from "./links.ts";
import { interfaceWith, type LinkSocket, parseSocketSpecs, SocketTransport } from "./sockets.ts";

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

describe("SocketTransport, over real sockets on loopback", () => {
  const open: Socket[] = [];
  const bound = async (): Promise<Socket> => {
    const s = createSocket("udp4");
    open.push(s);
    await new Promise<void>((r) => s.bind(0, "127.0.0.1", r));
    return s;
  };
  afterEach(() => {
    for (const s of open.splice(0)) s.close();
  });

  it("sends out of the named link's socket, reports a failed send through done, and keeps sending", async () => {
    const access = await bound();
    const red = await bound();
    const receiver = await bound();
    const sockets: LinkSocket[] = [
      { ifname: "lo", family: 4, link: ACCESS, socket: access },
      { ifname: "lo", family: 4, link: vrfLink("RED"), socket: red },
    ];
    const transport = new SocketTransport(sockets);
    const outcome = (port: number, via = vrfLink("RED")) =>
      new Promise<Error | undefined>((resolve) =>
        transport.send(Uint8Array.of(1, 2, 3), port, "127.0.0.1", via, resolve),
      );

    // Port 0 cannot be sent to: the socket refuses, and the transport says so instead of throwing.
    expect((await outcome(0))?.message).toMatch(/port/i);
    // A link with no socket fails the same way.
    expect((await outcome(9, vrfLink("BLUE")))?.message).toBe("no socket on vrf:BLUE");

    const got = new Promise<number>((resolve) =>
      receiver.once("message", (_m, rinfo) => resolve(rinfo.port)),
    );
    expect(await outcome(receiver.address().port)).toBeUndefined();
    // It left through RED's socket, not the access one.
    expect(await got).toBe(red.address().port);
  });
});
