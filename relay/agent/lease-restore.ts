import type { Logger } from "pino";
import { fromHex, Reader, text } from "../../lib/codec/bytes.ts";
import { OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { options6 } from "../../lib/codec/dhcp6/message.ts";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import { keaHttpCommand } from "../../lib/kea/http.ts";
import type { VrfConfig } from "./config.ts";
import type { Delegation, Delegations } from "./delegations.ts";
import { TRANSPORT_SEGMENT } from "./links.ts";

// A restarted relay has forgotten the prefixes it routed; its servers have not. At start it
// reads each VRF's delegated prefixes from the servers' lease tables (Kea's lease6-get-all, with
// the relay information Kea stores with each lease: store-extended-info) and routes them again,
// so that delegated prefixes stay reachable across a relay restart (RFC 8987 asks a relay to
// keep its delegation state across restarts; this is its lease-table way, as a server's bulk
// leasequery, RFC 5460, is another).

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
  if (relay.peer && o.towers.has(relay.peer)) return TRANSPORT_SEGMENT;
  try {
    const raw = relay.options?.replace(/^0x/, "");
    const id = raw && options6.decode(new Reader(fromHex(raw))).find((x) => x.code === OPT6.interfaceId);
    const name = id && text(id.data);
    if (name && o.segments.includes(name)) return name;
  } catch {
    // Unreadable options: the first segment.
  }
  return o.segments[0] as string;
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
  segments: readonly string[];
  towers: ReadonlySet<string>;
  log: Logger;
  deadlineMs?: number;
}): Promise<void> {
  const deadline = Date.now() + (o.deadlineMs ?? 60_000);
  await Promise.all(
    o.vrfs.flatMap((v) =>
      v.leases6.map(async (endpoint) => {
        for (let attempt = 1; ; attempt++) {
          try {
            const leases = await leasesFrom(endpoint);
            const found = delegationsOf(v.name, leases, {
              segments: o.segments,
              towers: o.towers,
              nowSeconds: Math.floor(Date.now() / 1000),
            });
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
    ),
  );
}
