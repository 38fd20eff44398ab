import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../lib/config/yaml-config.ts";
import { ROOT } from "../paths.ts";
import { poolSlots } from "../spec/build.ts";
import { COMPOSE_IMAGES, composeSpec, renderCompose } from "../spec/compose.ts";
import { readLabInputs } from "../spec/inputs.ts";
import { KeaConfigRefused, readKeaConfigs } from "./kea-config.ts";
import { HA_PORT, serverFiles } from "./kea-ha.ts";
import { parseKeaJson } from "./kea-json.ts";
import { planLab } from "./plan.ts";
import { KEA_VERSIONS, loadTopology, parseTopology, withKea } from "./topology.ts";

const EXAMPLE = join(ROOT, "examples/ha/topology.yaml");

/** The ha hook's relationship in a written server configuration. */
function relationship(text: string, family: 4 | 6): Record<string, unknown> {
  const hooks = (
    parseKeaJson(text, "written")[`Dhcp${family}`] as {
      "hooks-libraries": {
        library: string;
        parameters?: { "high-availability": Record<string, unknown>[] };
      }[];
    }
  )["hooks-libraries"];
  const ha = hooks.find((h) => h.library.endsWith("libdhcp_ha.so"));
  return ha?.parameters?.["high-availability"][0] ?? {};
}

describe("Kea HA pairs in the topology", () => {
  it("an ha VRF is two servers named kea-<vrf>-1 and -2; timers take milliseconds or units", async () => {
    const t = await loadTopology(EXAMPLE);
    expect(t.vrfs.map((v) => [v.name, v.servers, v.ha?.mode])).toEqual([
      ["RED", 2, "hot-standby"],
      ["BLUE", 2, "load-balancing"],
    ]);
    expect(t.vrfs[0]?.ha).toMatchObject({
      heartbeat: 1000,
      "max-response-delay": 3000,
      "max-unacked-clients": 2,
    });
    const plan = planLab("lab", t, poolSlots(t, 1));
    expect(plan.vrfs.map((v) => v.keas.map((k) => [k.service, k.container, k.ipv4]))).toEqual([
      [
        ["kea-red-1", "lab-kea-red-1", "10.213.2.10"],
        ["kea-red-2", "lab-kea-red-2", "10.213.2.11"],
      ],
      [
        ["kea-blue-1", "lab-kea-blue-1", "10.213.3.10"],
        ["kea-blue-2", "lab-kea-blue-2", "10.213.3.11"],
      ],
    ]);
  });

  it("refuses an unknown mode, a bad timer, and a pair of more than two, with file, line and field", () => {
    const vrf = (ha: string, extra = "") =>
      `vrfs:\n  - name: RED\n    keaConfig: kea\n    link4: 10.9.0.1\n    link6: fd00::1\n${extra}    ha: ${ha}\n`;
    const refusal = (text: string) => {
      try {
        parseTopology(text, "lab.yaml", "/tmp");
      } catch (err) {
        if (err instanceof ConfigError) return err.message;
        throw err;
      }
      throw new Error("accepted");
    };
    expect(refusal(vrf("{ mode: active-active }"))).toMatch(
      /^lab\.yaml:6: vrfs\[0\]\.ha\.mode: mode "active-active" is not one of hot-standby, load-balancing/,
    );
    expect(refusal(vrf("{ mode: hot-standby, heartbeat: soon }"))).toMatch(
      /vrfs\[0\]\.ha\.heartbeat: .*duration/,
    );
    expect(refusal(vrf("{ mode: hot-standby }", "    servers: 3\n"))).toMatch(
      /vrfs\[0\]\.servers: servers: 3 with ha: an HA pair is two servers/,
    );
    // Without ha, DHCPv4 servers that do not know of each other stay refused.
    expect(refusal(vrf("{ mode: hot-standby }", "    servers: 2\n").replace(/ {4}ha:.*\n/, ""))).toMatch(
      /would each ACK the same client; use servers: 1, families: \[6\], or ha/,
    );
  });

  it("refuses, at load, a configuration missing a hook HA needs, or setting what the lab writes: file, field, reason", async () => {
    const dir = await mkdtemp(join(tmpdir(), "dhcplab-ha-"));
    await cp(join(ROOT, "examples/ha/kea/RED/3.0"), join(dir, "kea"), { recursive: true });
    const topology = parseTopology(
      "vrfs:\n  - { name: RED, keaConfig: kea, link4: 192.168.10.1, link6: 'fd00:10::1', ha: { mode: hot-standby } }\n",
      join(dir, "lab.yaml"),
      dir,
    );
    const v6 = join(dir, "kea/kea-dhcp6.conf");
    const original = await readFile(v6, "utf8");
    await writeFile(v6, original.replace(/\{ "library": "[^"]*libdhcp_lease_cmds\.so" \},/, ""));
    await expect(readKeaConfigs(topology)).rejects.toThrow(KeaConfigRefused);
    await expect(readKeaConfigs(topology)).rejects.toThrow(
      `VRF RED (Kea 3.0): ${v6}: Dhcp6.hooks-libraries: ha: hot-standby needs the libdhcp_lease_cmds.so hook`,
    );
    await writeFile(
      v6,
      original.replace(
        /"library": "([^"]*libdhcp_ha\.so)" \}/,
        '"library": "$1", "parameters": { "high-availability": [ { "mode": "load-balancing" } ] } }',
      ),
    );
    await expect(readKeaConfigs(topology)).rejects.toThrow(
      `${v6}: Dhcp6.hooks-libraries[ha].parameters.high-availability[0].mode: set by the lab from the topology's ha`,
    );
  });

  it.each(KEA_VERSIONS)(
    "writes each peer's relationship on Kea %s: its name, the mode, the peers' URLs and roles, the timers",
    async (version) => {
      const t = withKea(await loadTopology(EXAMPLE), version);
      const plan = planLab("lab", t, poolSlots(t, 1));
      const configs = await readKeaConfigs(t);
      for (const [i, v] of plan.vrfs.entries()) {
        const k = configs[i];
        if (!k) throw new Error("no config");
        for (const index of [0, 1]) {
          const files = serverFiles(k, v, index);
          // Kea 2.6's control agent is the VRF's, unchanged.
          if (version === "2.6") expect(files["kea-ctrl-agent.conf"]).toBe(k.files["kea-ctrl-agent.conf"]);
          for (const family of [4, 6] as const) {
            const r = relationship(files[`kea-dhcp${family}.conf`]?.toString() ?? "", family);
            const vrf = v.spec.name.toLowerCase();
            const second = v.spec.ha?.mode === "hot-standby" ? "standby" : "secondary";
            expect(r).toMatchObject({
              "this-server-name": `kea-${vrf}-${index + 1}`,
              mode: v.spec.ha?.mode,
              "heartbeat-delay": 1000,
              "max-response-delay": 3000,
              "max-ack-delay": 1000,
              "max-unacked-clients": 2,
              "multi-threading": { "http-dedicated-listener": true },
              peers: [
                {
                  name: `kea-${vrf}-1`,
                  url: `http://10.213.${i + 2}.10:${HA_PORT[family]}/`,
                  role: "primary",
                },
                { name: `kea-${vrf}-2`, url: `http://10.213.${i + 2}.11:${HA_PORT[family]}/`, role: second },
              ],
            });
          }
        }
      }
    },
  );

  it("compose.yaml carries each peer's written configuration inline and the rest from the folder", async () => {
    const t = await loadTopology(EXAMPLE);
    const compose = renderCompose(composeSpec(t, await readLabInputs(t, COMPOSE_IMAGES)), ROOT);
    expect(compose).toContain("source: kea-red-1-kea-dhcp4.conf");
    expect(compose).toContain('"this-server-name": "kea-blue-2"');
    expect(compose).toContain("dev.dhcplab.ha: hot-standby");
  });
});
