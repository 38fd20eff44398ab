import { describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { containerLogs, exec, tarOf } from "../../orchestrator/docker/engine.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { useTestLab } from "../support/lab.ts";
import { policyFile } from "../support/policy-file.ts";

// The relay reloads its policy on SIGHUP: a good policy applies to the next client without a
// restart; a bad one is refused and the running policy stays. Then it stops cleanly.

const GREEN_RULE = `
  - name: cc-to-blue
    match: { mac: "00:cc:*" }
    vrf: BLUE
    option82: { circuitId: "CC_{mac}" }
`;

// The cases are steps in one relay's life and run in order (reload counts accumulate).
describe("policy reload by SIGHUP", () => {
  const lab = useTestLab("reload", async () => ({
    ...(await loadTopology()),
    relay: { hostname: "relay", policy: await policyFile(DEFAULT_POLICY) },
  }));
  const relayId = () => lab.spec.relay.container;

  async function replacePolicy(text: string): Promise<void> {
    await lab.docker
      .getContainer(relayId())
      .putArchive(tarOf([["policy.yaml", text]]), { path: "/etc/dhcplab" });
    await lab.docker.getContainer(relayId()).kill({ signal: "SIGHUP" });
  }

  /** The relay's /healthz: its status code and report. */
  const health = async () => {
    const r = await exec(lab.docker, relayId(), [
      "curl",
      "-sS",
      "-w",
      "\n%{http_code}",
      "http://127.0.0.1:9100/healthz",
    ]);
    const lines = r.stdout.trim().split("\n");
    const status = lines.pop();
    return {
      status,
      body: JSON.parse(lines.join("\n")) as { ready: boolean; checks: Record<string, unknown> },
    };
  };

  const load = (mac: string) => lab.load({ mac, family: 4, clients: 5, rate: 10, seconds: 2 });

  it("applies a new rule to the next client, without a restart", async () => {
    const before = await load("00:cc:01:00:00:00");
    expect(completed(before.report)).toBe(0);
    expect(await lab.counter("dhcplab_relay_drops_total", { reason: "unmatched" })).toBeGreaterThan(0);
    const startedAt = (await lab.docker.getContainer(relayId()).inspect()).State.StartedAt;

    await replacePolicy(DEFAULT_POLICY + GREEN_RULE);
    await expect
      .poll(() => lab.counter("dhcplab_relay_policy_reloads_total", { result: "ok" }), { timeout: 5000 })
      .toBe(1);

    const after = await load("00:cc:01:00:00:00");
    expect(completed(after.report)).toBeGreaterThan(5);
    const leases = (await lab.leases({ family: 4 })).filter((l) => l.client.startsWith("00:cc:"));
    expect(leases.length).toBe(5);
    expect(leases.every((l) => l.vrf === "BLUE" && l.address.startsWith("192.168.20."))).toBe(true);
    expect((await lab.docker.getContainer(relayId()).inspect()).State.StartedAt).toBe(startedAt);
  });

  it("refuses a bad policy on reload and keeps serving with the last good one", async () => {
    await replacePolicy(
      `${DEFAULT_POLICY + GREEN_RULE}  - name: broken\n    match: { mac: "not-a-mac" }\n    vrf: BLUE\n`,
    );
    await expect
      .poll(() => lab.counter("dhcplab_relay_policy_reloads_total", { result: "refused" }), { timeout: 5000 })
      .toBe(1);
    const logs = await containerLogs(lab.docker, relayId(), 20);
    expect(logs).toMatch(/policy reload refused/);
    expect(logs).toMatch(/policy\.yaml:\d+: rules\[\d+\]\.match\.mac: not a MAC pattern/);
    const r = await load("00:cc:02:00:00:00");
    expect(completed(r.report)).toBeGreaterThan(5);
    // Serving, but not ready: /healthz says the last reload was refused, and why ...
    const refused = await health();
    expect(refused.status).toBe("503");
    expect(refused.body.checks.reload).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/not a MAC pattern/),
    });
    // ... until a good policy is loaded again.
    await replacePolicy(DEFAULT_POLICY + GREEN_RULE);
    await expect
      .poll(() => lab.counter("dhcplab_relay_policy_reloads_total", { result: "ok" }), { timeout: 5000 })
      .toBe(2);
    expect(await health()).toMatchObject({ status: "200", body: { ready: true } });
  });

  it("a Kea container stops when one of its servers dies, so the lab sees a dead VRF", async () => {
    const blue = lab.spec.vrfs.find((v) => v.spec.name === "BLUE")?.keas[0]?.container ?? "";
    const c = lab.docker.getContainer(blue);
    await exec(lab.docker, c.id, ["pkill", "-KILL", "-x", "kea-dhcp6"]);
    await expect.poll(async () => (await c.inspect()).State.Running, { timeout: 5000 }).toBe(false);
    const logs = await containerLogs(lab.docker, c.id);
    expect(logs).toMatch(/kea-entrypoint: dhcp6 exited with status \d+; stopping the container/);
  });

  it("the relay and Kea stop cleanly on SIGTERM, well within docker stop's 2 s", async () => {
    for (const name of [lab.spec.relay.container, lab.spec.vrfs[0]?.keas[0]?.container ?? ""]) {
      const c = lab.docker.getContainer(name);
      await c.stop({ t: 2 });
      // 0: exited on SIGTERM; 137 would mean docker had to SIGKILL it after 2 s.
      expect((await c.inspect()).State.ExitCode, name).toBe(0);
    }
  });
});
