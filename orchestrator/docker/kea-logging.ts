import type Docker from "dockerode";
import type { KeaEndpoint } from "../model/kea-config.ts";
import { keaConfigGet, keaConfigSet, keaReload } from "./kea-control.ts";
import type { LabState } from "./lab.ts";

// Kea's debug logging on and off at run time. Kea has no command for logging alone: the running
// configuration is read (config-get), its loggers changed, and set again (config-set), which Kea
// applies in memory, leases kept; config-reload goes back to the file's own loggers. Either makes
// an HA peer restart its HA service (a second or so of syncing with its partner).

/**
 * The debug level `debug` turns on: 50 shows what trace reads (classes assigned, DEBUG 40;
 * subnet selected, 45; each class expression's result, 50) without the packet dumps (55).
 */
export const KEA_DEBUG_LEVEL = 50;

/** Kea's logging: `debug` (DEBUG, level 50, on every kea-dhcp logger) or `info` (the file's own). */
export type KeaLogLevel = "debug" | "info";

/** What one server's logging became. */
export interface KeaLogChange {
  vrf: string;
  server: string;
  family: 4 | 6;
  level: KeaLogLevel;
}

/** Sets the logging of every running Kea server of the lab (or of one VRF's). */
export async function setKeaLogLevel(
  docker: Docker,
  lab: LabState,
  level: KeaLogLevel,
  o: { vrf?: string } = {},
): Promise<KeaLogChange[]> {
  const keas = lab.keas.filter((k) => (o.vrf === undefined || k.vrf === o.vrf) && k.state === "running");
  if (keas.length === 0)
    throw new Error(
      o.vrf ? `lab ${lab.name} has no running Kea in VRF ${o.vrf}` : `lab ${lab.name} has no running Kea`,
    );
  const changes: KeaLogChange[] = [];
  for (const k of keas) {
    for (const family of k.families) {
      const endpoint = k.control[`dhcp${family}`];
      if (!endpoint) continue;
      const set =
        level === "info" ? keaReload(docker, k.id, endpoint) : debugOn(docker, k.id, endpoint, family);
      await set.catch((err: Error) => {
        throw new Error(`${k.name} DHCPv${family}: ${err.message}`);
      });
      changes.push({ vrf: k.vrf, server: k.name.slice(lab.name.length + 1), family, level });
    }
  }
  return changes;
}

type Logger = { name?: string; severity?: string; debuglevel?: number; "output-options"?: unknown[] };

async function debugOn(docker: Docker, id: string, endpoint: KeaEndpoint, family: 4 | 6): Promise<void> {
  const config = await keaConfigGet(docker, id, endpoint);
  const server = config[`Dhcp${family}`];
  if (!server) throw new Error(`config-get gave no Dhcp${family}`);
  server.loggers = debugLoggers((server.loggers as Logger[] | undefined) ?? [], `kea-dhcp${family}`);
  await keaConfigSet(docker, id, endpoint, config);
}

/**
 * The loggers with kea-dhcpN and its children at DEBUG (one to stdout added when there is none),
 * but for kea-dhcpN.commands: the health checks' status-get every second would drown the rest.
 */
export function debugLoggers(loggers: readonly Logger[], root: string): Logger[] {
  const ours = loggers.filter(
    (l) => l.name === root || (l.name?.startsWith(`${root}.`) && l.name !== `${root}.commands`),
  );
  const others = loggers.filter((l) => !ours.includes(l));
  const debug = (l: Logger): Logger => ({ ...l, severity: "DEBUG", debuglevel: KEA_DEBUG_LEVEL });
  const stdout = [{ output: "stdout" }];
  const commands = loggers.some((l) => l.name === `${root}.commands`)
    ? []
    : [{ name: `${root}.commands`, "output-options": stdout, severity: "WARN" }];
  return ours.length > 0
    ? [...others, ...ours.map(debug), ...commands]
    : [...others, debug({ name: root, "output-options": stdout }), ...commands];
}
