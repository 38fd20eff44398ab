import { describe, expect, it } from "vitest";
import { MSG, OP, OPT } from "../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4, encodeDhcp4, FLAG_BROADCAST } from "../lib/codec/dhcp4/message.ts";
import { getOption, messageType, setOption } from "../lib/codec/dhcp4/options.ts";
import { percentile } from "../lib/loadgen/latency.ts";
import { type Clock, clientMacs, type DoraReport, runDora, type Wire } from "./dora.ts";

/** A clock the test moves: each step runs the scheduler's tick. */
class FakeClock implements Clock {
  t = 0;
  private tick?: () => void;
  now = () => this.t;
  every(_ms: number, tick: () => void) {
    this.tick = tick;
    return { stop: () => (this.tick = undefined) };
  }
  /** Advances in 2 ms steps until the run stops or `limitMs` passes. */
  run(limitMs: number, each: () => void): void {
    while (this.tick && this.t < limitMs) {
      this.t += 2;
      this.tick();
      each();
    }
  }
}

/** A server on the far side of the wire: OFFERs 10.0.0.x, ACKs what was requested, after `delayMs`. */
function server(clock: FakeClock, o: { delayMs: number; answer?: (type: number, n: number) => boolean }) {
  const sent: Uint8Array[] = [];
  const queue: { at: number; bytes: Uint8Array }[] = [];
  let receive: (b: Uint8Array) => void = () => {};
  let n = 0;
  const wire: Wire = {
    send(bytes) {
      sent.push(bytes);
      const m = decodeDhcp4(bytes);
      const type = messageType(m) as number;
      if (o.answer && !o.answer(type, n++)) return;
      const reply = decodeDhcp4(bytes);
      reply.op = OP.BOOTREPLY;
      reply.yiaddr = `10.0.0.${(m.chaddr[5] as number) + 1}`;
      setOption(reply, OPT.messageType, Uint8Array.of(type === MSG.DISCOVER ? MSG.OFFER : MSG.ACK));
      setOption(reply, OPT.serverId, Uint8Array.of(10, 0, 0, 1));
      queue.push({ at: clock.t + o.delayMs, bytes: encodeDhcp4(reply) });
    },
    onMessage(r) {
      receive = r;
    },
  };
  const deliver = () => {
    while (queue[0] && queue[0].at <= clock.t) receive((queue.shift() as { bytes: Uint8Array }).bytes);
  };
  return { wire, sent, deliver };
}

async function run(clock: FakeClock, s: ReturnType<typeof server>, o = {}): Promise<DoraReport> {
  const p = runDora(
    s.wire,
    { mac: "00:bb:01:00:00:00", clients: 10, rate: 100, seconds: 1, timeoutMs: 500, ...o },
    clock,
  );
  clock.run(10_000, s.deliver);
  return p;
}

describe("the DORA load generator", () => {
  it("with secsAfter, exchanges started from that second carry a growing secs, the REQUEST its DISCOVER's (RFC 2131 §4.4.1)", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    await run(clock, s, { seconds: 3, secsAfter: 1 });
    const sent = s.sent.map((b) => decodeDhcp4(b));
    const discovers = sent.filter((m) => messageType(m) === MSG.DISCOVER);
    expect(discovers.slice(0, 90).every((m) => m.secs === 0)).toBe(true);
    // 100 a second: the 110th to 190th start in the run's second second, the 210th to 290th in its third.
    expect(new Set(discovers.slice(110, 190).map((m) => m.secs))).toEqual(new Set([1]));
    expect(new Set(discovers.slice(210, 290).map((m) => m.secs))).toEqual(new Set([2]));
    const requests = sent.filter((m) => messageType(m) === MSG.REQUEST);
    expect(requests.length).toBeGreaterThan(200);
    for (const r of requests) expect(r.secs).toBe(discovers.find((d) => d.xid === r.xid)?.secs);
    // Without it, secs stays 0 as a client's first try has it.
    const c2 = new FakeClock();
    const p2 = server(c2, { delayMs: 4 });
    await run(c2, p2, { seconds: 2 });
    expect(p2.sent.every((b) => decodeDhcp4(b).secs === 0)).toBe(true);
  });

  it("sends what a client on the wire sends: giaddr 0, hops 0, broadcast bit, its own chaddr", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    await run(clock, s);
    const first = decodeDhcp4(s.sent[0] as Uint8Array);
    expect(first).toMatchObject({ op: OP.BOOTREQUEST, hops: 0, giaddr: "0.0.0.0", ciaddr: "0.0.0.0" });
    expect(first.flags & FLAG_BROADCAST).toBe(FLAG_BROADCAST);
    expect(messageType(first)).toBe(MSG.DISCOVER);
    const macs = new Set(
      s.sent.map((b) => Buffer.from(decodeDhcp4(b).chaddr.subarray(0, 6)).toString("hex")),
    );
    expect(macs.size).toBe(10);
  });

  it("as a relay agent (a baseline without a relay): giaddr set, hops 1, no broadcast bit", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    await run(clock, s, { giaddr: "10.213.3.99" });
    for (const bytes of s.sent) {
      const m = decodeDhcp4(bytes);
      expect(m).toMatchObject({ giaddr: "10.213.3.99", hops: 1, flags: 0 });
    }
    expect(s.sent.map((b) => messageType(decodeDhcp4(b)))).toContain(MSG.REQUEST);
  });

  it("requests the offered address from the offering server, with the DISCOVER's xid", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    await run(clock, s);
    const discover = decodeDhcp4(s.sent[0] as Uint8Array);
    const request = s.sent
      .map(decodeDhcp4)
      .find((m) => messageType(m) === MSG.REQUEST && m.xid === discover.xid);
    if (!request) throw new Error("no REQUEST with the DISCOVER's xid");
    expect([...(getOption(request, OPT.requestedAddress) ?? [])]).toEqual([10, 0, 0, 1]);
    expect([...(getOption(request, OPT.serverId) ?? [])]).toEqual([10, 0, 0, 1]);
    expect(request.ciaddr).toBe("0.0.0.0");
  });

  it("runs rate x seconds exchanges and times each half", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    const r = await run(clock, s);
    expect(r.exchanges.map((e) => [e.exchange, e.sent, e.received, e.drops])).toEqual([
      ["DISCOVER-OFFER", 100, 100, 0],
      ["REQUEST-ACK", 100, 100, 0],
    ]);
    // The fake clock moves in 2 ms steps, so a 4 ms server is seen at 4 to 6 ms.
    for (const e of r.exchanges) {
      expect(e.p50Ms).toBeGreaterThanOrEqual(4);
      expect(e.p99Ms).toBeLessThanOrEqual(6);
    }
    expect(r.rate).toBe(100);
  });

  it("counts an unanswered message as a drop in its own exchange, once its timeout passes", async () => {
    const clock = new FakeClock();
    // Every fourth REQUEST goes unanswered.
    let requests = 0;
    const s = server(clock, { delayMs: 4, answer: (type) => type !== MSG.REQUEST || requests++ % 4 !== 0 });
    const r = await run(clock, s);
    expect(r.exchanges[0]).toMatchObject({ sent: 100, received: 100, drops: 0 });
    expect(r.exchanges[1]).toMatchObject({ sent: 100, received: 75, drops: 25 });
    expect(r.rate).toBe(75);
  });

  it("counts a reply that matches nothing in flight as an orphan, and junk as malformed", async () => {
    const clock = new FakeClock();
    const s = server(clock, { delayMs: 4 });
    let receive: (b: Uint8Array) => void = () => {};
    const wire: Wire = {
      send: s.wire.send,
      onMessage(r) {
        receive = r;
        s.wire.onMessage(r);
      },
    };
    const p = runDora(
      wire,
      { mac: "00:bb:01:00:00:00", clients: 2, rate: 10, seconds: 1, timeoutMs: 100 },
      clock,
    );
    receive(Uint8Array.of(1, 2, 3));
    const stray = decodeDhcp4(strayOffer());
    stray.xid ^= 0xffff;
    receive(encodeDhcp4(stray));
    clock.run(10_000, s.deliver);
    const r = await p;
    expect(r.malformed).toBe(1);
    expect(r.orphans).toBe(1);
  });

  it("counts MACs up from the base in the low three bytes", () => {
    const macs = clientMacs("00:bb:01:00:00:fe", 3).map((m) => Buffer.from(m).toString("hex"));
    expect(macs).toEqual(["00bb010000fe", "00bb010000ff", "00bb01000100"]);
    expect(() => clientMacs("00:bb", 1)).toThrow(/6 bytes/);
  });

  it("takes nearest-rank percentiles", () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect([percentile(xs, 50), percentile(xs, 90), percentile(xs, 99), percentile(xs, 100)]).toEqual([
      50, 90, 99, 100,
    ]);
    expect(percentile([7], 99)).toBe(7);
  });
});

function strayOffer(): Uint8Array {
  const m = decodeDhcp4(
    encodeDhcp4({
      op: OP.BOOTREPLY,
      htype: 1,
      hlen: 6,
      hops: 0,
      xid: 1,
      secs: 0,
      flags: 0,
      ciaddr: "0.0.0.0",
      yiaddr: "10.0.0.9",
      siaddr: "0.0.0.0",
      giaddr: "0.0.0.0",
      chaddr: new Uint8Array(16),
      sname: new Uint8Array(64),
      file: new Uint8Array(128),
      options: {
        options: [{ code: OPT.messageType, data: Uint8Array.of(MSG.OFFER) }],
        end: true,
        trailer: new Uint8Array(0),
      },
    }),
  );
  return encodeDhcp4(m);
}
