import type { Logger } from "pino";
import { fromHex, Reader, text } from "../../lib/codec/bytes.ts";
import { OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { options6 } from "../../lib/codec/dhcp6/message.ts";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import { keaHttpCommand } from "../../lib/kea/http.ts";
import type { LeaseBinding } from "../../lib/leasequery.ts";
import type { VrfConfig } from "./config.ts";
import type { Delegation, Delegations } from "./delegations.ts";
import { TRANSPORT_SEGMENT } from "./links.ts";

// A restarted relay has forgotten the prefixes it routed; its servers have not. At start it
// asks each VRF's servers for their delegated prefixes and routes them again, so that delegated
// prefixes stay reachable across a relay restart (RFC 8987 asks a relay to keep its delegation
// state across restarts). Where the servers take bulk leasequery (RFC 5460) the relay asks by
// link, and each binding's relay data (RFC 5007 §4.1.2.3) names the next hop; else it reads their
// lease tables (Kea's lease6-get-all, with the relay information Kea stores with each lease:
// store-extended-info) through their control sockets.

/** A DHCPv6 lease as Kea's lease6-get-all returns it: the fields read here. */
interface KeaLease6 {
  type?: string;
  "ip-address"?: string;
  "prefix-len"?: number;
  cltt?: number;
  "valid-lft"?: number;
  state?: number;
  "user-context"?: { ISC?: { "relay-info"?: { peer?: string; options?: string }[] } };
}

/** The delegations a lease table holds, routed to the relay-info's peer (the relay's own hop). */
export function delegationsOf(
  vrf: string,
  leases: readonly KeaLease6[],
  o: { segments: readonly string[]; towers: ReadonlySet<string>; nowSeconds: number },
): Omit<Delegation, "learnedFrom">[] {
  const out: Omit<Delegation, "learnedFrom">[] = [];
  for (const l of leases) {
    if (l.type !== "IA_PD" || (l.state ?? 0) !== 0) continue;
    const address = l["ip-address"];
    const length = l["prefix-len"];
    if (!address || length === undefined || l.cltt === undefined || l["valid-lft"] === undefined) continue;
    // Kea lists the relays from the server's side: the first is this relay, its peer the next hop.
    const ours = l["user-context"]?.ISC?.["relay-info"]?.[0];
    if (!ours?.peer) continue;
    const validUntil = l.cltt + l["valid-lft"];
    if (validUntil <= o.nowSeconds) continue;
    out.push({
      prefix: networkOf6(`${address}/${length}`),
      vrf,
      via: ours.peer,
      segment: segmentOf(ours, o),
      validUntil: validUntil * 1000,
    });
  }
  return out;
}

/**
 * The segment a lease was delegated on. A tower's address is on the transport network; a
 * client's link-local address could be on any segment: the relay's Interface-ID names the
 * segment when the relay chose it (RFC 8415 §19.1.1), else the first segment is assumed.
 */
function segmentOf(
  relay: { peer?: string; options?: string },
  o: { segments: readonly string[]; towers: ReadonlySet<string> },
): string {
  let interfaceId: string | undefined;
  try {
    const raw = relay.options?.replace(/^0x/, "");
    const id = raw && options6.decode(new Reader(fromHex(raw))).find((x) => x.code === OPT6.interfaceId);
    interfaceId = id ? text(id.data) : undefined;
  } catch {
    // Unreadable options: the first segment.
  }
  return segmentFor(relay.peer, interfaceId, o);
}

/** The segment of a peer (a tower's: the transport) or named by the relay's Interface-ID; else the first. */
function segmentFor(
  peer: string | undefined,
  interfaceId: string | undefined,
  o: { segments: readonly string[]; towers: ReadonlySet<string> },
): string {
  if (peer && o.towers.has(peer)) return TRANSPORT_SEGMENT;
  if (interfaceId && o.segments.includes(interfaceId)) return interfaceId;
  return o.segments[0] as string;
}

/**
 * The delegations a bulk leasequery's bindings hold (RFC 5460, RFC 5007 OPTION_LQ_RELAY_DATA),
 * routed to the relay data's peer-address: each delegated prefix's remaining lifetime from now.
 */
export function delegationsOfBindings(
  vrf: string,
  bindings: readonly LeaseBinding[],
  o: { segments: readonly string[]; towers: ReadonlySet<string>; nowSeconds: number },
): Omit<Delegation, "learnedFrom">[] {
  return bindings.flatMap((b) =>
    b.prefixes.flatMap((prefix) => {
      const valid = b.lifetimes?.[prefix] ?? 0;
      const via = b.relay?.peer;
      if (!via || valid === 0) return [];
      return [
        {
          prefix: networkOf6(prefix),
          vrf,
          via,
          segment: segmentFor(via, b.relay?.circuitId, o),
          validUntil: (o.nowSeconds + valid) * 1000,
        },
      ];
    }),
  );
}

/** Asks one server for its DHCPv6 leases; undefined when it does not answer. */
async function leasesFrom(endpoint: VrfConfig["leases6"][number]): Promise<KeaLease6[]> {
  const answer = await keaHttpCommand<{ leases?: KeaLease6[] }>(endpoint, "lease6-get-all");
  if (answer.result === 3) return [];
  if (answer.result !== 0) throw new Error(answer.text ?? `result ${answer.result}`);
  return answer.arguments?.leases ?? [];
}

/**
 * Reads every VRF's delegated prefixes from its servers and routes them, retrying each server
 * until it answers or `deadlineMs` passes (servers may start after the relay). Never throws.
 */
export async function restoreDelegations(o: {
  vrfs: readonly VrfConfig[];
  delegations: Delegations;
  /** The segments a VRF serves, the one its gateways are held on first (a next hop's default). */
  segmentsOf: (vrf: string) => readonly string[];
  towers: ReadonlySet<string>;
  log: Logger;
  deadlineMs?: number;
  /** A bulk leasequery by link to a VRF's servers (the relay's LeaseQuerier), for VRFs whose servers take them. */
  leaseQuery?: (
    vrf: string,
    link: string,
  ) => Promise<readonly { server: string; bindings: LeaseBinding[] }[]>;
  /** Which of `segments` a link-local next hop answers on (neighbors.ts), where there are several. */
  locate?: (via: string, segments: readonly string[]) => Promise<string | undefined>;
}): Promise<void> {
  const deadline = Date.now() + (o.deadlineMs ?? 60_000);
  const bulk = o.leaseQuery;
  await Promise.all([
    ...o.vrfs
      .filter((v) => bulk && v.bulkLeasequery6.length > 0)
      .map((v) => restoreByLeaseQuery(v, o, deadline)),
    ...restoreFromLeaseTables(
      o.vrfs.filter((v) => !(bulk && v.bulkLeasequery6.length > 0)),
      o,
      deadline,
    ),
  ]);
}

/**
 * A VRF's delegations from bulk leasequery by link (RFC 5460 §5.3, QUERY_BY_LINK_ADDRESS): every
 * client on each of its links (its link6 and gateways6), with the relay data that names the next
 * hop. Retried until every server has answered or the deadline passes.
 */
async function restoreByLeaseQuery(
  v: VrfConfig,
  o: Parameters<typeof restoreDelegations>[0],
  deadline: number,
): Promise<void> {
  const links = [...new Set([v.link6, ...(v.gateways6 ?? []).map((g) => g.split("/")[0])])].filter(
    (l): l is string => typeof l === "string",
  );
  for (let attempt = 1; ; attempt++) {
    const answers = (await Promise.all(links.map((l) => o.leaseQuery?.(v.name, l) ?? []))).flat();
    const servers = new Set(answers.map((a) => a.server));
    if (servers.size === v.bulkLeasequery6.length || Date.now() > deadline) {
      const found = await located(
        delegationsOfBindings(
          v.name,
          answers.flatMap((a) => a.bindings),
          { segments: o.segmentsOf(v.name), towers: o.towers, nowSeconds: Math.floor(Date.now() / 1000) },
        ),
        o.segmentsOf(v.name),
        o.locate,
      );
      const routed = o.delegations.restore(found);
      if (servers.size === v.bulkLeasequery6.length)
        o.log.info(
          { vrf: v.name, links, found: found.length, routed },
          "delegated prefixes read by bulk leasequery",
        );
      else
        o.log.warn(
          { vrf: v.name, links, answered: [...servers], attempt },
          "not every server answered the bulk leasequery: delegated prefixes from before the start may not be routed",
        );
      return;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The delegations with each link-local next hop's segment, among the VRF's, where its link answers for it: neither
 * the lease table nor bulk leasequery says on which segment a link-local address lives, unless the
 * policy's Interface-ID is the segment's name.
 */
async function located(
  found: Omit<Delegation, "learnedFrom">[],
  segments: readonly string[],
  locate: ((via: string, segments: readonly string[]) => Promise<string | undefined>) | undefined,
): Promise<Omit<Delegation, "learnedFrom">[]> {
  if (!locate || segments.length < 2) return found;
  return Promise.all(
    found.map(async (d) =>
      d.via.startsWith("fe80:") ? { ...d, segment: (await locate(d.via, segments)) ?? d.segment } : d,
    ),
  );
}

/** Each VRF's delegations from its servers' lease tables (lease6-get-all). */
function restoreFromLeaseTables(
  vrfs: readonly VrfConfig[],
  o: Parameters<typeof restoreDelegations>[0],
  deadline: number,
): Promise<void>[] {
  return vrfs.flatMap((v) =>
    v.leases6.map(async (endpoint) => {
      for (let attempt = 1; ; attempt++) {
        try {
          const leases = await leasesFrom(endpoint);
          const found = await located(
            delegationsOf(v.name, leases, {
              segments: o.segmentsOf(v.name),
              towers: o.towers,
              nowSeconds: Math.floor(Date.now() / 1000),
            }),
            o.segmentsOf(v.name),
            o.locate,
          );
          const routed = o.delegations.restore(found);
          o.log.info(
            { vrf: v.name, server: endpoint.url, found: found.length, routed },
            "delegated prefixes read from the lease table",
          );
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            o.log.warn(
              { vrf: v.name, server: endpoint.url, error: (err as Error).message, attempt },
              "could not read the lease table: delegated prefixes from before the start are not routed",
            );
            return;
          }
          await new Promise((r) => setTimeout(r, 1000));
        }
      }
    }),
  );
}
