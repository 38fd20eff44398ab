import { join } from "node:path";
import { DDNS_FILE, type KeaConfig } from "./kea-config.ts";
import { parseKeaJson } from "./kea-json.ts";
import type { Topology } from "./topology.ts";

// Where a VRF's Kea configuration sends to a server of the VRF's (kea-dhcp-ddns to its DNS
// server, the radius hook to its RADIUS server): the lab routes each VRF's service addresses
// from its Kea, and nothing else is reachable from an internal network. An address that is not
// the VRF's server's reaches nothing; `up` says so, naming the file and the field.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

/** Every address a configuration sends to, with its path: kea-dhcp-ddns's DNS servers, the radius hook's servers. */
export function serverAddresses(
  file: string,
  text: string,
): { path: string; address: string; kind: "dns" | "radius" }[] {
  const root = parseKeaJson(text, file);
  const found: { path: string; address: string; kind: "dns" | "radius" }[] = [];
  const ddns = root.DhcpDdns;
  if (isObj(ddns)) {
    for (const direction of ["forward-ddns", "reverse-ddns"]) {
      const d = ddns[direction];
      for (const [i, domain] of list(isObj(d) ? d["ddns-domains"] : undefined).entries())
        for (const [j, server] of list(domain["dns-servers"]).entries())
          if (typeof server["ip-address"] === "string")
            found.push({
              path: `DhcpDdns.${direction}.ddns-domains[${i}].dns-servers[${j}].ip-address`,
              address: server["ip-address"],
              kind: "dns",
            });
    }
  }
  for (const name of ["Dhcp4", "Dhcp6"]) {
    const server = root[name];
    if (!isObj(server)) continue;
    for (const [i, hook] of list(server["hooks-libraries"]).entries()) {
      if (typeof hook.library !== "string" || !/libdhcp_radius\.so$/.test(hook.library)) continue;
      const parameters = isObj(hook.parameters) ? hook.parameters : {};
      for (const service of ["access", "accounting"]) {
        const s = parameters[service];
        for (const [j, radius] of list(isObj(s) ? s.servers : undefined).entries())
          if (typeof radius.name === "string")
            found.push({
              path: `${name}.hooks-libraries[${i}].parameters.${service}.servers[${j}].name`,
              address: radius.name,
              kind: "radius",
            });
      }
    }
  }
  return found;
}

/** Where a VRF's Kea sends to a DNS or RADIUS server that is not the VRF's (or the VRF has none). */
export function serviceAddressWarnings(topology: Topology, keas: readonly KeaConfig[]): string[] {
  return keas.flatMap((k) => {
    const v = topology.vrfs.find((x) => x.name === k.vrf);
    const own = { dns: v?.dnsServer?.address, radius: v?.radiusServer?.address };
    const field = { dns: "dnsServer", radius: "radiusServer" };
    return ["kea-dhcp4.conf", "kea-dhcp6.conf", DDNS_FILE].flatMap((name) => {
      const bytes = k.files[name];
      if (!bytes) return [];
      const file = join(k.dir, name);
      return serverAddresses(file, bytes.toString())
        .filter((s) => s.address !== own[s.kind])
        .map((s) =>
          own[s.kind]
            ? `${file}: ${s.path} is ${s.address}, not VRF ${k.vrf}'s ${field[s.kind]} ${own[s.kind]}: it reaches no server`
            : `${file}: ${s.path} is ${s.address}, but VRF ${k.vrf} has no ${field[s.kind]}: it reaches no server`,
        );
    });
  });
}
