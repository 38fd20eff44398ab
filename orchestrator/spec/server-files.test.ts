import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadTopology } from "../model/topology.ts";
import { ROOT } from "../paths.ts";
import { readBootFiles, readDnsFiles, readRadiusFiles } from "./server-files.ts";

describe("a boot server's files", () => {
  it("are read before the lab creates anything; a missing or empty folder is refused with the field", async () => {
    const t = await loadTopology(join(ROOT, "examples/pxe.yaml"));
    const files = await readBootFiles(t);
    expect(files.get("RED")?.map(([path]) => path)).toEqual(["boot.ipxe"]);
    const at = (dir: string) => ({
      ...t,
      vrfs: t.vrfs.map((v) => (v.bootServer ? { ...v, bootServer: { ...v.bootServer, files: dir } } : v)),
    });
    await expect(readBootFiles(at("/nonexistent/boot"))).rejects.toThrow(
      /topology vrfs\[0\]\.bootServer\.files \(VRF RED\): ENOENT/,
    );
    const empty = await mkdtemp(join(tmpdir(), "boot-"));
    await expect(readBootFiles(at(empty))).rejects.toThrow(/has no files/);
  });
});

describe("a DNS server's files", () => {
  it("are read before the lab creates anything; a folder without named.conf.local is refused with the field", async () => {
    const t = await loadTopology(join(ROOT, "examples/ddns/topology.yaml"));
    expect(
      (await readDnsFiles(t))
        .get("RED")
        ?.map(([path]) => path)
        .sort(),
    ).toEqual([
      "db.192.168.10",
      "db.192.168.11",
      "db.fd00-10",
      "db.fd00-11",
      "db.red.example",
      "named.conf.local",
    ]);
    const zonesOnly = await mkdtemp(join(tmpdir(), "dns-"));
    await writeFile(join(zonesOnly, "db.red.example"), "$TTL 300\n");
    const moved = {
      ...t,
      vrfs: t.vrfs.map((v) => (v.dnsServer ? { ...v, dnsServer: { ...v.dnsServer, files: zonesOnly } } : v)),
    };
    await expect(readDnsFiles(moved)).rejects.toThrow(
      /^topology vrfs\[0\]\.dnsServer\.files \(VRF RED\): .* has no named\.conf\.local/,
    );
    // A flat folder: its entrypoint copies the files it has, not subfolders.
    await mkdir(join(zonesOnly, "old"));
    await writeFile(join(zonesOnly, "named.conf.local"), "");
    await writeFile(join(zonesOnly, "old", "db.old"), "");
    await expect(readDnsFiles(moved)).rejects.toThrow(
      /dnsServer\.files \(VRF RED\): old\/db\.old is in a subfolder/,
    );
  });
});

describe("a RADIUS server's files", () => {
  it("are clients.conf and authorize; a folder without either is refused with the field", async () => {
    const t = await loadTopology(join(ROOT, "examples/radius/topology.yaml"));
    expect(
      (await readRadiusFiles(t))
        .get("BLUE")
        ?.map(([path]) => path)
        .sort(),
    ).toEqual(["authorize", "clients.conf"]);
    const clientsOnly = await mkdtemp(join(tmpdir(), "radius-"));
    await writeFile(join(clientsOnly, "clients.conf"), "client kea { ipaddr = 10.213.0.0/16 }\n");
    const moved = {
      ...t,
      vrfs: t.vrfs.map((v) =>
        v.radiusServer ? { ...v, radiusServer: { ...v.radiusServer, files: clientsOnly } } : v,
      ),
    };
    await expect(readRadiusFiles(moved)).rejects.toThrow(
      /^topology vrfs\[1\]\.radiusServer\.files \(VRF BLUE\): .* has no authorize \(FreeRADIUS's users/,
    );
  });
});
