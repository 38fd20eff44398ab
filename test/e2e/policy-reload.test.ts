import { describe, expect, it, onTestFinished } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
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

// Each case sets the policy it starts from and puts back what it stops, so any order works.
describe("policy reload by SIGHUP", () => {
  const lab = useTestLab("reload", async () => ({
    ...(await loadTopology()),
    relay: { hostname: "relay", policy: await policyFile(DEFAULT_POLICY) },
  }));
  const reloads = (result: "ok" | "refused") => lab.counter("dhcplab_relay_policy_reloads_total", { result });

  /** Writes the relay's policy file and sends SIGHUP; resolves once the relay has read it. */
  async function replacePolicy(text: string, result: "ok" | "refused" = "ok"): Promise<void> {
    const before = await reloads(result);
    await lab.putFiles("relay", "/etc/dhcplab", { "policy.yaml": text });
    await lab.kill("relay", "SIGHUP");
    await expect.poll(() => reloads(result), { timeout: 5000 }).toBe(before + 1);
  }

  /** The relay's /healthz: its status code and report. */
  const health = async () => {
    const r = await lab.exec("relay", [
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

  /** When the relay's container started: the same before and after a reload. */
  const relayStartedAt = async () =>
    (await lab.docker.getContainer(lab.services.relay ?? "").inspect()).State.StartedAt;

  it("applies a new rule to the next client, without a restart", async () => {
    await replacePolicy(DEFAULT_POLICY);
    const unmatched = await lab.counter("dhcplab_relay_drops_total", { reason: "unmatched" });
    const before = await load("00:cc:01:00:00:00");
    expect(completed(before.report)).toBe(0);
    expect(await lab.counter("dhcplab_relay_drops_total", { reason: "unmatched" })).toBeGreaterThan(
      unmatched,
    );
    const startedAt = await relayStartedAt();

    await replacePolicy(DEFAULT_POLICY + GREEN_RULE);

    const after = await load("00:cc:01:00:00:00");
    expect(completed(after.report)).toBeGreaterThan(5);
    const leases = (await lab.leases({ family: 4 })).filter((l) => l.client.startsWith("00:cc:01:"));
    expect(leases.length).toBe(5);
    expect(leases.every((l) => l.vrf === "BLUE" && l.address.startsWith("192.168.20."))).toBe(true);
    expect(await relayStartedAt()).toBe(startedAt);
  });

  it("refuses a bad policy on reload and keeps serving with the last good one", async () => {
    await replacePolicy(DEFAULT_POLICY + GREEN_RULE);
    await replacePolicy(
      `${DEFAULT_POLICY + GREEN_RULE}  - name: broken\n    match: { mac: "not-a-mac" }\n    vrf: BLUE\n`,
      "refused",
    );
    const logs = await lab.logs("relay", 20);
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
    expect(await health()).toMatchObject({ status: "200", body: { ready: true } });
  });

  /** A service's state and exit code, as the lab's status shows them (docker inspect for the code). */
  const stateOf = async (service: string) => {
    const s = await lab.status();
    return [s.relay, ...s.keas].find((c) => c?.name === lab.services[service])?.state;
  };

  /** Starts a service again when the test ends, and waits until it is healthy: the next test finds the lab whole. */
  const restartAfter = (service: string) =>
    onTestFinished(async () => {
      await lab.start(service);
      await lab.healthy(service);
    });

  it("a Kea container stops when one of its servers dies, so the lab sees a dead VRF", async () => {
    restartAfter("kea-blue");
    await lab.exec("kea-blue", ["pkill", "-KILL", "-x", "kea-dhcp6"]);
    await expect.poll(() => stateOf("kea-blue"), { timeout: 5000 }).toBe("exited");
    expect(await lab.logs("kea-blue")).toMatch(
      /kea-entrypoint: dhcp6 exited with status \d+; stopping the container/,
    );
  });

  it("the relay and Kea stop cleanly on SIGTERM, well within docker stop's 2 s", async () => {
    for (const service of ["relay", "kea-red"]) {
      restartAfter(service);
      await lab.stop(service, 2);
      // 0: exited on SIGTERM; 137 would mean docker had to SIGKILL it after 2 s.
      const info = await lab.docker.getContainer(lab.services[service] ?? "").inspect();
      expect(info.State.ExitCode, service).toBe(0);
    }
  });
});
