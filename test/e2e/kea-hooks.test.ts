import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { LoadOutput } from "../../orchestrator/cli/json-output.ts";
import type { AuditRecord, LoadResult } from "../../orchestrator/index.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { expectDhclient6ObtainRelease, expectUdhcpcRenewRelease } from "../support/cases.ts";
import { dhcplab, dhcplabJson } from "../support/cli.ts";
import { expectDocumentedOutput } from "../support/json-output.ts";
import { useTestLab } from "../support/lab.ts";

// Kea 3.0's service hooks through the relay (issue #31), each from its example topology: the
// legal log (examples/legal-log) read back by `dhcplab audit`, and a class's rate limit
// (examples/rate-limits) shown by `dhcplab load` as the requests Kea left unanswered.

const example = (name: string) => () => loadTopology(join(ROOT, "examples", name, "topology.yaml"));

describe("the legal log (examples/legal-log): dhcplab audit", () => {
  const lab = useTestLab("kea-legal-log", example("legal-log"));

  it("DHCPv4: udhcpc's lease, its renewal and its release are recorded with the client and the port the relay saw it on", async () => {
    const mac = "00:aa:01:00:31:01";
    await expectUdhcpcRenewRelease(lab, mac, "192.168.10.");
    const records = await lab.audit({ mac });
    // The lease, then its renewal, which Kea 3.0 writes as "assigned" again (the example turns the
    // lease cache off), then the release. Every ACK is a record: a request the client sent again
    // (udhcpc retransmits when an answer is late, as on a loaded machine) is one "assigned" more.
    const events = records.map((r) => r.event);
    expect(events.at(-1), events.join(" ")).toBe("released");
    expect(events.slice(0, -1), events.join(" ")).toEqual(events.slice(0, -1).map(() => "assigned"));
    expect(events.length, events.join(" ")).toBeGreaterThanOrEqual(3);
    for (const r of records) expect([r.vrf, r.server, r.family]).toEqual(["RED", "kea-red", 4]);
    const address = records[0]?.address;
    expect(address).toMatch(/^192\.168\.10\./);
    for (const r of records) {
      expect(r).toMatchObject({
        address,
        kind: "address",
        mac,
        // giaddr is the relay's address on RED's backend (Link Selection names the clients' link).
        giaddr: lab.spec.vrfs.find((v) => v.spec.name === "RED")?.relay.ipv4,
        relay: { circuitId: "VIDEO_CIRCUIT", remoteId: mac, linkSelection: "192.168.10.1" },
      });
    }
    expect(records[0]?.lifetime).toBe(3600);
  });

  it("DHCPv6: dhclient's address and its release are recorded with the DUID and the relay's Interface-ID, Remote-ID and link", async () => {
    const mac = "00:aa:01:00:31:02";
    const address = await expectDhclient6ObtainRelease(lab, mac, "fd00:10::");
    const records = await lab.audit({ mac, family: 6 });
    expect(records.map((r) => [r.event, r.kind, r.address])).toEqual([
      ["assigned", "address", address],
      ["released", "address", address],
    ]);
    expect(records[0]).toMatchObject({
      vrf: "RED",
      duid: expect.stringMatching(/00:aa:01:00:31:02$/),
      relay: { circuitId: "V6_VIDEO_LINK", remoteId: mac, link: "fd00:10::1" },
    });
  });

  it("dhcplab audit --json gives the library's records; a VRF whose Kea writes no legal log has none", async () => {
    const mac = "00:aa:01:00:31:03";
    const red = await lab.client({ kind: "udhcpc", mac });
    expect(red.address, red.output).toMatch(/^192\.168\.10\./);
    const cli = await dhcplabJson<AuditRecord[]>(
      ..."audit --vrf RED -4 --mac".split(" "),
      mac,
      "--name",
      lab.name,
    );
    expect(cli.map((r) => [r.event, r.address])).toEqual([["assigned", red.address]]);
    expect(cli).toEqual(await lab.audit({ vrf: "RED", mac, family: 4 }));
    // BLUE runs the default lab's configuration: its client is served and leaves no record.
    const blue = await lab.client({ kind: "udhcpc", mac: "00:bb:01:00:31:03" });
    expect(blue.address, blue.output).toMatch(/^192\.168\.20\./);
    expect(await dhcplabJson<AuditRecord[]>("audit", "--name", lab.name, "--vrf", "BLUE")).toEqual([]);
  });
});

describe("a class's rate limit (examples/rate-limits): what Kea refused, under dhcplab load", () => {
  const lab = useTestLab("kea-rate-limits", example("rate-limits"));
  // 40 new clients a second for 4 s: four times what RED DATA's 10 packets a second admit.
  const load = (mac: string, family: 4 | 6) =>
    lab.load({ mac, family, clients: 200, rate: 40, seconds: 4, messages: true });
  const refused = (r: LoadResult, request: string) =>
    r.unanswered?.find((u) => u.vrf === "RED" && u.requests.includes(request));

  for (const family of [4, 6] as const) {
    const [first, answer] = family === 4 ? ["DISCOVER", "OFFER"] : ["SOLICIT", "ADVERTISE"];
    it(`DHCPv${family}: the limited class's ${first}s beyond the rate go unanswered; the other class at the same rate is served in full`, async () => {
      const data = await load("00:aa:02:00:00:00", family);
      const limited = refused(data, first);
      expect(limited, JSON.stringify(data.unanswered)).toBeDefined();
      expect(limited?.answers).toContain(answer);
      // Kea counted every one the relay relayed, and answered at most what 10 packets a second
      // admit over the run (its first and second messages both count).
      expect(limited?.received).toBe(data.messages?.find((m) => m.type === first)?.relay);
      expect(limited?.answered ?? 0).toBeGreaterThan(0);
      expect(limited?.answered ?? 0).toBeLessThanOrEqual(10 * 6);
      expect(limited?.unanswered ?? 0).toBeGreaterThan((limited?.received ?? 0) / 2);

      const video = await load("00:aa:01:00:00:00", family);
      expect(refused(video, first)?.received ?? 0).toBeGreaterThan(100);
      expect(
        video.unanswered?.every((u) => u.unanswered === 0),
        JSON.stringify(video.unanswered),
      ).toBe(true);
    });
  }

  it("dhcplab load --json gives the refused requests, and exits 1 as some exchanges failed", async () => {
    const r = await dhcplab(
      ..."load --mac 00:aa:02:00:10:00 --clients 100 --rate 40 --duration 3 --json".split(" "),
      "--name",
      lab.name,
    );
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/perfdhcp exited with 3: some exchanges failed/);
    const output = JSON.parse(r.stdout) as LoadOutput;
    await expectDocumentedOutput("load", output);
    const discover = output.unanswered.find((u) => u.requests.includes("DISCOVER"));
    expect(discover?.unanswered ?? 0).toBeGreaterThan(0);
    // Kea counted every DISCOVER the relay relayed.
    expect(discover?.received).toBe(output.messages.find((m) => m.type === "DISCOVER")?.relay);
  });
});
