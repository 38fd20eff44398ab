import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { accessSegments, type RelayConfig } from "./config.ts";
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
  // IPv6: each VRF's client-subnet routers on the first segment, as its IPv4 gateways are (no
  // duplicate address detection: the address is the relay's by configuration).
  const first = interfaceWith(config.access.ipv4);
  for (const v of config.vrfs) {
    for (const gateway of v.gateways6) {
      execFileSync("ip", ["-6", "address", "replace", gateway, "dev", first, "nodad"]);
      log.info({ gateway, vrf: v.name, dev: first }, "holding a client gateway address");
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

/**
 * Whether the relay's namespace routes nothing but what it must. With forwarding on and no
 * guard, a host on one VRF's network could route through the relay into another's: the relay
 * is then not ready, and says why. Forwarding is on only behind the relay's forward chain
 * (routing.ts), whose policy is drop.
 */
export function isolated(chainInPlace: () => boolean): { ok: boolean; detail?: string } {
  const on = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"].filter(
    (f) => (readSysctl(f) ?? "0") !== "0",
  );
  if (on.length === 0 || chainInPlace()) return { ok: true };
  return {
    ok: false,
    detail: `IP forwarding is on (${on.join(", ")}) but the dhcplab forward chain is missing: VRFs are not isolated`,
  };
}

function readSysctl(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}
