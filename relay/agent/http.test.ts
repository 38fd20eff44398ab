import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Counters } from "./counters.ts";
import { Health } from "./health.ts";
import { type Control, serveHttp } from "./http.ts";

// The relay's control endpoints, on a real HTTP server on loopback.

describe("the relay's HTTP control", () => {
  const log = pino({ level: "info" }, { write: () => {} });
  const asked: unknown[] = [];
  const control: Control = {
    explain: (request) => {
      asked.push(request);
      if ((request as { mac?: string }).mac === "bad") throw new Error("mac: not a MAC address");
      return { family: 4, type: "DISCOVER", transaction: "", segment: "access", action: "relay", rule: "r" };
    },
    trace: (q) => [
      {
        at: "t",
        family: 4,
        type: "DISCOVER",
        mac: q.mac,
        transaction: "1",
        segment: "access",
        action: "relay",
      },
    ],
    logLevel: { get: () => log.level, set: (l) => (log.level = l) },
    leaseQuery: async (vrf, q) => {
      if (vrf === "GREEN") throw new Error("no VRF GREEN: the relay has RED, BLUE");
      return [
        {
          server: "10.213.5.10",
          status: "unknown",
          bindings: [],
          ...(q.family === 6 ? { message: "m" } : {}),
        },
      ];
    },
  };
  let base = "";
  let close = () => {};

  beforeAll(async () => {
    const server = await serveHttp(0, { health: new Health(), counters: new Counters(), log, control });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
  });
  afterAll(() => close());

  it("changes the log level at run time, and refuses one it does not know", async () => {
    const put = await fetch(`${base}/log-level`, { method: "PUT", body: "debug" });
    expect(await put.json()).toEqual({ level: "debug" });
    expect(log.isLevelEnabled("debug")).toBe(true);
    const bad = await fetch(`${base}/log-level`, { method: "PUT", body: "loud" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(
      /"loud" is not one of trace, debug, info, warn, error/,
    );
    expect(await (await fetch(`${base}/log-level`)).json()).toEqual({ level: "debug" });
  });

  it("answers explain with the decision, a bad request with 400 and the reason", async () => {
    const ok = await fetch(`${base}/explain`, {
      method: "POST",
      body: JSON.stringify({ mac: "00:aa:02:00:00:07" }),
    });
    expect(await ok.json()).toMatchObject({ action: "relay", rule: "r" });
    expect(asked.at(-1)).toEqual({ mac: "00:aa:02:00:00:07" });
    const bad = await fetch(`${base}/explain`, { method: "POST", body: JSON.stringify({ mac: "bad" }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not a MAC/);
    const junk = await fetch(`${base}/explain`, { method: "POST", body: "{" });
    expect(junk.status).toBe(400);
  });

  it("passes trace's query on", async () => {
    const r = await fetch(`${base}/trace?mac=00:aa:02:00:00:07&family=4`);
    expect(await r.json()).toMatchObject([{ mac: "00:aa:02:00:00:07" }]);
  });

  it("takes a lease query, refusing one it cannot ask with 400 and the reason", async () => {
    const ask = (body: unknown) =>
      fetch(`${base}/leasequery`, { method: "POST", body: JSON.stringify(body) });
    const ok = await ask({ vrf: "RED", family: 4, by: "ip", value: "192.168.10.10" });
    expect(await ok.json()).toEqual([{ server: "10.213.5.10", status: "unknown", bindings: [] }]);
    for (const [body, reason] of [
      [{ family: 4, by: "ip", value: "x" }, /vrf/],
      [{ vrf: "RED", family: 5, by: "ip", value: "x" }, /family: 4 or 6/],
      [
        { vrf: "RED", family: 4, by: "link", value: "x" },
        /by: one of ip, mac, client-id, remote-id, relay-id \(DHCPv4\)/,
      ],
      [{ vrf: "RED", family: 6, by: "address", value: "" }, /value/],
      [{ vrf: "GREEN", family: 4, by: "ip", value: "192.168.10.10" }, /no VRF GREEN/],
    ] as const) {
      const r = await ask(body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: string }).error).toMatch(reason);
    }
  });
});
