import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { buildImages, type ImageName, type Lab, openLab } from "../../orchestrator/index.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { composeSpec, renderCompose } from "../../orchestrator/spec/compose.ts";
import { readLabInputs } from "../../orchestrator/spec/inputs.ts";

// Compose is a second renderer of the lab's spec: a rendered lab comes up under
// `docker compose up -d --wait` alone, and the library opens it like any lab and serves a real
// client through it. Every example renders into a file Compose itself accepts.

const BIN = join(import.meta.dirname, "..", "..", "bin", "dhcplab.js");
const NAME = `t${process.pid}-compose`;

/** docker compose on a file; never throws on a non-zero exit. */
const compose = (file: string, ...args: string[]) =>
  execa("docker", ["compose", "-f", file, ...args], { reject: false, timeout: 240_000 });

/** Renders a topology's lab for Compose on the test run's images, brings it up, and removes it after `use`. */
async function withComposeLab(
  topologyFile: string | undefined,
  /** Images besides the default lab's that the topology runs. */
  only: ImageName[],
  use: (lab: Lab) => Promise<void>,
) {
  const topology = await loadTopology(topologyFile);
  const built = only.length > 0 ? await buildImages({ only }) : [];
  const images = { ...inject("imageTags"), ...Object.fromEntries(built.map((r) => [r.name, r.tag])) };
  const spec = composeSpec(topology, await readLabInputs(topology, images), {
    name: NAME,
    labels: inject("testRun").labels,
  });
  const dir = await mkdtemp(join(tmpdir(), "dhcplab-compose-"));
  const file = join(dir, "compose.yaml");
  await writeFile(file, renderCompose(spec, dir));
  try {
    const up = await compose(file, "up", "-d", "--wait");
    expect(up.exitCode, up.stderr).toBe(0);
    const lab = await openLab(NAME, { images });
    expect(lab.spec.access.relay.ipv4).toBe(spec.access.relay.ipv4);
    await use(lab);
  } finally {
    await compose(file, "down", "--volumes", "--timeout", "2");
  }
}

describe("compose", () => {
  it("a rendered lab comes up with docker compose up --wait and serves a real client", async () => {
    await withComposeLab(undefined, [], async (lab) => {
      const client = await lab.client({ mac: "00:aa:01:00:00:51", kind: "udhcpc" });
      expect(client.address, client.output).toMatch(/^192\.168\.10\.\d+$/);
      const leases = await lab.leases({ vrf: "RED", family: 4 });
      expect(leases.find((l) => l.address === client.address)?.relay?.circuitId).toBe("VIDEO_CIRCUIT");
      const status = await lab.status();
      expect(status.keas.map((k) => [k.name, k.state])).toEqual([
        [`${NAME}-kea-blue`, "running"],
        [`${NAME}-kea-red`, "running"],
      ]);
    });
  });

  it("the towers example comes up under Compose: isc-dhcp-relay's and dhcplab's towers serve their subscribers", async () => {
    await withComposeLab(join(ROOT, "examples/towers/topology.yaml"), ["dhcrelay"], async (lab) => {
      const [a, b] = await Promise.all([
        lab.client({ mac: "00:aa:0a:00:00:51", kind: "udhcpc", segment: "tower-a" }),
        lab.client({ mac: "00:aa:0b:00:00:51", kind: "udhcpc", segment: "tower-b" }),
      ]);
      expect(a.address, a.output).toMatch(/^100\.64\.1\./);
      expect(b.address, b.output).toMatch(/^100\.64\.2\./);
      const leases = await lab.leases({ vrf: "RED", family: 4 });
      expect(leases.find((l) => l.address === b.address)?.relay?.circuitId).toBe("tower-b:port-5:vlan-100");
    });
  });

  it.each([
    ["towers", "examples/towers/topology.yaml", ["tower-a", "tower-b"]],
    ["HA", "examples/ha/topology.yaml", ["kea-red-1", "kea-red-2"]],
    ["PXE", "examples/pxe.yaml", ["boot-red", "boot-blue"]],
  ])("dhcplab compose renders the %s example into a file Compose accepts", async (_, topology, services) => {
    const out = join(await mkdtemp(join(tmpdir(), "dhcplab-compose-")), "compose.yaml");
    const r = await execa("node", [BIN, "compose", "--topology", join(ROOT, topology), "-o", out, "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ file: out });
    const config = await compose(out, "config", "--services");
    expect(config.exitCode, config.stderr).toBe(0);
    expect(config.stdout.split("\n")).toEqual(expect.arrayContaining(["relay", ...services]));
  });
});
