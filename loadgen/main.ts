import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { parseArgs } from "node:util";
import { runDora, type Wire } from "./dora.ts";

// dhcplab's DHCPv4 load generator (`dhcplab load --engine clients`): simulated clients on the
// access link, as real ones send (from port 68, broadcast, giaddr 0, hops 0), so that the relay
// runs its first-hop path. Prints one JSON report on stdout. Runs in the relay's image (Node).

const { values } = parseArgs({
  options: {
    mac: { type: "string" },
    clients: { type: "string", default: "50" },
    rate: { type: "string", default: "50" },
    duration: { type: "string", default: "5" },
    "timeout-ms": { type: "string", default: "2000" },
    // Where DISCOVERs go: the limited broadcast, as a client with no address sends them.
    to: { type: "string", default: "255.255.255.255" },
    // As a relay agent on the server's link: giaddr this address ("auto": the container's own),
    // from and to port 67. A baseline without a relay, for servers that hear no broadcasts.
    giaddr: { type: "string" },
    // From this second on, a growing secs (seconds since then, plus one), as perfdhcp's -Y.
    "secs-after": { type: "string" },
  },
});

function positive(name: string, v: string | undefined): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} ${v}: a positive number`);
  return n;
}

function atLeastZero(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} ${v}: a number of seconds, 0 or more`);
  return n;
}

async function main(): Promise<void> {
  // 1. What to run.
  if (!values.mac) throw new Error("--mac BASE is required");
  const options = {
    mac: values.mac,
    clients: positive("clients", values.clients),
    rate: positive("rate", values.rate),
    seconds: positive("duration", values.duration),
    timeoutMs: positive("timeout-ms", values["timeout-ms"]),
    giaddr: values.giaddr === "auto" ? ownIpv4() : values.giaddr,
    secsAfter:
      values["secs-after"] === undefined ? undefined : atLeastZero("secs-after", values["secs-after"]),
  };

  // 2. The clients' port 68 (a relay's 67), broadcast allowed, buffers for a second of replies.
  const socket = createSocket({ type: "udp4", recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 });
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(options.giaddr ? 67 : 68, "0.0.0.0", () => resolve());
  });
  socket.setBroadcast(true);
  const to = values.to;
  let sendFailures = 0;
  const wire: Wire = {
    send: (bytes) =>
      socket.send(bytes, 67, to, (err) => {
        if (err) sendFailures++;
      }),
    onMessage: (receive) => socket.on("message", (msg) => receive(msg)),
  };

  // 3. The run, then its report.
  const report = { ...(await runDora(wire, options)), sendFailures };
  socket.close();
  process.stdout.write(`${JSON.stringify(report)}\n`);
  // As perfdhcp: 3 when some exchange went unanswered or was refused.
  process.exitCode = report.exchanges.every((e) => e.drops === 0) && report.naks === 0 ? 0 : 3;
}

/** The container's own IPv4 address (its one interface besides loopback). */
function ownIpv4(): string {
  for (const addrs of Object.values(networkInterfaces())) {
    for (const a of addrs ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  }
  throw new Error("--giaddr auto: no IPv4 address on any interface");
}

main().catch((err: unknown) => {
  process.stderr.write(`dhcplab-loadgen: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
