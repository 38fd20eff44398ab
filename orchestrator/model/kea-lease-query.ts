import { hookOf, KeaConfigError, parseKeaJson } from "./kea-json.ts";

// Kea 3.0's lease_query hook (Kea ARM, "Leasequery Support"): whether a server takes lease queries,
// and the requesters it answers. The relay is the lab's requester: it asks from its own address on
// the VRF's backend, which the lab adds to the hook's `requesters` (the configuration cannot know
// it: the lab's backend subnets are the Engine's to give), as it writes an HA pair's peers.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);

/** A server's lease queries: its hook entry's index, and for DHCPv6 where it takes bulk leasequery over TCP. */
export interface LeaseQueryConfig {
  index: number;
  /** DHCPv6 bulk leasequery (RFC 5460): its TCP port. */
  bulkPort?: number;
}

/**
 * The lease queries a kea-dhcp4/6 configuration takes, or undefined without the hook. DHCPv6
 * queries are bulk, over TCP: refused, naming the field, where bulk queries are off or listen where
 * the relay cannot reach them (Kea's default, ::1).
 */
export function leaseQueryOf(file: string, text: string, family: 4 | 6): LeaseQueryConfig | undefined {
  const hook = hookOf(file, text, family, "libdhcp_lease_query.so");
  if (!hook) return undefined;
  const index = hook.index;
  const advanced = isObj(hook.parameters.advanced) ? hook.parameters.advanced : {};
  const field = `${hook.field}.advanced`;
  // DHCPv4 asks over UDP, and in bulk (by Remote-ID, Relay-ID) where the server takes it.
  if (family === 4 && advanced["bulk-query-enabled"] !== true) return { index };
  if (advanced["bulk-query-enabled"] !== true)
    throw new KeaConfigError(
      file,
      `${field}.bulk-query-enabled`,
      "the relay asks DHCPv6 lease queries over TCP (bulk leasequery, RFC 5460): set it to true",
    );
  const any = family === 4 ? "0.0.0.0" : "::";
  if (advanced["lease-query-ip"] !== any)
    throw new KeaConfigError(
      file,
      `${field}.lease-query-ip`,
      `${JSON.stringify(advanced["lease-query-ip"] ?? (family === 4 ? "127.0.0.1" : "::1"))}: the relay asks from the VRF's backend network: set "${any}"`,
    );
  const port = advanced["lease-query-tcp-port"];
  return { index, bulkPort: typeof port === "number" ? port : family === 4 ? 67 : 547 };
}

/** The configuration with `requester` among its lease_query hook's requesters (unchanged without the hook). */
export function withRequester(file: string, text: string, family: 4 | 6, requester: string): string {
  const lq = leaseQueryOf(file, text, family);
  if (!lq) return text;
  const json = parseKeaJson(text, file);
  const hook = ((json[`Dhcp${family}`] as Obj)["hooks-libraries"] as Obj[])[lq.index] as Obj;
  const parameters = isObj(hook.parameters) ? hook.parameters : {};
  const requesters = Array.isArray(parameters.requesters) ? parameters.requesters : [];
  if (requesters.includes(requester)) return text;
  hook.parameters = { ...parameters, requesters: [...requesters, requester] };
  return `// Written by dhcplab from ${file}, with the relay's ${requester} among the lease_query hook's requesters: edit that, not this.\n${JSON.stringify(json, null, 2)}\n`;
}
