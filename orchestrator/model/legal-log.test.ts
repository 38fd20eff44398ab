import { readFileSync } from "node:fs";
import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import { readKeaConfigs } from "./kea-config.ts";
import { KeaConfigError } from "./kea-json.ts";
import { isLegalLogFile, legalLogOf, parseLegalLog } from "./legal-log.ts";
import { loadTopology } from "./topology.ts";

// Records kea-dhcp4 and kea-dhcp6 3.0.4 wrote (the lab's image, examples/legal-log) for udhcpc
// 00:aa:01:00:00:45 (assigned, renewed, released) and dhclient -6 00:aa:01:00:00:43/44 through
// the relay; the last line of each file is a record without its user-context (store-extended-info off).
const fixture = (name: string) =>
  readFileSync(join(import.meta.dirname, "../../test/fixtures/legal-log", name), "utf8");

const HOOK = "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_legal_log.so";
const config = (parameters?: Record<string, unknown>, family: 4 | 6 = 4) =>
  JSON.stringify({
    [`Dhcp${family}`]: {
      "hooks-libraries": [
        { library: "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_lease_cmds.so" },
        { library: HOOK, ...(parameters ? { parameters } : {}) },
      ],
    },
  });

describe("the legal_log hook's configuration", () => {
  it("gives the folder and base name, with Kea's defaults", () => {
    expect(legalLogOf("f", config({ path: "/var/log/kea/", "base-name": "legal4" }), 4)).toEqual({
      path: "/var/log/kea",
      baseName: "legal4",
      field: "Dhcp4.hooks-libraries[1].parameters",
    });
    expect(legalLogOf("f", config(undefined, 6), 6)).toEqual({
      path: "/var/log/kea",
      baseName: "kea-legal",
      field: "Dhcp6.hooks-libraries[1].parameters",
    });
    expect(legalLogOf("f", JSON.stringify({ Dhcp4: { "hooks-libraries": [] } }), 4)).toBeUndefined();
  });

  it("refuses, naming the file and field, a path Kea 3.0 refuses only at start, and records not in files", () => {
    expect(() => legalLogOf("/x/kea-dhcp4.conf", config({ path: "/tmp" }), 4)).toThrow(
      new KeaConfigError(
        "/x/kea-dhcp4.conf",
        "Dhcp4.hooks-libraries[1].parameters.path",
        `"/tmp": Debian's Kea 3.0 writes legal logs only under /var/log/kea (another path stops the server at start)`,
      ),
    );
    expect(() => legalLogOf("f", config({ type: "syslog" }), 4)).toThrow(/parameters\.type.*syslog/);
  });

  it("a lab is refused at load, naming the VRF, file and field, where a server's legal log path is elsewhere", async () => {
    const t = await loadTopology(join(ROOT, "examples/legal-log/topology.yaml"));
    expect((await readKeaConfigs(t)).map((k) => k.vrf)).toEqual(["RED", "BLUE"]);
    const dir = await mkdtemp(join(tmpdir(), "dhcplab-legal-"));
    await cp(join(ROOT, "examples/legal-log/kea/RED"), dir, { recursive: true });
    const file = join(dir, "kea-dhcp6.conf");
    await writeFile(
      file,
      (await readFile(file, "utf8")).replace(`"path": "/var/log/kea"`, `"path": "/srv/log"`),
    );
    const moved = { ...t, vrfs: t.vrfs.map((v) => (v.name === "RED" ? { ...v, keaConfig: dir } : v)) };
    await expect(readKeaConfigs(moved)).rejects.toThrow(
      `VRF RED (Kea 3.0): ${file}: Dhcp6.hooks-libraries[3].parameters.path: "/srv/log": Debian's Kea 3.0 writes legal logs only under /var/log/kea`,
    );
    // Both servers of the container on one base name would write one file.
    await writeFile(
      file,
      (await readFile(file, "utf8"))
        .replace(`"/srv/log"`, `"/var/log/kea"`)
        .replaceAll("kea-legal6", "kea-legal4"),
    );
    await expect(readKeaConfigs(moved)).rejects.toThrow(
      `VRF RED (Kea 3.0): ${file}: Dhcp6.hooks-libraries[3].parameters.base-name: "kea-legal4" is kea-dhcp4's legal log too: give each server a base name of its own`,
    );
  });

  it("knows its files from the other files in the folder", () => {
    const c = { path: "/var/log/kea", baseName: "kea-legal4" };
    expect(isLegalLogFile(c, "kea-legal4.20261206.txt")).toBe(true);
    expect(isLegalLogFile(c, "kea-legal4.T20261206113017.txt")).toBe(true);
    expect(isLegalLogFile(c, "kea-legal6.20261206.txt")).toBe(false);
    expect(isLegalLogFile(c, "kea-dhcp4.log")).toBe(false);
  });
});

describe("a legal log's records", () => {
  it("DHCPv4: each lease event with the client, giaddr and the relay's Option 82; other lines skipped", () => {
    const records = parseLegalLog(fixture("kea-legal4.3.0.txt"), 4);
    expect(records.map((r) => [r.time, r.event, r.address, r.lifetime, r.mac])).toEqual([
      ["2026-12-06 11:30:39 UTC", "assigned", "192.168.10.11", 3600, "00:aa:01:00:00:45"],
      ["2026-12-06 11:30:42 UTC", "assigned", "192.168.10.11", 3600, "00:aa:01:00:00:45"],
      ["2026-12-06 11:30:44 UTC", "released", "192.168.10.11", undefined, "00:aa:01:00:00:45"],
      ["2026-12-06 11:30:39 UTC", "assigned", "192.168.10.11", 3600, "00:aa:01:00:00:45"],
    ]);
    expect(records[0]).toMatchObject({
      kind: "address",
      clientId: "01:00:aa:01:00:00:45",
      giaddr: "10.213.70.2",
      relay: { circuitId: "VIDEO_CIRCUIT", remoteId: "00:aa:01:00:00:45", linkSelection: "192.168.10.1" },
    });
    // Without the user-context: the identifiers the line names.
    expect(records[3]?.relay).toEqual({ circuitId: "VIDEO_CIRCUIT", remoteId: "00:aa:01:00:00:45" });
  });

  it("DHCPv6: addresses and delegated prefixes with the DUID and the relay's Interface-ID, Remote-ID and link", () => {
    const records = parseLegalLog(fixture("kea-legal6.3.0.txt"), 6);
    expect(records.map((r) => [r.event, r.kind, r.address, r.lifetime])).toEqual([
      ["assigned", "address", "fd00:10::1000", 4000],
      ["assigned", "prefix", "fd10:100::/56", 4000],
      ["released", "address", "fd00:10::1001", undefined],
      ["assigned", "address", "fd00:10::1000", 4000],
    ]);
    expect(records[0]).toMatchObject({
      duid: "00:01:00:01:32:a8:03:96:00:aa:01:00:00:43",
      mac: "00:aa:01:00:00:43",
      relay: {
        circuitId: "V6_VIDEO_LINK",
        remoteId: "00:aa:01:00:00:43",
        remoteIdEnterprise: 2393,
        link: "fd00:10::1",
        peer: "fe80::2aa:1ff:fe00:43",
      },
    });
    expect(records[3]?.relay).toEqual({
      circuitId: "V6_VIDEO_LINK",
      link: "fd00:10::1",
      peer: "fe80::2aa:1ff:fe00:43",
    });
  });
});
