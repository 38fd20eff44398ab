import type Docker from "dockerode";
import { KEA_RESULT, keaCommand } from "./kea-control.ts";
import type { LabState } from "./lab.ts";
import { waitFor } from "./wait.ts";

/** One HA peer's view of its pair for one family, as Kea's status-get reports it. */
export interface HaServerState {
  vrf: string;
  /** The peer's service name (`kea-red-1`), which is also its name in the HA configuration. */
  server: string;
  family: 4 | 6;
  mode: string;
  /** primary, standby or secondary. */
  role?: string;
  /**
   * Its state as Kea names it (hot-standby, load-balancing, partner-down, waiting, syncing, ready,
   * ...); `down` when its container is not running, `unknown` when it did not answer.
   */
  state: string;
  /** The scopes (peer names) whose clients it serves. */
  scopes: string[];
  partner?: { name: string; state: string; communicationInterrupted?: boolean; unackedClients?: number };
}

interface StatusGet {
  "high-availability"?: {
    "ha-mode": string;
    "ha-servers": {
      local: { role: string; scopes: string[]; "server-name": string; state: string };
      remote?: {
        "server-name": string;
        "last-state"?: string;
        "communication-interrupted"?: boolean;
        "unacked-clients"?: number;
      };
    };
  }[];
}

/** Every HA peer's state in the lab, per family (none when the lab has no HA pair). */
export async function haStates(docker: Docker, lab: LabState): Promise<HaServerState[]> {
  const prefix = `${lab.name}-`;
  const peers = lab.keas.filter((k) => k.ha);
  const states = await Promise.all(
    peers.flatMap((k) =>
      k.families.map(async (family): Promise<HaServerState> => {
        const base = { vrf: k.vrf, server: k.name.slice(prefix.length), family, mode: k.ha ?? "" };
        const endpoint = k.control[`dhcp${family}`];
        if (k.state !== "running" || !endpoint) return { ...base, state: "down", scopes: [] };
        const answer = await keaCommand<StatusGet>(docker, k.id, "status-get", endpoint).catch(
          () => undefined,
        );
        const servers =
          answer?.result === KEA_RESULT.success ? answer.arguments?.["high-availability"]?.[0] : undefined;
        if (!servers) return { ...base, state: "unknown", scopes: [] };
        const { local, remote } = servers["ha-servers"];
        return {
          ...base,
          mode: servers["ha-mode"],
          role: local.role,
          state: local.state,
          scopes: local.scopes,
          partner: remote && {
            name: remote["server-name"],
            state: remote["last-state"] ?? "",
            communicationInterrupted: remote["communication-interrupted"],
            unackedClients: remote["unacked-clients"],
          },
        };
      }),
    ),
  );
  return states.sort((a, b) => a.server.localeCompare(b.server) || a.family - b.family);
}

/**
 * Waits until every HA peer of the lab is in its mode's normal state (hot-standby,
 * load-balancing): after start-up each goes through waiting, syncing and ready first, and serves
 * no client until then. Fails with every peer's state at the deadline.
 */
export async function waitHaNormal(docker: Docker, lab: LabState, timeoutMs: number): Promise<void> {
  await waitFor(
    "HA pairs in their normal state",
    async () => {
      const states = await haStates(docker, lab);
      return states.every((s) => s.state === s.mode)
        ? { done: true, value: undefined }
        : { done: false, seen: states.map((s) => `${s.server} DHCPv${s.family} ${s.state}`).join(", ") };
    },
    { timeoutMs, intervalMs: 500 },
  );
}
