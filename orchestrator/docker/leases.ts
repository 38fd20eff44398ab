import type Docker from "dockerode";
import { decodeRelayInfo, type RelayInfo } from "../../lib/relay-info.ts";
import { allLeases, type Lease4, type Lease6 } from "./kea-control.ts";
import type { LabState } from "./lab.ts";

/** One lease as `dhcplab leases` shows it. */
export interface LeaseRow {
  vrf: string;
  /** The Kea service that holds it (`kea-red`, `kea-red-2`, ...). */
  server: string;
  family: 4 | 6;
  address: string;
  /** DHCPv6: IA_NA (an address), IA_TA, or IA_PD (a delegated prefix: `address`/`prefixLength`). */
  type?: string;
  /** DHCPv6: 128 for an address, the delegated length for a prefix. */
  prefixLength?: number;
  subnetId: number;
  /** Seconds; Kea 2.6 keeps a released lease with 0 (lease affinity) rather than deleting it. */
  validLifetime: number;
  /** The client's last transaction with the server (Unix seconds): a renewal or rebinding moves it; it expires validLifetime after. */
  cltt: number;
  /** Kea's lease state: 0 default, 1 declined, 2 expired-reclaimed. */
  state: number;
  /** MAC (DHCPv4) or DUID (DHCPv6) as Kea prints them. */
  client: string;
  hostname?: string;
  /** What Kea stored of the relay's options (store-extended-info): the user-context's ISC entry, raw. */
  relayInfo?: unknown;
  /** The same, decoded: Circuit-ID / Interface-ID and Remote-ID as text, Link Selection as an address. */
  relay?: RelayInfo;
}

/** Which leases: a VRF's, a family's, one server's (its service name, e.g. `kea-red-2`). */
export interface LeaseFilter {
  vrf?: string;
  families?: readonly (4 | 6)[];
  server?: string;
}

/**
 * Every lease of every running Kea in the lab (a stopped or killed one has none to tell), read
 * where each server takes commands. Naming a server that is not running is an error.
 */
export async function labLeases(docker: Docker, lab: LabState, o: LeaseFilter = {}): Promise<LeaseRow[]> {
  const families = o.families ?? [4, 6];
  const keas = runningKeas(lab, o, "it has no leases to tell");
  const rows: LeaseRow[] = [];
  for (const k of keas) {
    // A family the Kea does not serve has no server to ask; any other failure is an error.
    const dhcp4 = k.control.dhcp4;
    if (families.includes(4) && k.families.includes(4) && dhcp4) {
      for (const l of await allLeases(docker, k.id, 4, dhcp4))
        rows.push(rowOf(k, 4, l, l["hw-address"], l.hostname || undefined));
    }
    const dhcp6 = k.control.dhcp6;
    if (families.includes(6) && k.families.includes(6) && dhcp6) {
      for (const l of await allLeases(docker, k.id, 6, dhcp6)) rows.push(rowOf(k, 6, l, l.duid));
    }
  }
  return rows;
}

/**
 * The lab's running Kea containers, of one VRF or one server (its service name) when asked,
 * each named by its service (`kea-red`). An unknown VRF or server, or a named server that is not
 * running (`refusal` says what that means: "it has no leases to tell"), is an error.
 */
export function runningKeas(
  lab: LabState,
  o: { vrf?: string; server?: string },
  refusal: string,
): (LabState["keas"][number] & { name: string })[] {
  const service = (k: { name: string }) => k.name.slice(lab.name.length + 1);
  const chosen = lab.keas.filter(
    (k) =>
      (o.vrf === undefined || k.vrf.toLowerCase() === o.vrf.toLowerCase()) &&
      (o.server === undefined || service(k) === o.server),
  );
  if (o.vrf !== undefined && chosen.length === 0) throw new Error(`lab ${lab.name} has no VRF ${o.vrf}`);
  if (o.server !== undefined) {
    const k = chosen[0];
    if (!k)
      throw new Error(
        `lab ${lab.name} has no Kea service ${o.server} (its Kea services: ${lab.keas.map(service).join(", ")})`,
      );
    if (k.state !== "running") throw new Error(`${o.server} is ${k.state}: ${refusal}`);
  }
  return chosen.filter((k) => k.state === "running").map((k) => ({ ...k, name: service(k) }));
}

/** A lease of either family as a row: what both families' leases share, and their client's identity. */
function rowOf(
  k: { vrf: string; name: string },
  family: 4 | 6,
  l: Lease4 | Lease6,
  client: string,
  hostname?: string,
): LeaseRow {
  const isc = l["user-context"]?.ISC;
  return {
    vrf: k.vrf,
    server: k.name,
    family,
    address: l["ip-address"],
    ...("type" in l ? { type: l.type, prefixLength: l["prefix-len"] } : {}),
    subnetId: l["subnet-id"],
    validLifetime: l["valid-lft"],
    cltt: l.cltt,
    state: l.state,
    client,
    hostname,
    relayInfo: isc,
    relay: decodeRelayInfo(isc),
  };
}
