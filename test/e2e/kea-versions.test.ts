import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { describe, expect, inject, it } from "vitest";
import { startLab } from "../../orchestrator/api.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { loadTopology, type Topology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import {
  DEFAULT_LAB_CASES,
  expectDhclient6ObtainRelease,
  expectLeasesOfClass,
  expectUdhcpcRenewRelease,
  runScript,
} from "../support/cases.ts";
import {
  expectConflictDeclined,
  expectInform,
  expectInformationRequest,
  expectMovedClient,
  expectRenewed6,
  RED_VIDEO_TOP,
  SHORT_LIFETIMES,
} from "../support/exchanges.ts";
import { type KeaEdit, withKeaEdit } from "../support/kea-edit.ts";
import { useTestLab } from "../support/lab.ts";

// The lab on both Kea versions, in one lab: RED on Kea 2.6 beside BLUE on 3.0 (the default, which
// lab.test.ts and clients.test.ts run; cli.test.ts starts a whole lab with `up --kea 2.6`). The default
// lab's classes (Option 82 and Interface-ID) and real clients on both, the core exchanges and `apply`
// on 2.6, then a configuration Kea refuses before anything starts, and a scenario only Kea 3.0 can do.

const mixed = async (): Promise<Topology> => {
  const t = await loadTopology();
  return { ...t, vrfs: t.vrfs.map((v) => (v.name === "RED" ? { ...v, kea: "2.6" as const } : v)) };
};

describe("RED on Kea 2.6 beside BLUE on Kea 3.0, in one lab", () => {
  const lab = useTestLab("kea-mixed", mixed);

  it("runs each VRF's Kea at its version, each reached where its version takes commands", async () => {
    expect((await lab.status()).keas.map((k) => [k.vrf, k.version, k.control.dhcp4?.url])).toEqual([
      ["BLUE", "3.0", "http://127.0.0.1:8004/"],
      ["RED", "2.6", "http://127.0.0.1:8000/"],
    ]);
  });

  it.each(DEFAULT_LAB_CASES)(
    "DHCPv$family $mac: leases only from $vrf, in $prefix, with $added stored",
    (c) => expectLeasesOfClass(lab, c),
  );

  it("udhcpc renews and releases in RED DATA on Kea 2.6", () =>
    expectUdhcpcRenewRelease(lab, "00:aa:02:00:0a:03", "192.168.11."));

  it("dhclient -6 obtains and releases on RED's Kea 2.6", () =>
    expectDhclient6ObtainRelease(lab, "00:aa:01:00:0a:02", "fd00:10::"));

  // The core exchanges of exchanges.test.ts on Kea 2.6.
  describe("exchanges on Kea 2.6", () => {
    it("NAK: a client moved from BLUE is NAKed by RED (authoritative) and starts over in RED", () =>
      expectMovedClient(lab, {
        mac: "00:aa:01:00:0a:11",
        vrf: "RED",
        elsewhere: "192.168.20.52",
        prefix: "192.168.10.",
        authoritative: true,
      }));

    it("INFORM: options by unicast to ciaddr, no lease", () =>
      expectInform(lab, {
        mac: "00:aa:01:00:0a:12",
        vrf: "RED",
        address: "192.168.10.6",
        dns: "192.168.10.2",
        domain: "red.example",
      }));

    it("DECLINE: an address conflict is declined and marked so", () =>
      expectConflictDeclined(lab, {
        mac: "00:aa:01:00:0a:13",
        host: "00:aa:01:00:0a:14",
        vrf: "RED",
        prefix: "192.168.10.",
        candidates: RED_VIDEO_TOP,
      }));

    it("DHCPv6 INFORMATION-REQUEST: options, no lease", () =>
      expectInformationRequest(lab, {
        mac: "00:aa:01:00:0a:15",
        vrf: "RED",
        dns: "fd00:10::2",
        domain: "red.example",
      }));

    it("DHCPv6 RENEW and REBIND extend the lease (short lifetimes applied)", async () => {
      await withKeaEdit(lab, await mixed(), "RED", SHORT_LIFETIMES, async () => {
        await expectRenewed6(lab, "00:aa:01:00:0a:16", false);
        await expectRenewed6(lab, "00:aa:01:00:0a:17", true);
      });
    });
  });

  it("apply reloads an edited class through Kea 2.6's control agent, and trace reads Kea 2.6's log", async () => {
    // RED's DATA clients made VIDEO clients (192.168.10.0/24).
    const red = (await lab.status()).keas.find((k) => k.vrf === "RED")?.id;
    const moveData: KeaEdit = (name, text) =>
      name === "kea-dhcp4.conf"
        ? text
            .replace(
              `"test": "relay4[1].hex == 'DATA_CIRCUIT'"`,
              `"test": "relay4[1].hex == 'NO_SUCH_CIRCUIT'"`,
            )
            .replace(
              `"test": "relay4[1].hex == 'VIDEO_CIRCUIT'"`,
              `"test": "relay4[1].hex == 'VIDEO_CIRCUIT' or relay4[1].hex == 'DATA_CIRCUIT'"`,
            )
        : text;
    await withKeaEdit(lab, await mixed(), "RED", moveData, async (applied) => {
      expect(applied.changes).toEqual([
        { service: "kea-red", action: "reloaded", detail: "/etc/kea/kea-dhcp4.conf" },
      ]);
      try {
        expect((await lab.keaLogLevel("debug", { vrf: "RED" })).map((c) => c.family)).toEqual([4, 6]);
        const mac = "00:aa:02:00:0a:04";
        const got = await lab.client({ kind: "udhcpc", mac });
        expect(got.address, got.output).toMatch(/^192\.168\.10\./);
        expect((await lab.status()).keas.find((k) => k.vrf === "RED")?.id).toBe(red);
        const t = await lab.trace({ mac, family: 4 });
        expect(t.kea[0]).toMatchObject({
          server: "kea-red",
          subnet: "192.168.10.0/24",
          address: got.address,
        });
        expect(t.kea[0]?.classes).toContain("VIDEO");
      } finally {
        await lab.keaLogLevel("info", { vrf: "RED" });
      }
    });
  });
});

describe("Kea 3.0 only: host reservations by Circuit-ID (flex_id)", () => {
  const lab = useTestLab("kea-flex-id", () =>
    loadTopology(join(ROOT, "examples", "flex-id", "topology.yaml")),
  );

  it("the port whose Circuit-ID is reserved gets its address; another port gets one from the pool", async () => {
    const obtain = async (mac: string) => {
      const r = await runScript(lab, mac, ["udhcpc -i eth0 -n -q -f -t 5 -T 2 -s /bin/true -S 2>&1"]);
      return /lease of (\S+) obtained/.exec(r.output)?.[1];
    };
    expect(await obtain("00:bb:01:00:0e:42")).toBe("192.168.20.242");
    const other = await obtain("00:bb:01:00:0e:43");
    expect(other).toMatch(/^192\.168\.20\./);
    expect(other).not.toBe("192.168.20.242");
    const leases = await lab.leases({ vrf: "BLUE", family: 4 });
    expect(leases.find((l) => l.address === "192.168.20.242")?.relay?.circuitId).toBe(
      "BLUE_00:bb:01:00:0e:42",
    );
  });
});

describe("a Kea configuration that Kea refuses", () => {
  it("stops the start before anything exists, naming the VRF, the file and Kea's reason", async () => {
    // Kea 3.0 takes client-classes (a list) or, still, client-class: both at once is an error.
    const dir = await mkdtemp(join(tmpdir(), "dhcplab-kea-"));
    const good = await loadTopology();
    await writeFile(
      join(dir, "kea-dhcp4.conf"),
      JSON.stringify({
        Dhcp4: {
          "interfaces-config": { interfaces: ["eth0"], "dhcp-socket-type": "udp" },
          "control-sockets": [{ "socket-type": "http", "socket-address": "127.0.0.1", "socket-port": 8004 }],
          subnet4: [
            {
              id: 1,
              subnet: "192.168.30.0/24",
              pools: [
                { pool: "192.168.30.10 - 192.168.30.20", "client-class": "A", "client-classes": ["A"] },
              ],
            },
          ],
        },
      }),
    );
    const topology: Topology = {
      ...good,
      vrfs: good.vrfs.map((v) => (v.name === "RED" ? { ...v, keaConfig: dir, families: [4] } : v)),
    };
    const docker = new Docker();
    const name = `t${process.pid}-kea-refused`;
    const attempt = startLab({
      docker,
      name,
      topology,
      images: inject("imageTags"),
      labels: inject("testRun").labels,
    });
    await expect(attempt).rejects.toThrow(
      new RegExp(
        `^VRF RED: Kea 3\\.0 refused ${dir.replaceAll("/", "\\/")}\\/kea-dhcp4\\.conf:\\n.*client-class`,
        "s",
      ),
    );
    const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`] });
    expect(await docker.listContainers({ all: true, filters })).toEqual([]);
    expect(await docker.listNetworks({ filters })).toEqual([]);
  });
});
