import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { addressIn, PRINT_ADDRESSES, runScript } from "../support/cases.ts";
import { dhcplab } from "../support/cli.ts";
import { useTestLab } from "../support/lab.ts";

// Faults on the default lab's links and services, with what Kea and the clients do asserted:
// a path cut and healed, loss on the access segment, a frozen Kea, a service off its network and
// back. Each test undoes its fault, so the file's tests run in any order.

describe("faults on a running lab", () => {
  // Registered first, so it runs last: after the lab's down, nothing of it (or of a fault) is left.
  let name = "";
  afterAll(async () => {
    if (!name) return;
    const left = await new Docker().listContainers({
      all: true,
      filters: JSON.stringify({ label: [`${LABEL.lab}=${name}`] }),
    });
    expect(left.map((c) => c.Names[0])).toEqual([]);
  });
  const lab = useTestLab("faults");
  beforeAll(() => {
    name = lab.name;
  });
  const sendFailed = () => lab.counter("dhcplab_relay_drops_total", { family: 4, reason: "send-failed" });

  describe("each fault, and its undoing", () => {
    afterAll(async () => {
      // Every test undid its fault but the one left for down to remove: a 1 ms delay on BLUE.
      expect((await lab.faults()).map((f) => [f.service, f.network, f.kind])).toEqual([
        ["kea-blue", "blue", "condition"],
      ]);
    });

    it("a condition left in force goes with the lab at down (its delay line, its record)", async () => {
      const fault = await lab.netem("kea-blue", "blue", { delay: 1 });
      expect(fault?.mechanism).toMatch(/^(netem|delay-line)$/);
      const got = await lab.client({ kind: "udhcpc", mac: "00:bb:00:00:0c:09" });
      expect(got.address, got.output).toMatch(/^192\.168\.20\./);
    });

    it("the relay's path to RED's Kea cut: RED's client retries and gets its lease once the path is back; BLUE is untouched; the relay counts what it could not send", async () => {
      await lab.disconnect("relay", "red", { from: "kea-red" });
      let healed = false;
      try {
        expect(await lab.faults()).toContainEqual({
          service: "relay",
          network: "red",
          kind: "cut",
          peers: ["kea-red"],
        });
        const before = await sendFailed();
        // dhcpcd retransmits its DISCOVER for 15 s: started during the cut, it succeeds after it.
        const red = lab.client({ kind: "dhcpcd", mac: "00:aa:01:00:0c:01" });
        await expect.poll(sendFailed, { timeout: 15_000 }).toBeGreaterThan(before);
        const blue = await lab.client({ kind: "udhcpc", mac: "00:bb:00:00:0c:02" });
        expect(blue.address, blue.output).toMatch(/^192\.168\.20\./);
        await lab.connect("relay", "red", { from: "kea-red" });
        healed = true;
        const got = await red;
        expect(got.address, got.output).toMatch(/^192\.168\.10\./);
        // Its DISCOVERs during the cut went nowhere; one after it got through (the relay's journal).
        const discovers = (await lab.trace({ mac: "00:aa:01:00:0c:01", family: 4 })).relay.filter(
          (d) => d.type === "DISCOVER",
        );
        expect(discovers.length).toBeGreaterThanOrEqual(2);
      } finally {
        if (!healed) await lab.connect("relay", "red", { from: "kea-red" });
      }
    });

    it("10 % loss on the access segment: real clients obtain and renew; perfdhcp and the clients engine lose about that share", async () => {
      const fault = await lab.netem("relay", "access", { loss: 10 });
      try {
        expect(fault).toMatchObject({
          service: "relay",
          network: "access",
          kind: "condition",
          condition: { loss: 10 },
        });
        expect(fault?.mechanism).toMatch(/^(netem|nftables)$/);
        // udhcpc retransmits its DISCOVER and REQUEST; a renewal whose ACK was lost is asked again.
        const r0 = await runScript(lab, "00:aa:02:00:0c:03", [
          "udhcpc -f -i eth0 -t 10 -T 1 > /tmp/out 2>&1 & pid=$!",
          "for i in $(seq 150); do ip -o -4 addr show dev eth0 | grep -qF ' inet 192.168.11.' && break; sleep 0.1; done",
          PRINT_ADDRESSES("-4"),
          "for i in $(seq 10); do kill -USR1 $pid; sleep 1; [ \"$(grep -c 'lease of' /tmp/out)\" -ge 2 ] && break; done",
          "kill $pid; wait $pid",
          "cat /tmp/out",
        ]);
        expect(addressIn(r0.output, "192.168.11."), r0.output).toBeDefined();
        expect(r0.output.match(/lease of .* obtained/g)?.length, r0.output).toBeGreaterThanOrEqual(2);
        // The relay's replies to clients leave by the lossy link: each of perfdhcp's exchanges loses ~10 %.
        const r = await lab.load({ mac: "00:bb:01:0c:00:00", clients: 200, rate: 50, seconds: 6 });
        const [offers] = r.report.exchanges;
        const lost = 1 - (offers?.received ?? 0) / (offers?.sent ?? 1);
        expect(lost, r.output).toBeGreaterThan(0.02);
        expect(lost, r.output).toBeLessThan(0.25);
        expect(completed(r.report)).toBeGreaterThan(0);
        // Clients without an address get their replies in frames of the relay's own (a packet socket,
        // RFC 1542 §4.1.2): the loss takes those as it takes every frame leaving the link.
        // 40 clients of RED DATA, so that no pool the other cases use runs short.
        const framed = await lab.load({
          mac: "00:aa:02:0d:00:00",
          clients: 40,
          rate: 40,
          seconds: 5,
          engine: "clients",
        });
        const [discovers] = framed.report.exchanges;
        const lostFramed = 1 - (discovers?.received ?? 0) / (discovers?.sent ?? 1);
        expect(lostFramed, framed.output).toBeGreaterThan(0.02);
        expect(lostFramed, framed.output).toBeLessThan(0.25);
      } finally {
        await lab.netem("relay", "access", undefined);
      }
    });

    it("a frozen Kea serves no one while paused and serves again once let go; status says it is paused", async () => {
      await lab.pause("kea-blue");
      try {
        expect(await lab.faults()).toContainEqual({ service: "kea-blue", kind: "paused" });
        expect((await lab.status()).keas.find((k) => k.vrf === "BLUE")?.state).toBe("paused");
        const frozen = await lab.client({ kind: "udhcpc", mac: "00:bb:00:00:0c:04" });
        expect(frozen.address, frozen.output).toBeUndefined();
      } finally {
        await lab.unpause("kea-blue");
      }
      const got = await lab.client({ kind: "udhcpc", mac: "00:bb:00:00:0c:05" });
      expect(got.address, got.output).toMatch(/^192\.168\.20\./);
    });

    it("Kea taken off its network and put back: it has its address, interface and routes again and serves both families", async () => {
      await lab.disconnect("kea-red", "red");
      try {
        expect(await lab.faults()).toContainEqual({
          service: "kea-red",
          network: "red",
          kind: "disconnected",
          interface: "eth0",
        });
        const off = await lab.client({ kind: "udhcpc", mac: "00:aa:01:00:0c:06" });
        expect(off.address).toBeUndefined();
      } finally {
        await lab.connect("kea-red", "red");
      }
      const v4 = await lab.client({ kind: "udhcpc", mac: "00:aa:01:00:0c:07" });
      expect(v4.address, v4.output).toMatch(/^192\.168\.10\./);
      const v6 = await lab.client({ kind: "dhclient", family: 6, mac: "00:aa:01:00:0c:08" });
      expect(v6.address, v6.output).toMatch(/^fd00:1[01]:/);
    });

    it("200 ms delay (± 20) on RED's backend: the load report's latency shows it, and is gone once cleared", async () => {
      const fault = await lab.netem("kea-red", "red", { delay: 200, jitter: 20 });
      try {
        // netem where the kernel has it; the lab's delay line where it has not (these CI machines).
        expect(fault?.mechanism).toMatch(/^(netem|delay-line)$/);
        expect(await lab.faults()).toContainEqual(fault);
        const report = await lab.loadReport({ mac: "00:aa:01:0e:00:00", clients: 20, rate: 10, seconds: 2 });
        expect(report.result.report.exchanges.map((x) => x.exchange)).toEqual([
          "DISCOVER-OFFER",
          "REQUEST-ACK",
        ]);
        for (const x of report.result.report.exchanges) {
          expect(x.received, JSON.stringify(x)).toBeGreaterThan(15);
          expect(x.minDelayMs, JSON.stringify(x)).toBeGreaterThanOrEqual(175);
          expect(x.avgDelayMs, JSON.stringify(x)).toBeLessThan(300);
        }
      } finally {
        await lab.netem("kea-red", "red", undefined);
      }
      const after = await lab.load({ mac: "00:aa:01:0f:00:00", clients: 10, rate: 10, seconds: 1 });
      expect(after.report.exchanges[0]?.avgDelayMs ?? 1000, after.output).toBeLessThan(100);
    });

    it("refuses what it cannot do, naming what there is; the command line says it and exits 1", async () => {
      await expect(lab.netem("kea-green", "red", { loss: 1 })).rejects.toThrow(
        /no service kea-green: it has .*kea-red/,
      );
      await expect(lab.netem("relay", "purple", { loss: 1 })).rejects.toThrow(
        /not on a network purple: it is on access, red, blue/,
      );
      await expect(lab.netem("relay", "red", {})).rejects.toThrow(/at least one of/);
      expect((await lab.faults()).filter((f) => f.service === "relay")).toEqual([]);
      const cli = await dhcplab("netem", "relay", "--name", lab.name, "--network", "red", "--loss", "200");
      expect(cli.exitCode).toBe(1);
      expect(cli.stderr).toMatch(/200 is not a percentage/);
    });
  });
});
