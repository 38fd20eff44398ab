/** How many /24 (and /64) networks the pool holds: 10.213.0.0/16 and fd64:6c61:6200::/48. */
export const POOL_SIZE = 256;

/** Slots from here on are the Compose lab's fixed subnets; `createLabNetwork` allocates below. */
export const RESERVED_FROM = 200;

/** The IPv4 and IPv6 subnets of pool slot `index`. */
export function slotSubnets(index: number): { ipv4Subnet: string; ipv6Subnet: string } {
  if (!Number.isInteger(index) || index < 0 || index >= POOL_SIZE) {
    throw new RangeError(`network pool slot ${index} is outside 0..${POOL_SIZE - 1}`);
  }
  return { ipv4Subnet: `10.213.${index}.0/24`, ipv6Subnet: `fd64:6c61:6200:${index.toString(16)}::/64` };
}

/**
 * A network's address plan as Docker's IPAM takes it: the bridge at .1, fixed addresses (relay,
 * Kea, ...) in the lower half, Docker's own picks (clients) from the upper half.
 */
export function ipamRanges(s: { ipv4Subnet: string; ipv6Subnet: string }): {
  subnet: string;
  gateway: string;
  ipRange: string;
}[] {
  return [
    {
      subnet: s.ipv4Subnet,
      gateway: ipv4Host(s.ipv4Subnet, 1),
      ipRange: s.ipv4Subnet.replace(/\.0\/24$/, ".128/25"),
    },
    {
      subnet: s.ipv6Subnet,
      gateway: ipv6Host(s.ipv6Subnet, 1),
      ipRange: s.ipv6Subnet.replace(/::\/64$/, "::1:0/112"),
    },
  ];
}

/** Host `host` (1..254) of an IPv4 /24 such as 10.213.7.0/24. */
export function ipv4Host(subnet: string, host: number): string {
  return subnet.replace(/\.0\/24$/, `.${host}`);
}

/** Host `host` of an IPv6 /64 such as fd64:6c61:6200:7::/64. */
export function ipv6Host(subnet: string, host: number): string {
  return subnet.replace(/::\/64$/, `::${host.toString(16)}`);
}
