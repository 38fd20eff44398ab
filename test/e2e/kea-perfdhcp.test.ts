import type Docker from "dockerode";
import { GenericContainer, type StartedTestContainer, Wait } from "testcontainers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { allLeases } from "../../orchestrator/docker/kea-control.ts";
import { createLabNetwork, type LabNetwork } from "../../orchestrator/docker/networks.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { completed, parsePerfdhcp } from "../../orchestrator/model/perfdhcp.ts";
import { ipv4Host } from "../../orchestrator/model/subnets.ts";

// The foundation's smoke test: the Kea 3.0 image serves DHCPv4 on an internal network, and
// perfdhcp from the client image (acting as a relay with giaddr = its own address) gets leases.

const HOOKS = "/usr/lib/x86_64-linux-gnu/kea/hooks";

function dhcp4Config(subnet: string): string {
  return JSON.stringify({
    Dhcp4: {
      "interfaces-config": { interfaces: ["eth0"], "dhcp-socket-type": "udp" },
      "control-sockets": [{ "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": 8004 }],
      "lease-database": { type: "memfile", name: "/var/lib/kea/kea-leases4.csv", "lfc-interval": 0 },
      "hooks-libraries": [{ library: `${HOOKS}/libdhcp_lease_cmds.so` }],
      "valid-lifetime": 3600,
      subnet4: [{ id: 1, subnet, pools: [{ pool: `${ipv4Host(subnet, 100)} - ${ipv4Host(subnet, 250)}` }] }],
      loggers: [{ name: "kea-dhcp4", "output-options": [{ output: "stdout" }], severity: "INFO" }],
    },
  });
}

/** Where the server takes commands (Kea 3.0: its own HTTP socket). */
const CONTROL = { dhcp4: { url: "http://127.0.0.1:8004/" } };

describe("kea image with perfdhcp", () => {
  const docker: Docker = dockerClient();
  const tags = inject("imageTags");
  const labels = { ...inject("testRun").labels, [LABEL.lab]: `smoke-${process.pid}` };
  let network: LabNetwork;
  let kea: StartedTestContainer;
  let client: StartedTestContainer;

  beforeAll(async () => {
    network = await createLabNetwork(docker, `dhcplab-smoke-${process.pid}`, labels);
    kea = await new GenericContainer(tags["kea-3.0"] ?? "")
      .withNetworkMode(network.name)
      .withLabels({ ...labels, [LABEL.role]: "kea" })
      .withCopyContentToContainer([
        { content: dhcp4Config(network.ipv4Subnet), target: "/etc/kea/kea-dhcp4.conf" },
      ])
      .withEnvironment({ KEA_CONTROL: JSON.stringify(CONTROL) })
      .withWaitStrategy(Wait.forHealthCheck())
      .start();
    client = await new GenericContainer(tags.client)
      .withNetworkMode(network.name)
      .withLabels({ ...labels, [LABEL.role]: "client" })
      .start();
  });

  afterAll(async () => {
    await client?.stop({ remove: true, timeout: 1 });
    await kea?.stop({ remove: true, timeout: 2 });
    if (network) await docker.getNetwork(network.id).remove();
  });

  it("grants leases that perfdhcp counts and the control agent lists", async () => {
    const server = kea.getIpAddress(network.name);
    // 60 distinct clients at 30 exchanges/s: well within what Kea sustains.
    const run = await client.exec([
      "perfdhcp",
      "-4",
      "-r",
      "30",
      "-n",
      "60",
      "-R",
      "60",
      "-b",
      "mac=00:aa:01:00:00:00",
      server,
    ]);
    const report = parsePerfdhcp(run.output);
    expect(report.malformed).toBe(0);
    expect(completed(report)).toBeGreaterThan(0);

    // Every exchange perfdhcp completed left a lease; perfdhcp stops counting at -n, so Kea may
    // hold a few more (ACKs it sent after that), but never more than the REQUESTs it was sent.
    const leases = await allLeases(docker, kea.getId(), 4, CONTROL.dhcp4);
    expect(leases.length).toBeGreaterThanOrEqual(completed(report));
    expect(leases.length).toBeLessThanOrEqual(report.exchanges[1]?.sent ?? 0);
    for (const lease of leases) {
      expect(lease["ip-address"]).toMatch(
        new RegExp(`^${network.ipv4Subnet.replace(/0\/24$/, "").replaceAll(".", "\\.")}`),
      );
      expect(lease["hw-address"]).toMatch(/^00:aa:01:/);
    }
  });
});
