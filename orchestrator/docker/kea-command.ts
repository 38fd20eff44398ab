import type Docker from "dockerode";
import { keaCommand } from "./kea-control.ts";
import type { LabState } from "./lab.ts";
import { runningKeas } from "./leases.ts";

/**
 * One command to one Kea server of a running lab, as its control surface takes it (Kea ARM,
 * "Management API"): `ha-sync`, `config-get`, `lease4-get`, any the server's hooks add.
 */
export interface KeaCommandRequest {
  /** The Kea service: `kea-red`, or an HA peer, `kea-red-2`. */
  server: string;
  /** The daemon that takes it: kea-dhcp4 (4, the default) or kea-dhcp6 (6). */
  family?: 4 | 6;
  /** The command, as Kea's Management API names it: `ha-sync`, `config-get`, `lease4-get`. */
  command: string;
  /** The command's `arguments`. */
  arguments?: Record<string, unknown>;
  /**
   * How long to wait for the answer, in seconds (60): Kea answers some commands only when they
   * are done, `ha-sync` once every page of its partner's leases is fetched.
   */
  timeoutSeconds?: number;
}

/** The server's answer, as Kea gave it, with the server and daemon it came from. */
export interface KeaCommandAnswer {
  /** The Kea service that answered: `kea-red-2`. */
  server: string;
  /** Its daemon: kea-dhcp4 (4) or kea-dhcp6 (6). */
  family: 4 | 6;
  /** The command sent. */
  command: string;
  /** Kea's result: 0 success, 1 error, 2 unsupported, 3 empty (nothing found), 4 conflict. */
  result: number;
  /** Kea's words on it. */
  text?: string;
  /** What the command returned, as Kea gave it. */
  arguments?: unknown;
}

/**
 * Sends the command to the server's own daemon for the family, from inside its container (Kea
 * 3.0's HTTP control socket, or Kea 2.6's control agent with the daemon as `service`).
 */
export async function sendKeaCommand(
  docker: Docker,
  lab: LabState,
  r: KeaCommandRequest,
): Promise<KeaCommandAnswer> {
  const family = r.family ?? 4;
  const [kea] = runningKeas(lab, { server: r.server }, "it takes no commands");
  // A Kea has an endpoint for each family it serves, and only for those.
  const endpoint = kea?.control[`dhcp${family}`];
  if (!kea || !endpoint) throw new Error(`${r.server} runs no DHCPv${family} server`);
  const seconds = r.timeoutSeconds ?? 60;
  const answer = await keaCommand(docker, kea.id, r.command, endpoint, r.arguments, seconds).catch(
    (e: unknown) => {
      throw new Error(`${r.server} (kea-dhcp${family}): ${e instanceof Error ? e.message : String(e)}`);
    },
  );
  return {
    server: r.server,
    family,
    command: r.command,
    result: answer.result,
    ...(answer.text !== undefined ? { text: answer.text } : {}),
    ...(answer.arguments !== undefined ? { arguments: answer.arguments } : {}),
  };
}
