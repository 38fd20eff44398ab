import type Docker from "dockerode";
import { ipamRanges, RESERVED_FROM, slotSubnets } from "../model/subnets.ts";

/** An internal dual-stack network that dhcplab created. */
export interface LabNetwork {
  id: string;
  name: string;
  /** e.g. 10.213.7.0/24 */
  ipv4Subnet: string;
  /** e.g. fd64:6c61:6200:7::/64 */
  ipv6Subnet: string;
  /** The /24's index in the pool: addresses in it are `${ipv4Prefix}.N`. */
  index: number;
}

/** IPv4 subnets already used by networks on this Docker host. */
async function usedIpv4Subnets(docker: Docker): Promise<Set<string>> {
  const used = new Set<string>();
  for (const n of await docker.listNetworks()) {
    for (const cfg of n.IPAM?.Config ?? []) if (cfg.Subnet) used.add(cfg.Subnet);
  }
  return used;
}

function isOverlap(err: unknown): boolean {
  const e = err as { statusCode?: number; message?: string };
  return (e.statusCode === 403 || e.statusCode === 409) && /overlap/i.test(e.message ?? "");
}

/**
 * Creates an internal IPv4+IPv6 bridge named `name` in the first free slot of the pool.
 * Labs (and test files) started side by side race for slots: Docker refuses an
 * overlapping subnet, and we move on to the next free slot.
 */
export async function createLabNetwork(
  docker: Docker,
  name: string,
  labels: Record<string, string>,
  /** Its Linux bridge's name (Docker's br-ID when absent). */
  bridge?: string,
): Promise<LabNetwork> {
  const used = await usedIpv4Subnets(docker);
  // Start at a random slot so that concurrent allocators rarely collide.
  const start = Math.floor(Math.random() * RESERVED_FROM);
  for (let step = 0; step < RESERVED_FROM; step++) {
    const index = (start + step) % RESERVED_FROM;
    const { ipv4Subnet, ipv6Subnet } = slotSubnets(index);
    if (used.has(ipv4Subnet)) continue;
    try {
      const net = await docker.createNetwork({
        Name: name,
        Driver: "bridge",
        Internal: true,
        EnableIPv6: true,
        CheckDuplicate: true,
        Labels: labels,
        ...(bridge ? { Options: { "com.docker.network.bridge.name": bridge } } : {}),
        IPAM: {
          Driver: "default",
          Config: ipamRanges({ ipv4Subnet, ipv6Subnet }).map((r) => ({
            Subnet: r.subnet,
            Gateway: r.gateway,
            IPRange: r.ipRange,
          })),
        },
      });
      return { id: net.id, name, ipv4Subnet, ipv6Subnet, index };
    } catch (err) {
      if (!isOverlap(err)) throw err;
      used.add(ipv4Subnet);
    }
  }
  throw new Error(`no free subnet left in 10.213.0.0/16 (slots 0-${RESERVED_FROM - 1}) for network ${name}`);
}
