import { hostname } from "node:os";
import type Docker from "dockerode";
import { removeLabelled } from "../../orchestrator/docker/engine.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";

/** Identifies one `npm test` run: the host and pid of vitest's main process. */
export interface TestRun {
  id: string;
  labels: Record<string, string>;
}

/** A new test run owned by this process. */
export function newTestRun(): TestRun {
  const id = `${hostname()}:${process.pid}`;
  return { id, labels: { [LABEL.managed]: "true", [LABEL.testRun]: id } };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes what test runs left on this Docker host: `run`'s own objects, and those of
 * earlier runs on this machine whose process is gone (a crash, a killed CI job).
 */
export async function removeTestObjects(docker: Docker, run?: TestRun): Promise<number> {
  const filters = JSON.stringify({ label: [LABEL.testRun] });
  const runs = new Set<string>();
  for (const c of await docker.listContainers({ all: true, filters }))
    runs.add(c.Labels[LABEL.testRun] ?? "");
  for (const n of await docker.listNetworks({ filters })) runs.add(n.Labels?.[LABEL.testRun] ?? "");
  let removed = 0;
  for (const id of runs) {
    const [host, pid] = id.split(":");
    const stale = host === hostname() && !isAlive(Number(pid));
    if (id !== run?.id && !stale) continue;
    const r = await removeLabelled(docker, `${LABEL.testRun}=${id}`);
    removed += r.containers + r.networks;
  }
  return removed;
}
