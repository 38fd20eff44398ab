import { execFile } from "node:child_process";
import { createSocket } from "node:dgram";

// Which access segment a link-local next hop lives on. A link-local address means nothing off its
// link (RFC 4291 §2.5.6), and a restarted relay that reads a delegation back from its servers knows
// the CPE's link-local address but not, in general, its segment (the Interface-ID is the policy's).
// It asks the segments' links themselves: a datagram to the address on each segment's interface
// makes the kernel solicit it there (RFC 4861 §7.2.2), and only the segment it lives on answers.

/** A segment's name and the relay's interface on it. */
export interface SegmentInterface {
  segment: string;
  ifname: string;
}

/** How long a neighbor has to answer the solicitation. */
const ANSWER_MS = 1500;

/** The neighbor table's entries for an address: each interface where it resolved to a link-layer address. */
export function resolvedOn(neighTable: string): string[] {
  return neighTable
    .split("\n")
    .map((line) => /\bdev (\S+) lladdr \S+/.exec(line)?.[1])
    .filter((dev): dev is string => dev !== undefined);
}

const ipNeigh = (address: string): Promise<string> =>
  new Promise((resolve) =>
    execFile("ip", ["-6", "neigh", "show", address], (err, out) => resolve(err ? "" : out)),
  );

/**
 * The segment on which `address` (link-local) answers neighbor discovery, or undefined when it
 * answers on none (it is gone) or on several (it cannot be told apart).
 */
export async function segmentOfNeighbor(
  address: string,
  segments: readonly SegmentInterface[],
  o: {
    timeoutMs?: number;
    neigh?: (address: string) => Promise<string>;
    solicit?: (address: string, ifnames: readonly string[]) => Promise<void>;
  } = {},
): Promise<string | undefined> {
  await (o.solicit ?? solicit)(
    address,
    segments.map((s) => s.ifname),
  );
  const neigh = o.neigh ?? ipNeigh;
  const deadline = Date.now() + (o.timeoutMs ?? ANSWER_MS);
  for (;;) {
    const devs = new Set(resolvedOn(await neigh(address)));
    const on = segments.filter((s) => devs.has(s.ifname));
    if (on.length > 0 || Date.now() > deadline) return on.length === 1 ? on[0]?.segment : undefined;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A datagram to the discard port of `address` on each interface: the kernel solicits the address there first. */
async function solicit(address: string, ifnames: readonly string[]): Promise<void> {
  const socket = createSocket("udp6");
  try {
    await Promise.all(
      ifnames.map(
        (ifname) =>
          new Promise<void>((resolve) =>
            socket.send(Uint8Array.of(0), 9, `${address}%${ifname}`, () => resolve()),
          ),
      ),
    );
  } finally {
    socket.close();
  }
}
