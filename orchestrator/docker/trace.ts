import type Docker from "dockerode";
import type { RelayDecision } from "../../lib/decision.ts";
import {
  clientLines,
  DEBUG_MESSAGES,
  type KeaLogLine,
  type KeaOutcome,
  keaSubnets,
  outcomeOf,
  poolHolding,
} from "../model/kea-log.ts";
import { relayRequest } from "./container-http.ts";
import { demux } from "./engine.ts";
import { keaConfigGet } from "./kea-control.ts";
import type { LabState } from "./lab.ts";

// dhcplab trace: one answer to "why did this client get that address". The relay's journal says
// which rule matched, which VRF it chose and what it added; the VRF's Kea log says which classes
// the client got, which subnet Kea selected and what it leased (see model/kea-log.ts for the
// messages read); Kea's running configuration names the subnet and the pool that holds the lease.

/** A client to trace. */
export interface TraceRequest {
  mac: string;
  /** Only this family's exchanges (both when absent). */
  family?: 4 | 6;
  /** At most this many of the relay's decisions, the newest (default 20). */
  limit?: number;
}

/** What one Kea server did for the client, from its log and configuration. */
export interface KeaTrace extends KeaOutcome {
  vrf: string;
  server: string;
  family: 4 | 6;
  /** The subnet of the lease (else the one Kea selected), its ID and prefix from Kea's configuration. */
  subnetId?: number;
  subnet?: string;
  /** The pool that holds the address (or prefix) it leased, and the classes that pool admits. */
  pool?: string;
  poolClasses?: string[];
  /** The log lines read, oldest first. */
  lines: KeaLogLine[];
}

/** A client's recent exchanges, from the relay to Kea. */
export interface ClientTrace {
  mac: string;
  /** The relay's decisions for the client, oldest first. */
  relay: RelayDecision[];
  kea: KeaTrace[];
  /** What the answer lacks and how to get it (Kea's debug logging off, no exchange seen, ...). */
  notes: string[];
}

/** Traces a client through the lab's relay and the Kea servers of the VRFs it was sent to. */
export async function traceClient(
  docker: Docker,
  lab: LabState,
  port: number,
  r: TraceRequest,
): Promise<ClientTrace> {
  const mac = r.mac.toLowerCase();
  if (!lab.relay) throw new Error(`lab ${lab.name} has no relay`);
  const query = new URLSearchParams({
    mac,
    limit: String(r.limit ?? 20),
    ...(r.family ? { family: String(r.family) } : {}),
  });
  const relay = await relayRequest<RelayDecision[]>(docker, lab.relay.id, `/trace?${query}`, { port });
  const notes: string[] = [];
  if (relay.length === 0)
    notes.push(`the relay has seen no message from ${mac} (it keeps its last 4096 decisions)`);
  const vrfs = new Set(relay.flatMap((d) => (d.vrf ? [d.vrf] : [])));
  const duids = [...new Set(relay.flatMap((d) => (d.duid ? [d.duid] : [])))];
  // Kea's log from a little before the first decision the relay remembers.
  const first = relay[0]?.at ? Date.parse(relay[0].at) : Date.now() - 15 * 60_000;
  const since = Math.floor(first / 1000) - 5;
  const kea: KeaTrace[] = [];
  for (const k of lab.keas.filter((k) => (vrfs.size === 0 || vrfs.has(k.vrf)) && k.state === "running")) {
    const log = demux(
      (await docker
        .getContainer(k.id)
        .logs({ stdout: true, stderr: true, follow: false, since })) as unknown as Buffer,
    );
    for (const family of k.families.filter((f) => !r.family || f === r.family)) {
      const lines = clientLines(log, family === 4 ? { mac } : { mac, duids }).filter((l) =>
        l.logger.startsWith(`kea-dhcp${family}`),
      );
      if (lines.length === 0) continue;
      const trace: KeaTrace = {
        vrf: k.vrf,
        server: k.name.slice(lab.name.length + 1),
        family,
        ...outcomeOf(lines),
        lines,
      };
      await placeInConfig(docker, k, family, trace);
      kea.push(trace);
    }
  }
  if (relay.some((d) => d.action === "relay") && kea.length === 0)
    notes.push("no Kea log line names this client since its first relayed message");
  if (kea.length > 0 && kea.every((t) => !t.lines.some((l) => DEBUG_MESSAGES.includes(l.id))))
    notes.push(
      "Kea's debug logging is off, so its classes and subnet are not in its log: dhcplab log-level kea debug, then run the client again",
    );
  return { mac, relay, kea, notes };
}

/** The subnet and pool of Kea's running configuration that the trace's subnet ID and lease fall in. */
async function placeInConfig(
  docker: Docker,
  k: LabState["keas"][number],
  family: 4 | 6,
  trace: KeaTrace,
): Promise<void> {
  const endpoint = k.control[`dhcp${family}`];
  if (!endpoint) return;
  const server = (await keaConfigGet(docker, k.id, endpoint).catch(() => undefined))?.[`Dhcp${family}`];
  if (!server) return;
  const subnets = keaSubnets(server, family);
  const leased = trace.prefix ?? trace.address;
  const subnet =
    (leased ? subnets.find((s) => poolHolding(s, leased)) : undefined) ??
    subnets.find((s) => s.id === trace.selectedSubnetId);
  if (!subnet) return;
  trace.subnetId = subnet.id;
  trace.subnet = subnet.subnet;
  const pool = leased ? poolHolding(subnet, leased) : undefined;
  if (pool) {
    trace.pool = pool.pool;
    if (pool.classes.length > 0) trace.poolClasses = pool.classes;
  }
}
