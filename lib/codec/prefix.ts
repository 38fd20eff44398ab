import { ipv4ToBytes, ipv6ToBytes, ipv6ToString } from "./address.ts";

/**
 * Whether `cidr` is address/length of the family, which the functions below take (they throw on
 * anything else): for a check that meets values other checks may already have refused.
 */
export function isPrefix(cidr: string, family: 4 | 6): boolean {
  const [address = "", length = "", ...rest] = cidr.split("/");
  const bits = Number(length);
  if (rest.length > 0 || !/^\d+$/.test(length) || bits > (family === 4 ? 32 : 128)) return false;
  try {
    (family === 4 ? ipv4ToBytes : ipv6ToBytes)(address);
    return true;
  } catch {
    return false;
  }
}

/** An IPv4 address as an unsigned 32-bit number. */
export function ipv4Number(address: string): number {
  const b = ipv4ToBytes(address);
  return (
    ((b[0] as number) * 2 ** 24 + (((b[1] as number) << 16) | ((b[2] as number) << 8) | (b[3] as number))) >>>
    0
  );
}

/** Whether `address` is inside `prefix` (192.168.10.7 in 192.168.10.1/24). */
export function inPrefix(address: string, prefix: string): boolean {
  const [net, len] = prefix.split("/");
  const bits = Number(len);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return (ipv4Number(address) & mask) >>> 0 === (ipv4Number(net ?? "") & mask) >>> 0;
}

/** Whether two IPv4 prefixes share an address (one holds the other). */
export function prefixesOverlap(a: string, b: string): boolean {
  return inPrefix(a.split("/")[0] ?? "", b) || inPrefix(b.split("/")[0] ?? "", a);
}

/** Whether `inner` lies wholly inside `outer` (192.168.11.0/24 inside 192.168.10.0/23). */
export function prefixWithin(inner: string, outer: string): boolean {
  return (
    Number(inner.split("/")[1]) >= Number(outer.split("/")[1]) && inPrefix(inner.split("/")[0] ?? "", outer)
  );
}

/** The network of address/length: 100.64.1.0/24 of 100.64.1.1/24. */
export function networkOf(cidr: string): string {
  const [address = "", length = "32"] = cidr.split("/");
  const bits = Number(length);
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  const n = (ipv4Number(address) & mask) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join(".")}/${bits}`;
}

/** The network of an IPv6 address/length, in the kernel's spelling: fd00:10::/64 of fd00:10::1/64. */
export function networkOf6(cidr: string): string {
  const [address = "", length = "128"] = cidr.split("/");
  const bits = Number(length);
  if (!Number.isInteger(bits) || bits < 0 || bits > 128) throw new RangeError(`not an IPv6 prefix: ${cidr}`);
  const b = ipv6ToBytes(address);
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    b[i] = (b[i] as number) & ((0xff << (8 - keep)) & 0xff);
  }
  return `${ipv6ToString(b)}/${bits}`;
}

/** Whether two IPv6 prefixes share an address (one holds the other). */
export function prefixesOverlap6(a: string, b: string): boolean {
  const [aa = "", al = "128"] = a.split("/");
  const [ba = "", bl = "128"] = b.split("/");
  const bits = Math.min(Number(al), Number(bl));
  return networkOf6(`${aa}/${bits}`) === networkOf6(`${ba}/${bits}`);
}
