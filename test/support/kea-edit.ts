import { cp, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import type { ApplyResult, Lab } from "../../orchestrator/index.ts";
import type { Topology } from "../../orchestrator/model/topology.ts";

/** An edit of a Kea configuration file: its new text, from its name (`kea-dhcp4.conf`) and text. */
export type KeaEdit = (name: string, text: string) => string;

/** Every file below `dir`, with its path. */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A VRF's Kea configuration edited and applied; `restore` applies the lab's topology again. */
export interface KeaEditing {
  /** What applying the edit did. */
  applied: ApplyResult;
  restore(): Promise<void>;
}

/**
 * Edits a VRF's Kea configuration as a user would: a copy of its folder (every version's
 * files) edited and applied (Kea reloads it, leases stay).
 */
export async function editKea(lab: Lab, topology: Topology, vrf: string, edit: KeaEdit): Promise<KeaEditing> {
  const v = topology.vrfs.find((x) => x.name === vrf);
  if (!v) throw new Error(`no VRF ${vrf}`);
  const dir = await mkdtemp(join(tmpdir(), "dhcplab-kea-edit-"));
  const restore = async () => {
    try {
      await lab.apply(topology);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  try {
    await cp(v.keaConfig, dir, { recursive: true });
    let changed = false;
    for (const file of await filesBelow(dir)) {
      const text = await readFile(file, "utf8");
      const edited = edit(file.replace(/^.*\//, ""), text);
      if (edited !== text) {
        await writeFile(file, edited);
        changed = true;
      }
    }
    expect(changed, `the edit of ${v.keaConfig} changes it`).toBe(true);
    const applied = await lab.apply({
      ...topology,
      vrfs: topology.vrfs.map((x) => (x.name === vrf ? { ...x, keaConfig: dir } : x)),
    });
    expect(applied.changes.map((c) => c.action)).toContain("reloaded");
    return { applied, restore };
  } catch (err) {
    await restore();
    throw err;
  }
}

/** Runs `run` with a VRF's Kea configuration edited (editKea), restored afterwards, also when `run` fails. */
export async function withKeaEdit<T>(
  lab: Lab,
  topology: Topology,
  vrf: string,
  edit: KeaEdit,
  run: (applied: ApplyResult) => Promise<T>,
): Promise<T> {
  const editing = await editKea(lab, topology, vrf, edit);
  try {
    return await run(editing.applied);
  } finally {
    await editing.restore();
  }
}
