import type Docker from "dockerode";
import type { KeaEndpoint } from "../model/kea-config.ts";
import { exec } from "./engine.ts";

/** One answer from a Kea server, as the control agent relays it. */
export interface KeaAnswer<T = unknown> {
  result: number;
  text?: string;
  arguments?: T;
}

const CURL_TIMED_OUT = 28;

/** Kea's result codes (Kea ARM, "Management API"). */
export const KEA_RESULT = { success: 0, error: 1, unsupported: 2, empty: 3, conflict: 4 } as const;

/**
 * Sends `command` to a Kea server inside its container: to its own HTTP control socket (Kea
 * 3.0), or through the control agent (Kea 2.6, `service` set). It is reached from within the
 * container (docker exec), so this works for any DOCKER_HOST and never needs a route from the
 * host into the lab's internal networks. The answer is awaited `timeoutSeconds` (5: the lab's own
 * questions are quick ones).
 */
export async function keaCommand<T = unknown>(
  docker: Docker,
  containerId: string,
  command: string,
  endpoint: KeaEndpoint,
  args?: Record<string, unknown>,
  timeoutSeconds = 5,
): Promise<KeaAnswer<T>> {
  const body = JSON.stringify({
    command,
    ...(endpoint.service ? { service: [endpoint.service] } : {}),
    ...(args ? { arguments: args } : {}),
  });
  const res = await exec(docker, containerId, [
    "curl",
    "-sS",
    "--max-time",
    String(timeoutSeconds),
    "-H",
    "Content-Type: application/json",
    "-d",
    body,
    endpoint.url,
  ]);
  if (res.exitCode !== 0) {
    // curl's exit code 28: --max-time ran out.
    const when = res.exitCode === CURL_TIMED_OUT ? ` within ${timeoutSeconds} s` : "";
    throw new Error(
      `Kea in ${containerId.slice(0, 12)} did not answer ${command} at ${endpoint.url}${when}: ${res.stderr.trim()}`,
    );
  }
  const answers = JSON.parse(res.stdout) as KeaAnswer<T>[];
  const answer = answers[0];
  if (!answer) throw new Error(`Kea answered ${command} with no result`);
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
  cltt: number;
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
  cltt: number;
  state: number;
  "user-context"?: Record<string, unknown>;
}

/** Every lease a Kea server holds for `family` (none when it holds none). */
export async function allLeases(
  docker: Docker,
  containerId: string,
  family: 4,
  endpoint: KeaEndpoint,
): Promise<Lease4[]>;
export async function allLeases(
  docker: Docker,
  containerId: string,
  family: 6,
  endpoint: KeaEndpoint,
): Promise<Lease6[]>;
export async function allLeases(
  docker: Docker,
  containerId: string,
  family: 4 | 6,
  endpoint: KeaEndpoint,
): Promise<Lease4[] | Lease6[]> {
  const answer = await keaCommand<{ leases: Lease4[] | Lease6[] }>(
    docker,
    containerId,
    `lease${family}-get-all`,
    endpoint,
  );
  if (answer.result === KEA_RESULT.empty) return [];
  if (answer.result !== KEA_RESULT.success) {
    throw new Error(`lease${family}-get-all failed: ${answer.text ?? `result ${answer.result}`}`);
  }
  return answer.arguments?.leases ?? [];
}

/** Sends `command` and returns its arguments; throws with Kea's text when it does not succeed. */
async function keaMust<T>(
  docker: Docker,
  containerId: string,
  command: string,
  endpoint: KeaEndpoint,
  args?: Record<string, unknown>,
): Promise<T | undefined> {
  const answer = await keaCommand<T>(docker, containerId, command, endpoint, args);
  if (answer.result !== KEA_RESULT.success)
    throw new Error(`Kea refused ${command}: ${answer.text ?? `result ${answer.result}`}`);
  return answer.arguments;
}

/** Kea reads the configuration file it was started with again (config-reload); its leases stay. */
export async function keaReload(docker: Docker, containerId: string, endpoint: KeaEndpoint): Promise<void> {
  await keaMust(docker, containerId, "config-reload", endpoint);
}

/** A server's running configuration (config-get), without its hash: what config-set takes back. */
export async function keaConfigGet(
  docker: Docker,
  containerId: string,
  endpoint: KeaEndpoint,
): Promise<Record<string, Record<string, unknown>>> {
  const { hash: _, ...config } =
    (await keaMust<Record<string, unknown>>(docker, containerId, "config-get", endpoint)) ?? {};
  return config as Record<string, Record<string, unknown>>;
}

/** Sets a server's configuration in memory (config-set). */
export async function keaConfigSet(
  docker: Docker,
  containerId: string,
  endpoint: KeaEndpoint,
  config: Record<string, unknown>,
): Promise<void> {
  await keaMust(docker, containerId, "config-set", endpoint, config);
}
