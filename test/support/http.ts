import type { Lab } from "../../orchestrator/index.ts";

/**
 * An HTTP GET from inside a lab service's container, within 2 s: curl's exit code, and on stdout
 * the status code ("000" when nothing answered).
 */
export function httpGetFrom(lab: Lab, service: string, url: string) {
  return lab.exec(service, ["curl", "-sS", "--max-time", "2", "-o", "/dev/null", "-w", "%{http_code}", url]);
}

/** An address as a URL's host: IPv6 in brackets. */
export const urlHost = (address: string) => (address.includes(":") ? `[${address}]` : address);
