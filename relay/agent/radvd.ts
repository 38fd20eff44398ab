import { type ChildProcess, spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Logger } from "pino";
import { networkOf6 } from "../../lib/codec/prefix.ts";
import { homeSegment, type RelayConfig, type RouterAdvertisements } from "./config.ts";
import type { Health } from "./health.ts";
import { interfaceWith } from "./sockets.ts";

// Router advertisements on the access segments, as the clients' first-hop router sends them
// (RFC 4861 §6.2): the M and O flags tell hosts to use DHCPv6 for addresses and for other
// configuration (RFC 4861 §4.2), and each VRF's client subnet is announced on-link but not for
// SLAAC (A = 0, RFC 4861 §4.6.2), since DHCPv6 assigns the addresses. Debian's radvd sends them.

const CONFIG_FILE = "/run/dhcplab-radvd.conf";

/** One access interface and the prefixes announced on it. */
export interface RaInterface {
  dev: string;
  prefixes: string[];
}

/** radvd's configuration for the interfaces. Pure. */
export function radvdConfig(ra: RouterAdvertisements, interfaces: readonly RaInterface[]): string {
  const on = (b: boolean) => (b ? "on" : "off");
  // RFC 4861 §6.2.1: MinRtrAdvInterval defaults to a third of the maximum (at least 3 s).
  const min = Math.max(3, Math.floor(ra.interval / 3));
  return interfaces
    .map((i) =>
      [
        `interface ${i.dev} {`,
        "  AdvSendAdvert on;",
        `  AdvManagedFlag ${on(ra.managed)};`,
        `  AdvOtherConfigFlag ${on(ra.other)};`,
        `  MinRtrAdvInterval ${min};`,
        `  MaxRtrAdvInterval ${ra.interval};`,
        `  AdvDefaultLifetime ${ra.lifetime};`,
        ...i.prefixes.flatMap((p) => [
          `  prefix ${p} {`,
          "    AdvOnLink on;",
          "    AdvAutonomous off;",
          "  };",
        ]),
        "};",
      ].join("\n"),
    )
    .join("\n");
}

/** The interfaces a configuration advertises on: every access segment, each VRF's prefixes on its first. */
export function raInterfaces(config: RelayConfig): RaInterface[] {
  const announce = config.routerAdvertisements?.prefixes !== false;
  return [config.access, ...config.segments].map((s) => ({
    dev: interfaceWith(s.ipv4),
    prefixes: announce
      ? config.vrfs
          .filter((v) => homeSegment(config, v).name === s.name)
          .flatMap((v) => v.gateways6.map(networkOf6))
      : [],
  }));
}

/**
 * Starts radvd in the foreground for the configuration's access segments, when it asks for
 * router advertisements. Its exit makes the relay not ready (health check
 * "router-advertisements"), with its last words.
 */
export function startRouterAdvertisements(
  config: RelayConfig,
  health: Health,
  log: Logger,
): ChildProcess | undefined {
  const ra = config.routerAdvertisements;
  if (!ra) return undefined;
  const interfaces = raInterfaces(config);
  writeFileSync(CONFIG_FILE, `${radvdConfig(ra, interfaces)}\n`);
  const child = spawn(
    "radvd",
    ["--nodaemon", "--config", CONFIG_FILE, "--logmethod", "stderr", "--pidfile", "/run/dhcplab-radvd.pid"],
    {
      stdio: ["ignore", "ignore", "pipe"],
    },
  );
  let last = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    last = (last + chunk).slice(-500);
    for (const line of chunk.split("\n").filter((l) => l.trim())) log.info({ radvd: line.trim() }, "radvd");
  });
  health.set("router-advertisements", true);
  child.on("exit", (code, signal) => {
    const detail = `radvd exited (${signal ?? `status ${code}`}): ${last.trim().split("\n").at(-1) ?? ""}`;
    health.set("router-advertisements", false, detail);
    log.error({ code, signal }, detail);
  });
  child.on("error", (err) => health.set("router-advertisements", false, `radvd: ${err.message}`));
  log.info({ interfaces, managed: ra.managed, other: ra.other }, "sending router advertisements");
  return child;
}
