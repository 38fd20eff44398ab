import { pino } from "pino";
import { ConfigError } from "../lib/config/yaml-config.ts";
import { holdAddresses } from "./agent/addresses.ts";
import {
  accessSegments,
  homeSegment,
  loadRelayConfig,
  type RelayConfig,
  vrfSegments,
} from "./agent/config.ts";
import { Counters } from "./agent/counters.ts";
import { openDatapath } from "./agent/datapath.ts";
import { Delegations } from "./agent/delegations.ts";
import { explain } from "./agent/explain.ts";
import { Health } from "./agent/health.ts";
import { serveHttp } from "./agent/http.ts";
import { Journal } from "./agent/journal.ts";
import { restoreDelegations } from "./agent/lease-restore.ts";
import { LeaseQuerier } from "./agent/leasequery.ts";
import { accessLink, type Link, vrfLink } from "./agent/links.ts";
import { segmentOfNeighbor } from "./agent/neighbors.ts";
import { PolicySource } from "./agent/policy-source.ts";
import { applyV8Flags, startProfile } from "./agent/profile.ts";
import { startRouterAdvertisements } from "./agent/radvd.ts";
import { createRelays } from "./agent/relays.ts";
import { resolveServers } from "./agent/resolve.ts";
import { installDropAll, installForwarding, isolated, KernelRoutes } from "./agent/routing.ts";
import { memorySamples, RuntimeStalls } from "./agent/runtime.ts";
import { interfaceWith, parseSocketSpecs } from "./agent/sockets.ts";
import { logSummaries } from "./agent/summary.ts";
import { installVrfTables, tableNumbers, vrfTables } from "./agent/vrf-tables.ts";

// dhcplab's relay agent, started through dhcplab-bind (docker/relay/dhcplab-bind.c), which hands
// it one socket per interface. Configuration: the file named by DHCPLAB_RELAY_CONFIG (default
// /etc/dhcplab/relay.yaml). SIGHUP reloads the policy; SIGTERM stops within 2 s.

const configFile = process.env.DHCPLAB_RELAY_CONFIG ?? "/etc/dhcplab/relay.yaml";
const log = pino({ level: process.env.DHCPLAB_LOG_LEVEL ?? "info", base: { service: "relay" } });

async function main(): Promise<void> {
  // 1. Configuration and policy: a bad one stops the start with file, line and field.
  const config = await loadRelayConfig(configFile);
  log.level = process.env.DHCPLAB_LOG_LEVEL ?? config.logLevel;
  const counters = new Counters();
  const health = new Health();
  const policy = await PolicySource.load({ config, counters, health, log });

  // 2. The network: forwarding stopped, servers resolved, the relay's extra addresses held, each
  // VRF routed in a table of its own, its forwarding guarded, router advertisements sent, one
  // socket per interface.
  installDropAll(log);
  const vrfs = await resolveServers(config);
  holdAddresses(config, log);
  const tables = vrfTables(config);
  // Without its tables a VRF's traffic is routed by the main table: where VRFs overlap, out of the
  // wrong segment. The relay is then not ready, and says why.
  const routing = installVrfTables(tables, log);
  health.set("routing", routing.ok, routing.detail);
  const forwarding = installForwarding(config, vrfs, log);
  const isolation = isolated();
  health.set("isolation", isolation.ok, isolation.detail);
  if (!isolation.ok) log.error({ detail: isolation.detail }, "the relay's namespace forwards IP");
  const radvd = startRouterAdvertisements(config, health, log);
  const delegations = createDelegations(config, forwarding.vrfs6, tableNumbers(tables), counters);
  const datapath = await openDatapath(config.datapath, parseSocketSpecs(process.env.DHCPLAB_SOCKETS), {
    bufferBytes: config.socketBuffer,
    linkOf: linksByInterface(config),
    onError: (s, err) => {
      health.set("sockets", false, `${s.ifname} IPv${s.family}: ${err.message}`);
      log.error({ ifname: s.ifname, family: s.family, error: err.message }, "socket error");
    },
    // A datagram longer than the datapath takes (no DHCP message is), or one no path could take.
    onDrop: (family) => counters.drop(family, "malformed"),
  });
  // RFC 8415 §7.1: clients send to All_DHCP_Relay_Agents_and_Servers on the access link.
  datapath.joinAccess6("ff02::1:2");
  health.set("sockets", true);
  for (const f of datapath.framing) {
    if (f.error)
      log.warn(
        { ifname: f.ifname, error: f.error },
        "no packet socket: DHCPv4 replies to clients there go to the limited broadcast, also where the client asked for unicast",
      );
  }

  // 3. The relay paths, fed by the sockets.
  const journal = new Journal();
  // The relay's own lease queries (POST /leasequery): DHCPv4 through Relay4, DHCPv6 over TCP.
  let querier: LeaseQuerier | undefined;
  const relays = createRelays(config, vrfs, {
    leaseQueryAnswer: (m, source, vrf) => querier?.answer4(m, source, vrf) ?? false,
    policy: policy.get,
    transport4: datapath.transport(4),
    transport6: datapath.transport(6),
    counters,
    journal,
    log,
    delegations,
  });
  const leaseQuerier = new LeaseQuerier(vrfs, (vrf, bytes) => relays.relay4.sendLeaseQuery(vrf, bytes));
  querier = leaseQuerier;
  datapath.listen(
    4,
    guarded(4, counters, (b, s, l) => relays.relay4.handle(b, s, l)),
  );
  datapath.listen(
    6,
    guarded(6, counters, (b, s, l) => relays.relay6.handle(b, s, l)),
  );
  // The relay's own stalls (event loop, GC), so that a tail can be pinned on it or not.
  const stalls = new RuntimeStalls().start();
  counters.histogram(stalls.eventLoop);
  counters.histogram(stalls.gc);
  counters.gauge(
    "dhcplab_relay_memory_bytes",
    "The relay's memory by kind: rss (resident, shared libraries' pages included), heap_total, heap_used, external, array_buffers.",
    memorySamples,
  );
  counters.gauge("dhcplab_relay_ready", "Whether the relay is ready: 1 when /healthz answers 200.", () => [
    [{}, health.report().ready ? 1 : 0],
  ]);
  counters.gauge(
    "dhcplab_relay_datapath",
    "The datapath moving the relay's datagrams: 1 for the one in use (native or node).",
    () => [[{ kind: datapath.kind }, 1]],
  );
  counters.gauge("dhcplab_relay_inflight", "Requests awaiting their replies, by family.", () => [
    [{ family: 4 }, relays.relay4.inFlightCount],
    [{ family: 6 }, relays.relay6.inFlightCount],
  ]);

  // 4. The delegated prefixes of before the start, from the servers' lease tables (in the
  // background: servers may come up after the relay), HTTP, signals, the periodic summary.
  void restoreDelegations({
    vrfs: config.vrfs,
    delegations,
    // Where a VRF's servers take bulk leasequery, by link (RFC 5460); else their lease tables.
    leaseQuery: (vrf, link) => leaseQuerier.query(vrf, { family: 6, by: "link", value: link }),
    // With several segments, a link-local next hop's segment is where it answers neighbor discovery.
    locate: (via, segments) =>
      segmentOfNeighbor(
        via,
        accessSegments(config)
          .filter((s) => segments.includes(s.name))
          .map((s) => ({ segment: s.name, ifname: interfaceWith(s.ipv4) })),
      ),
    segmentsOf: (vrf) => restoreSegments(config, vrf),
    towers: new Set(config.transport?.towers.flatMap((t) => (t.source6 ? [t.source6] : [])) ?? []),
    log,
  });
  const http = await serveHttp(config.http.port, {
    health,
    counters,
    log,
    delegations: () => delegations.list(),
    control: {
      explain: (request) =>
        explain(request, config, (deps) => createRelays(config, vrfs, { ...deps, policy: policy.get })),
      trace: (q) => journal.find(q),
      leaseQuery: (vrf, q) => leaseQuerier.query(vrf, q),
      logLevel: {
        get: () => log.level,
        set: (level) => {
          log.level = level;
          log.info({ level }, "log level changed");
        },
      },
    },
  });
  log.info(
    {
      datapath: datapath.kind,
      links: datapath.links,
      framedReplies: datapath.framing.filter((f) => !f.error).map((f) => f.ifname),
      vrfs: vrfs.map((v) => ({ name: v.name, servers4: v.servers4, servers6: v.servers6 })),
      policy: policy.get().file,
    },
    "relay serving",
  );
  process.on("SIGHUP", () => void policy.reload());
  const stopSummaries = logSummaries(counters, log);
  applyV8Flags(process.env.DHCPLAB_V8_FLAGS, log);
  const stopProfile = await startProfile(process.env.DHCPLAB_CPU_PROFILE, log);
  const stop = async () => {
    log.info("stopping");
    stopSummaries();
    stalls.stop();
    delegations.stop();
    radvd?.kill("SIGTERM");
    setTimeout(() => process.exit(0), 1500).unref();
    await stopProfile?.();
    await datapath.close();
    http.close();
    http.closeAllConnections();
    process.exit(0);
  };
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

/** Each interface's role: an access segment, a VRF's backend, or unknown (nothing accepted). */
function linksByInterface(config: RelayConfig): (ifname: string) => Link {
  const roles = new Map<string, Link>(
    accessSegments(config).map((s) => [interfaceWith(s.ipv4), accessLink(s.name, s.vlan)]),
  );
  for (const v of config.vrfs) {
    const address = v.ipv4 ?? v.ipv6;
    if (address) roles.set(interfaceWith(address), vrfLink(v.name));
  }
  return (ifname) => roles.get(ifname) ?? { side: "unknown", name: ifname };
}

/** The segments a VRF serves for restored delegations: the one holding its gateways first. */
function restoreSegments(config: RelayConfig, vrf: string): string[] {
  const v = config.vrfs.find((x) => x.name === vrf);
  if (!v) return accessSegments(config).map((s) => s.name);
  const home = homeSegment(config, v).name;
  return [
    home,
    ...vrfSegments(config, v)
      .map((s) => s.name)
      .filter((n) => n !== home),
  ];
}

/** The table of delegated prefixes, routed in the kernel on the segments' interfaces. */
function createDelegations(
  config: RelayConfig,
  vrfs6: readonly { vrf: string; set: string }[],
  tables: ReadonlyMap<string, number>,
  counters: Counters,
): Delegations {
  const devs = new Map(accessSegments(config).map((s) => [s.name, interfaceWith(s.ipv4)]));
  const table: { d?: Delegations } = {};
  const routes = new KernelRoutes({
    devOf: (segment) => devs.get(segment),
    sets: new Map(vrfs6.map((v) => [v.vrf, v.set])),
    tables,
    snapshot: () => table.d?.list() ?? [],
    log,
  });
  table.d = new Delegations({ routes, counters, log, vrfs: vrfs6.map((v) => v.vrf) });
  return table.d;
}

/**
 * A packet that makes a handler throw is a bug; it is counted and logged, and the relay serves
 * on. Each datagram handled is timed: the relay's own processing time histogram.
 */
function guarded(
  family: 4 | 6,
  counters: Counters,
  handle: (bytes: Uint8Array, source: string, link: Link) => void,
): (bytes: Uint8Array, source: string, link: Link) => void {
  return (bytes, source, link) => {
    const started = performance.now();
    try {
      handle(bytes, source, link);
      counters.processed(family, (performance.now() - started) / 1000);
    } catch (err) {
      counters.drop(family, "malformed");
      log.error({ err, family, source }, "handler failed on a packet");
    }
  };
}

// Nothing the relay awaits may end it unnoticed: log it, and serve on.
process.on("unhandledRejection", (reason) => log.error({ reason }, "unhandled rejection"));

main().catch((err: unknown) => {
  if (err instanceof ConfigError)
    log.fatal({ file: err.file, issues: err.issues }, `configuration refused:\n${err.message}`);
  else log.fatal({ err }, "relay failed to start");
  process.exit(1);
});
