import { cp, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { type Lab, openLab, removeLabs } from "../../orchestrator/api.ts";
import type { JsonOutputs } from "../../orchestrator/cli/json-output.ts";
import { DEFAULT_TOPOLOGY_TEXT } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { BIN, dhcplab, dhcplabJson as json } from "../support/cli.ts";

// The edit-apply-explain loop on a running lab, as an engineer runs it: a lab started by the
// command from a topology, a policy and Kea folders of the engineer's own (a copy in a temporary
// folder), edited there and applied; explain and trace for a client. Each test puts back what it
// edited (and applies it) so that the file's tests run in any order.

const NAME = `t${process.pid}-devloop`;
let dir = "";
let lab: Lab;
const topologyFile = () => join(dir, "topology.yaml");
const policyFile = () => join(dir, "policy.yaml");
const redV4 = () => join(dir, "kea-configs", "RED", "3.0", "kea-dhcp4.conf");

const TOPOLOGY = DEFAULT_TOPOLOGY_TEXT.replace("  # policy: my-policy.yaml", "  policy: policy.yaml");
const GREEN = `  - name: GREEN
    keaConfig: kea-configs/GREEN
    link4: 192.168.30.1
    link6: fd00:30::1
    gateways: [192.168.30.1/24]
    gateways6: [fd00:30::1/64]
`;

/** Edits a file for the length of `run`, then puts it back (and the lab with it: apply). */
async function withEdit(file: string, edit: (text: string) => string, run: () => Promise<void>) {
  const original = await readFile(file, "utf8");
  const edited = edit(original);
  expect(edited, `the edit of ${file} changes it`).not.toBe(original);
  await writeFile(file, edited);
  try {
    await run();
  } finally {
    await writeFile(file, original);
    await lab.apply();
  }
}

/** A real client (udhcpc) through the relay; its address. */
async function lease(mac: string): Promise<string> {
  const r = await lab.client({ kind: "udhcpc", mac });
  expect(r.exitCode, r.output).toBe(0);
  return r.address ?? "";
}

describe("the policy and classification loop: apply, watch, explain, trace", () => {
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "dhcplab-devloop-"));
    await cp(join(ROOT, "kea-configs"), join(dir, "kea-configs"), { recursive: true });
    await writeFile(topologyFile(), TOPOLOGY);
    await writeFile(policyFile(), DEFAULT_POLICY);
    const labels = Object.entries(inject("testRun").labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
    const up = await dhcplab("up", "--name", NAME, "--topology", topologyFile(), ...labels);
    expect(up.exitCode, up.stderr).toBe(0);
    lab = await openLab(NAME, { images: inject("imageTags") });
  });
  afterAll(async () => {
    await removeLabs(NAME);
  });

  it("apply with nothing edited changes nothing", async () => {
    const r = await json<JsonOutputs["apply"]>("apply", "--name", NAME);
    expect(r.changes).toEqual([]);
    expect(r.unchanged).toEqual(expect.arrayContaining(["relay", "kea-red", "kea-blue"]));
  });

  it("a Kea class edited and applied moves the next client to the new pool; the earlier lease stays", async () => {
    const before = await lease("00:aa:02:00:00:31");
    expect(before).toMatch(/^192\.168\.11\./);
    const red = (await lab.status()).keas.find((k) => k.vrf === "RED");
    // DATA_CIRCUIT clients become VIDEO clients: VIDEO's pool is 192.168.10.0/24.
    await withEdit(
      redV4(),
      (t) =>
        t
          .replace(
            `"test": "relay4[1].hex == 'VIDEO_CIRCUIT'"`,
            `"test": "relay4[1].hex == 'VIDEO_CIRCUIT' or relay4[1].hex == 'DATA_CIRCUIT'"`,
          )
          .replace(
            `"test": "relay4[1].hex == 'DATA_CIRCUIT'"`,
            `"test": "relay4[1].hex == 'NO_SUCH_CIRCUIT'"`,
          ),
      async () => {
        const r = await json<JsonOutputs["apply"]>("apply", "--name", NAME);
        expect(r.changes).toEqual([
          { service: "kea-red", action: "reloaded", detail: "/etc/kea/kea-dhcp4.conf" },
        ]);
        expect(await lease("00:aa:02:00:00:32")).toMatch(/^192\.168\.10\./);
        // Reloaded, not restarted: the same container, and the earlier lease is still Kea's.
        expect((await lab.status()).keas.find((k) => k.vrf === "RED")?.id).toBe(red?.id);
        const leases = await lab.leases({ vrf: "RED", family: 4 });
        expect(leases.map((l) => l.address)).toContain(before);
      },
    );
  });

  it("an edit Kea refuses is reported with Kea's words, and the lab serves on with the old configuration", async () => {
    await withEdit(
      redV4(),
      (t) =>
        t.replace(`"pool": "192.168.11.10 - 192.168.11.250"`, `"pool": "192.168.99.10 - 192.168.99.250"`),
      async () => {
        const r = await dhcplab("apply", "--name", NAME);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(/VRF RED: Kea 3\.0 refused .*kea-configs\/RED\/3\.0\/kea-dhcp4\.conf/);
        expect(r.stderr).toMatch(/does not match the prefix of a subnet/);
        expect(await lease("00:aa:02:00:00:33")).toMatch(/^192\.168\.11\./);
      },
    );
  });

  it("a policy edit applied changes the next client's Circuit-ID, in explain and in Kea's lease", async () => {
    await withEdit(
      policyFile(),
      (t) => t.replace(`option82: { circuitId: "BLUE_{mac}" }`, `option82: { circuitId: "BLUE-PORT-{mac}" }`),
      async () => {
        const r = await lab.apply();
        expect(r.changes).toEqual([
          { service: "relay", action: "policy", detail: "/etc/dhcplab/policy.yaml" },
        ]);
        const e = await json<JsonOutputs["explain"]>("explain", "--name", NAME, "--mac", "00:bb:00:00:00:41");
        expect(e).toMatchObject({
          rule: "blue",
          vrf: "BLUE",
          added: { circuitId: "BLUE-PORT-00:bb:00:00:00:41" },
        });
        const address = await lease("00:bb:00:00:00:41");
        const stored = (await lab.leases({ vrf: "BLUE", family: 4 })).find((l) => l.address === address);
        expect(stored?.relay?.circuitId).toBe("BLUE-PORT-00:bb:00:00:00:41");
      },
    );
  });

  it("a policy the relay would refuse is refused with the file, line and field; nothing changes", async () => {
    await withEdit(
      policyFile(),
      (t) => t.replace("    vrf: BLUE\n", "    vrf: PURPLE\n"),
      async () => {
        const r = await dhcplab("apply", "--name", NAME);
        expect(r.exitCode).toBe(1);
        expect(r.stderr).toMatch(/policy\.yaml.*PURPLE/s);
        expect(await lab.explain({ mac: "00:bb:00:00:00:42" })).toMatchObject({ vrf: "BLUE" });
      },
    );
  });

  it("a VRF added by apply serves, while the other VRFs' Kea containers are the same ones", async () => {
    const keas = new Map((await lab.status()).keas.map((k) => [k.vrf, k.id]));
    await cp(join(dir, "kea-configs", "BLUE", "3.0"), join(dir, "kea-configs", "GREEN"), { recursive: true });
    for (const f of ["kea-dhcp4.conf", "kea-dhcp6.conf"]) {
      const file = join(dir, "kea-configs", "GREEN", f);
      await writeFile(
        file,
        (await readFile(file, "utf8"))
          .replaceAll("192.168.20.", "192.168.30.")
          .replaceAll("fd00:20:", "fd00:30:")
          .replaceAll("fd20:", "fd30:"),
      );
    }
    const policy = await readFile(policyFile(), "utf8");
    const green = `\n  - name: green\n    match: { mac: "00:cc:*" }\n    vrf: GREEN\n    option82: { circuitId: "GREEN_{mac}" }\n`;
    await withEdit(
      topologyFile(),
      (t) => t.replace("relay:\n", `${GREEN}relay:\n`),
      async () => {
        await writeFile(policyFile(), `${policy}${green}`);
        const r = await lab.apply().finally(() => writeFile(policyFile(), policy));
        expect(r.changes).toEqual(
          expect.arrayContaining([
            expect.objectContaining({ service: "kea-green", action: "created" }),
            expect.objectContaining({ service: "relay", action: "recreated" }),
          ]),
        );
        expect(r.networks.created).toEqual([`${NAME}-green`]);
        expect(await lease("00:cc:00:00:00:51")).toMatch(/^192\.168\.30\./);
        const now = new Map((await lab.status()).keas.map((k) => [k.vrf, k.id]));
        expect(now.get("RED")).toBe(keas.get("RED"));
        expect(now.get("BLUE")).toBe(keas.get("BLUE"));
        // The other VRFs serve on.
        expect(await lease("00:bb:00:00:00:52")).toMatch(/^192\.168\.20\./);
      },
    );
    // Put back: GREEN, its network and its Kea are gone again.
    const status = await lab.status();
    expect(status.keas.map((k) => k.vrf).sort()).toEqual(["BLUE", "RED"]);
    expect(status.networks.map((n) => n.name)).not.toContain(`${NAME}-green`);
  });

  it("watch applies a saved edit, and goes on after a refused one", async () => {
    const watch = execa("node", [BIN, "watch", "--name", NAME], { reject: false, all: true });
    let seen = "";
    watch.all?.on("data", (b: Buffer) => {
      seen += b.toString();
    });
    try {
      await expect.poll(() => seen, { timeout: 30_000 }).toMatch(/watching/);
      await withEdit(
        policyFile(),
        (t) =>
          t.replace(`option82: { circuitId: "BLUE_{mac}" }`, `option82: { circuitId: "BLUE-WATCHED-{mac}" }`),
        async () => {
          await expect.poll(() => seen, { timeout: 60_000 }).toMatch(/relay\s+policy/);
          expect(await lab.explain({ mac: "00:bb:00:00:00:61" })).toMatchObject({
            added: { circuitId: "BLUE-WATCHED-00:bb:00:00:00:61" },
          });
          // A save the relay would refuse is printed, and the watch goes on.
          await writeFile(policyFile(), "rules: [");
          await expect.poll(() => seen, { timeout: 60_000 }).toMatch(/refused, nothing changed/);
        },
      );
    } finally {
      watch.kill("SIGINT");
      await watch;
    }
    expect(seen).not.toMatch(/unhandled|TypeError|ReferenceError/);
  });

  it("explain and trace for a RED DATA client name the rule, the Circuit-ID, Kea's classes and the subnet", async () => {
    const mac = "00:aa:02:00:00:07";
    const e = await json<JsonOutputs["explain"]>("explain", "--name", NAME, "--mac", mac);
    expect(e).toMatchObject({
      action: "relay",
      rule: "red-data",
      vrf: "RED",
      added: { circuitId: "DATA_CIRCUIT" },
    });
    const on = await json<JsonOutputs["log-level"]>(
      "log-level",
      "kea",
      "debug",
      "--name",
      NAME,
      "--vrf",
      "RED",
    );
    expect(on.kea?.map((c) => [c.server, c.family, c.level])).toEqual([
      ["kea-red", 4, "debug"],
      ["kea-red", 6, "debug"],
    ]);
    try {
      const address = await lease(mac);
      const t = await json<JsonOutputs["trace"]>("trace", "--name", NAME, "--mac", mac, "-4");
      expect(t.relay.at(-1)).toMatchObject({
        rule: "red-data",
        vrf: "RED",
        added: { circuitId: "DATA_CIRCUIT" },
      });
      expect(t.kea).toHaveLength(1);
      expect(t.kea[0]).toMatchObject({
        vrf: "RED",
        server: "kea-red",
        subnet: "192.168.11.0/24",
        subnetId: 11,
        // As Kea's running configuration spells it (config-get).
        pool: "192.168.11.10-192.168.11.250",
        poolClasses: ["DATA"],
        address,
      });
      expect(t.kea[0]?.classes).toContain("DATA");
      const text = (await dhcplab("trace", "--name", NAME, "--mac", mac, "-4")).stdout;
      expect(text).toMatch(/rule red-data -> VRF RED/);
      expect(text).toMatch(/classes .*DATA/);
    } finally {
      await lab.keaLogLevel("info", { vrf: "RED" });
    }
  });

  it("the relay's debug lines appear after a run-time level change, and stop after it is set back", async () => {
    const set = await json<JsonOutputs["log-level"]>("log-level", "relay", "debug", "--name", NAME);
    expect(set).toEqual({ relay: "debug" });
    try {
      await lease("00:aa:01:00:00:71");
      await expect
        .poll(async () => lab.logs("relay", 200), { timeout: 10_000 })
        .toMatch(/"rule":"red-video".*"msg":"relayed to servers"/);
    } finally {
      expect((await json<JsonOutputs["log-level"]>("log-level", "relay", "info", "--name", NAME)).relay).toBe(
        "info",
      );
    }
    // Back at info: a client the relay has relayed (its journal says so) left no debug line.
    await lease("00:aa:01:00:00:72");
    expect((await lab.trace({ mac: "00:aa:01:00:00:72", family: 4 })).relay.length).toBeGreaterThan(0);
    // A line the relay writes after that client's exchange: once it is in the log, so would be a
    // debug line written before it.
    const changes = async () =>
      (await lab.logs("relay", 500)).match(/"msg":"log level changed"/g)?.length ?? 0;
    const before = await changes();
    await json<JsonOutputs["log-level"]>("log-level", "relay", "info", "--name", NAME);
    await expect.poll(changes, { timeout: 10_000 }).toBeGreaterThan(before);
    expect(await lab.logs("relay", 500)).not.toMatch(/00:aa:01:00:00:72/);
    const bad = await dhcplab("log-level", "relay", "loud", "--name", NAME);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(/one of trace, debug, info, warn, error/);
  });

  it("a lab kept on failure outlives down(), and says how to reach it", async () => {
    const said: string[] = [];
    const handle = await openLab(NAME, { keep: "on-failure", progress: (l) => said.push(l) });
    handle.fail("a test failed");
    await handle.down();
    expect(said.join("\n")).toMatch(new RegExp(`lab ${NAME} is kept .*dhcplab status --name ${NAME}`));
    expect((await lab.status()).relay?.state).toBe("running");
  });
});
