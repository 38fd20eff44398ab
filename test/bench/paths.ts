// `npm run bench:paths`: the relay's own per-exchange cost, in process, without sockets or
// kernel: DISCOVER, OFFER, REQUEST, ACK (DHCPv4) and SOLICIT, ADVERTISE, REQUEST, REPLY
// (DHCPv6) through Relay4 / Relay6 with a transport that sends nothing, each decision recorded
// in a journal as the relay's are (BENCH_JOURNAL=0: none). Only the time inside the relay's
// handle() is counted. BENCH_EVICT_KIB=N writes N KiB of other data before each datagram, as Kea,
// the clients and the kernel do between the relay's wake-ups on a shared machine, and times the
// relay's calls alone: its time with cold caches. BENCH_ALLOC=1 adds what an exchange allocates on V8's heap (its sampling
// heap profiler, every object counted whether collected or not), with the functions that allocate
// most. Prints figures; asserts nothing.

import { Session } from "node:inspector/promises";
import { MSG } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4, encodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { type Dhcp6ClientMessage, decodeDhcp6, encodeDhcp6, isRelay } from "../../lib/codec/dhcp6/message.ts";
import { Counters } from "../../relay/agent/counters.ts";
import { Journal } from "../../relay/agent/journal.ts";
import {
  ACCESS,
  type Link,
  type Relayed,
  type SendOutcome,
  type Transport,
  vrfLink,
} from "../../relay/agent/links.ts";
import { Relay4 } from "../../relay/agent/relay4.ts";
import { Relay6 } from "../../relay/agent/relay6.ts";
import { golden, offerFor, policyWith, quietLog, RED_VRF4, replyTo } from "../support/relay-fakes.ts";

const EXCHANGES = Number(process.env.BENCH_EXCHANGES ?? 50_000);
const CLIENTS = 1000;
const journal = () => (process.env.BENCH_JOURNAL === "0" ? {} : { journal: new Journal() });

/** Keeps the last datagram sent; reports success at once, as a socket's synchronous send does. */
class LastSent implements Transport {
  last: Uint8Array = new Uint8Array();
  send(
    bytes: Uint8Array,
    _port: number,
    _address: string,
    _via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    this.last = bytes;
    outcome.sent(what);
  }
}

const EVICT_BYTES = Number(process.env.BENCH_EVICT_KIB ?? 0) * 1024;
const junk = new Uint8Array(Math.max(EVICT_BYTES, 64));
/** With BENCH_EVICT_KIB, the milliseconds spent in the relay's handle() since the last reset. */
let inRelay = 0;

/** One datagram into the relay; with BENCH_EVICT_KIB, after other data has taken the caches. */
function datagram(
  relay: { handle(bytes: Uint8Array, source: string, link: Link): unknown },
  bytes: Uint8Array,
  source: string,
  link: Link,
): void {
  if (EVICT_BYTES === 0) {
    relay.handle(bytes, source, link);
    return;
  }
  for (let i = 0; i < EVICT_BYTES; i += 64) junk[i] = ((junk[i] as number) + 1) & 0xff;
  const t = performance.now();
  relay.handle(bytes, source, link);
  inRelay += performance.now() - t;
}

/** One client's exchange as the relay sees it: its request (sent twice) and the server's two replies. */
interface Script {
  request: Uint8Array;
  first: Uint8Array;
  second: Uint8Array;
}

/**
 * Runs every client's exchange through `exchange` over and over (each client keeps its
 * transaction id, so the relay's state stays the size of the population), and prints the time
 * per exchange. The scripts are made before the clock starts: only the relay's work is timed.
 */
async function timeIt(label: string, scripts: Script[], exchange: (s: Script) => void): Promise<void> {
  const run = (n: number) => {
    for (let i = 0; i < n; i++) exchange(scripts[i % scripts.length] as Script);
  };
  run(5000);
  inRelay = 0;
  const t0 = performance.now();
  run(EXCHANGES);
  const ms = EVICT_BYTES > 0 ? inRelay : performance.now() - t0;
  const us = (ms * 1000) / EXCHANGES;
  const mem = process.memoryUsage();
  console.log(
    `${label}: ${us.toFixed(2)} µs per exchange in the relay (${(1e6 / us).toFixed(0)} exchanges/s on one core), heap ${(mem.heapUsed / 2 ** 20).toFixed(1)} MiB`,
  );
  if (process.env.BENCH_ALLOC === "1") allocationPasses.push(() => allocations(label, () => run(EXCHANGES)));
}

/** BENCH_ALLOC's passes, run once every family is timed (a sampled pass leaves its profile on the heap). */
const allocationPasses: (() => Promise<void>)[] = [];

interface SampledNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SampledNode[];
}

/** Bytes allocated per exchange over a second pass, sampled, and the functions that allocate them. */
async function allocations(label: string, pass: () => void): Promise<void> {
  const session = new Session();
  session.connect();
  await session.post("HeapProfiler.enable");
  // Every allocation is a candidate, collected since or not (V8 keeps only live ones otherwise).
  const sampling = {
    samplingInterval: 128,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  };
  await session.post("HeapProfiler.startSampling", sampling as never);
  pass();
  const { profile } = (await session.post("HeapProfiler.stopSampling")) as unknown as {
    profile: { head: SampledNode };
  };
  session.disconnect();
  const byFunction = new Map<string, number>();
  let total = 0;
  const walk = (n: SampledNode) => {
    if (n.selfSize > 0) {
      const where = `${n.callFrame.functionName || "(anonymous)"} ${n.callFrame.url.replace(/^.*\/(relay|lib)\//, "$1/")}`;
      byFunction.set(where, (byFunction.get(where) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const top = [...byFunction]
    .sort((a, b) => b[1] - a[1])
    .slice(0, Number(process.env.BENCH_ALLOC_TOP ?? 8))
    .map(([f, bytes]) => `${((bytes / total) * 100).toFixed(0)} % ${f}`);
  console.log(
    `${label}: ${(total / EXCHANGES / 1024).toFixed(1)} KiB allocated per exchange; most by\n  ${top.join("\n  ")}`,
  );
}

async function v4(): Promise<void> {
  const transport = new LastSent();
  const policy = policyWith();
  const relay = new Relay4({
    segments: [{ name: "access", address: "10.213.1.2", gateways: ["192.168.10.1/24", "192.168.20.1/24"] }],
    ownAddresses: ["10.213.1.2", "10.213.2.2", "10.213.3.2", "192.168.10.1", "192.168.20.1"],
    vrfs: [RED_VRF4],
    policy: () => policy,
    transport,
    counters: new Counters(),
    ...journal(),
    log: quietLog,
  });
  const discovers = Array.from({ length: CLIENTS }, (_, i) => {
    const m = decodeDhcp4(golden("dhclient-v4-01-discover"));
    m.chaddr.set([0, 0xaa, 1, 0, i >> 8, i & 0xff]);
    return m;
  });
  const red = vrfLink("RED");
  const scripts = discovers.map((m, client) => {
    m.xid = client;
    const request = encodeDhcp4(m, { maxSize: 1500 });
    relay.handle(request, "0.0.0.0", ACCESS);
    const first = offerFor(transport.last, MSG.OFFER);
    relay.handle(request, "0.0.0.0", ACCESS);
    return { request, first, second: offerFor(transport.last, MSG.ACK) };
  });
  await timeIt("DHCPv4 DORA", scripts, (s) => {
    datagram(relay, s.request, "0.0.0.0", ACCESS);
    datagram(relay, s.first, "10.213.2.10", red);
    datagram(relay, s.request, "0.0.0.0", ACCESS);
    datagram(relay, s.second, "10.213.2.10", red);
  });
}

async function v6(): Promise<void> {
  const transport = new LastSent();
  const policy = policyWith();
  const server = "fe80::ff:fe00:a%eth1";
  const relay = new Relay6({
    vrfs: [{ name: "RED", link: "fd00:10::1", servers: [server] }],
    policy: () => policy,
    transport,
    counters: new Counters(),
    ...journal(),
    log: quietLog,
  });
  const base = decodeDhcp6(golden("dhclient-v6-01-solicit"));
  if (isRelay(base)) throw new Error("expected a SOLICIT");
  const solicits = Array.from({ length: CLIENTS }, (_, i) => {
    // DUID-LL (type 3, Ethernet) of 00:aa:01:00:HH:LL.
    const duid = Uint8Array.of(0, 3, 0, 1, 0, 0xaa, 1, 0, i >> 8, i & 0xff);
    return {
      ...base,
      options: base.options.map((o) => (o.code === OPT6.clientId ? { code: o.code, data: duid } : o)),
    } as Dhcp6ClientMessage;
  });
  const red = vrfLink("RED");
  const peer = "fe80::2aa:1ff:fe00:1%eth0";
  const scripts = solicits.map((m, client) => {
    m.transactionId = client;
    const request = encodeDhcp6(m);
    relay.handle(request, peer, ACCESS);
    const first = replyTo(transport.last);
    relay.handle(request, peer, ACCESS);
    return { request, first, second: replyTo(transport.last, undefined, MSG6.REPLY) };
  });
  await timeIt("DHCPv6 SARR", scripts, (s) => {
    datagram(relay, s.request, peer, ACCESS);
    datagram(relay, s.first, server, red);
    datagram(relay, s.request, peer, ACCESS);
    datagram(relay, s.second, server, red);
  });
}

// BENCH_FAMILY=4 or 6 runs one family only (for a profile of it).
const only = process.env.BENCH_FAMILY;
if (only !== "6") await v4();
if (only !== "4") await v6();
for (const pass of allocationPasses) await pass();
