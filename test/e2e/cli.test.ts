import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { openLab, removeLabs } from "../../orchestrator/api.ts";
import { PHASES } from "../../orchestrator/index.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { BIN, dhcplab, dhcplabJson } from "../support/cli.ts";
import { udpDatagrams } from "../support/pcap.ts";

// The dhcplab command as a user runs it: bin/dhcplab.js in a subprocess, its exit codes, its
// --json output parsed, and its errors' text. One lab, from up to down, on Kea 2.6 (`up --kea
// 2.6`: the library's suites run the default, 3.0, and kea-versions.test.ts both side by side).

const NAME = `t${process.pid}-cli`;
const json = dhcplabJson;

/** Keeps clients leasing through the lab's relay until `capture` has ended (it stops after its count). */
async function leaseWhile(capture: Promise<unknown>): Promise<void> {
  const running = () =>
    Promise.race([capture.then(() => false), new Promise<boolean>((r) => setTimeout(r, 100, true))]);
  while (await running()) {
    await dhcplab(
      "load",
      "--name",
      NAME,
      "--mac",
      "00:aa:01:00:00:00",
      "--clients",
      "2",
      "--rate",
      "5",
      "--duration",
      "1",
    );
  }
}

describe("the dhcplab command", () => {
  type UpJson = {
    name: string;
    keas: { name: string; vrf: string; version: string; health: string }[];
    networks: { name: string }[];
    phases: { phase: string; seconds: number }[];
  };
  let up: UpJson;
  const labels = () => Object.entries(inject("testRun").labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]);
  // One lab for the file, started by the command itself; each test leaves it as it found it.
  beforeAll(async () => {
    up = await json<UpJson>("up", "--name", NAME, "--kea", "2.6", ...labels());
  });
  // down removes the lab (its 3 containers and 3 networks), after which status finds none, and
  // removing it again is not an error. Asserted here, as the file's last word on its lab.
  afterAll(async () => {
    try {
      const down = await json<{ containers: number; networks: number }>("down", "--name", NAME);
      expect(down).toMatchObject({ containers: 3, networks: 3 });
      expect((await dhcplab("status", "--name", NAME)).exitCode).toBe(1);
      expect(await json("down", "--name", NAME)).toMatchObject({ containers: 0, networks: 0 });
    } finally {
      await removeLabs(NAME);
    }
  });

  it("up starts a lab on the Kea version --kea names and says what is where", async () => {
    expect(up.name).toBe(NAME);
    expect(up.phases.map((p) => p.phase)).toEqual([...PHASES]);
    expect(up.phases.every((p) => p.seconds >= 0)).toBe(true);
    expect(up.keas.map((k) => [k.vrf, k.name, k.version, k.health])).toEqual([
      ["BLUE", `${NAME}-kea-blue`, "2.6", "healthy"],
      ["RED", `${NAME}-kea-red`, "2.6", "healthy"],
    ]);
    expect(up.networks.map((n) => n.name)).toEqual([`${NAME}-access`, `${NAME}-blue`, `${NAME}-red`]);
  });

  it("ls lists it as up, and --version says which dhcplab this is", async () => {
    const labs = await json<{ name: string; state: string; containers: number }[]>("ls");
    expect(labs.find((l) => l.name === NAME)).toMatchObject({ state: "up", containers: 3 });
    const version = await dhcplab("--version");
    expect(version.stdout.trim()).toBe(
      JSON.parse(await readFile(join(ROOT, "package.json"), "utf8")).version,
    );
  });

  it("status (and inspect) shows every container healthy and the relay's counters, as a table that fits the long names", async () => {
    const s = await json<{
      relay: { state: string; health: string };
      keas: { vrf: string; state: string; health: string }[];
      counters: Record<string, unknown>;
    }>("status", "--name", NAME);
    expect(s.relay).toMatchObject({ state: "running", health: "healthy" });
    expect(s.keas.map((k) => [k.vrf, k.state, k.health])).toEqual([
      ["BLUE", "running", "healthy"],
      ["RED", "running", "healthy"],
    ]);
    expect(Object.keys(s.counters)).toContain("dhcplab_relay_inflight");
    const text = (await dhcplab("inspect", "--name", NAME)).stdout;
    // One row per container, its columns apart however long the name is.
    expect(text).toMatch(
      new RegExp(`^${NAME}-kea-blue +kea 2\\.6 +BLUE +10\\.213\\.\\d+\\.10 +running +healthy$`, "m"),
    );
    expect(text).toMatch(/^NETWORK +ROLE +VRF +SUBNETS$/m);
  });

  it("load runs perfdhcp through the relay, and leases lists what RED's Kea granted", async () => {
    const run = await dhcplab(
      ...["load", "--name", NAME, "--mac", "00:aa:01:00:00:00", "--clients", "5", "--rate", "10"],
      ...["--duration", "2", "--json"],
    );
    // perfdhcp counts a reply later than 1 s as a drop, and the command then exits 1 with its
    // report printed: on two cores shared with another lab's load, one such late reply happens.
    if (run.exitCode !== 0) expect(run.stderr).toMatch(/perfdhcp exited with 3: some exchanges failed/);
    expect([0, 1]).toContain(run.exitCode);
    const load = JSON.parse(run.stdout) as {
      exchanges: { exchange: string; sent: number; received: number }[];
    };
    expect(load.exchanges[0]?.received).toBeGreaterThanOrEqual((load.exchanges[0]?.sent ?? 0) - 1);
    expect(load.exchanges.map((e) => e.exchange)).toEqual(["DISCOVER-OFFER", "REQUEST-ACK"]);
    expect(load.exchanges[1]?.received).toBeGreaterThan(0);
    // The clients engine: first-hop DHCPv4 clients, with percentiles in the table.
    const clients = await dhcplab(
      "load",
      "--name",
      NAME,
      "--engine",
      "clients",
      "--mac",
      "00:aa:01:00:01:00",
      "--clients",
      "5",
      "--rate",
      "10",
      "--duration",
      "2",
    );
    expect(clients.stdout).toMatch(/P50 MS +P90 MS +P99 MS/);
    const acked = /REQUEST-ACK +(\d+) +(\d+)/.exec(clients.stdout);
    expect(Number(acked?.[2]), clients.stdout + clients.stderr).toBeGreaterThan(0);
    // And what the relay relayed meanwhile, beside Kea's statistic: RED's DISCOVERs, all received.
    const discovers = /^RED +DISCOVER to-server +(\d+) +(\d+) +pkt4-discover-received$/m.exec(clients.stdout);
    expect(Number(discovers?.[1]), clients.stdout).toBeGreaterThan(0);
    expect(discovers?.[2]).toBe(discovers?.[1]);
    const v6 = await dhcplab(
      "load",
      "--name",
      NAME,
      "--engine",
      "clients",
      "-6",
      "--mac",
      "00:aa:01:00:01:00",
    );
    expect(v6.exitCode).toBe(1);
    expect(v6.stderr).toMatch(/the clients engine speaks DHCPv4/);
    const leases = await json<
      { vrf: string; family: number; address: string; client: string; relay?: Record<string, string> }[]
    >("leases", "--name", NAME, "--vrf", "RED", "-4");
    expect(leases.length).toBeGreaterThan(0);
    expect(
      leases.every((l) => l.vrf === "RED" && l.family === 4 && l.address.startsWith("192.168.10.")),
    ).toBe(true);
    expect(leases.every((l) => l.client.startsWith("00:aa:01:"))).toBe(true);
    // What the relay added, decoded from what Kea stored.
    expect(leases[0]?.relay).toMatchObject({ circuitId: "VIDEO_CIRCUIT", linkSelection: "192.168.10.1" });
    const text = await dhcplab("leases", "--name", NAME, "--vrf", "RED", "-4");
    expect(text.stdout).toMatch(
      /circuit-id=VIDEO_CIRCUIT remote-id=00:aa:01:00:00:0\d link-selection=192\.168\.10\.1/,
    );
  });

  it("stats prints Kea's statistics: RED's ACKs are at least its clients' exchanges, --vrf keeps to one VRF", async () => {
    const load = await json<{ exchanges: { received: number }[] }>(
      ...["load", "--name", NAME, "--engine", "clients", "--mac", "00:aa:01:00:0e:00"],
      ...["--clients", "3", "--rate", "3", "--duration", "1"],
    );
    const acks = load.exchanges[1]?.received ?? 0;
    expect(acks).toBeGreaterThan(0);
    const rows = await json<
      {
        vrf: string;
        server: string;
        family: number;
        statistics: { name: string; subnet?: number; value: number }[];
      }[]
    >("stats", "--name", NAME, "--vrf", "RED");
    expect(rows.map((r) => [r.vrf, r.server, r.family])).toEqual([
      ["RED", "kea-red", 4],
      ["RED", "kea-red", 6],
    ]);
    const v4 = rows[0]?.statistics ?? [];
    // The load's RED VIDEO clients hold addresses of subnet 10, each ACKed (Kea counts ACKs since it started).
    const assigned = v4.find((s) => s.name === "assigned-addresses" && s.subnet === 10)?.value ?? 0;
    expect(assigned).toBeGreaterThanOrEqual(acks);
    expect(
      v4.find((s) => s.name === "pkt4-ack-sent" && s.subnet === undefined)?.value,
    ).toBeGreaterThanOrEqual(acks);
    const text = await dhcplab("stats", "--name", NAME);
    expect(text.stdout).toMatch(/^BLUE +kea-blue +DHCPv4 +pkt4-received +\d+/m);
    expect(text.stdout).toMatch(/^RED +kea-red +DHCPv4 +subnet\[10\]\.assigned-addresses +\d+/m);
  });

  it("kea sends any command to one server (Kea 2.6 here, through its control agent) and prints its answer; a command Kea lacks exits 1; bad --args is refused before the lab is asked", async () => {
    type Answer = {
      server: string;
      family: number;
      command: string;
      result: number;
      text?: string;
      arguments?: Record<string, unknown>;
    };
    const v6 = await json<Answer>("kea", "kea-red", "config-get", "-6", "--name", NAME);
    expect([v6.server, v6.family, v6.command, v6.result]).toEqual(["kea-red", 6, "config-get", 0]);
    expect(Object.keys(v6.arguments ?? {})).toContain("Dhcp6");
    // A real client of this test's own (it retransmits): lease4-get by its address finds it.
    const mac = "00:aa:01:00:0f:01";
    const client = await json<{ address?: string }>(
      "client",
      "--kind",
      "udhcpc",
      "--mac",
      mac,
      "--name",
      NAME,
    );
    const address = client.address;
    if (!address) throw new Error(`udhcpc ${mac} got no address: ${JSON.stringify(client)}`);
    const got = await dhcplab(
      "kea",
      "kea-red",
      "lease4-get",
      "--args",
      JSON.stringify({ "ip-address": address }),
      "--name",
      NAME,
    );
    expect(got.exitCode, got.stderr).toBe(0);
    expect(got.stdout).toMatch(/^kea-red \(kea-dhcp4\) lease4-get: success, IPv4 lease found\./);
    expect(got.stdout).toContain(`"hw-address": "${mac}"`);
    const unknown = await dhcplab("kea", "kea-red", "no-such-command", "--name", NAME);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stdout).toMatch(/^kea-red \(kea-dhcp4\) no-such-command: (unsupported|error), /);
    const bad = await dhcplab("kea", "kea-red", "lease4-get", "--args", "ip-address=1.2.3.4", "--name", NAME);
    expect([bad.exitCode, bad.stdout]).toEqual([1, ""]);
    expect(bad.stderr).toMatch(/--args is not JSON/);
  });

  it("capture writes a pcap of a lab network while clients lease", async () => {
    const file = join(await mkdtemp(join(tmpdir(), "dhcplab-cli-")), "access.pcap");
    const capture = dhcplab(
      "capture",
      "access",
      "--name",
      NAME,
      "--count",
      "4",
      "--filter",
      "udp port 67",
      "-w",
      file,
    );
    // Keep clients coming until the capture has its four packets.
    await leaseWhile(capture);
    expect((await capture).exitCode).toBe(0);
    const datagrams = udpDatagrams(await readFile(file));
    expect(datagrams).toHaveLength(4);
    expect(datagrams.every((d) => d.dstPort === 67 || d.srcPort === 67)).toBe(true);
  });

  it("capture writes the pcap to stdout when it is piped (dhcplab capture access | wireshark -k -i -)", async () => {
    const piped = execa(
      "node",
      [BIN, "capture", "access", "--name", NAME, "--count", "2", "--filter", "udp port 67"],
      {
        reject: false,
        encoding: "buffer",
        timeout: 120_000,
      },
    );
    await leaseWhile(piped);
    const r = await piped;
    expect(r.exitCode).toBe(0);
    const pcap = new Uint8Array(r.stdout);
    expect(udpDatagrams(pcap)).toHaveLength(2);
  });

  it("exec runs a command in a lab container and passes its exit code on; logs prints a service's log", async () => {
    const forwarding = await dhcplab(
      "exec",
      "--name",
      NAME,
      "relay",
      "--",
      "cat",
      "/proc/sys/net/ipv6/conf/all/forwarding",
    );
    expect([forwarding.exitCode, forwarding.stdout.trim()]).toEqual([0, "1"]);
    expect((await dhcplab("exec", "--name", NAME, "kea-red", "--", "false")).exitCode).toBe(1);
    const logs = await json<Record<string, string>>("logs", "relay", "--name", NAME, "--tail", "50");
    expect(Object.keys(logs)).toEqual(["relay"]);
    expect(logs.relay).toMatch(/"msg":"relay serving"/);
  });

  it("graph draws the topology as Mermaid or DOT, and compose writes compose.yaml where it is told", async () => {
    const mermaid = await dhcplab("graph");
    expect(mermaid.stdout).toMatch(/^flowchart TB/);
    expect(mermaid.stdout).toContain("dhcplab-compose-kea-red<br/>Kea 3.0<br/>10.213.201.10");
    const dot = await json<{ format: string; graph: string }>("graph", "--format", "dot");
    expect(dot.graph).toMatch(/^graph "dhcplab-compose" \{/);
    expect(dot.graph).toContain('"dhcplab-compose-relay" -- "dhcplab-compose-blue" [label="10.213.202.2"];');
    const dir = await mkdtemp(join(tmpdir(), "dhcplab-cli-"));
    const out = join(dir, "compose.yaml");
    expect(await json("compose", "-o", out)).toMatchObject({ file: out });
    // The same lab as the committed compose.yaml, its mounts relative to where it was written.
    const written = await readFile(out, "utf8");
    expect(written).toContain(
      `- ./${relative(dir, ROOT)}/kea-configs/RED/3.0/kea-dhcp4.conf:/etc/kea/kea-dhcp4.conf:ro`,
    );
    expect(written.replaceAll(`./${relative(dir, ROOT)}/`, "./")).toBe(
      await readFile(join(ROOT, "compose.yaml"), "utf8"),
    );
  });

  it("client runs one real client and prints the address it obtained", async () => {
    const c = await json<{ address?: string; exitCode: number }>(
      "client",
      "--name",
      NAME,
      "--mac",
      "00:bb:01:00:0f:01",
      "--kind",
      "udhcpc",
    );
    expect(c.exitCode).toBe(0);
    expect(c.address).toMatch(/^192\.168\.20\./);
    const text = await dhcplab("leases", "--name", NAME, "--vrf", "BLUE", "-4");
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toContain(c.address ?? "none");
  });

  it("images reuses every image whose inputs did not change", async () => {
    const images = await json<{ name: string; built: boolean; tag: string }[]>("images");
    expect(images.map((i) => [i.name, i.built])).toEqual([
      ["kea-3.0", false],
      ["relay", false],
      ["client", false],
    ]);
    expect(images.map((i) => i.tag)).toEqual(Object.values(inject("imageTags")));
  });

  it("kill, start and stop take a service down and back, from the command line and the library; the lab's health follows", async () => {
    const lab = await openLab(NAME);
    type Status = { keas: { vrf: string; state: string }[]; relay: { state: string } };
    const states = async () => {
      const s = await json<Status>("status", "--name", NAME);
      return [...s.keas.map((k) => `${k.vrf}:${k.state}`), `relay:${s.relay.state}`];
    };
    const health = async () => {
      const s = await lab.status();
      return [...s.keas.map((k) => `${k.vrf}:${k.health}`), `relay:${s.relay?.health}`];
    };
    const healthy = ["BLUE:healthy", "RED:healthy", "relay:healthy"];
    // Both Keas down, one stopped by the command line, one killed by the library; the lab degraded.
    expect((await dhcplab("stop", "kea-red", "--name", NAME, "--time", "1")).exitCode).toBe(0);
    await lab.kill("kea-blue");
    expect(await states()).toEqual(["BLUE:exited", "RED:exited", "relay:running"]);
    expect((await json<{ name: string; state: string }[]>("ls")).find((l) => l.name === NAME)?.state).toBe(
      "degraded",
    );
    // Started again, one each way; both healthy again.
    await lab.start("kea-red");
    expect((await dhcplab("start", "kea-blue", "--name", NAME)).exitCode).toBe(0);
    await expect.poll(health, { timeout: 60_000, interval: 500 }).toEqual(healthy);
    // The relay killed from the command line, started by the library.
    expect((await dhcplab("kill", "relay", "--name", NAME)).exitCode).toBe(0);
    expect(await states()).toEqual(["BLUE:running", "RED:running", "relay:exited"]);
    await lab.start("relay");
    await expect.poll(health, { timeout: 60_000, interval: 500 }).toEqual(healthy);
    const unknown = await dhcplab("kill", "kea-green", "--name", NAME);
    expect(unknown.exitCode).toBe(1);
    expect(unknown.stderr).toMatch(/has no service kea-green: it has .*relay/);
  });

  it("errors say what went wrong, exit non-zero, and change nothing", async () => {
    const noEngine = await execa("node", [BIN, "ls"], {
      reject: false,
      env: { DOCKER_HOST: "unix:///nonexistent/docker.sock" },
    });
    expect(noEngine.exitCode).toBe(1);
    expect(noEngine.stderr).toMatch(
      /no Docker Engine answers at unix:\/\/\/nonexistent\/docker\.sock .*: start Docker, or set DOCKER_HOST/,
    );

    const missing = await dhcplab("status", "--name", "no-such-lab");
    expect(missing.exitCode).toBe(1);
    expect(missing.stderr).toMatch(/no lab named no-such-lab is up/);

    const dir = await mkdtemp(join(tmpdir(), "dhcplab-cli-"));
    await writeFile(
      join(dir, "lab.yaml"),
      "vrfs:\n  - { name: RED, keaConfig: x, subnetSelection: relay }\n",
    );
    const bad = await dhcplab("up", "--name", `${NAME}-bad`, "--topology", join(dir, "lab.yaml"));
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toMatch(
      /lab\.yaml:2: vrfs\[0\]\.subnetSelection: subnetSelection "relay" is not one of/,
    );
    expect((await dhcplab("status", "--name", `${NAME}-bad`)).exitCode).toBe(1);

    const usage = await dhcplab("load", "--name", NAME);
    expect(usage.exitCode).not.toBe(0);
    expect(usage.stderr).toMatch(/--mac/);

    expect((await dhcplab("up", "--name", `${NAME}-x`, "--kea", "2.7")).stderr).toMatch(
      /argument '2\.7' is invalid\. Allowed choices are 2\.6, 3\.0/,
    );
    expect((await dhcplab("status", "--name", `${NAME}-x`)).exitCode).toBe(1);
  });
});
