import { execFileSync } from "node:child_process";
import type { Logger } from "pino";
import { accessSegments, homeSegment, type RelayConfig } from "./config.ts";
import { interfaceWith } from "./sockets.ts";

/**
 * Takes the addresses the relay holds beyond Docker's: in giaddr mode a VRF's link address on
 * that VRF's interface (the server answers it), and the clients' gateways on each access
 * segment's interface, IPv4 and IPv6 (the relay is their router, as a real relay is). Needs NET_ADMIN.
 */
export function holdAddresses(config: RelayConfig, log: Logger): void {
  for (const v of config.vrfs.filter((v) => v.subnetSelection === "giaddr" && v.link4 && v.ipv4)) {
    const dev = interfaceWith(v.ipv4 as string);
    execFileSync("ip", ["address", "replace", `${v.link4}/32`, "dev", dev]);
    log.info({ vrf: v.name, address: v.link4, dev }, "holding the link address for giaddr mode");
  }
  for (const segment of accessSegments(config)) {
    const dev = interfaceWith(segment.ipv4);
    for (const gateway of segment.gateways) {
      execFileSync("ip", ["address", "replace", gateway, "dev", dev]);
      log.info({ gateway, segment: segment.name, dev }, "holding a client gateway address");
    }
  }
  // IPv6: each VRF's client-subnet routers on its first segment, as its IPv4 gateways are (no
  // duplicate address detection: the address is the relay's by configuration, and VRFs whose
  // address spaces overlap hold the same one, each on its own segment).
  for (const v of config.vrfs) {
    const dev = interfaceWith(homeSegment(config, v).ipv4);
    for (const gateway of v.gateways6) {
      execFileSync("ip", ["-6", "address", "replace", gateway, "dev", dev, "nodad"]);
      log.info({ gateway, vrf: v.name, dev }, "holding a client gateway address");
    }
  }
}

/** Every IPv4 address the relay holds: a giaddr equal to one of them is a loop or a forgery. */
export function ownAddresses4(config: RelayConfig): string[] {
  return [
    ...accessSegments(config).flatMap((s) => [s.ipv4, ...s.gateways.map((g) => g.split("/")[0] as string)]),
    ...config.vrfs.flatMap((v) => [v.ipv4, v.subnetSelection === "giaddr" ? v.link4 : undefined]),
  ].filter((a): a is string => a !== undefined);
}
