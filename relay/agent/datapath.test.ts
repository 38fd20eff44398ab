import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";
import { udpAddon } from "../../test/support/udp-addon.ts";
import { type Datapath, type DatapathKind, openDatapath } from "./datapath.ts";
import { ACCESS, type Link, type Relayed, type SendOutcome, vrfLink } from "./links.ts";
import { loadUdpAddon, NativeDatapath, SLOT_BYTES } from "./native-datapath.ts";
import { NodeDatapath } from "./node-datapath.ts";

// Both datapaths over real sockets on loopback, through the interface the relay's paths use:
// every datagram reaches `receive` once, whole, with its source and link; every send's outcome
// is heard once; a failed send fails alone.

const addon = udpAddon();
const RED = vrfLink("RED");
const what: Relayed = { vrf: "RED", type: "DISCOVER", direction: "to-server" };

interface Received {
  bytes: Uint8Array;
  source: string;
  link: Link;
}

async function until(check: () => boolean, what: string, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe.each(["native", "node"] as const)(
  "the %s datapath, over real sockets on loopback",
  (kind: DatapathKind) => {
    let datapath: Datapath | undefined;
    const peers: Socket[] = [];
    const oversize: number[] = [];
    afterEach(async () => {
      await datapath?.close();
      datapath = undefined;
      for (const p of peers.splice(0)) p.close();
      oversize.length = 0;
    });

    /** A datapath over two sockets per family on loopback: the access side and RED's backend. */
    async function open(): Promise<{
      ports: Record<"access4" | "red4" | "access6" | "red6", number>;
      got: Received[];
    }> {
      const made = {
        access4: addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, ""),
        red4: addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, ""),
        access6: addon.bind(6, ipv6ToBytes("::1"), 0, ""),
        red6: addon.bind(6, ipv6ToBytes("::1"), 0, ""),
      };
      const links = new Map<string, Link>([
        ["acc4", ACCESS],
        ["red4", RED],
        ["acc6", ACCESS],
        ["red6", RED],
      ]);
      const specs = [
        { ifname: "acc4", family: 4 as const, fd: made.access4[0] },
        { ifname: "red4", family: 4 as const, fd: made.red4[0] },
        { ifname: "acc6", family: 6 as const, fd: made.access6[0] },
        { ifname: "red6", family: 6 as const, fd: made.red6[0] },
      ];
      const o = {
        bufferBytes: 1 << 20,
        linkOf: (ifname: string) => links.get(ifname) as Link,
        onError: (_s: unknown, err: Error) => {
          throw err;
        },
        onDrop: (family: 4 | 6) => oversize.push(family),
      };
      // The interface names are labels here: these sockets are bound to no device.
      datapath =
        kind === "native" ? new NativeDatapath(addon, specs, o) : await openDatapath("node", specs, o);
      expect(datapath.kind).toBe(kind);
      expect(datapath instanceof (kind === "native" ? NativeDatapath : NodeDatapath)).toBe(true);
      const got: Received[] = [];
      datapath.listen(4, (bytes, source, link) => got.push({ bytes, source, link }));
      datapath.listen(6, (bytes, source, link) => got.push({ bytes, source, link }));
      return {
        ports: { access4: made.access4[1], red4: made.red4[1], access6: made.access6[1], red6: made.red6[1] },
        got,
      };
    }

    async function peer(family: 4 | 6): Promise<Socket> {
      const s = createSocket(family === 4 ? "udp4" : "udp6");
      peers.push(s);
      await new Promise<void>((r) => s.bind(0, family === 4 ? "127.0.0.1" : "::1", r));
      return s;
    }

    it.each([4, 6] as const)(
      "IPv%s: delivers a burst larger than a ring once each, whole and in order, with source and link, and bytes kept stay intact",
      async (family) => {
        const { ports, got } = await open();
        const client = await peer(family);
        const to = family === 4 ? ports.access4 : ports.access6;
        const host = family === 4 ? "127.0.0.1" : "::1";
        const count = 300;
        for (let i = 0; i < count; i++) {
          const bytes = new Uint8Array(300 + (i % 7));
          bytes.fill(i % 256);
          bytes[0] = i >> 8;
          bytes[1] = i & 0xff;
          client.send(bytes, to, host);
        }
        await until(() => got.length >= count, `${count} datagrams`);
        expect(got).toHaveLength(count);
        got.forEach((g, i) => {
          expect(g.bytes.length).toBe(300 + (i % 7));
          expect((g.bytes[0] as number) * 256 + (g.bytes[1] as number)).toBe(i);
          expect(g.bytes[g.bytes.length - 1]).toBe(i % 256);
          expect(g.source).toBe(host);
          expect(g.link).toBe(ACCESS);
        });
      },
    );

    it.each([4, 6] as const)(
      "IPv%s: sends out of the named link's socket, tells each outcome once, and a failed send fails alone",
      async (family) => {
        const { ports } = await open();
        const server = await peer(family);
        const host = family === 4 ? "127.0.0.1" : "::1";
        const seen: number[] = [];
        server.on("message", (_m, rinfo) => seen.push(rinfo.port));
        const transport = (datapath as Datapath).transport(family);
        const sent: Relayed[] = [];
        const failed: { error: string; port: number }[] = [];
        const outcome: SendOutcome = {
          sent: (w) => sent.push(w),
          failed: (_w, error, _address, port) => failed.push({ error, port }),
        };
        const target = server.address().port;
        transport.send(Uint8Array.of(1), target, host, RED, what, outcome);
        // Port 0 cannot be sent to: the kernel refuses that one datagram only.
        transport.send(Uint8Array.of(2), 0, host, RED, what, outcome);
        transport.send(Uint8Array.of(3), target, host, RED, what, outcome);
        // A link without a socket of this family.
        transport.send(Uint8Array.of(4), target, host, vrfLink("BLUE"), what, outcome);
        await until(
          () => sent.length + failed.length === 4 && seen.length === 2,
          "four outcomes, two arrivals",
        );
        expect(sent).toEqual([what, what]);
        expect(failed.map((f) => f.port).sort()).toEqual([0, target]);
        expect(failed.find((f) => f.port === target)?.error).toBe("no socket on vrf:BLUE");
        expect(failed.find((f) => f.port === 0)?.error).toMatch(/EINVAL|port/i);
        // Both left through RED's socket, not the access one.
        expect(seen).toEqual([
          family === 4 ? ports.red4 : ports.red6,
          family === 4 ? ports.red4 : ports.red6,
        ]);
      },
    );

    it("answers in the turn a request came in, also for many requests in one wake-up", async () => {
      const { ports } = await open();
      const client = await peer(4);
      const replies: number[] = [];
      client.on("message", (m) => replies.push(m[0] as number));
      const transport = (datapath as Datapath).transport(4);
      const outcome: SendOutcome = { sent: () => {}, failed: (_w, e) => expect.fail(e) };
      (datapath as Datapath).listen(4, (bytes, _source, link) =>
        transport.send(bytes, client.address().port, "127.0.0.1", link, what, outcome),
      );
      for (let i = 0; i < 200; i++) client.send(Uint8Array.of(i), ports.access4, "127.0.0.1");
      await until(() => replies.length === 200, "200 replies");
      expect(replies).toEqual(Array.from({ length: 200 }, (_, i) => i));
    });
  },
);

describe("the native datapath alone", () => {
  it("a relay that cannot load the addon is told which file, and that datapath: node runs without it", () => {
    expect(() => loadUdpAddon("/nonexistent/dhcplab-udp.node")).toThrow(
      /datapath native: cannot load \/nonexistent\/dhcplab-udp\.node .*"datapath: node" runs without it/,
    );
  });

  it("random datagrams of every length (empty to past a slot): each delivered whole or counted as oversize, exactly once", async () => {
    const [fd, port] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
    let oversize = 0;
    const got: Uint8Array[] = [];
    const datapath = new NativeDatapath(addon, [{ ifname: "acc4", family: 4, fd }], {
      bufferBytes: 8 << 20,
      linkOf: () => ACCESS,
      onError: (_s, err) => expect.fail(err.message),
      onDrop: (_family, why) => {
        expect(why).toBe("oversize");
        oversize++;
      },
    });
    const client = createSocket("udp4");
    try {
      datapath.listen(4, (bytes) => got.push(bytes));
      await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
      // A fixed-seed generator: the same lengths and bytes on every run.
      let seed = 20261206;
      const next = () => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed;
      };
      const sent: Uint8Array[] = [];
      for (let i = 0; i < 1000; i++) {
        const length = i % 50 === 0 ? SLOT_BYTES + 1 + (next() % 2000) : next() % 1500;
        const bytes = new Uint8Array(length).map(() => next() & 0xff);
        sent.push(bytes);
        // Paced in bursts, so that wake-ups see from one datagram to full rings.
        await new Promise<void>((r) => client.send(bytes, port, "127.0.0.1", () => r()));
        if (i % 100 === 99) await until(() => got.length + oversize === i + 1, `${i + 1} datagrams`);
      }
      const fits = sent.filter((b) => b.length <= SLOT_BYTES);
      expect(oversize).toBe(sent.length - fits.length);
      expect(got).toEqual(fits);
    } finally {
      client.close();
      await datapath.close();
    }
  });

  it("drops a datagram longer than a slot, says so, and serves the next", async () => {
    const [fd, port] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
    const oversize: number[] = [];
    const got: Uint8Array[] = [];
    const datapath = new NativeDatapath(addon, [{ ifname: "acc4", family: 4, fd }], {
      bufferBytes: 1 << 20,
      linkOf: () => ACCESS,
      onError: (_s, err) => expect.fail(err.message),
      onDrop: (family, why) => oversize.push(why === "oversize" ? family : -1),
    });
    const client = createSocket("udp4");
    try {
      datapath.listen(4, (bytes) => got.push(bytes));
      await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
      client.send(new Uint8Array(SLOT_BYTES + 1), port, "127.0.0.1");
      client.send(Uint8Array.of(7), port, "127.0.0.1");
      await until(() => got.length === 1, "the datagram after the long one");
      expect(oversize).toEqual([4]);
      expect(got[0]).toEqual(Uint8Array.of(7));
    } finally {
      client.close();
      await datapath.close();
    }
  });

  /** A native datapath over one socket on loopback, with its drops by reason. */
  function native(link: Link, drops: string[] = []) {
    const [fd, port] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
    const datapath = new NativeDatapath(addon, [{ ifname: "lo4", family: 4, fd }], {
      bufferBytes: 1 << 20,
      linkOf: () => link,
      onError: (_s, err) => expect.fail(err.message),
      onDrop: (_f, why) => drops.push(why),
    });
    return { datapath, port };
  }

  it("outcomes that send again, past a whole ring, are each told once, and so are theirs", async () => {
    const { datapath } = native(RED);
    // 300 datagrams at once: more than a default receive buffer holds.
    const server = createSocket({ type: "udp4", recvBufferSize: 1 << 20 });
    try {
      await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
      let arrived = 0;
      server.on("message", () => arrived++);
      const transport = datapath.transport(4);
      const told: string[] = [];
      // Each first-round outcome queues two more: 100 first sends make 200 from inside flush.
      const second: SendOutcome = {
        sent: (w) => told.push(`2:${w.type}`),
        failed: (_w, e) => expect.fail(e),
      };
      const first: SendOutcome = {
        sent: (w) => {
          told.push(`1:${w.type}`);
          for (const n of [0, 1])
            transport.send(
              Uint8Array.of(n),
              server.address().port,
              "127.0.0.1",
              RED,
              { ...w, type: `${w.type}.${n}` },
              second,
            );
        },
        failed: (_w, e) => expect.fail(e),
      };
      for (let i = 0; i < 100; i++)
        transport.send(
          Uint8Array.of(i),
          server.address().port,
          "127.0.0.1",
          RED,
          { ...what, type: `m${i}` },
          first,
        );
      await until(() => told.length === 300 && arrived === 300, "300 outcomes and arrivals", 3000).catch(
        (e) => {
          throw new Error(`${e.message}: ${told.length} told, ${arrived} arrived`);
        },
      );
      const expected = Array.from({ length: 100 }, (_, i) => [`1:m${i}`, `2:m${i}.0`, `2:m${i}.1`]).flat();
      expect([...told].sort()).toEqual(expected.sort());
    } finally {
      server.close();
      await datapath.close();
    }
  });

  it("a receiver that throws costs its datagram (counted), not the rest of the batch", async () => {
    const drops: string[] = [];
    const { datapath, port } = native(ACCESS, drops);
    const client = createSocket("udp4");
    try {
      const got: number[] = [];
      datapath.listen(4, (bytes) => {
        if (bytes[0] === 13) throw new Error("a bug in a path");
        got.push(bytes[0] as number);
      });
      await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
      for (const n of [1, 13, 2, 13, 3]) client.send(Uint8Array.of(n), port, "127.0.0.1");
      await until(() => got.length + drops.length === 5, "five datagrams accounted for");
      expect(got).toEqual([1, 2, 3]);
      expect(drops).toEqual(["receiver-threw", "receiver-threw"]);
    } finally {
      client.close();
      await datapath.close();
    }
  });

  it("closed from inside a batch, it stops there, and a new one opens after", async () => {
    const first = native(ACCESS);
    const client = createSocket("udp4");
    try {
      let seen = 0;
      const closed = new Promise<number>((resolve) =>
        first.datapath.listen(4, () => {
          seen++;
          void first.datapath.close().then(() => resolve(seen));
        }),
      );
      await new Promise<void>((r) => client.bind(0, "127.0.0.1", r));
      for (let i = 0; i < 10; i++) client.send(Uint8Array.of(i), first.port, "127.0.0.1");
      const seenAtClose = await closed;
      // The rest of that wake-up's datagrams still went to the receiver; nothing after the close.
      expect(seenAtClose).toBeGreaterThanOrEqual(1);
      expect(seenAtClose).toBeLessThanOrEqual(10);
      const second = native(ACCESS);
      const got = new Promise<number>((resolve) => second.datapath.listen(4, (b) => resolve(b[0] as number)));
      client.send(Uint8Array.of(42), second.port, "127.0.0.1");
      expect(await got).toBe(42);
      // The second datapath received after the first closed: the first's receiver was called no more.
      expect(seen).toBe(seenAtClose);
      await second.datapath.close();
    } finally {
      client.close();
    }
  });

  it("a send outside a batch (a timer's) leaves in the same turn's microtasks", async () => {
    const [fd] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
    const datapath = new NativeDatapath(addon, [{ ifname: "red4", family: 4, fd }], {
      bufferBytes: 1 << 20,
      linkOf: () => RED,
      onError: (_s, err) => expect.fail(err.message),
      onDrop: (_f, why) => expect.fail(why),
    });
    const server = createSocket("udp4");
    try {
      await new Promise<void>((r) => server.bind(0, "127.0.0.1", r));
      const arrived = new Promise<Buffer>((r) => server.once("message", r));
      let heard = "";
      datapath.transport(4).send(Uint8Array.of(9), server.address().port, "127.0.0.1", RED, what, {
        sent: () => {
          heard = "sent";
        },
        failed: (_w, e) => {
          heard = e;
        },
      });
      expect(heard).toBe("");
      await Promise.resolve();
      expect(heard).toBe("sent");
      expect([...(await arrived)]).toEqual([9]);
    } finally {
      server.close();
      await datapath.close();
    }
  });

  describe("replies it frames itself on a packet socket (Transport.sendOnLink)", () => {
    // What the frames hold (IPv4 and UDP headers, checksums, addresses) is checked where a client
    // receives them: clients.test.ts captures dhclient's OFFER and ACK, and dhclient and udhcpc
    // drop a datagram whose UDP checksum is wrong. On this host's loopback the kernel would take a
    // frame from 127.0.0.1 for a martian, so here only that the kernel took it.
    const toClient: Relayed = { vrf: "RED", type: "OFFER", direction: "to-client" };
    /** A datapath whose access socket is on "lo", so that its link socket is there too. */
    function onLoopback(): NativeDatapath {
      const [fd] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
      return new NativeDatapath(addon, [{ ifname: "lo", family: 4, fd }], {
        bufferBytes: 1 << 20,
        linkOf: () => ACCESS,
        onError: (_s, err) => expect.fail(err.message),
        onDrop: (_f, why) => expect.fail(why),
      });
    }

    it("opens one on each IPv4 access interface, or says why it cannot, and frames only there", async (ctx) => {
      const datapath = onLoopback();
      try {
        const [framing] = datapath.framing;
        // Without CAP_NET_RAW the relay says why and sends through the UDP socket (relay4.test.ts).
        if (framing?.error) ctx.skip();
        expect(datapath.framing).toEqual([{ ifname: "lo" }]);
        const heard: string[] = [];
        const outcome: SendOutcome = { sent: () => heard.push("sent"), failed: (_w, e) => heard.push(e) };
        const transport = datapath.transport(4);
        const frame = { source: "127.0.0.1", destination: "255.255.255.255" };
        const unicast = { ...frame, destination: "127.0.0.2", hardware: new Uint8Array(6) };
        const bad = { source: "not-an-address", destination: "255.255.255.255" };
        expect(transport.sendOnLink?.(Uint8Array.of(1), 68, frame, ACCESS, toClient, outcome)).toBe(true);
        expect(transport.sendOnLink?.(Uint8Array.of(2), 68, unicast, ACCESS, toClient, outcome)).toBe(true);
        expect(transport.sendOnLink?.(Uint8Array.of(3), 68, bad, ACCESS, toClient, outcome)).toBe(true);
        // Not on a backend link, and not in DHCPv6.
        expect(transport.sendOnLink?.(Uint8Array.of(4), 68, frame, RED, toClient, outcome)).toBe(false);
        expect(
          datapath.transport(6).sendOnLink?.(Uint8Array.of(5), 68, frame, ACCESS, toClient, outcome),
        ).toBe(false);
        expect(heard).toEqual(["not an IPv4 address: not-an-address"]);
        await until(() => heard.length === 3, "the two frames' outcomes");
        expect(heard).toEqual(["not an IPv4 address: not-an-address", "sent", "sent"]);
      } finally {
        await datapath.close();
      }
    });

    it("where no interface has the name, says why, and frames nothing", async () => {
      const [fd] = addon.bind(4, ipv4ToBytes("127.0.0.1"), 0, "");
      const datapath = new NativeDatapath(addon, [{ ifname: "no-such-if0", family: 4, fd }], {
        bufferBytes: 1 << 20,
        linkOf: () => ACCESS,
        onError: (_s, err) => expect.fail(err.message),
        onDrop: (_f, why) => expect.fail(why),
      });
      try {
        expect(datapath.framing).toEqual([
          { ifname: "no-such-if0", error: expect.stringMatching(/ENODEV|No such device/) },
        ]);
        const outcome: SendOutcome = { sent: () => expect.fail("sent"), failed: (_w, e) => expect.fail(e) };
        const frame = { source: "127.0.0.1", destination: "255.255.255.255" };
        expect(
          datapath.transport(4).sendOnLink?.(Uint8Array.of(1), 68, frame, ACCESS, toClient, outcome),
        ).toBe(false);
      } finally {
        await datapath.close();
      }
    });
  });
});
