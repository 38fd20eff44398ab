import type Docker from "dockerode";
import { exec } from "./engine.ts";

// The relay's HTTP endpoints, asked from inside its container (docker exec curl on its loopback):
// this works for any DOCKER_HOST, needs no route into the lab's internal networks, and is the
// only place the relay's control endpoints answer (relay/agent/http.ts).

/** A relay's answer other than 2xx, with the reason it gave. */
export class RelayRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Sends one request to the relay in `container` and returns its JSON answer. */
export async function relayRequest<T>(
  docker: Docker,
  container: string,
  path: string,
  o: { method?: "GET" | "POST" | "PUT"; body?: string; port?: number } = {},
): Promise<T> {
  const marker = "\n#status=";
  const r = await exec(docker, container, [
    "curl",
    "-sS",
    "--max-time",
    "10",
    "-X",
    o.method ?? "GET",
    // --data-raw: a body starting with @ is text, never a file curl reads in the relay.
    ...(o.body === undefined ? [] : ["--data-raw", o.body]),
    "-w",
    `${marker}%{http_code}`,
    `http://127.0.0.1:${o.port ?? 9100}${path}`,
  ]);
  if (r.exitCode !== 0)
    throw new Error(`the relay (${container}) did not answer ${path}: ${r.stderr.trim()}`);
  const at = r.stdout.lastIndexOf(marker);
  const status = Number(r.stdout.slice(at + marker.length));
  const text = r.stdout.slice(0, at);
  if (status < 200 || status > 299) {
    let reason = text.trim();
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? reason;
    } catch {}
    throw new RelayRefused(status, `the relay refused ${path}: ${reason}`);
  }
  return JSON.parse(text) as T;
}
