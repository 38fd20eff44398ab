import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Topology } from "../model/topology.ts";

// A VRF's boot server's files (spec/features/boot.ts): the topology's folder, read before the
// lab creates anything.

/** A boot server's files: [path inside its folder, bytes]. */
export type BootFiles = [string, Buffer][];

/** Every file under `dir`; refuses a missing or empty folder, naming the field. */
async function folderFiles(dir: string, field: string): Promise<BootFiles> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((err: Error) => {
    throw new Error(`${field}: ${err.message}`);
  });
  const files: [string, Buffer][] = [];
  for (const e of entries.filter((e) => e.isFile())) {
    const full = join(e.parentPath, e.name);
    files.push([relative(dir, full), await readFile(full)]);
  }
  if (files.length === 0) throw new Error(`${field}: ${dir} has no files to serve`);
  return files;
}

/** Each VRF's boot files by VRF name, read before the lab creates anything. */
export async function readBootFiles(t: Topology): Promise<Map<string, BootFiles>> {
  const files = new Map<string, BootFiles>();
  for (const [i, v] of t.vrfs.entries()) {
    if (v.bootServer)
      files.set(
        v.name,
        await folderFiles(v.bootServer.files, `topology vrfs[${i}].bootServer.files (VRF ${v.name})`),
      );
  }
  return files;
}
