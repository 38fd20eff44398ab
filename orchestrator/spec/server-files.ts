import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type { Topology } from "../model/topology.ts";

// The files of a VRF's boot, DNS and RADIUS servers (spec/features/boot.ts, dns.ts, radius.ts):
// the topology's folders, read before the lab creates anything.

/** A server's files: [path inside its folder, bytes]. */
export type ServerFiles = [string, Buffer][];

/** Every file under `dir`; refuses a missing or empty folder, naming the field. */
async function folderFiles(dir: string, field: string): Promise<ServerFiles> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true }).catch((err: Error) => {
    throw new Error(`${field}: ${err.message}`);
  });
  const files: [string, Buffer][] = [];
  for (const e of entries.filter((e) => e.isFile())) {
    const full = join(e.parentPath, e.name);
    files.push([relative(dir, full), await readFile(full)]);
  }
  if (files.length === 0) throw new Error(`${field}: ${dir} has no files`);
  return files;
}

/** Each VRF's boot files by VRF name, read before the lab creates anything. */
export function readBootFiles(t: Topology): Promise<Map<string, ServerFiles>> {
  return readServerFolders(t, "bootServer");
}

/** The file of a DNS server's folder that names its zones and TSIG keys (the rest are zone files). */
const NAMED_CONF = "named.conf.local";

/**
 * Each VRF's DNS server's files by VRF name: its named.conf.local and zone files, read before
 * the lab creates anything; a folder without named.conf.local is refused.
 */
export function readDnsFiles(t: Topology): Promise<Map<string, ServerFiles>> {
  return readServerFolders(t, "dnsServer", { [NAMED_CONF]: "BIND's zones and keys" });
}

/**
 * Each VRF's RADIUS server's files by VRF name: clients.conf and authorize, read before the lab
 * creates anything; a folder without either is refused.
 */
export function readRadiusFiles(t: Topology): Promise<Map<string, ServerFiles>> {
  return readServerFolders(t, "radiusServer", {
    "clients.conf": "who may ask, with which secret",
    authorize: "FreeRADIUS's users: who is accepted, with what",
  });
}

/** The files of each VRF's server of one kind, by VRF name; each folder must have the `required` files. */
async function readServerFolders(
  t: Topology,
  field: "bootServer" | "dnsServer" | "radiusServer",
  required: Record<string, string> = {},
): Promise<Map<string, ServerFiles>> {
  const folders = new Map<string, ServerFiles>();
  for (const [i, v] of t.vrfs.entries()) {
    const server = v[field];
    if (!server) continue;
    const where = `topology vrfs[${i}].${field}.files (VRF ${v.name})`;
    const files = await folderFiles(server.files, where);
    // A DNS or RADIUS server takes a flat folder (its entrypoint copies the files it names).
    const nested = field !== "bootServer" && files.find(([f]) => f.includes("/"));
    if (nested) throw new Error(`${where}: ${nested[0]} is in a subfolder: the folder is flat`);
    for (const [name, what] of Object.entries(required))
      if (!files.some(([f]) => f === name))
        throw new Error(`${where}: ${server.files} has no ${name} (${what})`);
    folders.set(v.name, files);
  }
  return folders;
}
