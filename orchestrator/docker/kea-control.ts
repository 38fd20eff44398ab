import type Docker from "dockerode";
import { exec } from "./engine.ts";

/** A Kea service behind the control agent. */
export type KeaService = "dhcp4" | "dhcp6";

/** One answer from a Kea server, as the control agent relays it. */
export interface KeaAnswer<T = unknown> {
  result: number;
  text?: string;
  arguments?: T;
}

/** Kea's result codes (Kea ARM, "Management API"). */
export const KEA_RESULT = { success: 0, error: 1, unsupported: 2, empty: 3 } as const;

/**
 * Sends `command` to the control agent inside a Kea container. The agent is reached
 * from within the container (docker exec), so this works for any DOCKER_HOST and
 * never needs a route from the host into the lab's internal networks.
 */
export async function keaCommand<T = unknown>(
  docker: Docker,
  containerId: string,
  command: string,
  service: KeaService,
  args?: Record<string, unknown>,
): Promise<KeaAnswer<T>> {
  const body = JSON.stringify({ command, service: [service], ...(args ? { arguments: args } : {}) });
  const res = await exec(docker, containerId, [
    "curl",
    "-sS",
    "--max-time",
    "5",
    "-H",
    "Content-Type: application/json",
    "-d",
    body,
    "http://127.0.0.1:8000/",
  ]);
  if (res.exitCode !== 0) {
    throw new Error(
      `control agent in ${containerId.slice(0, 12)} did not answer ${command}: ${res.stderr.trim()}`,
    );
  }
  const answers = JSON.parse(res.stdout) as KeaAnswer<T>[];
  const answer = answers[0];
  if (!answer) throw new Error(`control agent answered ${command} with no result`);
  return answer;
}

/** A DHCPv4 lease as lease4-get-all returns it (the fields dhcplab reads). */
export interface Lease4 {
  "ip-address": string;
  "hw-address": string;
  "subnet-id": number;
  "client-id"?: string;
  hostname?: string;
  "valid-lft": number;
  state: number;
  "user-context"?: Record<string, unknown>;
}

/** A DHCPv6 lease as lease6-get-all returns it (the fields dhcplab reads). */
export interface Lease6 {
  "ip-address": string;
  duid: string;
  "hw-address"?: string;
  "subnet-id": number;
  type: string;
  "prefix-len": number;
  iaid: number;
  "valid-lft": number;
  state: number;
  "user-context"?: Record<string, unknown>;
}

/** Every lease a Kea server holds for `family` (none when it holds none). */
export async function allLeases(docker: Docker, containerId: string, family: 4): Promise<Lease4[]>;
export async function allLeases(docker: Docker, containerId: string, family: 6): Promise<Lease6[]>;
export async function allLeases(
  docker: Docker,
  containerId: string,
  family: 4 | 6,
): Promise<Lease4[] | Lease6[]> {
  const answer = await keaCommand<{ leases: Lease4[] | Lease6[] }>(
    docker,
    containerId,
    `lease${family}-get-all`,
    family === 4 ? "dhcp4" : "dhcp6",
  );
  if (answer.result === KEA_RESULT.empty) return [];
  if (answer.result !== KEA_RESULT.success) {
    throw new Error(`lease${family}-get-all failed: ${answer.text ?? `result ${answer.result}`}`);
  }
  return answer.arguments?.leases ?? [];
}
