import { describe, expect, it } from "vitest";
import {
  dropRows,
  type LoadReport,
  type LoadSample,
  loadVrfs,
  messageCounts,
  messageRows,
  poolRows,
  rateRows,
  renderReportHtml,
  unansweredByKea,
} from "./load-report.ts";
import { delayHistogram } from "./perfdhcp.ts";

const msg = (type: string, direction: string) =>
  `family="4",vrf="RED",type="${type}",direction="${direction}"`;
const sample = (t: number, n: number, drops: number): LoadSample => ({
  t,
  kea: [
    {
      vrf: "RED",
      server: "kea-red",
      family: 4,
      values: {
        "pkt4-ack-sent": n,
        "pkt4-discover-received": n,
        "pkt4-receive-drop": 0,
        "subnet[10].assigned-addresses": n,
        "subnet[10].total-addresses": 200,
      },
    },
  ],
  relay: {
    dhcplab_relay_messages_total: { [msg("DISCOVER", "to-server")]: n, [msg("ACK", "to-client")]: n },
    dhcplab_relay_drops_total: { 'family="4",reason="unmatched"': drops },
  },
});

const report: LoadReport = {
  version: 1,
  lab: "lab",
  startedAt: "2026-12-04T19:00:00.000Z",
  load: { family: 4, engine: "perfdhcp", clients: 20, rate: 10, seconds: 2, mac: "00:aa:01:00:00:00" },
  samples: [sample(0, 0, 0), sample(1, 10, 2), sample(2.5, 25, 2)],
  result: {
    exitCode: 0,
    command: ["perfdhcp"],
    report: {
      malformed: 0,
      exchanges: [
        {
          exchange: "REQUEST-ACK",
          sent: 25,
          received: 25,
          drops: 0,
          orphans: 0,
          rejectedLeases: 0,
          minDelayMs: 1,
          avgDelayMs: 2,
          maxDelayMs: 3,
          delayHistogram: delayHistogram([0.15, 1.5, 2, 2500]),
        },
      ],
    },
  },
};

describe("a load report", () => {
  it("turns counters sampled once a second into rates per second, utilisation and drops", () => {
    expect(rateRows(report)).toEqual([
      { t: 1, rate: 10, series: "offered: DISCOVERs relayed" },
      { t: 2.5, rate: 10, series: "offered: DISCOVERs relayed" },
      { t: 1, rate: 10, series: "achieved: Kea RED's ACKs" },
      { t: 2.5, rate: 10, series: "achieved: Kea RED's ACKs" },
    ]);
    expect(poolRows(report).map((p) => p.percent)).toEqual([0, 5, 12.5]);
    expect(dropRows(report).filter((d) => d.reason === "relay: unmatched")).toEqual([
      { t: 1, rate: 2, reason: "relay: unmatched" },
      { t: 2.5, rate: 0, reason: "relay: unmatched" },
    ]);
    expect(loadVrfs(report)).toEqual(["RED"]);
    // Over the run: each message as the relay counted it beside Kea's count.
    expect(messageRows(report)).toEqual([
      { message: "DISCOVER to-server", vrf: "RED", count: 25, by: "relay" },
      { message: "DISCOVER to-server", vrf: "RED", count: 25, by: "Kea" },
      { message: "ACK to-client", vrf: "RED", count: 25, by: "relay" },
      { message: "ACK to-client", vrf: "RED", count: 25, by: "Kea" },
    ]);
  });

  it("counts every message type the relay relayed beside Kea's matching statistic: NAKs, DECLINEs, INFORMs; none where Kea keeps none; Kea's answers the relay did not carry", () => {
    const relay = (n: number) => ({
      dhcplab_relay_messages_total: {
        'family="4",vrf="RED",type="NAK",direction="to-client"': 2 * n,
        'family="4",vrf="RED",type="DECLINE",direction="to-server"': n,
        'family="4",vrf="RED",type="INFORM",direction="to-server"': 3 * n,
        'family="6",vrf="RED",type="INFORMATION-REQUEST",direction="to-server"': n,
        'family="6",vrf="RED",type="CONFIRM",direction="to-server"': n,
      },
    });
    const kea = (n: number, family: 4 | 6, values: Record<string, number>) => ({
      vrf: "RED",
      server: "kea-red",
      family,
      values: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, v * n])),
    });
    const sample = (n: number) => ({
      relay: relay(n),
      kea: [
        kea(n, 4, {
          "pkt4-nak-sent": 2,
          "pkt4-decline-received": 1,
          "pkt4-inform-received": 3,
          "pkt4-ack-sent": 3,
        }),
        kea(n, 6, { "pkt6-infrequest-received": 1 }),
      ],
    });
    expect(messageCounts(sample(1), sample(2), 4)).toEqual([
      {
        vrf: "RED",
        type: "NAK",
        direction: "to-client",
        relay: 2,
        kea: { statistic: "pkt4-nak-sent", count: 2 },
      },
      {
        vrf: "RED",
        type: "DECLINE",
        direction: "to-server",
        relay: 1,
        kea: { statistic: "pkt4-decline-received", count: 1 },
      },
      {
        vrf: "RED",
        type: "INFORM",
        direction: "to-server",
        relay: 3,
        kea: { statistic: "pkt4-inform-received", count: 3 },
      },
      // The INFORMs' ACKs went to ciaddr, routed, not through the relay's DHCP path: Kea's count only.
      {
        vrf: "RED",
        type: "ACK",
        direction: "to-client",
        relay: 0,
        kea: { statistic: "pkt4-ack-sent", count: 3 },
      },
    ]);
    expect(messageCounts(sample(1), sample(2), 6)).toEqual([
      {
        vrf: "RED",
        type: "INFORMATION-REQUEST",
        direction: "to-server",
        relay: 1,
        kea: { statistic: "pkt6-infrequest-received", count: 1 },
      },
      { vrf: "RED", type: "CONFIRM", direction: "to-server", relay: 1 },
    ]);
  });

  it("counts Kea's messages only on servers that answered both samples (one frozen at the start is left out)", () => {
    const relay = (n: number) => ({
      dhcplab_relay_messages_total: { 'family="4",vrf="RED",type="DISCOVER",direction="to-server"': n },
    });
    const server = (name: string, n: number) => ({
      vrf: "RED",
      server: name,
      family: 4 as const,
      values: { "pkt4-discover-received": n },
    });
    const first = { relay: relay(10), kea: [server("kea-red-1", 6)] };
    const last = { relay: relay(30), kea: [server("kea-red-1", 16), server("kea-red-2", 500)] };
    expect(messageCounts(first, last, 4)).toEqual([
      {
        vrf: "RED",
        type: "DISCOVER",
        direction: "to-server",
        relay: 20,
        kea: { statistic: "pkt4-discover-received", count: 10 },
      },
    ]);
  });

  it("counts delays into log-spaced buckets, the longest apart", () => {
    const h = delayHistogram([0.15, 1.5, 2, 2500]);
    expect(h.find((b) => b.upToMs === 0.2)?.count).toBe(1);
    expect(h.find((b) => b.upToMs === 2)?.count).toBe(2);
    expect(h.at(-1)).toEqual({ upToMs: null, count: 1 });
  });

  it("is one HTML page with every chart as inline SVG and nothing to fetch", async () => {
    const page = await renderReportHtml(report);
    expect(page.match(/<svg/g)).toHaveLength(5);
    expect(page).not.toMatch(/<script|src=|href=/);
    expect(page).toContain("<td>REQUEST-ACK</td><td>25</td>");
  });
});

describe("the requests Kea left unanswered", () => {
  const m = (
    vrf: string,
    type: string,
    direction: "to-server" | "to-client",
    relay: number,
    kea?: number,
  ) => ({
    vrf,
    type,
    direction,
    relay,
    ...(kea === undefined ? {} : { kea: { statistic: `pkt-${type}`, count: kea } }),
  });

  it("DHCPv4: per VRF, DISCOVERs beside OFFERs, REQUESTs and INFORMs beside ACKs and NAKs, by Kea's counts", () => {
    const messages = [
      m("RED", "DISCOVER", "to-server", 199, 199),
      m("RED", "OFFER", "to-client", 27, 27),
      m("RED", "REQUEST", "to-server", 27, 27),
      m("RED", "INFORM", "to-server", 2, 2),
      m("RED", "ACK", "to-client", 25, 25),
      m("RED", "NAK", "to-client", 1, 1),
      m("BLUE", "DISCOVER", "to-server", 10, 10),
      m("BLUE", "OFFER", "to-client", 10, 10),
      // Released: nothing answers a RELEASE.
      m("BLUE", "RELEASE", "to-server", 3, 3),
    ];
    expect(unansweredByKea(messages, 4)).toEqual([
      { vrf: "BLUE", requests: ["DISCOVER"], received: 10, answers: ["OFFER"], answered: 10, unanswered: 0 },
      {
        vrf: "RED",
        requests: ["DISCOVER"],
        received: 199,
        answers: ["OFFER"],
        answered: 27,
        unanswered: 172,
      },
      {
        vrf: "RED",
        requests: ["REQUEST", "INFORM"],
        received: 29,
        answers: ["ACK", "NAK"],
        answered: 26,
        unanswered: 3,
      },
    ]);
  });

  it("DHCPv6: SOLICITs beside ADVERTISEs, every other request beside REPLYs; a message Kea keeps no count of adds nothing", () => {
    const messages = [
      m("RED", "SOLICIT", "to-server", 100, 100),
      m("RED", "ADVERTISE", "to-client", 100, 100),
      m("RED", "REQUEST", "to-server", 100, 100),
      m("RED", "RELEASE", "to-server", 5, 5),
      m("RED", "CONFIRM", "to-server", 4),
      m("RED", "REPLY", "to-client", 109, 109),
    ];
    expect(
      unansweredByKea(messages, 6).map((u) => [u.requests[0], u.received, u.answered, u.unanswered]),
    ).toEqual([
      ["SOLICIT", 100, 100, 0],
      ["REQUEST", 105, 109, 0],
    ]);
  });
});
