import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type Docker from "dockerode";
import { containerFolder, containerLogs } from "../../orchestrator/docker/engine.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import type { LabSpec } from "../../orchestrator/spec/spec.ts";

/** Where failed tests leave their evidence. */
export const RESULTS_DIR = join(import.meta.dirname, "..", "..", "test-results");

/**
 * Starts tcpdump in the relay's network namespace, one capture per lab network (the relay
 * is on all of them: the access network and every VRF's backend), kept in the container
 * until a failed test asks for them.
 */
export async function startCaptures(
  docker: Docker,
  lab: LabSpec,
  image: string,
  labels: Record<string, string>,
): Promise<string> {
  const networks = [
    // The first segment is "access"; the others by their names.
    ...lab.segments.map((g, i) => ({
      name: i === 0 ? "access" : g.spec.name.toLowerCase(),
      ipv4: g.relay.ipv4,
    })),
    ...lab.vrfs.map((v) => ({ name: v.spec.name.toLowerCase(), ipv4: v.relay.ipv4 })),
    ...(lab.transport ? [{ name: "transport", ipv4: lab.transport.relay.ipv4 }] : []),
  ];
  const script = [
    "mkdir -p /captures",
    ...networks.map(
      (n) =>
        `dev=$(ip -o -4 addr show | awk '$4 ~ /^${n.ipv4.replaceAll(".", "\\.")}\\//{print $2}'); tcpdump -i "$dev" --immediate-mode -U -s 0 -w /captures/${n.name}.pcap 'udp port 67 or udp port 68 or udp port 546 or udp port 547' 2>/dev/null &`,
    ),
    "wait",
  ].join("\n");
  const c = await docker.createContainer({
    Image: image,
    Cmd: ["sh", "-c", script],
    Labels: { ...labels, [LABEL.lab]: lab.name, [LABEL.role]: "capture" },
    HostConfig: { NetworkMode: `container:${lab.relay.container}`, CapAdd: ["NET_ADMIN", "NET_RAW"] },
  });
  await c.start();
  return c.id;
}

/** Saves every lab container's log and the captures under test-results/<test name>/. */
export async function saveArtifacts(
  docker: Docker,
  lab: LabSpec,
  captureId: string | undefined,
  testName: string,
): Promise<string> {
  const dir = join(RESULTS_DIR, testName.replace(/[^A-Za-z0-9_.-]+/g, "-").slice(0, 120));
  await mkdir(dir, { recursive: true });
  for (const { container } of lab.nodes) {
    const log = await containerLogs(docker, container).catch((err: Error) => `(no log: ${err.message})`);
    await writeFile(join(dir, `${container}.log`), `${log}\n`);
  }
  if (captureId) {
    for (const [file, bytes] of await readCaptures(docker, captureId))
      await writeFile(join(dir, file), bytes);
  }
  return dir;
}

/**
 * The .pcap files under /captures in a capture container, by file name. Engine 20.10 at times
 * answers a running container's archive with "Could not find the file /captures" (twice in CI,
 * both while the HA suite's loads created and removed containers beside it): asked again, it is
 * there. So a 404 is asked again, for up to 10 s, and only then thrown.
 */
export async function readCaptures(docker: Docker, containerId: string): Promise<Map<string, Uint8Array>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      const files = await containerFolder(docker, containerId, "/captures");
      return new Map([...files].filter(([name]) => name.endsWith(".pcap")));
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404 || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * Starts tcpdump in a container's network namespace (a Kea's, say): its DHCP traffic on eth0
 * goes to /captures/NAME.pcap in the capture container, whose id is returned.
 */
export async function startCaptureIn(
  docker: Docker,
  o: { containerId: string; image: string; name: string; lab: string; labels: Record<string, string> },
): Promise<string> {
  const c = await docker.createContainer({
    Image: o.image,
    Cmd: [
      "sh",
      "-c",
      `mkdir -p /captures && exec tcpdump -i eth0 --immediate-mode -U -s 0 -w /captures/${o.name}.pcap 'udp port 67 or udp port 68 or udp port 546 or udp port 547'`,
    ],
    Labels: { ...o.labels, [LABEL.lab]: o.lab, [LABEL.role]: "capture" },
    HostConfig: { NetworkMode: `container:${o.containerId}`, CapAdd: ["NET_ADMIN", "NET_RAW"] },
  });
  await c.start();
  return c.id;
}
