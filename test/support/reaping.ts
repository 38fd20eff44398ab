import { join } from "node:path";
import type Docker from "dockerode";
import { execa } from "execa";
import { expect, inject } from "vitest";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { ROOT } from "../../orchestrator/paths.ts";

// The reaper tests' one case, on any Engine: a process starts a lab through the library and holds
// it (hold-lab.ts); once it is up, the process is killed with SIGKILL (no handler runs), and the
// lab's reaper must remove every container and network of the lab within 30 s.

const HOLD = join(ROOT, "test", "support", "hold-lab.ts");

/** A lab's containers and networks on an Engine, counted. */
async function labObjects(docker: Docker, name: string): Promise<{ containers: number; networks: number }> {
  const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`] });
  return {
    containers: (await docker.listContainers({ all: true, filters })).length,
    networks: (await docker.listNetworks({ filters })).length,
  };
}

/**
 * Holds lab `name` (the default lab, or `topology`) on `docker` (DOCKER_HOST `host`, or the local
 * Engine), expects `up` of it once it is up, kills its process with SIGKILL and expects nothing of
 * it left within 30 s.
 */
export async function expectReapedAfterKill(
  docker: Docker,
  name: string,
  up: { containers: number; networks: number },
  o: { host?: string; topology?: string } = {},
): Promise<void> {
  const child = execa("node", ["--import", "tsx", HOLD, name, ...(o.topology ? [o.topology] : [])], {
    cwd: ROOT,
    reject: false,
    env: {
      ...(o.host ? { DOCKER_HOST: o.host } : {}),
      DHCPLAB_KEEP_LAB: "never",
      DHCPLAB_HOLD_IMAGES: JSON.stringify(inject("imageTags")),
      DHCPLAB_HOLD_LABELS: JSON.stringify(inject("testRun").labels),
    },
  });
  try {
    // The lab is up once the process says so (a line may come in pieces).
    let said = "";
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on("data", (d: Buffer) => {
        said += d.toString();
        if (said.includes(`up ${name}`)) resolve();
      });
      void child.then((r) => reject(new Error(`the lab's process ended first: ${r.stderr}`)));
    });
    expect(await labObjects(docker, name)).toEqual(up);
    child.kill("SIGKILL");
    expect((await child).signal).toBe("SIGKILL");
    const killedAt = Date.now();
    await expect
      .poll(() => labObjects(docker, name), { timeout: 30_000, interval: 500 })
      .toEqual({ containers: 0, networks: 0 });
    console.log(`${name} reaped ${((Date.now() - killedAt) / 1000).toFixed(1)} s after the kill`);
  } finally {
    child.kill("SIGKILL");
  }
}
