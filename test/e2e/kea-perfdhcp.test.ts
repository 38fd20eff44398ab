import Docker from "dockerode";
import { GenericContainer, type StartedTestContainer, Wait } from "testcontainers";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { completed, parsePerfdhcp } from "../../orchestrator/model/perfdhcp.ts";

// The foundation's smoke test: the Kea 3.0 image serves DHCPv4 on an internal network, and
// perfdhcp from the client image (acting as a relay with giaddr = its own address) gets leases.
// The images alone, without dhcplab's orchestrator: a plain internal Docker network (Docker
// picks its subnet), two containers, and Kea's own lease command over its control socket.

const HOOKS = "/usr/lib/x86_64-linux-gnu/kea/hooks";

function dhcp4Config(subnet: string, host: (n: number) => string): string {
  return JSON.stringify({
    Dhcp4: {
      "interfaces-config": { interfaces: ["eth0"], "dhcp-socket-type": "udp" },
      "control-sockets": [{ "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": 8004 }],
      "lease-database": { type: "memfile", name: "/var/lib/kea/kea-leases4.csv", "lfc-interval": 0 },
      "hooks-libraries": [{ library: `${HOOKS}/libdhcp_lease_cmds.so` }],
      "valid-lifetime": 3600,
      subnet4: [{ id: 1, subnet, pools: [{ pool: `${host(100)} - ${host(250)}` }] }],
      loggers: [{ name: "kea-dhcp4", "output-options": [{ output: "stdout" }], severity: "INFO" }],
    },
  });
}

/** Where the server takes commands (Kea 3.0: its own HTTP socket). */
const CONTROL = { dhcp4: { url: "http://127.0.0.1:8004/" } };

/** An internal network of Docker's choosing, and its IPv4 subnet. */
async function internalNetwork(docker: Docker, name: string, labels: Record<string, string>) {
  const network = await docker.createNetwork({
    Name: name,
    Driver: "bridge",
    Internal: true,
    Labels: labels,
  });
  const info = await network.inspect();
  const ipv4Subnet: string | undefined = info.IPAM?.Config?.find((c: { Subnet?: string }) =>
    c.Subnet?.includes("."),
  )?.Subnet;
  // Docker's pools hand out /16 to /24 networks on a .0 boundary: host N is the base with N last.
  const base = ipv4Subnet?.match(/^(\d+\.\d+\.\d+)\.0\/(1[6-9]|2[0-4])$/)?.[1];
  if (!base) throw new Error(`network ${name} has no usable IPv4 subnet: ${ipv4Subnet}`);
  return { id: network.id, name, ipv4Subnet, host: (n: number) => `${base}.${n}`, base };
}

/** Every DHCPv4 lease Kea holds, from lease4-get-all on its own control socket. */
async function leases4(kea: StartedTestContainer): Promise<{ "ip-address": string; "hw-address": string }[]> {
  const run = await kea.exec([
    "curl",
    "-sS",
    "--max-time",
    "5",
    "-H",
    "Content-Type: application/json",
    "-d",
    JSON.stringify({ command: "lease4-get-all" }),
    CONTROL.dhcp4.url,
  ]);
  expect(run.exitCode, run.output).toBe(0);
  const [answer] = JSON.parse(run.stdout) as { result: number; arguments?: { leases: [] } }[];
  if (answer?.result === 3) return [];
  expect(answer?.result, run.stdout).toBe(0);
  return answer?.arguments?.leases ?? [];
}

describe("kea image with perfdhcp", () => {
  const docker = new Docker();
  const tags = inject("imageTags");
  const labels = { ...inject("testRun").labels, [LABEL.lab]: `smoke-${process.pid}` };
  let network: Awaited<ReturnType<typeof internalNetwork>>;
  let kea: StartedTestContainer;
  let client: StartedTestContainer;

  beforeAll(async () => {
    network = await internalNetwork(docker, `dhcplab-smoke-${process.pid}`, labels);
    kea = await new GenericContainer(tags["kea-3.0"] ?? "")
      .withNetworkMode(network.name)
      .withLabels({ ...labels, [LABEL.role]: "kea" })
      .withCopyContentToContainer([
        { content: dhcp4Config(network.ipv4Subnet, network.host), target: "/etc/kea/kea-dhcp4.conf" },
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

  it("grants leases that perfdhcp counts and Kea's lease command lists", async () => {
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
    const leases = await leases4(kea);
    expect(leases.length).toBeGreaterThanOrEqual(completed(report));
    expect(leases.length).toBeLessThanOrEqual(report.exchanges[1]?.sent ?? 0);
    for (const lease of leases) {
      expect(lease["ip-address"]).toMatch(new RegExp(`^${network.base.replaceAll(".", "\\.")}\\.`));
      expect(lease["hw-address"]).toMatch(/^00:aa:01:/);
    }
  });
});
