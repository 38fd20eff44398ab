import { createServer, type Server } from "node:http";
import type { Logger } from "pino";
import type { Counters } from "./counters.ts";
import type { Delegation } from "./delegations.ts";
import type { Health } from "./health.ts";

/**
 * The relay's HTTP surface: /healthz (readiness), /metrics (Prometheus text), /counters (JSON),
 * /delegations (the delegated prefixes it routes, JSON).
 */
export async function serveHttp(
  port: number,
  o: { health: Health; counters: Counters; log: Logger; delegations?: () => Delegation[] },
): Promise<Server> {
  const server = createServer((req, res) => {
    if (req.url === "/healthz") {
      const report = o.health.report();
      res
        .writeHead(report.ready ? 200 : 503, { "content-type": "application/json" })
        .end(`${JSON.stringify(report)}\n`);
    } else if (req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(o.counters.prometheus());
    } else if (req.url === "/counters") {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(o.counters.toJSON()));
    } else if (req.url === "/delegations" && o.delegations) {
      // validUntil as seconds left (Infinity is no JSON): what a person reading the table wants.
      const now = Date.now();
      const rows = o.delegations().map(({ validUntil, ...d }) => ({
        ...d,
        validSeconds: Number.isFinite(validUntil) ? Math.max(0, Math.round((validUntil - now) / 1000)) : null,
      }));
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(rows));
    } else {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
    }
  });
  // A broken request or a failed accept must not end the relay.
  server.on("clientError", (err, socket) => {
    o.log.debug({ error: err.message }, "bad HTTP request");
    socket.destroy();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (err) => o.log.error({ error: err.message }, "HTTP server error"));
  return server;
}
