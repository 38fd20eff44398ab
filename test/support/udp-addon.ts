import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadUdpAddon, type UdpAddon } from "../../relay/agent/native-datapath.ts";

const SOURCE = fileURLToPath(new URL("../../docker/relay/dhcplab-udp.c", import.meta.url));

/**
 * The relay's native addon, compiled for the Node running the tests as the relay image compiles
 * it (gcc against the Node headers installed beside this Node: nothing downloaded), once per
 * version of its source.
 */
export function udpAddon(): UdpAddon {
  const source = readFileSync(SOURCE);
  const hash = createHash("sha256").update(source).update(process.version).digest("hex").slice(0, 16);
  const dir = join(tmpdir(), "dhcplab-udp");
  const out = join(dir, `dhcplab-udp-${hash}.node`);
  if (!existsSync(out)) {
    mkdirSync(dir, { recursive: true });
    const headers = join(dirname(process.execPath), "..", "include", "node");
    const tmp = `${out}.${process.pid}`;
    execFileSync("gcc", [
      "-O2",
      "-Wall",
      "-Wextra",
      "-Werror",
      "-shared",
      "-fPIC",
      `-I${headers}`,
      "-o",
      tmp,
      SOURCE,
    ]);
    renameSync(tmp, out);
  }
  return loadUdpAddon(out);
}
