import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { macToString } from "../../lib/codec/address.ts";
import { MSG } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { messageType } from "../../lib/codec/dhcp4/options.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { decodeValue, iaAddress, iaWithTimers } from "../../lib/codec/dhcp6/ia.ts";
import { decodeDhcp6, isRelay } from "../../lib/codec/dhcp6/message.ts";
import type { Lab } from "../../orchestrator/api.ts";
import type { HaServerState, LoadResult } from "../../orchestrator/index.ts";
import { loadTopology, type Topology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { type KeaEdit, withKeaEdit } from "../support/kea-edit.ts";
import { useTestLab } from "../support/lab.ts";
import type { UdpDatagram } from "../support/pcap.ts";

// Kea HA per VRF (examples/ha/topology.yaml): RED a hot-standby pair on Kea 3.0, BLUE a
// load-balancing pair on Kea 2.6 (the same topology; the lab writes HA for both versions). Every
// verdict is read from Kea's tables and from what clients received on the access network, never
// from the load tool's counts. The tests run in a shuffled order: each that disturbs a pair
// leaves it in its normal state again, and each load uses MACs of its own.

const EXAMPLE = join(ROOT, "examples/ha/topology.yaml");
const topology = async (): Promise<Topology> => {
  const t = await loadTopology(EXAMPLE);
  return { ...t, vrfs: t.vrfs.map((v) => (v.name === "BLUE" ? { ...v, kea: "2.6" as const } : v)) };
};

/** A lease a client was told it has: a DHCPv4 ACK or an address in a DHCPv6 REPLY, seen on the access network. */
interface Acknowledged {
  time: number;
  family: 4 | 6;
  address: string;
  /** DHCPv4: the client's MAC. */
  mac?: string;
}

/** Every ACK and REPLY the relay delivered to clients on the access network since `since` (seconds). */
function acknowledged(datagrams: UdpDatagram[], since: number): Acknowledged[] {
  const out: Acknowledged[] = [];
  for (const d of datagrams.filter((d) => d.time >= since)) {
    if (d.family === 4 && d.srcPort === 67 && d.dstPort === 68) {
      const m = decodeDhcp4(d.payload);
      if (messageType(m) === MSG.ACK)
        out.push({ time: d.time, family: 4, address: m.yiaddr, mac: macToString(m.chaddr.subarray(0, 6)) });
    } else if (d.family === 6 && d.srcPort === 547 && d.dstPort === 546) {
      const m = decodeDhcp6(d.payload);
      if (isRelay(m) || m.type !== MSG6.REPLY) continue;
      for (const ia of m.options.filter((o) => o.code === OPT6.iaNa)) {
        for (const a of decodeValue(iaWithTimers, ia.data).options.filter((o) => o.code === OPT6.iaAddr)) {
          const addr = decodeValue(iaAddress, a.data);
          if (addr.validLifetime > 0) out.push({ time: d.time, family: 6, address: addr.address });
        }
      }
    }
  }
  return out;
}

/** Polls `probe` until `done` holds of its answer; fails with the last answer at the deadline. */
async function until<T>(
  what: string,
  ms: number,
  probe: () => Promise<T>,
  done: (v: T) => boolean,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (done(v)) return v;
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${ms / 1000} s; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const stateOf = (states: HaServerState[], server: string) =>
  states.filter((s) => s.server === server).map((s) => `${s.family}:${s.state}`);
const both = (state: string) => [`4:${state}`, `6:${state}`];

describe("Kea HA per VRF (examples/ha/topology.yaml)", () => {
  // With monitoring: the lab's alert rules watch the HA states.
  const lab = useTestLab("ha", topology, { monitoring: true });
  const api: Lab = lab;
  let red: NonNullable<Topology["vrfs"][number]["ha"]>;
  beforeAll(async () => {
    red = (await topology()).vrfs[0]?.ha as typeof red;
  });

  /** Both servers of a pair in their mode's normal state (after a restart: synced again). */
  const backToNormal = (pair: [string, string], mode: string) =>
    until(
      `${pair.join(" and ")} back in ${mode}`,
      90_000,
      () => api.ha(),
      (s) => pair.every((server) => both(mode).every((x) => stateOf(s, server).includes(x))),
    );

  /** The leases a server holds, as "family address" (and MAC for DHCPv4). */
  const table = async (server: string) =>
    new Set(
      (await api.leases({ server })).map((l) =>
        l.family === 4 ? `4 ${l.address} ${l.client}` : `6 ${l.address}`,
      ),
    );
  const key = (a: Acknowledged) => (a.family === 4 ? `4 ${a.address} ${a.mac}` : `6 ${a.address}`);
  /** One load per family from the same MACs: DHCPv4 clients as on the wire, perfdhcp's DHCPv6 clients. */
  const loadBoth = (mac: string, o: { clients: number; rate: number; seconds: number; secsAfter?: number }) =>
    Promise.all([api.load({ mac, engine: "clients", ...o }), api.load({ mac, family: 6, ...o })]);
  /**
   * Both loads were served: at least 85 % of their exchanges completed. Not all: on two shared
   * cores a datagram is lost at times (a CI run: 3 of 58 ADVERTISEs left the relay's interface
   * and never reached perfdhcp; another: 3 of 20 DISCOVERs went without an OFFER, where was not
   * recorded), while a scope nobody serves loses about half. A failure says what the relay dropped.
   */
  const expectServed = async (results: LoadResult[]) => {
    for (const r of results) {
      const [first, last] = [r.report.exchanges[0], r.report.exchanges.at(-1)];
      const enough = 0.85 * (first?.sent ?? 1);
      if ((last?.received ?? 0) >= enough) continue;
      const drops = JSON.stringify((await api.counters()).dhcplab_relay_drops_total);
      expect(last?.received ?? 0, `${r.output}\nthe relay's drops: ${drops}`).toBeGreaterThanOrEqual(enough);
    }
  };

  it("up leaves both pairs in their normal state, each server in the role the topology gives it", async () => {
    const states = await api.ha();
    expect(states.map((s) => [s.server, s.family, s.role, s.state])).toEqual([
      ["kea-blue-1", 4, "primary", "load-balancing"],
      ["kea-blue-1", 6, "primary", "load-balancing"],
      ["kea-blue-2", 4, "secondary", "load-balancing"],
      ["kea-blue-2", 6, "secondary", "load-balancing"],
      ["kea-red-1", 4, "primary", "hot-standby"],
      ["kea-red-1", 6, "primary", "hot-standby"],
      ["kea-red-2", 4, "standby", "hot-standby"],
      ["kea-red-2", 6, "standby", "hot-standby"],
    ]);
  });

  it("apply reloads both servers of an edited pair (the standby first), which return to hot-standby; the other pair is untouched", async () => {
    const longer: KeaEdit = (name, text) =>
      name === "kea-dhcp4.conf" ? text.replace(`"valid-lifetime": 3600`, `"valid-lifetime": 3000`) : text;
    await withKeaEdit(api, await topology(), "RED", longer, async (r) => {
      expect(r.changes.map((c) => [c.service, c.action])).toEqual([
        ["kea-red-2", "reloaded"],
        ["kea-red-1", "reloaded"],
      ]);
      expect(r.unchanged).toEqual(expect.arrayContaining(["kea-blue-1", "kea-blue-2", "relay"]));
      // apply waited for both pairs in their normal state.
      const states = await api.ha();
      expect(states).toHaveLength(8);
      expect(states.filter((s) => s.state !== s.mode)).toEqual([]);
      const got = await api.client({ kind: "udhcpc", mac: "00:aa:01:00:0b:01" });
      expect(got.address, got.output).toMatch(/^192\.168\.10\./);
    });
  });

  it("hot-standby: every lease the primary grants is in the standby's table too, both families", async () => {
    await expectServed(await loadBoth("00:aa:01:00:00:00", { clients: 20, rate: 20, seconds: 1 }));
    const primary = await table("kea-red-1");
    // This load's clients (00:aa:01:00:00:00 and up): each DHCPv4 one by its MAC.
    const mine = [...primary].filter((l) => l.startsWith("4 192.168.10.") && l.includes(" 00:aa:01:00:00:"));
    expect(mine.length).toBeGreaterThanOrEqual(17);
    expect([...primary].filter((l) => l.startsWith("6 fd00:10::")).length).toBeGreaterThan(0);
    expect(await table("kea-red-2")).toEqual(primary);
  });

  it("failover under load: with the primary killed, the standby reaches partner-down within the bound and serves; every acknowledged lease is on it; then the primary restarts, syncs, both return to hot-standby with the outage's leases", async () => {
    const start = Date.now() / 1000;
    // Clients that wait count (secs, Elapsed Time): Kea's failure detection needs them. 6 new
    // clients a second for 32 s fit RED VIDEO's 241 DHCPv4 addresses.
    const loads = loadBoth("00:aa:01:10:00:00", { clients: 2000, rate: 6, seconds: 32, secsAfter: 0 });
    // Kill once the primary has been serving both families for a while.
    await until(
      "leases acknowledged in both families before the kill",
      30_000,
      async () => acknowledged(await lab.captured("access"), start),
      (acks) => [4, 6].every((f) => acks.filter((a) => a.family === f).length >= 30),
    );
    await api.kill("kea-red-1");
    const killedAt = Date.now() / 1000;
    // Should an assertion fail before the restart below, the next test still finds the pair whole.
    let restarted = false;
    onTestFinished(async () => {
      if (restarted) return;
      await api.start("kea-red-1");
      await backToNormal(["kea-red-1", "kea-red-2"], "hot-standby");
    });
    // Kea decides at the end of a heartbeat; one to a dead peer waits out Kea's HTTP timeout (10 s).
    const boundMs = (red["max-response-delay"] ?? 60_000) + 2 * (red.heartbeat ?? 10_000) + 10_000 + 10_000;
    await until(
      "kea-red-2 in partner-down",
      boundMs,
      () => api.ha(),
      (s) => both("partner-down").every((x) => stateOf(s, "kea-red-2").includes(x)),
    );
    const partnerDown = Date.now() / 1000 - killedAt;
    await loads;

    const acks = acknowledged(await lab.captured("access"), start);
    const outage = acks.filter((a) => a.time > killedAt);
    const gap = (f: 4 | 6) => Math.min(...outage.filter((a) => a.family === f).map((a) => a.time)) - killedAt;
    console.log(
      `HA failover: partner-down seen ${partnerDown.toFixed(1)} s after the kill; first lease from the standby DHCPv4 ${gap(4).toFixed(1)} s, DHCPv6 ${gap(6).toFixed(1)} s after; ${acks.length} leases acknowledged, ${outage.length} during the outage`,
    );
    expect(outage.filter((a) => a.family === 4).length).toBeGreaterThan(20);
    expect(outage.filter((a) => a.family === 6).length).toBeGreaterThan(20);
    // Zero acknowledged leases lost: before, during and after the kill, the survivor holds each.
    const held = await table("kea-red-2");
    expect(acks.map(key).filter((k) => !held.has(k))).toEqual([]);

    // Recovery: the primary restarts, syncs from the standby, both return to hot-standby.
    await api.start("kea-red-1");
    restarted = true;
    await backToNormal(["kea-red-1", "kea-red-2"], "hot-standby");
    const [primary, standby] = [await table("kea-red-1"), await table("kea-red-2")];
    expect(outage.map(key).filter((k) => !primary.has(k) || !standby.has(k))).toEqual([]);
  }, 200_000);

  it("the primary frozen (not dead) under load: the standby takes over by the failure-detection rules, no acknowledged lease is lost, KeaHaNotNormal fires and clears", async () => {
    const start = Date.now() / 1000;
    const firing = async () =>
      (await api.status()).alerts
        .filter((a) => a.name === "KeaHaNotNormal" && a.state === "firing")
        .map((a) => a.labels.server);
    // RED DATA's pool (00:aa:02:*): the kill test takes most of VIDEO's 241 addresses. 4 new
    // clients a second for 24 s here, and this file's other DATA loads, fit DATA's 241.
    const loads = loadBoth("00:aa:02:40:00:00", { clients: 2000, rate: 4, seconds: 24, secsAfter: 0 });
    await until(
      "leases acknowledged in both families before the freeze",
      30_000,
      async () => acknowledged(await lab.captured("access"), start),
      (acks) => [4, 6].every((f) => acks.filter((a) => a.family === f).length >= 20),
    );
    await api.pause("kea-red-1");
    const pausedAt = Date.now() / 1000;
    let partnerDown = 0;
    try {
      // A frozen peer holds its partner's heartbeats open rather than refusing them.
      await until(
        "kea-red-2 in partner-down",
        90_000,
        () => api.ha(),
        (s) => both("partner-down").every((x) => stateOf(s, "kea-red-2").includes(x)),
      );
      partnerDown = Date.now() / 1000 - pausedAt;
      await expect.poll(firing, { timeout: 40_000, interval: 1000 }).toContain("kea-red-2");
      await loads;
    } finally {
      await api.unpause("kea-red-1");
    }
    const acks = acknowledged(await lab.captured("access"), start);
    const held = await table("kea-red-2");
    expect(acks.map(key).filter((k) => !held.has(k))).toEqual([]);
    expect(acks.filter((a) => a.time > pausedAt).length).toBeGreaterThan(20);
    console.log(
      `HA primary frozen: partner-down ${partnerDown.toFixed(1)} s after the freeze; ${acks.length} leases acknowledged, ${acks.filter((a) => a.time > pausedAt).length} after it, none lost`,
    );
    await backToNormal(["kea-red-1", "kea-red-2"], "hot-standby");
    await expect.poll(firing, { timeout: 40_000, interval: 1000 }).toEqual([]);
  }, 240_000);

  it("heartbeats cut, both peers alive: the primary, which cannot watch its standby's clients, goes to partner-down and serves alone; the standby sees no client waiting and takes no scope (no split brain); with the primary frozen too, the standby takes over; healed, both return to hot-standby and a synced server holds the newest lease of every address; ha-sync on both makes their tables one", async () => {
    const t0 = Date.now();
    const timeline: string[] = [];
    const mark = (what: string) => timeline.push(`${((Date.now() - t0) / 1000).toFixed(1)} s  ${what}`);
    const red = (s: HaServerState[]) => s.filter((x) => x.vrf === "RED");
    const standby = (s: HaServerState[]) => s.filter((x) => x.server === "kea-red-2");
    const start = Date.now() / 1000;
    let paused = false;
    await api.disconnect("kea-red-1", "red", { from: "kea-red-2" });
    mark("heartbeat path between kea-red-1 and kea-red-2 cut (the relay reaches both)");
    try {
      // Kea (ha_service.cc, shouldPartnerDown): a hot-standby primary cannot tell whether its
      // standby answers clients (the standby answers none), so once communication is interrupted
      // it goes to partner-down. It notices at the end of a heartbeat, which to a peer that drops
      // everything waits out Kea's HTTP timeout (10 s). The standby watches the clients instead.
      await until(
        "kea-red-1 in partner-down; kea-red-2 in hot-standby, its partner unreachable",
        40_000,
        () => api.ha(),
        (s) =>
          both("partner-down").every((x) => stateOf(s, "kea-red-1").includes(x)) &&
          red(s).length === 4 &&
          red(s).every((x) => x.partner?.communicationInterrupted === true) &&
          standby(s).every((x) => x.state === "hot-standby"),
      );
      mark("kea-red-1 in partner-down, kea-red-2 in hot-standby with communication interrupted");
      // Clients that do not wait (secs 0): the primary serves them all. The standby, watching the
      // clients while its partner is unreachable, counts none as unanswered (a client is, to Kea,
      // once its secs pass max-ack-delay): it has no cause to take over, and serves no scope. One
      // server answers: no split brain.
      const alone = Date.now() / 1000;
      await expectServed(await loadBoth("00:aa:02:20:00:00", { clients: 20, rate: 10, seconds: 2 }));
      const during = standby(await api.ha());
      expect(during.map((x) => [x.family, x.state, x.scopes, x.partner?.unackedClients])).toEqual([
        [4, "hot-standby", [], 0],
        [6, "hot-standby", [], 0],
      ]);
      // Acknowledged by the primary alone: no lease update reached the standby, which has none.
      const servedAlone = acknowledged(await lab.captured("access"), alone).map(key);
      expect(servedAlone.length).toBeGreaterThanOrEqual(30);
      const standbyTable = await table("kea-red-2");
      expect(servedAlone.filter((k) => standbyTable.has(k))).toEqual([]);
      mark(`the primary served ${servedAlone.length} leases alone; the standby took no scope`);

      // The primary frozen as well: clients now wait (growing secs) and go unanswered.
      await api.pause("kea-red-1");
      paused = true;
      mark("kea-red-1 paused");
      const frozen = Date.now() / 1000;
      // Waiting clients from the first second (secs past max-ack-delay): the standby took over
      // 5-6 s into this load in runs on these machines; the rest of it is what it serves.
      const loads = loadBoth("00:aa:02:30:00:00", { clients: 2000, rate: 4, seconds: 15, secsAfter: 0 });
      await until(
        "kea-red-2 in partner-down",
        60_000,
        () => api.ha(),
        (s) => both("partner-down").every((x) => stateOf(s, "kea-red-2").includes(x)),
      );
      mark("kea-red-2 in partner-down (max-unacked-clients exceeded)");
      await loads;
      // How much of that load is left to serve depends on the phase of the standby's heartbeat
      // (it decides at the end of one, which to a frozen peer waits out Kea's 10 s HTTP timeout):
      // 5-6 s in, or 11.5 s of 15 in a CI run. Clients after the takeover are served whatever it was.
      const takenOver = Date.now() / 1000;
      await expectServed(await loadBoth("00:aa:02:40:00:00", { clients: 20, rate: 10, seconds: 2 }));
      const served = acknowledged(await lab.captured("access"), takenOver);
      const standbyServed = await table("kea-red-2");
      expect(served.filter((a) => a.family === 4).length).toBeGreaterThanOrEqual(17);
      expect(served.filter((a) => a.family === 6).length).toBeGreaterThanOrEqual(17);
      expect(served.map(key).filter((k) => !standbyServed.has(k))).toEqual([]);
      mark(
        `the standby served ${acknowledged(await lab.captured("access"), frozen).length} leases since the freeze`,
      );
    } finally {
      await api.connect("kea-red-1", "red", { from: "kea-red-2" });
      if (paused) await api.unpause("kea-red-1");
    }
    mark("path healed, kea-red-1 let go");
    await backToNormal(["kea-red-1", "kea-red-2"], "hot-standby");
    mark("both back in hot-standby");
    console.log(`HA heartbeats cut, then the primary frozen:\n${timeline.join("\n")}`);
    expect(await api.faults()).toEqual([]);
    // Back in hot-standby. Both peers were in partner-down; Kea has a server leave it for waiting
    // when it sees its partner in partner-down, and a waiting server syncs: it fetches its partner's
    // leases and keeps, per address, the one with the later cltt (ha_service.cc,
    // asyncSyncLeasesInternal). The other syncs only if it too passed through waiting, which
    // depends on the order the two noticed each other in: one table is not Kea's promise, a synced
    // server is. It holds, for every address a client was acknowledged in this test, the lease last
    // acknowledged for that address.
    const acked = acknowledged(await lab.captured("access"), start);
    const newest = new Map(acked.map((a) => [`${a.family} ${a.address}`, key(a)]));
    const tables = { "kea-red-1": await table("kea-red-1"), "kea-red-2": await table("kea-red-2") };
    const lacking = (t: Set<string>) => [...newest.values()].filter((k) => !t.has(k));
    const missing = Object.entries(tables).map(([server, t]) => ({ server, missing: lacking(t) }));
    expect(newest.size).toBeGreaterThan(0);
    expect(
      missing.filter((m) => m.missing.length === 0),
      JSON.stringify(missing),
    ).not.toEqual([]);
    const [one, two] = [tables["kea-red-1"], tables["kea-red-2"]];
    const oneTable = one.size === two.size && [...one].every((k) => two.has(k));
    console.log(
      `HA healed: ${missing.map((m) => `${m.server} lacks ${m.missing.length} of the ${newest.size} newest leases`).join(", ")}; the tables are ${oneTable ? "one" : "not one (only one server synced)"}`,
    );
    // What an operator does then: ha-sync on each server, from its partner, both families. Each
    // keeps the later-cltt lease per address, so after both the tables are one. (Where Kea had
    // already synced both, as the line above says, this shows only that ha-sync keeps them one.)
    for (const [server, partner] of [
      ["kea-red-1", "kea-red-2"],
      ["kea-red-2", "kea-red-1"],
    ] as const) {
      for (const family of [4, 6] as const) {
        const answer = await api.kea({
          server,
          family,
          command: "ha-sync",
          arguments: { "server-name": partner },
        });
        expect([answer.result, answer.text], JSON.stringify(answer)).toEqual([0, expect.any(String)]);
      }
    }
    const synced = [await table("kea-red-1"), await table("kea-red-2")];
    expect(synced[1]).toEqual(synced[0]);
    expect(lacking(synced[0] ?? new Set())).toEqual([]);
    // What HA cannot undo: the standby took over without the leases the primary had granted
    // alone, so it may have granted some of those addresses again, to other clients (whether it
    // did depends on where its allocator stood: reported, not asserted).
    const holders = new Map<string, Set<string>>();
    for (const a of acked.filter((a) => a.family === 4))
      holders.set(a.address, (holders.get(a.address) ?? new Set()).add(a.mac ?? ""));
    const twice = [...holders].filter(([, macs]) => macs.size > 1).map(([address]) => address);
    console.log(`HA after the double failure: ${twice.length} DHCPv4 addresses granted to two clients`);
  }, 240_000);

  it("load-balancing: each server serves about half of a population; with one killed, the other serves all", async () => {
    // kea-blue-1's scope leases from the pool's lower half, kea-blue-2's from the upper.
    const lower = (l: { family: number; address: string }) =>
      l.family === 4
        ? Number(l.address.split(".")[3]) < 130
        : Number.parseInt(l.address.split(":").pop() ?? "", 16) < 0x8000;
    const split = async (family: 4 | 6) => {
      const leases = (await api.leases({ server: "kea-blue-2", family })).filter((l) => l.validLifetime > 0);
      return { total: leases.length, lower: leases.filter(lower).length };
    };
    await expectServed(await loadBoth("00:bb:01:00:00:00", { clients: 60, rate: 30, seconds: 2 }));
    for (const family of [4, 6] as const) {
      const s = await split(family);
      expect(s.total).toBeGreaterThanOrEqual(40);
      expect(s.lower / s.total).toBeGreaterThan(0.25);
      expect(s.lower / s.total).toBeLessThan(0.75);
    }

    // kea-blue-1 dies under a load of waiting clients; kea-blue-2 takes over its scope. Each
    // server's half of the DHCPv4 pool is 120 addresses: about 30 + 50 + 20 are used here.
    const waiting = loadBoth("00:bb:02:00:00:00", { clients: 2000, rate: 4, seconds: 25, secsAfter: 0 });
    // The next test finds the pair whole again.
    onTestFinished(async () => {
      await api.start("kea-blue-1");
      await backToNormal(["kea-blue-1", "kea-blue-2"], "load-balancing");
    });
    await api.kill("kea-blue-1");
    await until(
      "kea-blue-2 in partner-down",
      45_000,
      () => api.ha(),
      (s) => both("partner-down").every((x) => stateOf(s, "kea-blue-2").includes(x)),
    );
    await waiting;
    const before = { 4: await split(4), 6: await split(6) };
    // New clients are served, from both halves of the pool: the survivor serves both scopes.
    await expectServed(await loadBoth("00:bb:03:00:00:00", { clients: 40, rate: 20, seconds: 2 }));
    for (const family of [4, 6] as const) {
      const now = await split(family);
      expect(now.lower - before[family].lower).toBeGreaterThan(0);
      expect(now.total - now.lower - (before[family].total - before[family].lower)).toBeGreaterThan(0);
    }
  });
});
