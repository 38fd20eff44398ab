import { u16At } from "../../lib/codec/bytes.ts";

/**
 * The keys of the relay's transactions tables: a few 16-bit code units made by one
 * String.fromCharCode, a flat string that Map hashes at once. Text built from parts (a template
 * around a hex chaddr or an address's text) is a rope that V8 must flatten, then hash, and
 * building it cost more than the lookup. A VRF is its index among the relay's VRFs: clients of two
 * VRFs may look alike where their address spaces overlap.
 */

/** A DHCPv4 transaction: VRF, xid and the client's hardware address (its first `hlen` bytes, at most 16). */
export function key4(vrf: number, xid: number, chaddr: Uint8Array, hlen: number): string {
  const hi = xid >>> 16;
  const lo = xid & 0xffff;
  if (hlen === 6) {
    return String.fromCharCode(vrf, hi, lo, 6, u16At(chaddr, 0), u16At(chaddr, 2), u16At(chaddr, 4));
  }
  const units = [vrf, hi, lo, hlen];
  for (let i = 0; i < hlen; i += 2) units.push(i + 1 < hlen ? u16At(chaddr, i) : (chaddr[i] as number) << 8);
  return String.fromCharCode(...units);
}

/** A DHCPv6 transaction: VRF, the client's (or downstream relay's) address at `at`, transaction-id. */
export function key6(vrf: number, address: Uint8Array, at: number, transactionId: number): string {
  return String.fromCharCode(
    vrf,
    transactionId >>> 16,
    transactionId & 0xffff,
    u16At(address, at),
    u16At(address, at + 2),
    u16At(address, at + 4),
    u16At(address, at + 6),
    u16At(address, at + 8),
    u16At(address, at + 10),
    u16At(address, at + 12),
    u16At(address, at + 14),
  );
}

/**
 * Each VRF's index among a relay's VRFs, its part of a key: given once per name, in the order
 * the VRFs are configured.
 */
export class VrfIndex {
  private readonly ids = new Map<string, number>();

  constructor(names: Iterable<string>) {
    for (const name of names) if (!this.ids.has(name)) this.ids.set(name, this.ids.size);
  }

  /** The index of a VRF the relay has; throws for any other (a bug, never a client's doing). */
  known(name: string): number {
    const id = this.ids.get(name);
    if (id === undefined) throw new Error(`no VRF ${name} in this relay`);
    return id;
  }
}
