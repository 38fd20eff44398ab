import { execFileSync } from "node:child_process";
import type { Logger } from "pino";
import { networkOf, networkOf6, prefixWithin } from "../../lib/codec/prefix.ts";
import { accessSegments, homeSegment, type RelayConfig, vrfSegments } from "./config.ts";
import { TRANSPORT_SEGMENT } from "./links.ts";
import { interfaceWith } from "./sockets.ts";

// Routing per VRF without VRF devices (the lab's kernels have none, and a container could not
// make one): each VRF has a routing table of its own, chosen by a policy rule on the interface a
// packet comes in on, its backend (ip-rule(8) `iif`). The table holds what two VRFs may number
// alike: the VRF's client subnets, each on the segment that holds its gateway, and the prefixes
// delegated to its clients (routing.ts, KernelRoutes). So a packet from RED's servers to
// 192.168.10.5 leaves on RED's segment even where BLUE's clients are numbered 192.168.10.0/24 too.
// What the table lacks (the backends' own subnets, towers' prefixes, service addresses) is
// looked up in the main table, as before. The relay's own datagrams to clients leave through
// sockets bound to the segment's interface (SO_BINDTODEVICE), which pick that interface's route;
// what its kernel answers itself (an echo reply from a gateway address two VRFs hold) follows the
// mark its connection took on the VRF's own segment (a `fwmark` rule, marks set in routing.ts).

/** The first VRF's table; the n-th VRF of the configuration has FIRST_TABLE + n. */
export const FIRST_TABLE = 100;
/** The first VRF's rule priority, before the main table's (32766). */
export const FIRST_PRIORITY = 1000;
/** The mark rules' priorities: after the backends' rules. */
const MARK_PRIORITY = 1000;
/** The rules for the relay's own packets (iif lo): after the mark rules. */
const LOCAL_PRIORITY = 2000;

/** A route of a VRF's table: a client subnet on a segment's interface. */
export interface LinkRoute {
  prefix: string;
  dev: string;
}

/** A VRF's routing table and the rule that chooses it. */
export interface VrfTable {
  vrf: string;
  table: number;
  priority: number;
  /** Its backend's interface: what comes in there is routed by the table. */
  backend: string;
  /**
   * The interfaces of the segments that are this VRF's alone: what the relay itself answers to a
   * packet that came in there (an echo reply from its gateway address) is routed by the table too,
   * by the connection's mark (routing.ts marks them; the rule matches the mark).
   */
  own: string[];
  /**
   * Whether the VRF serves every segment (names no `segments`): its prefixes overlap no other
   * VRF's, so what the relay itself sends is routed by its table too (`iif lo`), as it was by
   * the main table: an echo reply or an ICMPv6 error to a host behind a CPE.
   */
  local: boolean;
  routes4: LinkRoute[];
  routes6: LinkRoute[];
}

/**
 * Each VRF's table: its IPv4 client subnets (`clients4`) on the segments it serves that hold
 * their gateway, its IPv6 client subnets (`gateways6`) on its first segment. Pure but for the
 * interface names (`devOf`).
 */
export function vrfTables(
  config: RelayConfig,
  devOf: (address: string) => string = interfaceWith,
): VrfTable[] {
  return config.vrfs.flatMap((v, i): VrfTable[] => {
    const backendAddress = v.ipv4 ?? v.ipv6;
    if (!backendAddress) return [];
    const routes4 = vrfSegments(config, v)
      .filter((s) => s.name !== TRANSPORT_SEGMENT)
      .flatMap((s) =>
        s.gateways
          .map(networkOf)
          .filter((net) => v.clients4.some((c) => prefixWithin(net, c)))
          .map((prefix) => ({ prefix, dev: devOf(s.ipv4) })),
      );
    const home = devOf(homeSegment(config, v).ipv4);
    const own = (v.segments ?? [])
      .filter((name) => name !== TRANSPORT_SEGMENT)
      .filter((name) => !config.vrfs.some((w) => w !== v && w.segments?.includes(name)))
      .flatMap((name) => accessSegments(config).filter((s) => s.name === name))
      .map((s) => devOf(s.ipv4));
    return [
      {
        vrf: v.name,
        table: FIRST_TABLE + i,
        priority: FIRST_PRIORITY + i,
        backend: devOf(backendAddress),
        own,
        local: v.segments === undefined,
        routes4: uniqueByPrefix(routes4),
        routes6: v.gateways6.map((g) => ({ prefix: networkOf6(g), dev: home })),
      },
    ];
  });
}

/** A prefix on one interface only: the first segment to hold its gateway. */
function uniqueByPrefix(routes: readonly LinkRoute[]): LinkRoute[] {
  const seen = new Set<string>();
  return routes.filter((r) => !seen.has(r.prefix) && seen.add(r.prefix));
}

/**
 * `ip -batch` input for one family: `clear`, each table emptied and its rule removed (a
 * restarted relay's, where they are), then `install`, the routes and the rule made anew. Pure.
 */
export function tablesBatch(tables: readonly VrfTable[], family: 4 | 6): { clear: string; install: string } {
  const text = (lines: string[]) => `${lines.join("\n")}\n`;
  return {
    clear: text(
      tables.flatMap((t) => [
        `rule del pref ${t.priority}`,
        `rule del pref ${t.priority + MARK_PRIORITY}`,
        `rule del pref ${t.priority + LOCAL_PRIORITY}`,
        `route flush table ${t.table}`,
      ]),
    ),
    install: text(
      tables.flatMap((t) => [
        ...(family === 4 ? t.routes4 : t.routes6).map(
          (r) => `route replace ${r.prefix} dev ${r.dev} scope link table ${t.table}`,
        ),
        `rule add iif ${t.backend} lookup ${t.table} pref ${t.priority}`,
        ...(t.own.length > 0
          ? [`rule add fwmark ${t.table} lookup ${t.table} pref ${t.priority + MARK_PRIORITY}`]
          : []),
        ...(t.local ? [`rule add iif lo lookup ${t.table} pref ${t.priority + LOCAL_PRIORITY}`] : []),
      ]),
    ),
  };
}

/** Installs every VRF's table and rule, both families; says why when it could not. Needs NET_ADMIN. */
export function installVrfTables(tables: readonly VrfTable[], log: Logger): { ok: boolean; detail?: string } {
  const failed: string[] = [];
  for (const family of [4, 6] as const) {
    const { clear, install } = tablesBatch(tables, family);
    const ip = (input: string) =>
      execFileSync("ip", [`-${family}`, "-force", "-batch", "-"], {
        input,
        stdio: ["pipe", "ignore", "pipe"],
      });
    try {
      // -force: what a first start has nothing of (no rule, an empty table) is no error.
      ip(clear);
    } catch {
      // Nothing there to clear.
    }
    try {
      ip(install);
    } catch (err) {
      const why = (err as { stderr?: Buffer }).stderr?.toString().trim() || (err as Error).message;
      log.error({ family, error: why }, "a VRF's routing table could not be installed");
      failed.push(`IPv${family}: ${why}`);
    }
  }
  for (const t of tables)
    log.info(
      { vrf: t.vrf, table: t.table, backend: t.backend, routes: [...t.routes4, ...t.routes6] },
      "routing the VRF in a table of its own",
    );
  return failed.length === 0
    ? { ok: true }
    : { ok: false, detail: `the VRFs' routing tables are not installed: ${failed.join("; ")}` };
}

/** Each VRF's table number, by name. */
export function tableNumbers(tables: readonly VrfTable[]): Map<string, number> {
  return new Map(tables.map((t) => [t.vrf, t.table]));
}
