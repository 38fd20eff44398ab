import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { bootRoutes, type LabPlan } from "../model/plan.ts";
import type { Topology } from "../model/topology.ts";
import { tarOf } from "./engine.ts";
import type { ImageTags } from "./images.ts";

// A VRF's boot server is Debian's tftpd-hpa on the VRF's backend network, answering on the
// VRF's boot service address (the next-server its Kea hands out) and routing to the VRF's
// client subnets through the relay, which forwards those subnets to that address and nothing
// else (relay/agent/routing.ts). Its files are the topology's folder, copied in.

/** The folder under the boot server's image that tftpd-hpa serves. */
export const TFTP_ROOT = "/srv/tftp";

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

/** Creates each VRF's boot server (not started), its files copied in; container ids by name. */
export async function createBootServers(
  docker: Docker,
  plan: LabPlan,
  images: ImageTags,
  labels: Record<string, string>,
  files: ReadonlyMap<string, BootFiles>,
): Promise<Map<string, string>> {
  const created = new Map<string, string>();
  for (const v of plan.vrfs) {
    const boot = v.boot;
    if (!boot) continue;
    if (!images.boot) throw new Error(`VRF ${v.spec.name} has a boot server but no boot image was built`);
    const c = await docker.createContainer({
      name: boot.container,
      Image: images.boot,
      Labels: {
        ...labels,
        [LABEL.role]: "boot",
        [LABEL.vrf]: v.spec.name,
        [LABEL.bootAddress]: boot.address,
      },
      Env: [`DHCPLAB_BOOT_ADDRESS=${boot.address}`, `DHCPLAB_ROUTES=${bootRoutes(v).join("\n")}`],
      // It holds its service address and installs its routes through the relay.
      HostConfig: { NetworkMode: v.network, CapAdd: ["NET_ADMIN"] },
      NetworkingConfig: {
        EndpointsConfig: { [v.network]: { IPAMConfig: { IPv4Address: boot.ipv4, IPv6Address: boot.ipv6 } } },
      },
    });
    await c.putArchive(tarOf(files.get(v.spec.name) ?? []), { path: TFTP_ROOT });
    created.set(boot.container, c.id);
  }
  return created;
}
