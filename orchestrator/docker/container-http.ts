import type Docker from "dockerode";
import { exec } from "./engine.ts";

// HTTP asked from inside a lab container (docker exec curl on its loopback): this works for any
// DOCKER_HOST, needs no route into the lab's internal networks, and is the only place the relay's
// control endpoints answer (relay/agent/http.ts). The relay's and Prometheus's JSON are read so.

/** An answer other than 2xx, with the reason it gave. */
export class HttpRefused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Sends one request to `url` from inside `container` and returns its JSON answer. */
export async function httpInContainer<T>(
  docker: Docker,
  container: string,
  url: string,
  o: { method?: "GET" | "POST" | "PUT"; body?: string } = {},
): Promise<T> {
  const marker = "\n#status=";
  const r = await exec(docker, container, [
    "curl",
    "-sS",
    "--max-time",
    "10",
    "-X",
    o.method ?? "GET",
    // --data-raw: a body starting with @ is text, never a file curl reads in the container.
    ...(o.body === undefined ? [] : ["--data-raw", o.body]),
    "-w",
    `${marker}%{http_code}`,
    url,
  ]);
  const path = new URL(url).pathname;
  if (r.exitCode !== 0) throw new Error(`${container} did not answer ${path}: ${r.stderr.trim()}`);
  const at = r.stdout.lastIndexOf(marker);
  const status = Number(r.stdout.slice(at + marker.length));
  const text = r.stdout.slice(0, at);
  if (status < 200 || status > 299) {
    let reason = text.trim();
    try {
      reason = (JSON.parse(text) as { error?: string }).error ?? reason;
    } catch {}
    throw new HttpRefused(status, `${container} refused ${path}: ${reason}`);
  }
  return JSON.parse(text) as T;
}

/** One of the relay's endpoints (`/counters`, `/explain`, ...), asked in its container. */
export function relayRequest<T>(
  docker: Docker,
  container: string,
  path: string,
  o: { method?: "GET" | "POST" | "PUT"; body?: string; port?: number } = {},
): Promise<T> {
  return httpInContainer<T>(docker, container, `http://127.0.0.1:${o.port ?? 9100}${path}`, o);
}

/** The relay's counters: metric name, then the series' label text, then its value. */
export type RelayCounters = Record<string, Record<string, number>>;

/** The sum of a counter's series whose labels include `match`. */
export function counterSum(
  counters: RelayCounters,
  name: string,
  match: Record<string, string | number> = {},
) {
  const want = Object.entries(match).map(([k, v]) => `${k}="${v}"`);
  return Object.entries(counters[name] ?? {})
    .filter(([labels]) => want.every((w) => labels.split(",").includes(w)))
    .reduce((n, [, v]) => n + v, 0);
}
