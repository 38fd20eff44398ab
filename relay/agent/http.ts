import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Logger } from "pino";
import type { Explanation } from "../../lib/decision.ts";
import type { LeaseQuery } from "../../lib/leasequery.ts";
import { LOG_LEVELS, type LogLevel } from "../../lib/log-level.ts";
import type { Counters } from "./counters.ts";
import type { Delegation } from "./delegations.ts";
import type { Health } from "./health.ts";
import type { JournalEntry } from "./journal.ts";
import type { ServerAnswer } from "./leasequery.ts";

/** What the relay answers besides its health and counters: the dev loop's questions (loopback only). */
export interface Control {
  explain(request: unknown): Explanation;
  trace(q: { mac?: string; duid?: string; family?: 4 | 6; limit?: number }): JournalEntry[];
  logLevel: { get(): string; set(level: LogLevel): void };
  /** The relay's own lease query to a VRF's servers (RFC 4388, RFC 5460): each server's answer. */
  leaseQuery(vrf: string, q: LeaseQuery): Promise<ServerAnswer[]>;
}

/** A request the relay refuses, with its HTTP status. */
class Refused extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

/**
 * The relay's HTTP surface: /healthz (readiness), /metrics (Prometheus text), /counters (JSON),
 * /delegations (the delegated prefixes it routes, JSON); and, from the relay's own loopback only
 * (docker exec, never a lab network), POST /explain, GET /trace and GET or PUT /log-level.
 */
export async function serveHttp(
  port: number,
  o: {
    health: Health;
    counters: Counters;
    log: Logger;
    delegations?: () => Delegation[];
    control?: Control;
  },
): Promise<Server> {
  const json = (res: import("node:http").ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(`${JSON.stringify(body)}\n`);
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://relay");
    const route = `${req.method} ${url.pathname}`;
    if (url.pathname === "/healthz") {
      const report = o.health.report();
      json(res, report.ready ? 200 : 503, report);
    } else if (url.pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(o.counters.prometheus());
    } else if (url.pathname === "/counters") {
      json(res, 200, o.counters.toJSON());
    } else if (url.pathname === "/delegations" && o.delegations) {
      // validUntil as seconds left (Infinity is no JSON): what a person reading the table wants.
      const now = Date.now();
      const rows = o.delegations().map(({ validUntil, ...d }) => ({
        ...d,
        validSeconds: Number.isFinite(validUntil) ? Math.max(0, Math.round((validUntil - now) / 1000)) : null,
      }));
      json(res, 200, rows);
    } else if (o.control && CONTROL_ROUTES.has(route)) {
      control(o.control, route, url, req)
        .then((body) => json(res, 200, body))
        .catch((err: unknown) => {
          const status = err instanceof Refused ? err.status : 400;
          json(res, status, { error: err instanceof Error ? err.message : String(err) });
        });
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

const CONTROL_ROUTES = new Set([
  "POST /explain",
  "GET /trace",
  "GET /log-level",
  "PUT /log-level",
  "POST /leasequery",
]);

async function control(c: Control, route: string, url: URL, req: IncomingMessage): Promise<unknown> {
  // The lab's networks reach this port (Prometheus scrapes it): its questions and its log level
  // are the operator's, who asks through the relay's own loopback.
  const from = req.socket.remoteAddress ?? "";
  if (!["127.0.0.1", "::1", "::ffff:127.0.0.1"].includes(from))
    throw new Refused(403, `${route} is answered on the relay's loopback only`);
  switch (route) {
    case "POST /explain":
      return c.explain(JSON.parse(await body(req)));
    case "POST /leasequery": {
      const { vrf, ...q } = leaseQueryOf(JSON.parse(await body(req)));
      return c.leaseQuery(vrf, q).catch((err: Error) => {
        throw new Refused(400, err.message);
      });
    }
    case "GET /trace": {
      const family = url.searchParams.get("family");
      const limit = url.searchParams.get("limit");
      return c.trace({
        mac: url.searchParams.get("mac") ?? undefined,
        duid: url.searchParams.get("duid") ?? undefined,
        family: family === "4" ? 4 : family === "6" ? 6 : undefined,
        limit: limit === null ? undefined : positive(limit),
      });
    }
    case "PUT /log-level": {
      const level = (await body(req)).trim();
      if (!(LOG_LEVELS as readonly string[]).includes(level))
        throw new Refused(400, `log level ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(", ")}`);
      c.logLevel.set(level as LogLevel);
      return { level: c.logLevel.get() };
    }
    default:
      return { level: c.logLevel.get() };
  }
}

const BY4 = ["ip", "mac", "client-id", "remote-id", "relay-id"];
const BY6 = ["address", "client-id", "relay-id", "link", "remote-id"];

/** A lease query's JSON ({ vrf, family, by, value, enterprise }), or a refusal naming what is wrong. */
function leaseQueryOf(j: unknown): LeaseQuery & { vrf: string } {
  const o = (j ?? {}) as Record<string, unknown>;
  if (typeof o.vrf !== "string") throw new Refused(400, "vrf: the VRF whose servers to ask");
  if (o.family !== 4 && o.family !== 6) throw new Refused(400, "family: 4 or 6");
  const by = o.family === 4 ? BY4 : BY6;
  if (typeof o.by !== "string" || !by.includes(o.by))
    throw new Refused(400, `by: one of ${by.join(", ")} (DHCPv${o.family})`);
  if (typeof o.value !== "string" || o.value === "") throw new Refused(400, "value: what to ask for");
  if (o.enterprise !== undefined && !(Number.isInteger(o.enterprise) && (o.enterprise as number) >= 0))
    throw new Refused(400, "enterprise: the Remote-ID's enterprise number");
  return o as unknown as LeaseQuery & { vrf: string };
}

/** A whole number from 1 up, or a refusal. */
function positive(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1)
    throw new Refused(400, `limit ${JSON.stringify(text)}: a whole number from 1 up`);
  return n;
}

/** A request's body as text, refused past 64 KiB. */
async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Refused(413, `a request body is at most ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}
