// What a container's sockets hold unread: the bench pauses the relays not under test, and a paused
// relay's sockets keep taking the clients' broadcasts and multicasts of every other path's runs, up
// to their receive buffers (dhcplab's and node-floor's ask 4 MiB, which the kernel doubles;
// isc-dhcp-relay's packet socket has the default). Unpaused, a relay would relay that backlog to Kea
// during its own run. The bench waits for it to drain first, in the relay and then in Kea.
import { readFile } from "node:fs/promises";

/**
 * Bytes queued to be read in every UDP (IPv4 and IPv6) and packet socket of the network namespace
 * of the process `pid`, from the host's /proc: the rx_queue column of net/udp and net/udp6 (hex,
 * after the colon of "tx_queue:rx_queue"), and the Rmem column of net/packet (decimal).
 */
export async function queuedBytes(pid: number): Promise<number> {
  const table = (name: string) => readFile(`/proc/${pid}/net/${name}`, "utf8").catch(() => "");
  const [udp, udp6, packet] = await Promise.all([table("udp"), table("udp6"), table("packet")]);
  let bytes = 0;
  for (const line of `${udp}\n${udp6}`.split("\n").slice(1)) {
    const queues = line.trim().split(/\s+/)[4];
    if (queues?.includes(":")) bytes += Number.parseInt(queues.split(":")[1] ?? "0", 16) || 0;
  }
  for (const line of packet.split("\n").slice(1)) {
    const rmem = line.trim().split(/\s+/)[6];
    if (rmem) bytes += Number(rmem) || 0;
  }
  return bytes;
}

/**
 * Waits until no socket of any of `pids` holds anything unread, three polls 100 ms apart in a row
 * (Kea answers what the relay hands it after the relay's own queue is empty). Returns how long it
 * waited and how much was queued at first; throws after `deadlineMs`.
 */
export async function drained(
  pids: number[],
  deadlineMs = 60_000,
): Promise<{ waitedMs: number; queuedAtFirst: number }> {
  const t0 = performance.now();
  let quiet = 0;
  let first: number | undefined;
  for (;;) {
    const queued = (await Promise.all(pids.map(queuedBytes))).reduce((a, b) => a + b, 0);
    first ??= queued;
    quiet = queued === 0 ? quiet + 1 : 0;
    if (quiet >= 3) return { waitedMs: performance.now() - t0, queuedAtFirst: first };
    if (performance.now() - t0 > deadlineMs)
      throw new Error(
        `sockets of processes ${pids.join(", ")} still hold ${queued} bytes after ${deadlineMs} ms`,
      );
    await new Promise((r) => setTimeout(r, 100));
  }
}
