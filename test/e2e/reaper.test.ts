import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, inject, it } from "vitest";
import { dockerClient } from "../../orchestrator/docker/engine.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { ROOT } from "../../orchestrator/paths.ts";

// A lab whose owning process dies without taking it down is removed by its reaper: the process
// that holds the lab is killed with SIGKILL (no handler runs), and everything of the lab goes.

const HOLD = join(ROOT, "test", "support", "hold-lab.ts");

describe("the lab's reaper", () => {
  it("removes every container and network of a lab whose process was killed with SIGKILL, within 30 s", async () => {
    const docker = dockerClient();
    const name = `t${process.pid}-reaped`;
    const child = execa("node", ["--import", "tsx", HOLD, name], {
      cwd: ROOT,
      reject: false,
      env: {
        DHCPLAB_KEEP_LAB: "never",
        DHCPLAB_HOLD_IMAGES: JSON.stringify(inject("imageTags")),
        DHCPLAB_HOLD_LABELS: JSON.stringify(inject("testRun").labels),
      },
    });
    const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`] });
    const objects = async () => ({
      containers: (await docker.listContainers({ all: true, filters })).length,
      networks: (await docker.listNetworks({ filters })).length,
    });
    try {
      // The lab is up once the process says so.
      await new Promise<void>((resolve, reject) => {
        child.stdout?.on("data", (d: Buffer) => {
          if (d.toString().includes(`up ${name}`)) resolve();
        });
        void child.then((r) => reject(new Error(`the lab's process ended first: ${r.stderr}`)));
      });
      const up = await objects();
      // Kea RED, Kea BLUE, the relay and its reaper; the access and two backend networks.
      expect(up).toEqual({ containers: 4, networks: 3 });
      child.kill("SIGKILL");
      expect((await child).signal).toBe("SIGKILL");
      const killedAt = Date.now();
      await expect.poll(objects, { timeout: 30_000, interval: 500 }).toEqual({ containers: 0, networks: 0 });
      console.log(`reaped ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
    } finally {
      child.kill("SIGKILL");
    }
  }, 180_000);
});
