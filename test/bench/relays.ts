// `npm run bench`: dhcplab's relay against isc-dhcp-relay and against no relay at all, side
// by side on one lab, DHCPv4 DORA and DHCPv6 SARR, at a ladder of rates, every path on the
// first hop: DHCPv4 from the clients engine (clients as on the wire: broadcast, giaddr 0),
// DHCPv6 from perfdhcp (a client on the link). Then a soak: each relay at its ceiling for
// BENCH_SOAK_SECONDS with its resident memory sampled. Writes bench-results/<date>/report.json,
// report.md and chart.svg. Prints figures; asserts nothing.
//
// BENCH_RATES (default 250,500,1000,2000,4000,8000), BENCH_SECONDS per run (5),
// BENCH_REPEATS (3), BENCH_CLIENTS (100), BENCH_SOAK_SECONDS (60; 0: none), BENCH_V4_ENGINE
// (clients, or perfdhcp for the relay's takeover path), BENCH_BISECT (the ceiling's
// precision after the ladder, 0.02: within 2 %; 0: no bisection) and BENCH_RELAY_NODE_OPTIONS
// (NODE_OPTIONS for dhcplab's relay, e.g. V8's heap sizes) change the run. BENCH_FLOOR=0 leaves
// out the "node-floor" path: test/bench/floor-relay.mjs, the least a relay on Node does per
// datagram on dhcplab's datapath, which tells the cost of Node from the cost of dhcplab's logic;
// BENCH_FLOOR_NODE_FLAGS gives its Node flags (by default those of dhcplab's relay).
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import type Docker from "dockerode";
import type { ContainerCreateOptions } from "dockerode";
import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";
import { type RelayCounters, startLab } from "../../orchestrator/api.ts";
import {
  type LoadEngine,
  loadgenCommand,
  parseLoadgen,
  perfdhcpCommand,
  WAIT_FOR_LINK,
} from "../../orchestrator/docker/clients.ts";
import { dockerClient, exec, runToCompletion } from "../../orchestrator/docker/engine.ts";
import { runHostRules } from "../../orchestrator/docker/firewall.ts";
import { ensureImages, tagsOf } from "../../orchestrator/docker/images.ts";
import { keaCommand } from "../../orchestrator/docker/kea-control.ts";
import { type LabState, labState } from "../../orchestrator/docker/lab.ts";
import type { KeaEndpoint } from "../../orchestrator/model/kea-config.ts";
import { LABEL } from "../../orchestrator/model/labels.ts";
import { completed, type PerfdhcpReport, parsePerfdhcp } from "../../orchestrator/model/perfdhcp.ts";
import { endpoint, type Subnets } from "../../orchestrator/model/plan.ts";
import { ipv4Host } from "../../orchestrator/model/subnets.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { type StallFigures, stallFigures } from "../../relay/agent/runtime.ts";
import { drained } from "./backlog.ts";
import { renderChart, renderMarkdown } from "./report.ts";

const env = (name: string, fallback: string) => process.env[name] ?? fallback;
const RATES = env("BENCH_RATES", "250,500,1000,2000,4000,8000").split(",").map(Number);
const SECONDS = Number(env("BENCH_SECONDS", "5"));
const REPEATS = Number(env("BENCH_REPEATS", "3"));
// 100 clients fit the pools of the subnets Kea gets for perfdhcp's own giaddr (108 addresses).
const CLIENTS = Number(env("BENCH_CLIENTS", "100"));
const SOAK_SECONDS = Number(env("BENCH_SOAK_SECONDS", "60"));
const BISECT = Number(env("BENCH_BISECT", "0.02"));
/**
 * Seconds of load on each path, per family, before anything is measured (0: none): a relay on Node
 * compiles its hot paths in its first seconds of traffic, which the first measured run paid for
 * (dhcplab's CPU per DHCPv4 exchange at 500/s, the first rate of a one-repeat bench: 388-418 µs,
 * against 198-221 at 1000/s after it).
 */
const WARMUP_SECONDS = Number(env("BENCH_WARMUP_SECONDS", "5"));
const V4_ENGINE = env("BENCH_V4_ENGINE", "clients") as LoadEngine;
/** Node's options for dhcplab's relay (e.g. V8's heap sizes), to compare settings side by side. */
const RELAY_NODE_OPTIONS = process.env.BENCH_RELAY_NODE_OPTIONS;
/** node-floor's Node flags, space-separated (empty: Node's defaults); unset: dhcplab's relay's. */
const FLOOR_NODE_FLAGS = process.env.BENCH_FLOOR_NODE_FLAGS;
/** The relay's NODE_OPTIONS reach node-floor too, unless its flags are given. */
const FLOOR_NODE_OPTIONS = FLOOR_NODE_FLAGS === undefined ? RELAY_NODE_OPTIONS : undefined;
/** ISC's own criterion: the highest rate with drops under 2.5 %. */
const DROP_LIMIT = 2.5;
/** The floor relay answers DHCPv4 clients as they are on the wire, not perfdhcp acting as a relay. */
const FLOOR = env("BENCH_FLOOR", "1") !== "0" && V4_ENGINE === "clients";

export type PathName = "direct" | "dhcplab" | "isc-dhcp-relay" | "node-floor";
const PATHS: PathName[] = [
  "direct",
  "dhcplab",
  "isc-dhcp-relay",
  ...(FLOOR ? (["node-floor"] as const) : []),
];

/** One perfdhcp run on one path. */
export interface Run {
  path: PathName;
  family: 4 | 6;
  rate: number;
  repeat: number;
  achievedRate: number;
  sent: number;
  completed: number;
  dropPercent: number;
  avgDelayMs: number;
  maxDelayMs: number;
  /** Percentiles of each half of the exchange, summed (DISCOVER-OFFER + REQUEST-ACK). */
  p50Ms?: number;
  p90Ms?: number;
  p99Ms?: number;
  /** CPU time of the relay's container per completed exchange (none for direct). */
  cpuMicrosPerExchange?: number;
  peakMemoryMiB?: number;
  /** dhcplab's relay only: its event-loop delays and GC pauses during the run (relay/agent/runtime.ts). */
  stalls?: StallFigures;
}

/** A relay at its ceiling for a while: its resident memory over time. */
export interface Soak {
  path: Exclude<PathName, "direct">;
  family: 4 | 6;
  rate: number;
  seconds: number;
  achievedRate: number;
  dropPercent: number;
  /** [seconds since start, resident MiB] every 5 s. */
  rssMiB: [number, number][];
  /**
   * Of it, the processes' own (anonymous: heaps, stacks, buffers) at the same times; the rest is
   * files' pages, most of them shared libraries' (libnode's code for a relay on Node).
   */
  anonMiB?: [number, number][];
}

const docker = dockerClient();
/** Each relay container's CPU with no traffic, in ns per ms. */
const idleNanosPerMs = new Map<string, number>();
const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const started = performance.now();
  const images = tagsOf(await ensureImages(docker, { progress: log }));
  const [dhcrelay] = await ensureImages(docker, { only: ["dhcrelay"], progress: log });
  const topology = await loadTopology();
  // BLUE with room for the clients; RED stays as the default policy expects it, idle.
  const blueLarge = join(ROOT, "test", "fixtures", "kea-configs", "BLUE-large");
  const name = `bench-${process.pid}`;
  const lab = await startLab({
    docker,
    name,
    topology: {
      ...topology,
      vrfs: topology.vrfs.map((v) => (v.name === "BLUE" ? { ...v, keaConfig: blueLarge } : v)),
    },
    images,
    progress: log,
    ...(RELAY_NODE_OPTIONS ? { relayEnv: { NODE_OPTIONS: RELAY_NODE_OPTIONS } } : {}),
  });
  try {
    const running = await labState(docker, lab.spec);
    const blue = lab.spec.vrfs.find((v) => v.spec.name === "BLUE");
    const kea = blue?.keas[0];
    if (!blue || !kea) throw new Error("the benchmark lab has no BLUE Kea");
    const relayId = lab.spec.relay.container;

    // isc-dhcp-relay: on the access network and BLUE's, at host .3 on both.
    const isc = await besideRelay(lab.spec, blue, 3, {
      name: `${name}-dhcrelay`,
      Image: dhcrelay?.tag ?? "dhcplab-dhcrelay:latest",
      Labels: { ...lab.spec.labels, [LABEL.role]: "dhcrelay" },
      // DHCPv4: perfdhcp is a relay itself (giaddr = its address), which isc-dhcp-relay
      // forwards as RFC 3046 says; Kea answers perfdhcp directly, routed back through here.
      HostConfig: { Sysctls: { "net.ipv4.ip_forward": "1" } },
    });
    const iscContainer = isc.container;
    const ifaceOf = (ip: string) =>
      `$(ip -o -4 addr show | awk '$4 ~ /^${ip.replaceAll(".", "\\.")}\\//{print $2}')`;
    const startIsc = [
      `a=${ifaceOf(isc.access)}; b=${ifaceOf(isc.backend)}`,
      // -a: add Option 82 (Circuit-ID and Remote-ID) as dhcplab's relay does.
      `dhcrelay -4 -a -i $a -i $b ${kea.ipv4}`,
      // The link-address of its RELAY-FORW is an address it holds on the lower interface:
      // give it BLUE's (fd00:20::1), as dhcplab's relay uses. -I: add Interface-ID. The
      // server is Kea's link-local address on BLUE's link.
      `ip address add ${blue.spec.link6}/64 dev $a nodad`,
      `dhcrelay -6 -I -l ${blue.spec.link6}%$a -u ${kea.linkLocal}%$b`,
    ].join("\n");
    const r = await exec(docker, iscContainer.id, ["sh", "-c", startIsc]);
    if (r.exitCode !== 0) throw new Error(`isc-dhcp-relay did not start: ${r.stdout}${r.stderr}`);
    // Kea's route back to perfdhcp on the access network for isc-dhcp-relay's DHCPv4 path.
    const keaId = kea.container;
    await helper(keaId, images.client, [
      "ip",
      "route",
      "replace",
      lab.spec.access.subnets.ipv4Subnet,
      "via",
      isc.backend,
    ]);
    // Those answers leave BLUE's bridge for an address outside its subnet (see firewall.ts).
    const bridge = lab.spec.networks.find((n) => n.name === blue.network)?.bridge ?? "";
    const rules = await runHostRules(docker, images.client, ["add", name, "--allow", bridge]);
    if (rules.exitCode !== 0) log(`warning: ${rules.output}`);
    // perfdhcp's giaddr is its own address: on the direct path it is on BLUE's network, through
    // isc-dhcp-relay (which forwards it unchanged) on the access network. Kea gets a subnet
    // for each, beside BLUE's own, through the control agent.
    const endpoint = running.keas.find((k) => k.name === kea.container)?.control.dhcp4;
    if (!endpoint) throw new Error(`${kea.container} has no DHCPv4 control endpoint`);
    await addSubnets4(keaId, endpoint, [
      {
        id: 98,
        subnet: blue.subnets.ipv4Subnet,
        pool: `${ipv4Host(blue.subnets.ipv4Subnet, 20)} - ${ipv4Host(blue.subnets.ipv4Subnet, 127)}`,
      },
      {
        id: 99,
        subnet: lab.spec.access.subnets.ipv4Subnet,
        pool: `${ipv4Host(lab.spec.access.subnets.ipv4Subnet, 20)} - ${ipv4Host(lab.spec.access.subnets.ipv4Subnet, 127)}`,
      },
    ]);

    const floor = FLOOR ? await startFloor(lab.spec, blue, kea, images.relay) : undefined;
    if (floor)
      log(
        `node-floor: at ${floor.access}, node ${floor.flags.join(" ") || "(Node's default flags)"}${FLOOR_NODE_OPTIONS ? `, NODE_OPTIONS ${FLOOR_NODE_OPTIONS}` : ""}`,
      );
    const relays: Partial<Record<Exclude<PathName, "direct">, string>> = {
      dhcplab: relayId,
      "isc-dhcp-relay": iscContainer.id,
      ...(floor ? { "node-floor": floor.container.id } : {}),
    };
    // What each relay's container spends with no traffic (dhcplab's health check asks its
    // /healthz every second), subtracted from every run: the figure is the relaying's own cost.
    for (const id of Object.values(relays)) {
      const a = await cpuNanos(id);
      const t0 = performance.now();
      await sleep(5000);
      idleNanosPerMs.set(id, ((await cpuNanos(id)) - a) / (performance.now() - t0));
    }
    log(`idle CPU: ${[...idleNanosPerMs.values()].map((v) => `${(v / 1000).toFixed(1)} ms/s`).join(", ")}`);
    const keaPid = (await docker.getContainer(keaId).inspect()).State.Pid;
    /**
     * Only the relay on the path may hear the clients (both join ff02::1:2); none paused for
     * undefined. A relay unpaused for a path first relays what its sockets took while it was paused
     * (the other paths' broadcasts and multicasts), and Kea answers it: the run starts once both
     * have drained (backlog.ts).
     */
    const only = async (path: PathName | undefined) => {
      const states = await Promise.all(
        Object.entries(relays).map(async ([p, id]) => {
          const c = docker.getContainer(id);
          return { p, c, state: (await c.inspect()).State };
        }),
      );
      const wanted = (p: string) => path === undefined || p === path;
      for (const r of states) if (!wanted(r.p) && !r.state.Paused) await r.c.pause();
      for (const r of states) {
        if (!wanted(r.p) || !r.state.Paused) continue;
        await r.c.unpause();
        if (path === undefined) continue;
        const { waitedMs, queuedAtFirst } = await drained([r.state.Pid, keaPid]);
        if (queuedAtFirst > 0)
          log(
            `${r.p}: ${(queuedAtFirst / 1024).toFixed(0)} KiB queued while paused, drained in ${waitedMs.toFixed(0)} ms`,
          );
      }
    };
    /** One load on `path`: to Kea directly on BLUE's network, or through a relay on the access network. */
    const onPath = (path: PathName, family: 4 | 6, rate: number, repeat: number, seconds?: number) =>
      measure(running, images.client, path, family, rate, repeat, {
        relayId: path === "direct" ? undefined : relays[path],
        target: {
          direct: kea.ipv4,
          dhcplab: lab.spec.access.relay.ipv4,
          "isc-dhcp-relay": isc.access,
          "node-floor": floor?.access ?? "",
        }[path],
        network: path === "direct" ? blue.network : lab.spec.access.network,
        relayImage: images.relay,
        seconds,
        ...(path === "dhcplab" ? { countersOf: () => lab.counters() } : {}),
      });
    const runs: Run[] = [];
    const soaks: Soak[] = [];
    const ceilings: Ceiling[] = [];
    for (const family of [4, 6] as const) {
      if (WARMUP_SECONDS > 0) {
        for (const path of PATHS) {
          await only(path);
          const run = await onPath(path, family, RATES[0] ?? 250, -2, WARMUP_SECONDS);
          log(
            `v${family} ${path.padEnd(15)} warm-up at ${run.rate}/s for ${WARMUP_SECONDS} s (not reported)`,
          );
        }
      }
      const stopped = new Set<PathName>();
      for (const rate of RATES) {
        for (let repeat = 0; repeat < REPEATS; repeat++) {
          // A B C A B C: noise hits every path alike.
          for (const path of PATHS) {
            if (stopped.has(path)) continue;
            await only(path);
            const run = await onPath(path, family, rate, repeat);
            runs.push(run);
            log(
              `v${family} ${path.padEnd(15)} ${String(rate).padStart(5)}/s #${repeat + 1}: ${run.achievedRate.toFixed(0)}/s, drops ${run.dropPercent.toFixed(2)} %, avg ${run.avgDelayMs.toFixed(2)} ms` +
                (run.cpuMicrosPerExchange !== undefined
                  ? `, ${run.cpuMicrosPerExchange.toFixed(1)} µs CPU/exchange, ${run.peakMemoryMiB?.toFixed(1)} MiB`
                  : "") +
                (run.stalls
                  ? `; event loop p50/p99/max ≤ ${run.stalls.eventLoopP50Ms} / ${run.stalls.eventLoopP99Ms} / ${run.stalls.eventLoopMaxMs} ms, GC ${run.stalls.gcPauses} pauses ${run.stalls.gcPauseMs.toFixed(1)} ms (longest ≤ ${run.stalls.gcMaxMs ?? 0} ms)`
                  : ""),
            );
          }
        }
        // A path whose median drops passed the limit has found its ceiling.
        for (const path of PATHS) {
          const at = runs.filter((x) => x.path === path && x.family === family && x.rate === rate);
          if (at.length > 0 && median(at.map((x) => x.dropPercent)) > DROP_LIMIT) stopped.add(path);
        }
        if (PATHS.every((p) => stopped.has(p))) break;
      }
      if (BISECT > 0)
        ceilings.push(
          ...(await bisectCeilings(runs, family, async (path, rate) => {
            await only(path);
            const run = await onPath(path, family, rate, -1);
            log(
              `v${family} ${path.padEnd(15)} ${String(rate).padStart(5)}/s bisecting: ${run.achievedRate.toFixed(0)}/s, drops ${run.dropPercent.toFixed(2)} %`,
            );
            return run.dropPercent;
          })),
        );
      if (SOAK_SECONDS > 0) {
        for (const path of PATHS) {
          if (path === "direct") continue;
          const rate =
            ceilings.find((c) => c.path === path && c.family === family)?.rate ??
            ceilingOf(runs, path, family);
          await only(path);
          const soak = await soakRelay(path, relays[path] as string, family, rate, (seconds) =>
            onPath(path, family, rate, 0, seconds),
          );
          soaks.push(soak);
          log(
            `v${family} ${path} soak at ${rate}/s for ${SOAK_SECONDS} s: ${soak.achievedRate.toFixed(0)}/s, RSS ${soak.rssMiB.map(([, m]) => m.toFixed(1)).join(" ")} MiB, of it anonymous ${(soak.anonMiB ?? []).map(([, m]) => m.toFixed(1)).join(" ")}`,
          );
        }
      }
    }
    await only(undefined);
    const date = new Date().toISOString().slice(0, 10);
    const dir = join(ROOT, "bench-results", date);
    await mkdir(dir, { recursive: true });
    const machine = `${cpus().length} cores (${cpus()[0]?.model ?? "unknown"}), ${Math.round(totalmem() / 2 ** 30)} GiB, node ${process.version}`;
    const report = summarise(runs, {
      date,
      machine,
      seconds: SECONDS,
      repeats: REPEATS,
      clients: CLIENTS,
      v4Engine: V4_ENGINE,
      ...(floor ? { floorNodeFlags: floor.flags } : {}),
      soaks,
      ceilings,
    });
    await writeFile(join(dir, "report.json"), `${JSON.stringify({ ...report, runs, soaks }, null, 2)}\n`);
    await writeFile(join(dir, "report.md"), renderMarkdown(report));
    await writeFile(join(dir, "chart.svg"), await renderChart(report));
    console.log(renderMarkdown(report));
    console.log(
      `wrote ${dir}/report.json, report.md, chart.svg in ${((performance.now() - started) / 60000).toFixed(1)} min`,
    );
  } finally {
    await lab.down();
  }
}

/** Adds subnets to a running kea-dhcp4 (config-get, config-set). */
async function addSubnets4(
  keaId: string,
  endpoint: KeaEndpoint,
  subnets: { id: number; subnet: string; pool: string }[],
): Promise<void> {
  const current = await keaCommand<Record<string, { subnet4?: unknown[]; hash?: string }>>(
    docker,
    keaId,
    "config-get",
    endpoint,
  );
  const config = current.arguments ?? {};
  delete (config as { hash?: string }).hash;
  const dhcp4 = config.Dhcp4 ?? {};
  dhcp4.subnet4 = [
    ...(dhcp4.subnet4 ?? []),
    ...subnets.map((s) => ({ id: s.id, subnet: s.subnet, pools: [{ pool: s.pool }] })),
  ];
  const set = await keaCommand(docker, keaId, "config-set", endpoint, config);
  if (set.result !== 0) throw new Error(`config-set: ${set.text}`);
}

/** The highest offered rate at which `path`'s median drops stayed under the limit (else the lowest). */
function ceilingOf(runs: Run[], path: PathName, family: 4 | 6): number {
  const rates = [...new Set(runs.filter((r) => r.path === path && r.family === family).map((r) => r.rate))];
  const ok = rates.filter(
    (rate) =>
      median(
        runs
          .filter((r) => r.path === path && r.family === family && r.rate === rate)
          .map((r) => r.dropPercent),
      ) < DROP_LIMIT,
  );
  return ok.length > 0 ? Math.max(...ok) : Math.min(...rates);
}

/** A path's ceiling found by bisection: the highest offered rate with drops under the limit. */
export interface Ceiling {
  path: PathName;
  family: 4 | 6;
  /** The highest rate that passed. */
  rate: number;
  /** The lowest rate that failed (absent: none did, the ceiling is at least `rate`). */
  failedAt?: number;
  /** Every bisection run: [offered rate, drops %]. */
  steps: [number, number][];
}

/**
 * Each path's ceiling to within BISECT: from the ladder's highest passing rate and lowest
 * failing one, halving the gap with one run at a time, the paths alternated each round so that
 * noise hits each alike. A path that never failed keeps the ladder's top as a lower bound.
 */
async function bisectCeilings(
  runs: Run[],
  family: 4 | 6,
  run: (path: PathName, rate: number) => Promise<number>,
): Promise<Ceiling[]> {
  const state = PATHS.map((path) => {
    const rates = [...new Set(runs.filter((r) => r.path === path && r.family === family).map((r) => r.rate))];
    const dropsAt = (rate: number) =>
      median(
        runs
          .filter((r) => r.path === path && r.family === family && r.rate === rate)
          .map((r) => r.dropPercent),
      );
    const passed = rates.filter((r) => dropsAt(r) < DROP_LIMIT);
    const lo = passed.length > 0 ? Math.max(...passed) : 0;
    const failed = rates.filter((r) => r > lo && dropsAt(r) >= DROP_LIMIT);
    return {
      path,
      lo,
      hi: failed.length > 0 ? Math.min(...failed) : undefined,
      steps: [] as [number, number][],
    };
  });
  const open = () => state.filter((c) => c.hi !== undefined && c.hi - c.lo > BISECT * Math.max(c.lo, 1));
  for (let round = 0; round < 12 && open().length > 0; round++) {
    for (const c of open()) {
      const mid = Math.round((c.lo + (c.hi as number)) / 2);
      const drops = await run(c.path, mid);
      c.steps.push([mid, drops]);
      if (drops < DROP_LIMIT) c.lo = mid;
      else c.hi = mid;
    }
  }
  return state.map((c) => ({
    path: c.path,
    family,
    rate: c.lo,
    ...(c.hi !== undefined ? { failedAt: c.hi } : {}),
    steps: c.steps,
  }));
}

/**
 * One long run at `rate` through a relay, its resident memory sampled every 5 s from the host's
 * process table (docker top: nothing runs inside the relay's container to measure it).
 */
async function soakRelay(
  path: Exclude<PathName, "direct">,
  id: string,
  family: 4 | 6,
  rate: number,
  run: (seconds: number) => Promise<Run>,
): Promise<Soak> {
  const rssMiB: [number, number][] = [];
  const anonMiB: [number, number][] = [];
  const t0 = performance.now();
  let running = true;
  const sampler = (async () => {
    while (running) {
      const top = (await docker.getContainer(id).top({ ps_args: "-o pid,rss" })) as {
        Processes?: string[][];
      };
      // Every process of the container: dhcplab's node (and radvd), or dhcrelay's two.
      const processes = top.Processes ?? [];
      const kib = processes.reduce((n, p) => n + Number(p[1] ?? 0), 0);
      const anonKib = (await Promise.all(processes.map((p) => anonymousKib(Number(p[0]))))).reduce(
        (a, b) => a + b,
        0,
      );
      const at = Math.round((performance.now() - t0) / 1000);
      rssMiB.push([at, kib / 1024]);
      anonMiB.push([at, anonKib / 1024]);
      await sleep(5000);
    }
  })();
  const r = await run(SOAK_SECONDS);
  running = false;
  await sampler;
  return {
    path,
    family,
    rate,
    seconds: SOAK_SECONDS,
    achievedRate: r.achievedRate,
    dropPercent: r.dropPercent,
    rssMiB,
    anonMiB,
  };
}

/** A host process's resident anonymous memory (RssAnon in its /proc status), KiB; 0 once gone. */
async function anonymousKib(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8").catch(() => "");
  return Number(/^RssAnon:\s+(\d+) kB/m.exec(status)?.[1] ?? 0);
}

type LabSpecOf = Awaited<ReturnType<typeof startLab>>["spec"];
type BlueOf = { network: string; subnets: Subnets; spec: { link6?: string } };

/**
 * A relay of the bench's own beside dhcplab's, at host `host` of the access network and of BLUE's:
 * created from `config` (its networks and capabilities added here), connected to both, started.
 */
async function besideRelay(
  spec: LabSpecOf,
  blue: BlueOf,
  host: number,
  config: ContainerCreateOptions,
): Promise<{ container: Docker.Container; access: string; backend: string }> {
  const access = endpoint(spec.access.subnets, host);
  const backend = endpoint(blue.subnets, host);
  const container = await docker.createContainer({
    ...config,
    HostConfig: { ...config.HostConfig, NetworkMode: spec.access.network, CapAdd: ["NET_ADMIN", "NET_RAW"] },
    NetworkingConfig: {
      EndpointsConfig: {
        [spec.access.network]: { IPAMConfig: { IPv4Address: access.ipv4, IPv6Address: access.ipv6 } },
      },
    },
  });
  await docker.getNetwork(blue.network).connect({
    Container: container.id,
    EndpointConfig: { IPAMConfig: { IPv4Address: backend.ipv4, IPv6Address: backend.ipv6 } },
  });
  await container.start();
  return { container, access: access.ipv4, backend: backend.ipv4 };
}

/**
 * The "node-floor" path's relay (test/bench/floor-relay.mjs) in a container of dhcplab's relay
 * image, at host .4 of the access network and of BLUE's, started and heard saying so. It is given
 * its addresses as bytes (hex), so that it parses none.
 */
async function startFloor(
  spec: LabSpecOf,
  blue: BlueOf,
  kea: { ipv4: string; linkLocal: string },
  image: string,
): Promise<{ container: Docker.Container; access: string; flags: string[] }> {
  const script = await readFile(join(ROOT, "test", "bench", "floor-relay.mjs"), "utf8");
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
  const flags = await floorNodeFlags(image);
  const floor = await besideRelay(spec, blue, 4, {
    name: `${spec.name}-floor`,
    Image: image,
    Entrypoint: ["node", ...flags, "--input-type=module", "-e", script],
    Cmd: [],
    Env: [
      `ACCESS_V4=${endpoint(spec.access.subnets, 4).ipv4}`,
      `BACKEND_V4=${endpoint(blue.subnets, 4).ipv4}`,
      `KEA_V4=${hex(ipv4ToBytes(kea.ipv4))}`,
      `LINK6=${hex(ipv6ToBytes(blue.spec.link6 ?? "::"))}`,
      `KEA_LL=${hex(ipv6ToBytes(kea.linkLocal.replace(/%.*$/, "")))}`,
      ...(FLOOR_NODE_OPTIONS ? [`NODE_OPTIONS=${FLOOR_NODE_OPTIONS}`] : []),
    ],
    Labels: { ...spec.labels, [LABEL.role]: "floor-relay" },
  });
  const deadline = Date.now() + 15_000;
  for (;;) {
    const logs = String(await floor.container.logs({ stdout: true, stderr: true }));
    if (logs.includes("floor-relay:")) break;
    const state = (await floor.container.inspect()).State;
    if (!state.Running || Date.now() > deadline)
      throw new Error(`the floor relay did not start (${state.Status}):\n${logs}`);
    await sleep(200);
  }
  return { ...floor, flags };
}

/**
 * The V8 and Node flags node-floor runs with: BENCH_FLOOR_NODE_FLAGS (space-separated; empty for
 * Node's defaults), else the ones dhcplab's relay runs with, from its image's entrypoint, so that
 * what dhcplab costs beyond the floor is its logic and not its choice of flags (which trade CPU for
 * memory). BENCH_RELAY_NODE_OPTIONS reaches the floor as it reaches the relay: as NODE_OPTIONS.
 */
async function floorNodeFlags(image: string): Promise<string[]> {
  if (FLOOR_NODE_FLAGS !== undefined) return FLOOR_NODE_FLAGS.split(/\s+/).filter(Boolean);
  const entrypoint = ((await docker.getImage(image).inspect()).Config.Entrypoint ?? []) as string[];
  const node = entrypoint.findIndex((a) => a === "node" || a.endsWith("/node"));
  if (node < 0)
    throw new Error(
      `the relay image's entrypoint (${entrypoint.join(" ")}) runs no node: set BENCH_FLOOR_NODE_FLAGS`,
    );
  // Flags in the --name=value form, as the relay's Dockerfile writes them, up to the script.
  const rest = entrypoint.slice(node + 1);
  const end = rest.findIndex((a) => !a.startsWith("--"));
  return end < 0 ? rest : rest.slice(0, end);
}

/** Runs a command in a short-lived container that shares `containerId`'s network namespace. */
async function helper(containerId: string, image: string, cmd: string[]): Promise<void> {
  const r = await runToCompletion(docker, {
    Image: image,
    Cmd: cmd,
    HostConfig: { NetworkMode: `container:${containerId}`, CapAdd: ["NET_ADMIN"] },
  });
  if (r.exitCode !== 0) throw new Error(`${cmd.join(" ")} failed: ${r.output}`);
}

async function cpuNanos(id: string): Promise<number> {
  const s = (await docker.getContainer(id).stats({ stream: false })) as unknown as {
    cpu_stats: { cpu_usage: { total_usage: number } };
  };
  return s.cpu_stats.cpu_usage.total_usage;
}

async function memoryBytes(id: string): Promise<number> {
  const s = (await docker.getContainer(id).stats({ stream: false })) as unknown as {
    memory_stats: { usage?: number };
  };
  return s.memory_stats.usage ?? 0;
}

/** How many event-loop samples the relay's histogram holds (folded in once a second). */
function loopSamples(c: RelayCounters): number {
  return Object.values(c.dhcplab_relay_event_loop_delay_seconds_count ?? {}).reduce((a, b) => a + b, 0);
}

/**
 * The relay's counters once its stall histogram has folded twice since this call: a relay just
 * unpaused (the bench pauses the relay not under test) records the pause as one late turn of its
 * loop, which belongs to no run, and the first fold after the pause may come before that turn.
 * Polled with a deadline.
 */
async function afterFold(read: () => Promise<RelayCounters>): Promise<RelayCounters> {
  let last = await read();
  let folds = 0;
  const deadline = Date.now() + 5000;
  for (;;) {
    await sleep(100);
    const now = await read();
    if (loopSamples(now) > loopSamples(last)) folds++;
    last = now;
    if (folds >= 2 || Date.now() > deadline) return now;
  }
}

/** One perfdhcp run; for a relay path also its CPU time (cgroup accounting) and peak memory. */
async function measure(
  lab: LabState,
  image: string,
  path: PathName,
  family: 4 | 6,
  rate: number,
  repeat: number,
  o: {
    relayId?: string;
    target: string;
    network: string;
    relayImage: string;
    seconds?: number;
    /** dhcplab's relay: its counters are read before and after, for its stalls. */
    countersOf?: () => Promise<RelayCounters>;
  },
): Promise<Run> {
  const mac = family === 4 ? "00:bb:01:20:00:00" : "00:bb:02:20:00:00";
  const load = { mac, family, clients: CLIENTS, rate, duration: o.seconds ?? SECONDS };
  const clientsEngine = family === 4 && V4_ENGINE === "clients";
  const cmd = clientsEngine
    ? loadgenCommand(load, path === "direct" ? o.target : undefined)
    : perfdhcpCommand(load, o.target);
  let peak = 0;
  let sampling = o.relayId !== undefined;
  const sampler = (async () => {
    while (sampling && o.relayId) {
      peak = Math.max(peak, await memoryBytes(o.relayId));
      await sleep(500);
    }
  })();
  try {
    const countersBefore = o.countersOf ? await afterFold(o.countersOf) : undefined;
    const cpuBefore = o.relayId ? await cpuNanos(o.relayId) : 0;
    const t0 = performance.now();
    const { output } = await runToCompletion(docker, {
      Labels: { [LABEL.managed]: "true", [LABEL.lab]: lab.name, [LABEL.role]: "client" },
      HostConfig: { NetworkMode: o.network },
      // The clients engine is Node, in the relay's image; perfdhcp is in the client image.
      ...(clientsEngine
        ? { Image: o.relayImage, Entrypoint: [cmd[0] ?? "node"], Cmd: cmd.slice(1) }
        : { Image: image, Cmd: ["sh", "-c", `${WAIT_FOR_LINK} exec ${cmd.join(" ")}`] }),
    });
    const cpuAfter = o.relayId ? await cpuNanos(o.relayId) : 0;
    const countersAfter = await o.countersOf?.();
    const idle = o.relayId ? (idleNanosPerMs.get(o.relayId) ?? 0) * (performance.now() - t0) : 0;
    sampling = false;
    await sampler;
    const report: PerfdhcpReport = clientsEngine ? parseLoadgen(output) : parsePerfdhcp(output);
    const seconds = o.seconds ?? SECONDS;
    const sumOf = (f: (e: PerfdhcpReport["exchanges"][number]) => number | undefined) => {
      const xs = report.exchanges.map(f);
      return xs.every((x) => x !== undefined) ? xs.reduce((a: number, b) => a + (b ?? 0), 0) : undefined;
    };
    const first = report.exchanges[0];
    const done = completed(report);
    const sent = first?.sent ?? 0;
    const lost = report.exchanges.reduce((n, e) => n + e.drops, 0);
    const attempted = report.exchanges.reduce((n, e) => n + e.sent, 0);
    return {
      path,
      family,
      rate,
      repeat,
      achievedRate: done / seconds,
      sent,
      completed: done,
      dropPercent: attempted > 0 ? (100 * lost) / attempted : 100,
      avgDelayMs: report.exchanges.reduce((n, e) => n + e.avgDelayMs, 0),
      maxDelayMs: report.exchanges.reduce((n, e) => n + e.maxDelayMs, 0),
      p50Ms: sumOf((e) => e.p50Ms),
      p90Ms: sumOf((e) => e.p90Ms),
      p99Ms: sumOf((e) => e.p99Ms),
      ...(countersBefore && countersAfter ? { stalls: stallFigures(countersBefore, countersAfter) } : {}),
      ...(o.relayId && done > 0
        ? {
            cpuMicrosPerExchange: Math.max(0, cpuAfter - cpuBefore - idle) / 1000 / done,
            peakMemoryMiB: peak / 2 ** 20,
          }
        : {}),
    };
  } finally {
    sampling = false;
  }
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Medians per path, family and rate, and the ratios the README quotes. */
export interface Report {
  /** Each path's bisected ceiling per family (none with BENCH_BISECT=0). */
  ceilings: Ceiling[];
  date: string;
  machine: string;
  seconds: number;
  repeats: number;
  clients: number;
  /** The DHCPv4 load generator: clients (first hop) or perfdhcp (a relay itself). */
  v4Engine: LoadEngine;
  /** The Node and V8 flags node-floor ran with (none: Node's defaults); absent without node-floor. */
  floorNodeFlags?: string[];
  soaks: Soak[];
  rows: {
    path: PathName;
    family: 4 | 6;
    rate: number;
    achievedRate: number;
    dropPercent: number;
    avgDelayMs: number;
    maxDelayMs: number;
    p50Ms?: number;
    p90Ms?: number;
    p99Ms?: number;
    cpuMicrosPerExchange?: number;
    peakMemoryMiB?: number;
    /** dhcplab's relay: the median run's event-loop p99 and GC figures, the worst run's maxima. */
    stalls?: {
      eventLoopP99Ms?: number;
      eventLoopMaxMs: number;
      gcPauses: number;
      gcPauseMs: number;
      gcMaxMs: number;
    };
  }[];
  ratios: {
    family: 4 | 6;
    /** Highest rate under 2.5 % drops, per path. */
    ceiling: Record<PathName, number>;
    /** dhcplab's ceiling / direct's. */
    ceilingVsDirect: number;
    /** dhcplab's added average delay over direct at half of dhcplab's ceiling, ms. */
    addedDelayMs?: number;
    /** The same for the p50 and p99 delays. */
    addedP50Ms?: number;
    addedP99Ms?: number;
    /** Where those were measured. */
    halfRate?: number;
    /** dhcplab's CPU per exchange / isc-dhcp-relay's, over the rates both sustained. */
    cpuVsIsc?: number;
    /** The same for the node-floor relay: what running on Node costs before any logic of dhcplab's. */
    floorCpuVsIsc?: number;
    /** dhcplab's CPU per exchange / node-floor's, over the rates both sustained: what dhcplab's logic costs. */
    cpuVsFloor?: number;
  }[];
}

export function summarise(runs: Run[], meta: Omit<Report, "rows" | "ratios">): Report {
  const rows: Report["rows"] = [];
  for (const family of [4, 6] as const) {
    for (const path of PATHS) {
      for (const rate of RATES) {
        const at = runs.filter((x) => x.path === path && x.family === family && x.rate === rate);
        if (at.length === 0) continue;
        const m = (f: (r: Run) => number | undefined) => {
          const xs = at.map(f).filter((x): x is number => x !== undefined);
          return xs.length > 0 ? median(xs) : undefined;
        };
        rows.push({
          path,
          family,
          rate,
          achievedRate: m((r) => r.achievedRate) ?? 0,
          dropPercent: m((r) => r.dropPercent) ?? 100,
          avgDelayMs: m((r) => r.avgDelayMs) ?? 0,
          maxDelayMs: m((r) => r.maxDelayMs) ?? 0,
          p50Ms: m((r) => r.p50Ms),
          p90Ms: m((r) => r.p90Ms),
          p99Ms: m((r) => r.p99Ms),
          cpuMicrosPerExchange: m((r) => r.cpuMicrosPerExchange),
          peakMemoryMiB: m((r) => r.peakMemoryMiB),
          ...(at.some((r) => r.stalls)
            ? {
                stalls: {
                  eventLoopP99Ms: m((r) => r.stalls?.eventLoopP99Ms),
                  eventLoopMaxMs: Math.max(...at.map((r) => r.stalls?.eventLoopMaxMs ?? 0)),
                  gcPauses: m((r) => r.stalls?.gcPauses) ?? 0,
                  gcPauseMs: m((r) => r.stalls?.gcPauseMs) ?? 0,
                  gcMaxMs: Math.max(...at.map((r) => r.stalls?.gcMaxMs ?? 0)),
                },
              }
            : {}),
        });
      }
    }
  }
  const ratios = ([4, 6] as const).map((family) => {
    const of = (path: PathName) => rows.filter((r) => r.family === family && r.path === path);
    // The bisected ceiling where there is one, else the ladder's highest passing achieved rate.
    const bisected = (p: PathName) => meta.ceilings.find((c) => c.path === p && c.family === family)?.rate;
    const ceiling = Object.fromEntries(
      PATHS.map((p) => [
        p,
        bisected(p) ??
          Math.max(
            0,
            ...of(p)
              .filter((r) => r.dropPercent < DROP_LIMIT)
              .map((r) => r.achievedRate),
          ),
      ]),
    ) as Record<PathName, number>;
    const half = ceiling.dhcplab / 2;
    const near = (p: PathName) =>
      of(p).reduce<Report["rows"][number] | undefined>(
        (best, r) => (!best || Math.abs(r.rate - half) < Math.abs(best.rate - half) ? r : best),
        undefined,
      );
    const d = near("dhcplab");
    const direct = d && of("direct").find((r) => r.rate === d.rate);
    /** `path`'s CPU per exchange / `base`'s: the median over the rates both sustained. */
    const cpuVs = (path: PathName, base: PathName) => {
      const ratios = of(path)
        .filter((r) => r.dropPercent < DROP_LIMIT && r.cpuMicrosPerExchange !== undefined)
        .map((r) => {
          const b = of(base).find((x) => x.rate === r.rate && x.dropPercent < DROP_LIMIT);
          return b?.cpuMicrosPerExchange
            ? (r.cpuMicrosPerExchange as number) / b.cpuMicrosPerExchange
            : undefined;
        })
        .filter((x): x is number => x !== undefined);
      return ratios.length > 0 ? median(ratios) : undefined;
    };
    const cpu = cpuVs("dhcplab", "isc-dhcp-relay");
    const floorCpu = cpuVs("node-floor", "isc-dhcp-relay");
    const overFloor = cpuVs("dhcplab", "node-floor");
    return {
      family,
      ceiling,
      ceilingVsDirect: ceiling.direct > 0 ? ceiling.dhcplab / ceiling.direct : Number.NaN,
      ...(d && direct
        ? {
            halfRate: d.rate,
            addedDelayMs: d.avgDelayMs - direct.avgDelayMs,
            ...(d.p50Ms !== undefined && direct.p50Ms !== undefined
              ? { addedP50Ms: d.p50Ms - direct.p50Ms }
              : {}),
            ...(d.p99Ms !== undefined && direct.p99Ms !== undefined
              ? { addedP99Ms: d.p99Ms - direct.p99Ms }
              : {}),
          }
        : {}),
      ...(cpu !== undefined ? { cpuVsIsc: cpu } : {}),
      ...(floorCpu !== undefined ? { floorCpuVsIsc: floorCpu } : {}),
      ...(overFloor !== undefined ? { cpuVsFloor: overFloor } : {}),
    };
  });
  return { ...meta, rows, ratios };
}

// Run as the bench; imported (to summarise a report.json again after the summary changed), not.
if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main();
