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
 * Routes each tower's subscriber prefix to the tower over the transport network, and lets the
 * relay's namespace forward nothing but the servers' replies to those prefixes (RFC 3046 §2.1.1:
 * a relay that forwards a downstream relay's request leaves giaddr alone, so the server answers
 * the downstream relay itself): an nftables forward chain whose policy is drop, with one rule
 * per VRF backend and tower, UDP from port 67 to port 67. Needs NET_ADMIN.
 */
export function routeTowers(config: RelayConfig, log: Logger): void {
  if (!config.transport) return;
  const dev = interfaceWith(config.transport.ipv4);
  for (const t of config.transport.towers) {
    execFileSync("ip", ["route", "replace", t.giaddr, "via", t.source, "dev", dev]);
    log.info({ tower: t.name, prefix: t.giaddr, via: t.source, dev }, "routing a tower's subscribers");
  }
  const backends = config.vrfs.filter((v) => v.ipv4).map((v) => interfaceWith(v.ipv4 as string));
  const rules = backends.flatMap((b) =>
    config.transport?.towers.map(
      (t) => `iifname "${b}" oifname "${dev}" ip daddr ${t.giaddr} udp sport 67 udp dport 67 accept`,
    ),
  );
  execFileSync("nft", ["-f", "-"], {
    input: `table inet dhcplab {\n  chain forward {\n    type filter hook forward priority 0; policy drop;\n${rules.map((r) => `    ${r}\n`).join("")}  }\n}\n`,
  });
}

/** Whether the forward chain routeTowers installs is in place with its drop policy. */
function towerChainInPlace(): boolean {
  try {
    return /policy drop;/.test(
      execFileSync("nft", ["list", "chain", "inet", "dhcplab", "forward"], { encoding: "utf8" }),
    );
  } catch {
    return false;
  }
}

/**
 * Whether the relay's namespace routes nothing but what it must. With forwarding on and no
 * guard, a host on one VRF's network could route through the relay into another's: the relay
 * is then not ready, and says why. With towers, IPv4 forwarding is on for their replies only,
 * behind routeTowers' chain.
 */
export function forwardingOff(towers = false): { ok: boolean; detail?: string } {
  if (towers && readSysctl("/proc/sys/net/ipv6/conf/all/forwarding") === "0") {
    return towerChainInPlace()
      ? { ok: true }
      : { ok: false, detail: "IPv4 forwarding is on for towers but the dhcplab forward chain is missing" };
  }
  const on = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/ipv6/conf/all/forwarding"].filter(
    (f) => (readSysctl(f) ?? "0") !== "0",
  );
  return on.length === 0
    ? { ok: true }
    : { ok: false, detail: `IP forwarding is on (${on.join(", ")}): VRFs are not isolated; set it to 0` };
}

function readSysctl(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}
