import type { Logger } from "pino";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { decodeValue, iaPrefix, iaWithTimers } from "../../lib/codec/dhcp6/ia.ts";
import type { Dhcp6ClientMessage, RawOption6 } from "../../lib/codec/dhcp6/message.ts";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import type { Counters } from "./counters.ts";

// A first-hop router that relays DHCPv6 learns the prefixes its servers delegate (IA_PD, RFC 8415
// §6.3) and routes each to the requesting router, as Cisco's "relay agent notification for prefix
// delegation" does: otherwise a delegated prefix is unreachable. RFC 8987 (DHCPv6 Prefix
// Delegating Relay Requirements) asks a relay to install a route per delegated prefix via the
// requesting router for the prefix's valid lifetime, to remove it when the lifetime ends, when
// the prefix is released or given a zero lifetime, and to keep delegations across a restart.

/** A prefix delegated through the relay, and where it is routed. */
export interface Delegation {
  /** The prefix, in the kernel's spelling (fd10:100:0:a00::/56). */
  prefix: string;
  vrf: string;
  /** The next hop: the requesting router's address (the RELAY-REPL's peer-address). */
  via: string;
  /** The access segment it was delegated on: the route's interface. */
  segment: string;
  /** When its valid lifetime ends (ms since the epoch; Infinity for 0xffffffff). */
  validUntil: number;
  /** Where the relay learned it: a reply it relayed, or the VRF's lease table at its start. */
  learnedFrom: "reply" | "lease-table";
}

/** Why a delegation's route came or went: each is a counter. */
export type DelegationEvent =
  | "learned"
  | "renewed"
  | "moved"
  | "restored"
  | "released"
  | "expired"
  | "revoked";

/** The kernel's side: a route (and the forward rule's set element) per delegated prefix. */
export interface RouteTable {
  install(d: Delegation): void;
  withdraw(d: Delegation): void;
}

/** RFC 8415 §7.7: a lifetime of 0xffffffff is infinity. */
const INFINITY = 0xffffffff;

/** The IA Prefix options of every IA_PD in a message: prefix and valid lifetime. */
export function delegatedPrefixes(m: {
  options: readonly RawOption6[];
}): { prefix: string; valid: number }[] {
  const out: { prefix: string; valid: number }[] = [];
  for (const o of m.options) {
    if (o.code !== OPT6.iaPd) continue;
    for (const p of decodeValue(iaWithTimers, o.data).options) {
      if (p.code !== OPT6.iaPrefix) continue;
      const v = decodeValue(iaPrefix, p.data);
      out.push({ prefix: networkOf6(`${v.prefix}/${v.prefixLength}`), valid: v.validLifetime });
    }
  }
  return out;
}

/** The same, or none when an IA_PD cannot be read: the relay relays the message anyway. */
export function delegatedPrefixesOrNone(m: {
  options: readonly RawOption6[];
}): { prefix: string; valid: number }[] {
  try {
    return delegatedPrefixes(m);
  } catch {
    return [];
  }
}

/**
 * The relay's table of delegated prefixes: learned from the REPLYs it relays, withdrawn when a
 * prefix's valid lifetime ends, when a later REPLY gives it a zero lifetime, or when the client
 * releases it, and rebuilt from the VRFs' lease tables at start.
 */
export class Delegations {
  /** By VRF and prefix: VRFs whose address spaces overlap may each delegate the same prefix. */
  private readonly table = new Map<string, Delegation>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly o: {
      routes: RouteTable;
      counters: Counters;
      log: Logger;
      /** The VRFs whose routes are counted, also when they have none. */
      vrfs?: readonly string[];
      now?: () => number;
      /** How often expired delegations are swept (default 1 s). */
      sweepMs?: number;
    },
  ) {
    o.counters.describe(
      "dhcplab_relay_delegations_total",
      "Delegated-prefix routes installed or withdrawn, by VRF and event (learned, renewed, moved, restored, released, expired, revoked).",
    );
    o.counters.gauge("dhcplab_relay_delegated_routes", "Delegated prefixes routed now, by VRF.", () =>
      [...this.countByVrf()].map(([vrf, n]) => [{ vrf }, n]),
    );
    this.sweeper = setInterval(() => this.sweep(), o.sweepMs ?? 1000);
    this.sweeper.unref();
  }

  private now(): number {
    return this.o.now?.() ?? Date.now();
  }

  /**
   * A REPLY relayed to `via` on `segment` from VRF `vrf`: each IA Prefix with a valid lifetime is
   * routed to `via` until it ends; one with a zero lifetime is no longer the client's (RFC 8415 §18.2.10.1).
   */
  learn(vrf: string, segment: string, via: string, reply: Dhcp6ClientMessage): void {
    if (reply.type !== MSG6.REPLY) return;
    for (const { prefix, valid } of delegatedPrefixesOrNone(reply)) {
      if (valid === 0) this.remove(vrf, prefix, "revoked");
      else this.put({ prefix, vrf, via, segment, validUntil: this.until(valid), learnedFrom: "reply" });
    }
  }

  /** VRF `vrf`'s server answered a RELEASE: its prefixes are no longer the client's (RFC 8415 §18.3.7). */
  released(vrf: string, prefixes: readonly string[]): void {
    for (const p of prefixes) this.remove(vrf, p, "released");
  }

  /** Delegations read from a lease table: kept unless a reply has already told the relay of them. */
  restore(found: readonly Omit<Delegation, "learnedFrom">[]): number {
    let n = 0;
    for (const d of found) {
      if (this.table.has(keyOf(d.vrf, d.prefix)) || d.validUntil <= this.now()) continue;
      this.put({ ...d, learnedFrom: "lease-table" });
      n++;
    }
    return n;
  }

  /** Every delegation routed now. */
  list(): Delegation[] {
    return [...this.table.values()];
  }

  stop(): void {
    clearInterval(this.sweeper);
  }

  private until(validSeconds: number): number {
    return validSeconds === INFINITY ? Number.POSITIVE_INFINITY : this.now() + validSeconds * 1000;
  }

  private put(d: Delegation): void {
    const key = keyOf(d.vrf, d.prefix);
    const old = this.table.get(key);
    this.table.set(key, d);
    if (old && old.via === d.via && old.segment === d.segment) {
      this.event(d, "renewed");
      return;
    }
    if (old) this.o.routes.withdraw(old);
    this.o.routes.install(d);
    this.event(d, old ? "moved" : d.learnedFrom === "reply" ? "learned" : "restored");
  }

  private remove(vrf: string, prefix: string, why: DelegationEvent): void {
    const key = keyOf(vrf, prefix);
    const d = this.table.get(key);
    if (!d) return;
    this.table.delete(key);
    this.o.routes.withdraw(d);
    this.event(d, why);
  }

  private sweep(): void {
    const now = this.now();
    for (const d of this.table.values()) if (d.validUntil <= now) this.remove(d.vrf, d.prefix, "expired");
  }

  private event(d: Delegation, event: DelegationEvent): void {
    this.o.counters.inc("dhcplab_relay_delegations_total", { vrf: d.vrf, event });
    if (event !== "renewed")
      this.o.log.info(
        { prefix: d.prefix, vrf: d.vrf, via: d.via, segment: d.segment, event },
        "delegated prefix",
      );
  }

  private countByVrf(): Map<string, number> {
    const n = new Map<string, number>((this.o.vrfs ?? []).map((v) => [v, 0]));
    for (const d of this.table.values()) n.set(d.vrf, (n.get(d.vrf) ?? 0) + 1);
    return n;
  }
}

function keyOf(vrf: string, prefix: string): string {
  return `${vrf} ${prefix}`;
}
