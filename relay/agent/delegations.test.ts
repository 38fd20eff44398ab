import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeWith } from "../../lib/codec/bytes.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { iaPrefix, iaWithTimers } from "../../lib/codec/dhcp6/ia.ts";
import {
  type Dhcp6ClientMessage,
  decodeDhcp6,
  encodeDhcp6,
  isRelay,
  type RawOption6,
} from "../../lib/codec/dhcp6/message.ts";
import { FakeTransport, golden, policyWith, quietLog, replyTo } from "../../test/support/relay-fakes.ts";
import { Counters } from "./counters.ts";
import { type Delegation, Delegations, type RouteTable } from "./delegations.ts";
import { ACCESS, vrfLink } from "./links.ts";
import { Relay6 } from "./relay6.ts";

/** An IA_PD option holding one IA Prefix. */
function iaPd(prefix: string, length: number, valid: number, iaid = 1): RawOption6 {
  const p = encodeWith(iaPrefix, {
    preferredLifetime: Math.min(valid, 3000),
    validLifetime: valid,
    prefixLength: length,
    prefix,
    options: [],
  });
  return {
    code: OPT6.iaPd,
    data: encodeWith(iaWithTimers, { iaid, t1: 1000, t2: 2000, options: [{ code: OPT6.iaPrefix, data: p }] }),
  };
}

const reply = (type: number, ...options: RawOption6[]): Dhcp6ClientMessage => ({
  type,
  transactionId: 7,
  options,
});

/** Records what the kernel would be told. */
class FakeRoutes implements RouteTable {
  readonly changes: string[] = [];
  install(d: Delegation): void {
    this.changes.push(`+${d.prefix} via ${d.via} on ${d.segment} (${d.vrf})`);
  }
  withdraw(d: Delegation): void {
    this.changes.push(`-${d.prefix} via ${d.via}`);
  }
}

describe("delegated prefixes (RFC 8987)", () => {
  let now: number;
  let routes: FakeRoutes;
  let counters: Counters;
  let table: Delegations;
  const events = (event: string) => counters.get("dhcplab_relay_delegations_total", { vrf: "RED", event });

  beforeEach(() => {
    now = 1_000_000;
    routes = new FakeRoutes();
    counters = new Counters();
    table = new Delegations({
      routes,
      counters,
      log: quietLog,
      vrfs: ["RED", "BLUE"],
      now: () => now,
      sweepMs: 5,
    });
  });
  afterEach(() => table.stop());

  it("routes each IA Prefix of a REPLY via the peer for its valid lifetime, and ignores an ADVERTISE", () => {
    table.learn("RED", "access", "fe80::1", reply(MSG6.ADVERTISE, iaPd("fd10:100::", 56, 4000)));
    expect(routes.changes).toEqual([]);
    table.learn("RED", "access", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100:0:100::", 56, 4000)));
    expect(routes.changes).toEqual(["+fd10:100:0:100::/56 via fe80::1 on access (RED)"]);
    expect(table.list()).toEqual([
      {
        prefix: "fd10:100:0:100::/56",
        vrf: "RED",
        via: "fe80::1",
        segment: "access",
        validUntil: now + 4_000_000,
        learnedFrom: "reply",
      },
    ]);
    expect(counters.prometheus()).toMatch(/dhcplab_relay_delegated_routes\{vrf="RED"\} 1\n/);
    expect(counters.prometheus()).toMatch(/dhcplab_relay_delegated_routes\{vrf="BLUE"\} 0\n/);
  });

  it("a renewal extends the lifetime without touching the kernel; a new next hop moves the route", () => {
    table.learn("RED", "access", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    now += 1000;
    table.learn("RED", "access", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    expect(routes.changes).toHaveLength(1);
    expect(table.list()[0]?.validUntil).toBe(now + 4_000_000);
    table.learn("RED", "access", "fe80::2", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    expect(routes.changes.slice(1)).toEqual([
      "-fd10:100::/56 via fe80::1",
      "+fd10:100::/56 via fe80::2 on access (RED)",
    ]);
    expect([events("learned"), events("renewed"), events("moved")]).toEqual([1, 1, 1]);
  });

  it("a zero valid lifetime in a later REPLY withdraws the route (RFC 8415 §18.2.10.1), as does a RELEASE", () => {
    table.learn(
      "RED",
      "access",
      "fe80::1",
      reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000), iaPd("fd10:100:0:100::", 56, 4000, 2)),
    );
    table.learn("RED", "access", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 0)));
    table.released("RED", ["fd10:100:0:100::/56", "fd10:999::/56"]);
    expect(routes.changes.slice(2)).toEqual([
      "-fd10:100::/56 via fe80::1",
      "-fd10:100:0:100::/56 via fe80::1",
    ]);
    expect(table.list()).toEqual([]);
    expect([events("revoked"), events("released")]).toEqual([1, 1]);
  });

  it("holds the same prefix of two VRFs apart (overlapping address spaces): each is routed, and a RELEASE in one leaves the other", () => {
    table.learn("RED", "red-port", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    table.learn("BLUE", "blue-port", "fe80::2", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    expect(table.list().map((d) => `${d.vrf} ${d.prefix} ${d.segment}`)).toEqual([
      "RED fd10:100::/56 red-port",
      "BLUE fd10:100::/56 blue-port",
    ]);
    expect(events("moved")).toBe(0);
    table.released("BLUE", ["fd10:100::/56"]);
    expect(table.list().map((d) => `${d.vrf} ${d.prefix}`)).toEqual(["RED fd10:100::/56"]);
    expect(routes.changes).toEqual([
      "+fd10:100::/56 via fe80::1 on red-port (RED)",
      "+fd10:100::/56 via fe80::2 on blue-port (BLUE)",
      "-fd10:100::/56 via fe80::2",
    ]);
  });

  it("withdraws a route when its valid lifetime ends; 0xffffffff is infinity", async () => {
    table.learn(
      "RED",
      "access",
      "fe80::1",
      reply(MSG6.REPLY, iaPd("fd10:100::", 56, 10), iaPd("fd10:100:0:100::", 56, 0xffffffff, 2)),
    );
    now += 10_000;
    await expect.poll(() => table.list().map((d) => d.prefix)).toEqual(["fd10:100:0:100::/56"]);
    expect(events("expired")).toBe(1);
  });

  it("a lease-table restore keeps what a reply already said, and skips what has expired", () => {
    table.learn("RED", "access", "fe80::1", reply(MSG6.REPLY, iaPd("fd10:100::", 56, 4000)));
    const restored = table.restore([
      { prefix: "fd10:100::/56", vrf: "RED", via: "fe80::9", segment: "access", validUntil: now + 5000 },
      {
        prefix: "fd10:100:0:100::/56",
        vrf: "RED",
        via: "fe80::3",
        segment: "access",
        validUntil: now + 5000,
      },
      { prefix: "fd10:100:0:200::/56", vrf: "RED", via: "fe80::4", segment: "access", validUntil: now - 1 },
    ]);
    expect(restored).toBe(1);
    expect(table.list().map((d) => [d.prefix, d.via, d.learnedFrom])).toEqual([
      ["fd10:100::/56", "fe80::1", "reply"],
      ["fd10:100:0:100::/56", "fe80::3", "lease-table"],
    ]);
  });

  it("an IA_PD it cannot read is no delegation: the reply is relayed all the same", () => {
    table.learn(
      "RED",
      "access",
      "fe80::1",
      reply(MSG6.REPLY, { code: OPT6.iaPd, data: Uint8Array.of(1, 2, 3) }),
    );
    expect(routes.changes).toEqual([]);
  });
});

describe("the DHCPv6 path tells the table what it relays", () => {
  const PEER = "fe80::2aa:1ff:fe00:1";
  const SERVER = "fe80::ff:fe00:a%eth1";
  let transport: FakeTransport;
  let learned: unknown[][];
  let released: string[][];
  let relay: Relay6;

  beforeEach(() => {
    transport = new FakeTransport();
    learned = [];
    released = [];
    relay = new Relay6({
      vrfs: [{ name: "RED", link: "fd00:10::1", servers: [SERVER] }],
      policy: () => policyWith(),
      transport,
      counters: new Counters(),
      log: quietLog,
      delegations: {
        learn: (...a) => void learned.push(a.slice(0, 3)),
        released: (_vrf, p) => void released.push([...p]),
      },
    });
  });

  /** The client message of a golden SOLICIT with another type and an IA_PD, as a CPE sends it. */
  function fromCpe(type: number): Uint8Array {
    const m = decodeDhcp6(golden("dhclient-v6-01-solicit"));
    if (isRelay(m)) throw new Error("expected a client message");
    m.type = type;
    m.options = [
      ...m.options
        .filter((o) => o.code === OPT6.clientId)
        .map((o) => ({ ...o, data: Uint8Array.from([0, 3, 0, 1, 0, 0xaa, 1, 0, 0, 1]) })),
      iaPd("fd10:100:0:300::", 56, 0),
    ];
    return encodeDhcp6(m);
  }

  function serverReplies(forw: Uint8Array, ...options: RawOption6[]): void {
    const repl = replyTo(
      forw,
      (r) => {
        const rm = r.options.find((o) => o.code === OPT6.relayMessage);
        if (rm && "message" in rm && !isRelay(rm.message)) rm.message.options.push(...options);
      },
      MSG6.REPLY,
    );
    relay.handle(repl, SERVER, vrfLink("RED"));
  }

  it("a REPLY relayed to a client: its prefixes are learned via the client's address on the segment it came from", () => {
    relay.handle(fromCpe(MSG6.REQUEST), `${PEER}%eth0`, ACCESS);
    const [forw] = transport.take();
    serverReplies(forw?.bytes ?? new Uint8Array(), iaPd("fd10:100:0:300::", 56, 4000));
    expect(transport.take()).toHaveLength(1);
    expect(learned).toEqual([["RED", "access", PEER]]);
    expect(released).toEqual([]);
  });

  it("the REPLY to a RELEASE: the prefixes the client released are withdrawn", () => {
    relay.handle(fromCpe(MSG6.RELEASE), `${PEER}%eth0`, ACCESS);
    const [forw] = transport.take();
    serverReplies(forw?.bytes ?? new Uint8Array());
    expect(released).toEqual([["fd10:100:0:300::/56"]]);
    expect(learned).toEqual([]);
  });
});
