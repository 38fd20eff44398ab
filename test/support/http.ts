import type Docker from "dockerode";
import { exec } from "../../orchestrator/docker/engine.ts";

/**
 * An HTTP GET from inside a lab container, within 2 s: curl's exit code, and on stdout the status
 * code ("000" when nothing answered).
 */
export function httpGetFrom(docker: Docker, containerId: string, url: string) {
  return exec(docker, containerId, [
    "curl",
    "-sS",
    "--max-time",
    "2",
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
    url,
  ]);
}

/** An address as a URL's host: IPv6 in brackets. */
export const urlHost = (address: string) => (address.includes(":") ? `[${address}]` : address);
