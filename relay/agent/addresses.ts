import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Logger } from "pino";
import { accessSegments, type RelayConfig } from "./config.ts";
import { interfaceWith } from "./sockets.ts";

/**
 * Takes the addresses the relay holds beyond Docker's: in giaddr mode a VRF's link address on
 * that VRF's interface (the server answers it), and the clients' gateways on each access
 * segment's interface (the relay is their router, as a real relay is). Needs NET_ADMIN.
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
}

/** Every IPv4 address the relay holds: a giaddr equal to one of them is a loop or a forgery. */
export function ownAddresses4(config: RelayConfig): string[] {
  return [
    ...accessSegments(config).flatMap((s) => [s.ipv4, ...s.gateways.map((g) => g.split("/")[0] as string)]),
    ...config.vrfs.flatMap((v) => [v.ipv4, v.subnetSelection === "giaddr" ? v.link4 : undefined]),
  ].filter((a): a is string => a !== undefined);
}

/**
 * Whether the relay's namespace routes nothing. With forwarding on, a host on one VRF's network
 * could route through the relay into another's: the relay is then not ready, and says why.
 */
export function forwardingOff(): { ok: boolean; detail?: string } {
  const on = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"].filter((f) => {
    try {
      return readFileSync(f, "utf8").trim() !== "0";
    } catch {
      return false;
    }
  });
  return on.length === 0
    ? { ok: true }
    : { ok: false, detail: `IP forwarding is on (${on.join(", ")}): VRFs are not isolated; set it to 0` };
}
