import { hostname } from "node:os";
import type { Logger } from "pino";
import type { Policy } from "../../lib/policy/policy.ts";
import { ownAddresses4 } from "./addresses.ts";
import { accessSegments, type RelayConfig } from "./config.ts";
import type { Counters } from "./counters.ts";
import type { Delegations } from "./delegations.ts";
import type { Journal } from "./journal.ts";
import type { Transport } from "./links.ts";
import { Relay4, type Relay4Options } from "./relay4.ts";
import { Relay6 } from "./relay6.ts";
import type { ResolvedVrf } from "./resolve.ts";

/** What the relay paths are given besides the configuration: where they send, count and record. */
export interface RelayDeps {
  policy: () => Policy;
  transport4: Transport;
  transport6: Transport;
  counters: Counters;
  journal?: Journal;
  log: Logger;
  /** The prefixes the servers delegate, routed in the kernel (absent: none learnt). */
  delegations?: Delegations;
  /** Takes the answers to the relay's own DHCPv4 lease queries. */
  leaseQueryAnswer?: Relay4Options["leaseQueryAnswer"];
}

/** The relay's two paths, built from its configuration: the serving ones, or a dry run's (explain). */
export interface Relays {
  relay4: Relay4;
  relay6: Relay6;
}

/**
 * The DHCPv4 path and the DHCPv6 path, each with the VRFs that have servers of its family. A path
 * without any still takes every datagram, and counts it as its drop (a client's: no-servers), so
 * that each datagram is relayed or counted as one drop whatever the configuration.
 */
export function createRelays(config: RelayConfig, vrfs: readonly ResolvedVrf[], d: RelayDeps): Relays {
  const relay4 = new Relay4({
    segments: accessSegments(config).map((s) => ({ name: s.name, address: s.ipv4, gateways: s.gateways })),
    hostname: hostname(),
    ownAddresses: ownAddresses4(config),
    towers: config.transport?.towers,
    vrfs: vrfs
      .filter((v) => v.servers4.length > 0)
      .map((v) => ({
        name: v.name,
        relayAddress: v.ipv4 as string,
        link: v.link4 as string,
        subnetSelection: v.subnetSelection,
        serverIdOverride: v.serverIdOverride,
        servers: v.servers4,
        acceptFrom: v.acceptFrom,
        ...(v.segments ? { segments: new Set(v.segments) } : {}),
      })),
    policy: d.policy,
    transport: d.transport4,
    counters: d.counters,
    journal: d.journal,
    log: d.log,
    leaseQueryAnswer: d.leaseQueryAnswer,
  });
  const relay6 = new Relay6({
    vrfs: vrfs
      .filter((v) => v.servers6.length > 0)
      .map((v) => ({
        name: v.name,
        link: v.link6 as string,
        servers: v.servers6,
        ...(v.acceptFrom?.length ? { severalBehind: true } : {}),
        ...(v.segments ? { segments: new Set(v.segments) } : {}),
      })),
    hostname: hostname(),
    towers: config.transport?.towers.flatMap((t) => (t.source6 ? [t.source6] : [])),
    policy: d.policy,
    transport: d.transport6,
    counters: d.counters,
    journal: d.journal,
    log: d.log,
    delegations: d.delegations,
  });
  return { relay4, relay6 };
}
