import type Docker from "dockerode";
import { LABEL } from "../model/labels.ts";
import { type LabSpec, type NetworkSpec, type NodeSpec, nodeOf } from "../spec/spec.ts";
import { containerLogs, exec, runToCompletion } from "./engine.ts";
import { keaReload } from "./kea-control.ts";
import { waitFor } from "./wait.ts";

// Faults on a running lab: a link's condition (delay, loss, rate, ...), a path cut between two
// services on one network, a service disconnected from a network, a service frozen. Conditions and
// cuts live in the kernel of the impaired service's network namespace, set by the client image's
// dhcplab-fault (docker/client/fault.sh) from a one-shot container sharing that namespace. What is
// in force is recorded as a never-started container of the lab per impaired link (labels only), so
// that status lists it and down removes it with the lab; a condition dies with its namespace (a
// service restarted), and its record with it.

/** A link condition, as netem describes one; every field optional, at least one given. */
export interface LinkCondition {
  /** Added delay, milliseconds. */
  delay?: number;
  /** Delay variation, milliseconds. */
  jitter?: number;
  /** Packets dropped, percent. */
  loss?: number;
  duplicate?: number;
  reorder?: number;
  corrupt?: number;
  /** A rate limit as tc writes it: 1mbit, 512kbit. */
  rate?: string;
}

/** A fault in force on the lab. */
export interface Fault {
  service: string;
  kind: "condition" | "cut" | "disconnected" | "paused";
  /** The lab network (its key: access, red, a segment's name, transport, ...). */
  network?: string;
  condition?: LinkCondition;
  /**
   * What carries the condition: netem; without sch_netem, nftables for loss and tbf for rate, and
   * the lab's delay line (a process beside the service) for delay, jitter, duplication, reordering
   * and corruption.
   */
  mechanism?: string;
  /** kind cut: the services the path to which is cut. */
  peers?: string[];
  /** kind disconnected: the link's interface name in the service, given back on connect. */
  interface?: string;
}

/** The fault script refused: the condition cannot be made on this host (exit 3), or a usage error. */
export class FaultRefused extends Error {}

const RECORD = { fault: "dev.dhcplab.fault" } as const;

/** A network a service is on, by key, with the networks it is on when it is not. */
function linkOf(spec: LabSpec, node: NodeSpec, network: string): NetworkSpec {
  const own = node.namespaceOf ? nodeOf(spec, node.namespaceOf) : node;
  const on = own.endpoints
    .map((e) => spec.networks.find((n) => n.name === e.network))
    .filter(Boolean) as NetworkSpec[];
  const net = on.find((n) => n.key === network);
  if (!net)
    throw new Error(
      `${node.service} is not on a network ${network}: it is on ${on.map((n) => n.key).join(", ") || "none"}`,
    );
  return net;
}

/** The faults in force: their records, and the services Docker says are paused. */
export async function listFaults(docker: Docker, spec: LabSpec): Promise<Fault[]> {
  const records = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABEL.lab}=${spec.name}`, `${LABEL.role}=fault`] }),
  });
  const faults = records
    .map((c) => JSON.parse(c.Labels[RECORD.fault] ?? "{}") as Fault)
    .filter((f) => f.service)
    .sort((a, b) =>
      `${a.service} ${a.network} ${a.kind}`.localeCompare(`${b.service} ${b.network} ${b.kind}`),
    );
  const paused = await docker.listContainers({
    all: true,
    filters: JSON.stringify({ label: [`${LABEL.lab}=${spec.name}`], status: ["paused"] }),
  });
  for (const c of paused) {
    const service = c.Labels[LABEL.service];
    if (service) faults.push({ service, kind: "paused" });
  }
  return faults;
}

function recordName(spec: LabSpec, f: Pick<Fault, "service" | "network" | "kind">): string {
  return `${spec.name}-fault-${f.service}-${f.network ?? "all"}-${f.kind}`;
}

async function record(docker: Docker, spec: LabSpec, image: string, f: Fault): Promise<void> {
  await forget(docker, spec, f);
  await docker.createContainer({
    name: recordName(spec, f),
    Image: image,
    Cmd: ["true"],
    Labels: {
      ...spec.labels,
      [LABEL.role]: "fault",
      [LABEL.service]: `fault-${f.service}`,
      [RECORD.fault]: JSON.stringify(f),
    },
    HostConfig: { NetworkMode: "none" },
  });
}

async function forget(docker: Docker, spec: LabSpec, f: Pick<Fault, "service" | "network" | "kind">) {
  await docker
    .getContainer(recordName(spec, f))
    .remove({ force: true })
    .catch(() => {});
}

/** Forgets every fault of a service whose namespace is new (restarted, killed): they died with the old one. */
export async function forgetFaultsOf(docker: Docker, spec: LabSpec, service: string): Promise<void> {
  for (const f of await listFaults(docker, spec)) {
    if (f.service !== service || (f.kind !== "condition" && f.kind !== "cut")) continue;
    if (f.kind === "condition") await stopDelayLine(docker, spec, f);
    await forget(docker, spec, f);
  }
}

/**
 * A service (re)started has a network namespace anew: its faults died with the old one, and the
 * nodes that shared it (a Kea's exporter) are restarted into the new one.
 */
export async function namespaceRenewed(docker: Docker, spec: LabSpec, service: string): Promise<void> {
  await forgetFaultsOf(docker, spec, service);
  for (const n of spec.nodes.filter((n) => n.namespaceOf === service))
    await docker.getContainer(n.container).restart({ t: 2 });
}

type LinkKey = Pick<Fault, "service" | "network" | "kind">;

const delayLineName = (spec: LabSpec, f: LinkKey) => `${spec.name}-delay-${f.service}-${f.network}`;

/** A tc rate (1mbit, 512kbit, 2mbps) in bits per second. */
export function bitsPerSecond(rate: string): number {
  const m = /^(\d+(?:\.\d+)?)(bit|kbit|mbit|gbit|bps|kbps|mbps)$/i.exec(rate);
  if (!m) throw new Error(`${rate} is not a rate such as 1mbit`);
  const unit = (m[2] ?? "bit").toLowerCase();
  const scale: Record<string, number> = {
    bit: 1,
    kbit: 1e3,
    mbit: 1e6,
    gbit: 1e9,
    bps: 8,
    kbps: 8e3,
    mbps: 8e6,
  };
  return Number(m[1]) * (scale[unit] ?? 1);
}

/**
 * Starts the delay line beside a service (docker/client/delay-line.py): a container in its network
 * namespace that takes every frame the link sends and sends it on late (or lost, twice, corrupted).
 */
async function startDelayLine(
  docker: Docker,
  spec: LabSpec,
  image: string,
  container: string,
  key: LinkKey,
  mac: string,
  condition: LinkCondition,
): Promise<void> {
  const args = Object.entries(condition).flatMap(([k, v]) =>
    v === undefined ? [] : [`--${k}`, k === "rate" ? String(bitsPerSecond(String(v))) : String(v)],
  );
  const c = await docker.createContainer({
    name: delayLineName(spec, key),
    Image: image,
    Cmd: ["dhcplab-delay-line", "--mac", mac, ...args],
    Labels: { ...spec.labels, [LABEL.role]: "delay-line", [LABEL.service]: `delay-${key.service}` },
    StopSignal: "SIGTERM",
    HostConfig: {
      NetworkMode: `container:${container}`,
      CapAdd: ["NET_ADMIN"],
      Devices: [{ PathOnHost: "/dev/net/tun", PathInContainer: "/dev/net/tun", CgroupPermissions: "rwm" }],
    },
  });
  await c.start();
  // Ready once the link is redirected to it (it prints "ready"); a failure is its last words.
  await waitFor(
    `the delay line of ${key.service} on ${key.network}`,
    async () => {
      const info = await c.inspect();
      const logs = await containerLogs(docker, c.id);
      if (/^ready$/m.test(logs)) return { done: true, value: undefined };
      if (!info.State.Running) {
        await c.remove({ force: true }).catch(() => {});
        return { failed: logs.trim() || `exited with ${info.State.ExitCode}` };
      }
      return { done: false, seen: "not ready yet" };
    },
    { timeoutMs: 15_000, intervalMs: 200 },
  );
}

/** Stops a link's delay line (it undoes its redirect on SIGTERM), if there is one. */
async function stopDelayLine(docker: Docker, spec: LabSpec, key: LinkKey): Promise<void> {
  const c = docker.getContainer(delayLineName(spec, key));
  await c.stop({ t: 2 }).catch(() => {});
  await c.remove({ force: true }).catch(() => {});
}

/** The container that holds a node's network namespace, and its MAC on a lab network. */
async function linkMac(docker: Docker, spec: LabSpec, node: NodeSpec, network: NetworkSpec) {
  const holder = node.namespaceOf ? nodeOf(spec, node.namespaceOf) : node;
  const info = await docker.getContainer(holder.container).inspect();
  if (!info.State.Running) throw new Error(`${node.service} is not running (${info.State.Status})`);
  const mac = info.NetworkSettings.Networks[network.name]?.MacAddress;
  if (!mac)
    throw new Error(
      `${node.service} is not connected to ${network.key} now (dhcplab connect ${node.service} ${network.key})`,
    );
  return { container: holder.container, mac };
}

/** Runs dhcplab-fault in a service's network namespace; its output, or FaultRefused with its words. */
async function runFault(docker: Docker, spec: LabSpec, image: string, container: string, args: string[]) {
  const r = await runToCompletion(docker, {
    Image: image,
    Cmd: ["dhcplab-fault", ...args],
    Labels: { ...spec.labels, [LABEL.role]: "fault-run" },
    HostConfig: { NetworkMode: `container:${container}`, CapAdd: ["NET_ADMIN"] },
  });
  if (r.exitCode !== 0) throw new FaultRefused(r.output.trim().replace(/^dhcplab-fault: /gm, ""));
  return r.output.trim();
}

/** Checks a condition's values before anything is changed; throws naming the bad one. */
export function checkCondition(c: LinkCondition): void {
  const known = new Set(["delay", "jitter", "loss", "duplicate", "reorder", "corrupt", "rate"]);
  for (const [k, v] of Object.entries(c)) {
    if (v === undefined) continue;
    if (!known.has(k))
      throw new Error(`${k} is no condition: use delay, jitter, loss, duplicate, reorder, corrupt, rate`);
    if (k === "rate") bitsPerSecond(String(v));
    else if (typeof v !== "number" || !Number.isFinite(v) || v < 0)
      throw new Error(`${k} ${JSON.stringify(v)}: a number from 0 up`);
    else if (k !== "delay" && k !== "jitter" && v > 100) throw new Error(`${k} ${v}: a percentage, 0 to 100`);
  }
}

/** Sets (or, with `undefined`, clears) the condition of a service's link on a network. */
export async function setCondition(
  docker: Docker,
  spec: LabSpec,
  image: string,
  service: string,
  network: string,
  condition: LinkCondition | undefined,
): Promise<Fault | undefined> {
  if (condition) checkCondition(condition);
  const node = nodeOf(spec, service);
  const net = linkOf(spec, node, network);
  const { container, mac } = await linkMac(docker, spec, node, net);
  const key = { service, network: net.key, kind: "condition" as const };
  if (!condition) {
    await stopDelayLine(docker, spec, key);
    await runFault(docker, spec, image, container, ["clear", "--mac", mac]);
    await forget(docker, spec, key);
    return undefined;
  }
  const args = Object.entries(condition).flatMap(([k, v]) => (v === undefined ? [] : [`--${k}`, String(v)]));
  if (args.length === 0)
    throw new Error(
      "a condition needs at least one of delay, jitter, loss, duplicate, reorder, corrupt, rate",
    );
  await stopDelayLine(docker, spec, key);
  // The old condition is cleared before the new one is set: should that fail, it is not in force.
  await forget(docker, spec, key);
  let mechanism: string | undefined;
  try {
    mechanism = (await runFault(docker, spec, image, container, ["condition", "--mac", mac, ...args]))
      .split("\n")
      .at(-1);
  } catch (err) {
    if (!(err instanceof FaultRefused) || !/no netem qdisc/.test(err.message)) throw err;
    // No sch_netem: the lab's own delay line carries the whole condition.
    await startDelayLine(docker, spec, image, container, key, mac, condition);
    mechanism = "delay-line";
  }
  const fault: Fault = { ...key, condition, mechanism };
  await record(docker, spec, image, fault);
  return fault;
}

/** The addresses a service has on a network (the spec's fixed ones, else what Docker gave it). */
async function addressesOn(
  docker: Docker,
  spec: LabSpec,
  node: NodeSpec,
  net: NetworkSpec,
): Promise<string[]> {
  const holder = node.namespaceOf ? nodeOf(spec, node.namespaceOf) : node;
  const e = holder.endpoints.find((e) => e.network === net.name);
  const fixed = [e?.ipv4, e?.ipv6].filter((a): a is string => Boolean(a));
  if (fixed.length > 0) return fixed;
  const info = await docker.getContainer(holder.container).inspect();
  const n = info.NetworkSettings.Networks[net.name];
  return [n?.IPAddress, n?.GlobalIPv6Address].filter((a): a is string => Boolean(a));
}

/**
 * Cuts (or heals) the path between two services on one network, both staying on it: nothing from
 * one reaches the other there, everything else flows (HA peers that lose their heartbeats while
 * the relay reaches both).
 */
export async function setCut(
  docker: Docker,
  spec: LabSpec,
  image: string,
  o: { service: string; peer: string; network: string; cut: boolean },
): Promise<Fault | undefined> {
  const node = nodeOf(spec, o.service);
  const peer = nodeOf(spec, o.peer);
  const net = linkOf(spec, node, o.network);
  linkOf(spec, peer, o.network);
  const { container, mac } = await linkMac(docker, spec, node, net);
  const addresses = await addressesOn(docker, spec, peer, net);
  await runFault(docker, spec, image, container, [o.cut ? "cut" : "heal", "--mac", mac, ...addresses]);
  const key = { service: o.service, network: net.key, kind: "cut" as const };
  const before = (await listFaults(docker, spec)).find(
    (f) => f.kind === "cut" && f.service === o.service && f.network === net.key,
  );
  const peers = new Set(before?.peers ?? []);
  if (o.cut) peers.add(o.peer);
  else peers.delete(o.peer);
  if (peers.size === 0) {
    await forget(docker, spec, key);
    return undefined;
  }
  const fault: Fault = { ...key, peers: [...peers].sort() };
  await record(docker, spec, image, fault);
  return fault;
}

/**
 * Takes a service off a network (Docker's network disconnect; it keeps running), or puts it back
 * with the addresses the spec gives it. Kea's routes through the relay are installed again; the
 * relay, whose sockets are bound per interface, is restarted.
 */
export async function setConnected(
  docker: Docker,
  spec: LabSpec,
  image: string,
  o: { service: string; network: string; connected: boolean },
): Promise<string[]> {
  const node = nodeOf(spec, o.service);
  if (node.namespaceOf)
    throw new Error(`${o.service} shares ${node.namespaceOf}'s network: disconnect ${node.namespaceOf}`);
  const net = linkOf(spec, node, o.network);
  const e = node.endpoints.find((x) => x.network === net.name);
  const notes: string[] = [];
  const key = { service: o.service, network: net.key, kind: "disconnected" as const };
  if (!o.connected) {
    const { container, mac } = await linkMac(docker, spec, node, net);
    const ifname = (await runFault(docker, spec, image, container, ["ifname", "--mac", mac]))
      .split("\n")
      .at(-1);
    await docker.getNetwork(net.name).disconnect({ Container: node.container, Force: true });
    await record(docker, spec, image, { ...key, ...(ifname ? { interface: ifname } : {}) });
    return notes;
  }
  const was = (await listFaults(docker, spec)).find(
    (f) => f.kind === "disconnected" && f.service === o.service && f.network === net.key,
  );
  await docker.getNetwork(net.name).connect({
    Container: node.container,
    EndpointConfig: e?.ipv4 || e?.ipv6 ? { IPAMConfig: { IPv4Address: e.ipv4, IPv6Address: e.ipv6 } } : {},
  });
  await forget(docker, spec, key);
  // Its old interface name (Kea listens on it by name) and addresses; the conditions on it are gone.
  const { container, mac } = await linkMac(docker, spec, node, net);
  if (was?.interface) {
    const len = (s: string | undefined) => s?.split("/")[1];
    const addrs = [
      ...(e?.ipv4 ? [`${e.ipv4}/${len(net.subnets.ipv4Subnet)}`] : []),
      ...(e?.ipv6 ? [`${e.ipv6}/${len(net.subnets.ipv6Subnet)}`] : []),
    ].flatMap((a) => ["--addr", a]);
    await runFault(docker, spec, image, container, ["rename", "--mac", mac, "--to", was.interface, ...addrs]);
  }
  if (node.role.kind === "kea") {
    if (node.env.DHCPLAB_ROUTES) {
      await exec(docker, node.container, ["bash", "/usr/local/lib/dhcplab/install-routes.sh"]);
      notes.push(`${o.service}: its routes through the relay installed again`);
    }
    // Kea opens its sockets on its interfaces when it is configured: it is configured again.
    for (const family of node.role.families) {
      const endpoint = node.role.control[`dhcp${family}`];
      if (endpoint) await keaReload(docker, node.container, endpoint);
    }
    notes.push(`${o.service}: Kea's configuration reloaded, to open its sockets on the link again`);
  }
  if (node.role.kind === "relay") {
    await docker.getContainer(node.container).restart({ t: 2 });
    await namespaceRenewed(docker, spec, o.service);
    notes.push("relay: restarted, as its sockets are bound to its interfaces (conditions on it are gone)");
  }
  return notes;
}
