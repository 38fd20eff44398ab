import type Docker from "dockerode";
import type { KeaEndpoint } from "../model/kea-config.ts";
import { LABEL } from "../model/labels.ts";
import { type LabSpec, type NodeRole, type NodeSpec, parseStoredSpec, storedSpec } from "../spec/spec.ts";
import {
  containerFile,
  containerLogs,
  imageExists,
  isPodman,
  removeLabelled,
  runPodmanHealthCheck,
  tarOf,
} from "./engine.ts";
import { pruneRules } from "./firewall.ts";
import { waitFor } from "./wait.ts";

/** Lab names become container and network names. */
export function checkLabName(name: string): void {
  if (!/^[a-z0-9][a-z0-9_.-]{0,40}$/.test(name)) {
    throw new Error(
      `lab name ${JSON.stringify(name)}: use up to 41 lower-case letters, digits, '_', '.', '-'`,
    );
  }
}

/** Waits for a container's health check to pass; fails with its last log lines if it dies or times out. */
export async function waitHealthy(
  docker: Docker,
  name: string,
  id: string,
  timeoutMs: number,
): Promise<void> {
  try {
    await waitFor(
      name,
      async () => {
        // Podman runs no health check by itself here: run it at every poll, as Docker's interval would.
        if (await isPodman(docker)) await runPodmanHealthCheck(docker, id);
        const state = (await docker.getContainer(id).inspect()).State;
        if (state.Health?.Status === "healthy") return { done: true, value: undefined };
        if (!state.Running) return { failed: `exited with status ${state.ExitCode}` };
        return { done: false, seen: state.Health?.Status ?? "no health check" };
      },
      { timeoutMs, intervalMs: 250 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; its last log lines:\n${await lastLogLines(docker, id, 25)}`);
  }
}

/** The last `n` lines a container logged (stdout and stderr), indented for an error message. */
export async function lastLogLines(docker: Docker, id: string, n: number): Promise<string> {
  return (await containerLogs(docker, id, n))
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/** What a lab is made of and how each part is doing: its spec, with each container's state (status). */
export interface LabState {
  name: string;
  accessNetwork: string;
  relay?: {
    id: string;
    name: string;
    /** The image it runs, which also carries the DHCPv4 load generator. */
    image: string;
    accessIpv4: string;
    /** Its IPv4 address on each lab network, by network name. */
    ipv4ByNetwork: Record<string, string>;
    state: string;
    health?: string;
  };
  keas: {
    id: string;
    name: string;
    vrf: string;
    /** The families the Kea serves (its configuration has a server for each). */
    families: (4 | 6)[];
    /** Its Kea version. */
    version: string;
    /** Where each family's server takes commands. */
    control: Partial<Record<"dhcp4" | "dhcp6", KeaEndpoint>>;
    /** An HA peer's mode (hot-standby, load-balancing); absent for a lone server. */
    ha?: string;
    ipv4: string;
    state: string;
    health?: string;
  }[];
  /** The towers (downstream relays): their container, kind and state. */
  towers: {
    id: string;
    name: string;
    tower: string;
    kind: string;
    ipv4: string;
    state: string;
    health?: string;
  }[];
  /** Each VRF's boot server (TFTP): its container, VRF, service address (the next-server) and state. */
  boots: {
    id: string;
    name: string;
    vrf: string;
    address: string;
    ipv4: string;
    state: string;
    health?: string;
  }[];
  /** Each VRF's other servers: its DNS server (BIND 9, which its kea-dhcp-ddns updates), its RADIUS server. */
  servers: {
    id: string;
    name: string;
    /** dns: BIND 9; radius: FreeRADIUS. */
    kind: "dns" | "radius";
    vrf: string;
    /** Its service address (the one Kea sends to). */
    address: string;
    ipv4: string;
    state: string;
    health?: string;
  }[];
  /** With monitoring: Prometheus (its URL, on the lab's monitoring network) and each Kea's exporter. */
  monitoring?: {
    prometheus: { id: string; name: string; url: string; state: string; health?: string };
    exporters: { id: string; name: string; vrf: string; state: string; health?: string }[];
  };
  /** Every network: the access network (role access), further segments (role segment), VRF backends. */
  networks: { name: string; role: string; vrf?: string; segment?: string; subnets: string[] }[];
}

/**
 * The network of an access segment (its name, case-insensitive; the first segment when none is
 * given); throws naming the segments there are.
 */
export function segmentNetwork(lab: LabState, segment?: string): string {
  if (segment === undefined) return lab.accessNetwork;
  const found = lab.networks.find((n) => n.segment?.toLowerCase() === segment.toLowerCase());
  if (!found) {
    const names = lab.networks.filter((n) => n.segment).map((n) => n.segment);
    throw new Error(`lab ${lab.name} has no segment ${segment}: it has ${names.join(", ")}`);
  }
  return found.name;
}

/** A lab's spec, as its relay container stores it; throws when there is no such lab. */
export async function readSpec(docker: Docker, name: string): Promise<LabSpec> {
  const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`, `${LABEL.role}=relay`] });
  const [relay] = await docker.listContainers({ all: true, filters });
  const stored = relay?.Labels[LABEL.spec];
  if (!relay || !stored) throw new Error(`no lab named ${name} is up (dhcplab up --name ${name})`);
  // A label cannot change: the spec an `apply` made is a file beside the relay's configuration.
  const applied = await containerFile(docker, relay.Id, APPLIED_SPEC_PATH).catch(() => undefined);
  return parseStoredSpec(applied && applied.length > 0 ? applied.toString("utf8") : stored, name);
}

/** Where `apply` keeps the lab's spec in the relay's container (its label keeps the one `up` made). */
export const APPLIED_SPEC_PATH = "/etc/dhcplab/lab-spec.json";

/** Keeps the spec an `apply` made with the lab, for openLab, status and the next apply. */
export async function writeSpec(docker: Docker, spec: LabSpec): Promise<void> {
  const relay = spec.nodes.find((n) => n.role.kind === "relay");
  if (!relay) throw new Error(`lab ${spec.name} has no relay to keep its spec`);
  await docker
    .getContainer(relay.container)
    .putArchive(tarOf([[APPLIED_SPEC_PATH.split("/").at(-1) as string, storedSpec(spec)]]), {
      path: APPLIED_SPEC_PATH.slice(0, APPLIED_SPEC_PATH.lastIndexOf("/")),
    });
}

/** A service's state without its first address (the relay's are per network). */
function withoutAddress<T extends { ipv4: string }>({ ipv4: _, ...rest }: T): Omit<T, "ipv4"> {
  return rest;
}

/** A lab's services and networks as they are now: its spec, with each container's state and health. */
export async function labState(docker: Docker, spec: LabSpec): Promise<LabState> {
  const filters = JSON.stringify({ label: [`${LABEL.lab}=${spec.name}`] });
  const containers = new Map(
    (await docker.listContainers({ all: true, filters })).map((c) => [c.Names[0]?.replace(/^\//, ""), c]),
  );
  const health = (status: string) => /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1];
  // Podman's list has no health in its status, and its checks run only when asked: ask now.
  const podmanHealth = new Map<string, string | undefined>();
  if (await isPodman(docker))
    for (const [name, c] of containers)
      if (name && c.State === "running") {
        const status = await runPodmanHealthCheck(docker, c.Id);
        podmanHealth.set(name, status === "starting" ? "health: starting" : status);
      }
  /** What every service has: its container, first address, state and health (missing: removed). */
  const live = (n: NodeSpec) => {
    const c = containers.get(n.container);
    return {
      id: c?.Id ?? n.container,
      name: n.container,
      ipv4: n.endpoints[0]?.ipv4 ?? "",
      state: c?.State ?? "missing",
      health: c && (podmanHealth.get(n.container) ?? health(c.Status)),
    };
  };
  const nodes = <K extends NodeRole["kind"]>(kind: K) =>
    spec.nodes
      .filter((n): n is NodeSpec & { role: Extract<NodeRole, { kind: K }> } => n.role.kind === kind)
      .sort((a, b) => a.container.localeCompare(b.container));
  const relay = nodes("relay")[0];
  const prometheus = nodes("prometheus")[0];
  return {
    name: spec.name,
    accessNetwork: spec.access.network,
    relay: relay && {
      ...withoutAddress(live(relay)),
      image: relay.image,
      accessIpv4: spec.access.relay.ipv4,
      ipv4ByNetwork: Object.fromEntries(relay.endpoints.map((e) => [e.network, e.ipv4 ?? ""])),
    },
    keas: nodes("kea").map((n) => {
      const { kind: _, ...role } = n.role;
      return { ...live(n), ...role };
    }),
    towers: nodes("tower").map((n) => ({ ...live(n), tower: n.role.tower, kind: n.role.towerKind })),
    boots: nodes("boot").map((n) => ({ ...live(n), vrf: n.role.vrf, address: n.role.address })),
    servers: [...nodes("dns"), ...nodes("radius")].map((n) => ({
      ...live(n),
      kind: n.role.kind,
      vrf: n.role.vrf,
      address: n.role.address,
    })),
    ...(prometheus
      ? {
          monitoring: {
            prometheus: { ...live(prometheus), url: prometheus.role.url },
            exporters: nodes("exporter").map((n) => ({ ...live(n), vrf: n.role.vrf })),
          },
        }
      : {}),
    networks: spec.networks
      .map((n) => ({
        name: n.name,
        role: n.role,
        ...(n.vrf ? { vrf: n.vrf } : {}),
        ...(n.segment ? { segment: n.segment } : {}),
        subnets: [n.subnets.ipv4Subnet, n.subnets.ipv6Subnet],
      }))
      .sort((a, b) => a.name.localeCompare(b.name)),
  };
}

/**
 * Removes a lab (or, when `name` is undefined, every lab carrying the `within` label: by
 * default every dhcplab lab) and its firewall rules; idempotent.
 */
export async function downLabs(
  docker: Docker,
  name: string | undefined,
  clientImage?: string,
  within: string = LABEL.managed,
): Promise<{ containers: number; networks: number }> {
  // The client image runs the host rules' helper: the lab's own (its spec says which), read before it goes.
  const spec = name === undefined ? undefined : await readSpec(docker, name).catch(() => undefined);
  const image = await clientImageOn(docker, clientImage ?? (spec && specClientImage(spec)));
  const removed = await removeLabelled(docker, name === undefined ? within : `${LABEL.lab}=${name}`);
  // A scoped --all removes its labs' rules through the stale-rule sweep: their bridges are gone.
  if (image)
    await pruneRules(
      docker,
      image,
      name !== undefined ? { lab: name } : within === LABEL.managed ? "all" : "stale-only",
    );
  return removed;
}

/** The client image a lab's spec runs (its host rules' helper), if it names one. */
export function specClientImage(spec: LabSpec): string | undefined {
  return spec.nodes.find((n) => n.role.kind === "host-rules")?.image;
}

/**
 * A client image on this Engine: `preferred` if it is there, else dhcplab-client:latest, else the
 * newest dhcplab-client image (an Engine whose images were loaded by their tags alone).
 */
export async function clientImageOn(docker: Docker, preferred?: string): Promise<string | undefined> {
  for (const tag of [preferred, "dhcplab-client:latest"])
    if (tag && (await imageExists(docker, tag).catch(() => false))) return tag;
  const images = await docker.listImages({ filters: JSON.stringify({ reference: ["dhcplab-client"] }) });
  const newest = images.sort((a, b) => b.Created - a.Created)[0];
  return newest?.RepoTags?.find((t) => t.startsWith("dhcplab-client:"));
}

/** A lab on this Docker host, as `dhcplab ls` lists it. */
export interface LabSummary {
  name: string;
  /** up: every container running and healthy; degraded: some are not; stopped: none runs. */
  state: "up" | "degraded" | "stopped";
  containers: number;
  running: number;
  healthy: number;
  networks: number;
}

/** Every dhcplab lab on this Docker host, by name. */
export async function listLabs(docker: Docker): Promise<LabSummary[]> {
  const filters = JSON.stringify({ label: [LABEL.lab] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  const labs = new Map<string, LabSummary>();
  const of = (name: string) => {
    let l = labs.get(name);
    if (!l) {
      l = { name, state: "stopped", containers: 0, running: 0, healthy: 0, networks: 0 };
      labs.set(name, l);
    }
    return l;
  };
  for (const n of networks) of(n.Labels?.[LABEL.lab] ?? "").networks++;
  const podman = await isPodman(docker);
  // Lab services only: one-shot clients and captures come and go.
  for (const c of containers.filter((c) =>
    ["kea", "relay", "boot", "dns", "radius", "prometheus"].includes(c.Labels[LABEL.role] ?? ""),
  )) {
    const l = of(c.Labels[LABEL.lab] ?? "");
    l.containers++;
    if (c.State === "running") l.running++;
    const healthy = podman
      ? c.State === "running" && (await runPodmanHealthCheck(docker, c.Id)) === "healthy"
      : /\(healthy\)/.test(c.Status);
    if (healthy) l.healthy++;
  }
  for (const l of labs.values())
    l.state = l.running === 0 ? "stopped" : l.healthy === l.containers ? "up" : "degraded";
  return [...labs.values()].filter((l) => l.name !== "").sort((a, b) => a.name.localeCompare(b.name));
}
