import type Docker from "dockerode";
import { decodeRelayInfo, type RelayInfo } from "../model/relay-info.ts";
import { allLeases, type Lease4, type Lease6 } from "./kea-control.ts";
import type { RunningLab } from "./lab.ts";

/** One lease as `dhcplab leases` shows it. */
export interface LeaseRow {
  vrf: string;
  server: string;
  family: 4 | 6;
  address: string;
  subnetId: number;
  /** Seconds; Kea 2.6 keeps a released lease with 0 (lease affinity) rather than deleting it. */
  validLifetime: number;
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

/** Every lease of every Kea in the lab, read through each control agent. */
export async function labLeases(
  docker: Docker,
  lab: RunningLab,
  o: { vrf?: string; families?: readonly (4 | 6)[] } = {},
): Promise<LeaseRow[]> {
  const families = o.families ?? [4, 6];
  const keas = lab.keas.filter((k) => o.vrf === undefined || k.vrf.toLowerCase() === o.vrf.toLowerCase());
  if (o.vrf !== undefined && keas.length === 0) throw new Error(`lab ${lab.name} has no VRF ${o.vrf}`);
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
    subnetId: l["subnet-id"],
    validLifetime: l["valid-lft"],
    state: l.state,
    client,
    hostname,
    relayInfo: isc,
    relay: decodeRelayInfo(isc),
  };
}
