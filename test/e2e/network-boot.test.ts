import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildImages, type Lab } from "../../orchestrator/index.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { runScript } from "../support/cases.ts";
import { type Cpe, startCpe } from "../support/cpe.ts";
import { useTestLab } from "../support/lab.ts";

// examples/pxe.yaml as shipped: each VRF's boot server (tftpd-hpa) on its backend, Kea's classes
// picking the boot file by vendor class, user class and architecture, the relay forwarding each
// VRF's client subnet to its own boot server only. The PXE client is iPXE in QEMU.

/** The last octet of an IPv4 address. */
const host = (address: string | undefined) => Number(address?.split(".")[3]);

describe("network boot through the relay (examples/pxe.yaml)", () => {
  const lab = useTestLab("network-boot", () => loadTopology(join(ROOT, "examples/pxe.yaml")));
  const api: Lab = lab;
  beforeAll(async () => {
    // The QEMU image, built here (and only for a PXE test or command), not by the global setup.
    await buildImages({ only: ["pxe"] });
  });

  it("an iPXE firmware client boots the script its class is served, in each VRF; Kea leased its MAC from RED's PXE pool; a quarantined one boots nothing and ends at once", async () => {
    const [red, blue, quarantined] = await Promise.all([
      api.client({ kind: "pxe", mac: "52:54:00:00:0a:01" }),
      api.client({ kind: "pxe", mac: "00:bb:00:00:0a:01" }),
      // The policy drops 00:dd:*: the firmware gets no DHCP answer, gives up, and the client ends
      // then, saying why, well before its deadline.
      api.client({ kind: "pxe", mac: "00:dd:00:00:0a:01", timeoutSeconds: 100 }),
    ]);
    expect(red.booted, red.output).toBe(true);
    expect(red).toMatchObject({ nextServer: "10.69.10.2", bootFile: "boot.ipxe", timedOut: false });
    // The script's marker, with what iPXE itself says it booted as.
    expect(red.console).toContain(
      `dhcplab-boot RED: 52:54:00:00:0a:01 booted as ${red.address} from 10.69.10.2 (boot.ipxe)`,
    );
    expect(blue.console, blue.output).toContain(
      `dhcplab-boot BLUE: 00:bb:00:00:0a:01 booted as ${blue.address} from 10.69.20.2 (boot.ipxe)`,
    );
    expect(quarantined).toMatchObject({ booted: false, timedOut: false });
    expect(quarantined.address).toBeUndefined();
    expect(quarantined.failure).toMatch(/No configuration methods succeeded|No bootable device/);
    const lease = (await api.leases({ vrf: "RED", family: 4 })).find((l) => l.client === "52:54:00:00:0a:01");
    expect(lease?.address).toBe(red.address);
    // RED's pool for PXE clients is .10 - .99 (pxe/kea/RED/kea-dhcp4.conf).
    expect(host(lease?.address)).toBeGreaterThanOrEqual(10);
    expect(host(lease?.address)).toBeLessThanOrEqual(99);
    expect(lease?.relay).toMatchObject({ circuitId: "RED_PXE" });
  });

  it("a BIOS and a UEFI PXE ROM (light clients) get their different boot files; a client that is not PXE gets none", async () => {
    const [bios, uefi, plain] = await Promise.all([
      api.client({
        kind: "udhcpc",
        mac: "00:aa:00:00:0b:01",
        vendorClass: "PXEClient:Arch:00000:UNDI:002001",
        arch: 0,
      }),
      api.client({
        kind: "dhclient",
        mac: "00:aa:00:00:0b:02",
        vendorClass: "PXEClient:Arch:00007:UNDI:003016",
        arch: 7,
      }),
      api.client({ kind: "udhcpc", mac: "00:aa:00:00:0b:03" }),
    ]);
    expect(bios, bios.output).toMatchObject({ nextServer: "10.69.10.2", bootFile: "undionly.kpxe" });
    expect(uefi, uefi.output).toMatchObject({ nextServer: "10.69.10.2", bootFile: "ipxe.efi" });
    expect(plain.address, plain.output).toMatch(/^192\.168\.10\./);
    expect(plain.bootFile).toBeUndefined();
    expect(plain.nextServer).toBeUndefined();
    // Not PXE: the other pool, .100 - .250.
    expect(host(plain.address)).toBeGreaterThanOrEqual(100);
  });

  it("a PXE ROM gets the boot server and file as options 66 and 67 too, beside siaddr and file", async () => {
    // udhcpc as a BIOS PXE ROM, asking for options 66 (tftp) and 67 (bootfile).
    const r = await runScript(lab, "00:aa:00:00:0b:04", [
      `printf '#!/bin/sh\\n[ "$1" = bound ] && echo "BOOT $siaddr $boot_file $tftp $bootfile"\\nexit 0\\n' > /tmp/script`,
      "chmod +x /tmp/script",
      "udhcpc -f -q -n -i eth0 -t 5 -T 2 -s /tmp/script -V PXEClient:Arch:00000:UNDI:002001 -x 0x5d:0000 -O tftp -O bootfile 2>&1",
    ]);
    expect(r.output).toMatch(/^BOOT 10\.69\.10\.2 undionly\.kpxe 10\.69\.10\.2 undionly\.kpxe$/m);
  });

  describe("isolation: a VRF's clients reach its own boot server, and nothing of another VRF", () => {
    /** A client of the VRF its MAC puts it in, leased by udhcpc, routing 10.69/16 via its gateway. */
    const cpeOf = async (mac: string, gateway: string) => {
      const cpe = await startCpe(lab, mac);
      const r = await cpe.sh("udhcpc -i eth0 -n -q -t 5 -T 2 2>&1");
      const address = /lease of (\S+) obtained/.exec(r.stdout)?.[1];
      if (!address) throw new Error(`${mac} got no lease:\n${r.stdout}`);
      const route = await cpe.sh(`ip route replace 10.69.0.0/16 via ${gateway} src ${address}`);
      if (route.exitCode !== 0) throw new Error(route.stderr);
      return { cpe, address };
    };
    /** A TFTP fetch of boot.ipxe, given up after 5 s: what it got, or its failure. */
    const fetch = (cpe: Cpe, server: string) =>
      cpe.sh(`timeout 5 busybox tftp -g -r boot.ipxe -l /tmp/boot.ipxe ${server} && cat /tmp/boot.ipxe`);

    it("BLUE's client fetches BLUE's script, not RED's; RED's client RED's, not BLUE's; neither reaches the other VRF's Kea", async () => {
      const [{ cpe: red }, { cpe: blue, address: blueAddress }] = await Promise.all([
        cpeOf("00:aa:00:00:0c:01", "192.168.10.1"),
        cpeOf("00:bb:00:00:0c:01", "192.168.20.1"),
      ]);
      const own = await Promise.all([fetch(red, "10.69.10.2"), fetch(blue, "10.69.20.2")]);
      expect(own[0].stdout).toContain("dhcplab-boot RED");
      expect(own[1].stdout).toContain("dhcplab-boot BLUE");
      const other = await Promise.all([fetch(red, "10.69.20.2"), fetch(blue, "10.69.10.2")]);
      for (const r of other) {
        expect(r.exitCode).not.toBe(0);
        expect(r.stdout).not.toContain("dhcplab-boot");
      }
      // The other VRF's Kea, on its backend network, through the client's gateway: nothing
      // comes back, where the client's own boot server answers the same ping.
      const redKea = lab.spec.vrfs.find((v) => v.spec.name === "RED")?.keas[0]?.ipv4;
      const ping = (to: string) =>
        blue.sh(
          `ip route replace ${to} via 192.168.20.1 src ${blueAddress} && busybox ping -c 2 -W 1 ${to} >/dev/null 2>&1 && echo reached`,
        );
      expect((await ping("10.69.20.2")).stdout).toContain("reached");
      expect((await ping(redKea ?? "")).stdout).not.toContain("reached");
    });
  });
});
