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
    return String.fromCharCode(vrf, hi, lo, 6, word(chaddr, 0), word(chaddr, 2), word(chaddr, 4));
  }
  const units = [vrf, hi, lo, hlen];
  for (let i = 0; i < hlen; i += 2) units.push(i + 1 < hlen ? word(chaddr, i) : (chaddr[i] as number) << 8);
  return String.fromCharCode(...units);
}

/** A DHCPv6 transaction: VRF, the client's (or downstream relay's) address at `at`, transaction-id. */
export function key6(vrf: number, address: Uint8Array, at: number, transactionId: number): string {
  return String.fromCharCode(
    vrf,
    transactionId >>> 16,
    transactionId & 0xffff,
    word(address, at),
    word(address, at + 2),
    word(address, at + 4),
    word(address, at + 6),
    word(address, at + 8),
    word(address, at + 10),
    word(address, at + 12),
    word(address, at + 14),
  );
}

function word(b: Uint8Array, at: number): number {
  return ((b[at] as number) << 8) | (b[at + 1] as number);
}
