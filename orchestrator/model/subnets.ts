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

/** Host `host` (1..254) of an IPv4 /24 such as 10.213.7.0/24. */
export function ipv4Host(subnet: string, host: number): string {
  return subnet.replace(/\.0\/24$/, `.${host}`);
}

/** Host `host` of an IPv6 /64 such as fd64:6c61:6200:7::/64. */
export function ipv6Host(subnet: string, host: number): string {
  return subnet.replace(/::\/64$/, `::${host.toString(16)}`);
}
