import { describe, expect, it } from "vitest";
import type { LabStatus } from "../../api.ts";
import { remoteEngine, statusText } from "./status.ts";

const lab: LabStatus = {
  name: "lab",
  accessNetwork: "lab-access",
  networks: [],
  keas: [],
  towers: [],
  boots: [],
  servers: [],
  counters: {},
  ha: [],
  delegations: [],
  faults: [],
  alerts: [],
};

describe("status as text", () => {
  it("shows each HA server's role, state as Kea reports it, scopes and partner; none without HA pairs", () => {
    const text = statusText({
      ...lab,
      ha: [
        {
          vrf: "RED",
          server: "kea-red-1",
          family: 4,
          mode: "hot-standby",
          state: "down",
          scopes: [],
        },
        {
          vrf: "RED",
          server: "kea-red-2",
          family: 4,
          mode: "hot-standby",
          role: "standby",
          state: "partner-down",
          scopes: ["kea-red-1"],
          partner: { name: "kea-red-1", state: "unavailable", communicationInterrupted: true },
        },
      ],
    });
    const rows = text.split("\n").filter((l) => l.startsWith("kea-red-"));
    expect(rows[0]).toMatch(/^kea-red-1\s+RED\s+DHCPv4\s+hot-standby\s+down\s*$/);
    expect(rows[1]).toMatch(
      /^kea-red-2\s+RED\s+DHCPv4\s+hot-standby\s+standby\s+partner-down\s+kea-red-1\s+kea-red-1 unavailable \(communication interrupted\)/,
    );
    expect(statusText(lab)).not.toContain("HA SERVER");
  });

  it("shows each delegated prefix the relay routes, where to and for how long; none without", () => {
    const text = statusText({
      ...lab,
      delegations: [
        {
          prefix: "fd10:100:0:a00::/56",
          vrf: "RED",
          via: "fe80::2aa:1ff:fe00:79",
          segment: "access",
          validSeconds: 3990,
          learnedFrom: "reply",
        },
      ],
    });
    expect(text).toMatch(/^DELEGATED PREFIX\s+VRF\s+VIA\s+SEGMENT\s+VALID S\s+FROM/m);
    expect(text).toMatch(/^fd10:100:0:a00::\/56\s+RED\s+fe80::2aa:1ff:fe00:79\s+access\s+3990\s+reply\s*$/m);
    expect(statusText(lab)).not.toContain("DELEGATED PREFIX");
  });
});

describe("faults as text", () => {
  it("says the condition and what carries it, the peers cut off, and lists them in status", () => {
    const text = statusText({
      ...lab,
      faults: [
        {
          service: "kea-red",
          network: "red",
          kind: "condition",
          condition: { delay: 200, jitter: 20, loss: 1 },
          mechanism: "delay-line",
        },
        { service: "kea-red-1", network: "red", kind: "cut", peers: ["kea-red-2"] },
        { service: "kea-blue", kind: "paused" },
      ],
      alerts: [
        {
          name: "KeaNotAnswering",
          state: "firing",
          labels: { vrf: "BLUE" },
          summary: "BLUE kea-blue: Kea does not answer its exporter",
          since: "2026-12-06T07:00:00.000Z",
        },
      ],
    });
    expect(text).toMatch(/condition\s+kea-red\s+red\s+delay 200 ms ± 20 ms, loss 1% \(delay-line\)/);
    expect(text).toMatch(/cut\s+kea-red-1\s+red\s+no path to kea-red-2/);
    expect(text).toMatch(/paused\s+kea-blue/);
    expect(text).toMatch(
      /KeaNotAnswering\s+firing\s+07:00:00\s+BLUE kea-blue: Kea does not answer its exporter/,
    );
  });

  it("tells an Engine on another host (TCP or SSH) from this machine's", () => {
    expect(
      ["tcp://10.1.2.3:2375", "ssh://me@engine.example", "tcp://[fd00::5]:2376"].map(remoteEngine),
    ).toEqual([true, true, true]);
    expect(
      [
        undefined,
        "unix:///var/run/docker.sock",
        "tcp://127.0.0.1:2375",
        "tcp://localhost:2375",
        "tcp://[::1]:2375",
      ].map(remoteEngine),
    ).toEqual([false, false, false, false, false]);
  });
});
