import { readFile } from "node:fs/promises";
import type Docker from "dockerode";
import { DEFAULT_POLICY } from "../../relay/policy/default-policy.ts";
import { parsePolicy } from "../../relay/policy/policy.ts";
import { type KeaEndpoint, nextServerWarnings } from "../model/kea-config.ts";
import { serverFiles } from "../model/kea-ha.ts";
import { LABEL } from "../model/labels.ts";
import { PROMETHEUS_PORT } from "../model/monitoring.ts";
import {
  DEFAULT_TOWER_POLICY,
  keaRoutes,
  type LabPlan,
  planLab,
  RELAY_CONFIG_PATH,
  relaySysctls,
  renderRelayConfig,
  TOWER_UPSTREAM,
  type VrfPlan,
} from "../model/plan.ts";
import { slotSubnets } from "../model/subnets.ts";
import type { Topology } from "../model/topology.ts";
import { createBootServers, readBootFiles } from "./boot.ts";
import { containerLogs, removeLabelled, tarOf } from "./engine.ts";
import { allowOnBridge, bridgeName, isolateIpv6, pruneRules } from "./firewall.ts";
import { waitHaNormal } from "./ha.ts";
import type { ImageTags } from "./images.ts";
import { keaSetups, testKeaConfigs } from "./kea-setup.ts";
import { startMonitoring } from "./monitoring.ts";
import { createLabNetwork, type LabNetwork } from "./networks.ts";
import { createTowers, waitIscTower } from "./towers.ts";

/** How to start a lab. */
export interface LabOptions {
  name: string;
  topology: Topology;
  images: ImageTags;
  /** Extra labels on everything (tests add their run's). */
  labels?: Record<string, string>;
  /** Progress lines for people. */
  progress?: (line: string) => void;
  /** How long to wait for every service to be healthy. */
  healthTimeoutMs?: number;
  /** Extra environment for the relay (e.g. DHCPLAB_CPU_PROFILE, DHCPLAB_LOG_LEVEL). */
  relayEnv?: Record<string, string>;
  /** An exporter beside each Kea and a Prometheus server scraping them and the relay. */
  monitoring?: boolean;
}

/** A lab whose containers are up and healthy. `down()` (or `await using`) removes it all. */
export interface StartedLab extends AsyncDisposable {
  readonly plan: LabPlan;
  /** Container ids by name. */
  readonly containers: ReadonlyMap<string, string>;
  readonly startSeconds: number;
  down(): Promise<void>;
}

/** Lab names become container and network names. */
export function checkLabName(name: string): void {
  if (!/^[a-z0-9][a-z0-9_.-]{0,40}$/.test(name)) {
    throw new Error(
      `lab name ${JSON.stringify(name)}: use up to 41 lower-case letters, digits, '_', '.', '-'`,
    );
  }
}

/** Starts a lab: networks, Kea per VRF, the relay; resolves once all are healthy. */
export async function createLab(docker: Docker, o: LabOptions): Promise<StartedLab> {
  checkLabName(o.name);
  const started = performance.now();
  const say = o.progress ?? (() => {});
  const existing = await docker.listNetworks({
    filters: JSON.stringify({ label: [`${LABEL.lab}=${o.name}`] }),
  });
  if (existing.length > 0)
    throw new Error(`a lab named ${o.name} is already up: dhcplab down --name ${o.name}`);

  // Refuse a bad policy before anything is created.
  const policyText = o.topology.relay.policy
    ? await readFile(o.topology.relay.policy, "utf8")
    : DEFAULT_POLICY;
  parsePolicy(
    policyText,
    o.topology.relay.policy ?? "(embedded default policy)",
    o.topology.vrfs.map((v) => v.name),
  );
  // Each dhcplab tower's policy, refused at load like the relay's (its one VRF is the central relay).
  const towerPolicies: Record<string, string> = {};
  for (const w of o.topology.towers.filter((w) => w.kind === "dhcplab")) {
    const text = w.policy ? await readFile(w.policy, "utf8") : DEFAULT_TOWER_POLICY;
    parsePolicy(text, w.policy ?? `(tower ${w.name}'s default policy)`, [TOWER_UPSTREAM]);
    towerPolicies[w.name] = text;
  }
  const bootFiles = await readBootFiles(o.topology);
  const labels = { [LABEL.managed]: "true", [LABEL.lab]: o.name, ...o.labels };
  // Refuse a Kea configuration before anything is created: the lab's own reading, then Kea's.
  const keas = await keaSetups(o.topology, o.images);
  for (const w of nextServerWarnings(o.topology, keas)) say(`warning: ${w}`);
  say(`testing the Kea configurations (${keas.map((k) => `${k.vrf}: Kea ${k.version}`).join(", ")})`);
  // An HA pair's servers run what the lab writes for them: Kea tests the first peer's (the
  // second differs in its name only), on addresses of a provisional plan.
  const provisional = planLab(
    o.name,
    o.topology,
    o.topology.segments.map((_, i) => slotSubnets(i)),
    o.topology.vrfs.map((_, i) => slotSubnets(o.topology.segments.length + i)),
    o.topology.towers.length > 0
      ? [0, ...o.topology.towers.map((_, i) => i + 1)].map((i) =>
          slotSubnets(o.topology.segments.length + o.topology.vrfs.length + i),
        )
      : [],
  );
  await testKeaConfigs(
    docker,
    keas.map((k, i) => ({ ...k, files: serverFiles(k, provisional.vrfs[i] as VrfPlan, 0) })),
    labels,
  );

  const removeAll = () => downLabs(docker, o.name, o.images.client);
  try {
    say(`creating networks for ${o.name}`);
    // The first segment is the access network; the others are segments (the relay is on all).
    const segments: LabNetwork[] = [];
    for (const [i, g] of o.topology.segments.entries()) {
      segments.push(
        await createLabNetwork(docker, `${o.name}-${g.name.toLowerCase()}`, {
          ...labels,
          [LABEL.role]: i === 0 ? "access" : "segment",
          [LABEL.segment]: g.name,
        }),
      );
    }
    const backends: LabNetwork[] = [];
    for (const v of o.topology.vrfs) {
      backends.push(
        await createLabNetwork(docker, `${o.name}-${v.name.toLowerCase()}`, {
          ...labels,
          [LABEL.role]: "backend",
          [LABEL.vrf]: v.name,
        }),
      );
    }
    // The transport network to the towers, and each tower's subscriber segment.
    const towerNetworks: LabNetwork[] = [];
    if (o.topology.towers.length > 0) {
      towerNetworks.push(
        await createLabNetwork(docker, `${o.name}-transport`, { ...labels, [LABEL.role]: "transport" }),
      );
      for (const w of o.topology.towers) {
        towerNetworks.push(
          await createLabNetwork(docker, `${o.name}-${w.name}`, {
            ...labels,
            [LABEL.role]: "tower-segment",
            [LABEL.segment]: w.name,
            [LABEL.tower]: w.name,
          }),
        );
      }
    }
    // Clients' DHCP traffic on the access network, and Kea's answers to a link address in
    // giaddr mode, are outside their network's subnet (see firewall.ts); with towers, Kea's
    // answers to their giaddrs cross every backend, the transport and the towers' segments;
    // a boot server's answers to the VRF's clients cross its backend.
    const towers = o.topology.towers.length > 0;
    const offSubnet = [
      ...segments,
      ...backends.filter((_, i) => {
        const v = o.topology.vrfs[i];
        return towers || v?.subnetSelection === "giaddr" || v?.bootServer !== undefined;
      }),
      ...towerNetworks,
    ];
    for (const n of offSubnet) {
      const warning = await allowOnBridge(docker, o.images.client, o.name, bridgeName(n.id));
      if (warning) say(`warning: ${warning}`);
    }
    const isolation = await isolateIpv6(
      docker,
      o.images.client,
      o.name,
      [...segments, ...backends, ...towerNetworks].map((n) => bridgeName(n.id)),
    );
    if (isolation) say(`warning: ${isolation}`);
    const plan = planLab(o.name, o.topology, segments, backends, towerNetworks);
    const containers = new Map<string, string>();

    for (const [i, v] of plan.vrfs.entries()) {
      for (const [index, kea] of v.keas.entries()) {
        say(`creating ${kea.container} on ${v.network} (${kea.ipv4}, ${kea.ipv6})`);
        const k = keas[i];
        if (!k) throw new Error(`no Kea setup for VRF ${v.spec.name}`);
        const routes = keaRoutes(plan, v, k.delegatedPools);
        const c = await docker.createContainer({
          name: kea.container,
          Image: k.image,
          Labels: {
            ...labels,
            [LABEL.role]: "kea",
            [LABEL.vrf]: v.spec.name,
            [LABEL.families]: v.spec.families.join(","),
            [LABEL.keaVersion]: k.version,
            [LABEL.keaControl]: JSON.stringify(k.control),
            ...(v.spec.ha ? { [LABEL.ha]: v.spec.ha.mode } : {}),
          },
          // The health check asks each server for status-get where the configuration says it
          // listens; the entrypoint installs the routes through the relay (see keaRoutes).
          Env: [`KEA_CONTROL=${JSON.stringify(k.control)}`, `DHCPLAB_ROUTES=${routes.join("\n")}`],
          MacAddress: kea.mac,
          HostConfig: { NetworkMode: v.network, CapAdd: routes.length > 0 ? ["NET_ADMIN"] : [] },
          NetworkingConfig: {
            EndpointsConfig: {
              [v.network]: { IPAMConfig: { IPv4Address: kea.ipv4, IPv6Address: kea.ipv6 } },
            },
          },
        });
        await c.putArchive(tarOf(Object.entries(serverFiles(k, v, index))), { path: "/etc/kea" });
        containers.set(kea.container, c.id);
      }
    }

    say(
      `creating ${plan.relay.container} on ${plan.segments.map((g) => g.network).join(", ")} and ${plan.vrfs.map((v) => v.network).join(", ")}`,
    );
    const relay = await docker.createContainer({
      name: plan.relay.container,
      // Policy templates' {relay}.
      Hostname: o.topology.relay.hostname,
      Image: o.images.relay,
      Labels: { ...labels, [LABEL.role]: "relay" },
      Env: [
        `DHCPLAB_RELAY_CONFIG=${RELAY_CONFIG_PATH}`,
        ...Object.entries(o.relayEnv ?? {}).map(([k, v]) => `${k}=${v}`),
      ],
      // The relay holds the clients' gateway addresses (and in giaddr mode the VRF's link
      // address), routes delegated prefixes and guards what it forwards with nftables.
      HostConfig: {
        NetworkMode: plan.access.network,
        CapAdd: ["NET_ADMIN", "NET_RAW"],
        Sysctls: relaySysctls(o.topology),
      },
      NetworkingConfig: {
        EndpointsConfig: {
          [plan.access.network]: {
            IPAMConfig: { IPv4Address: plan.access.relay.ipv4, IPv6Address: plan.access.relay.ipv6 },
          },
        },
      },
    });
    // Engine API 1.41 attaches one network at creation; the others are connected before start.
    for (const g of [...plan.segments.slice(1), ...(plan.transport ? [plan.transport] : [])]) {
      await docker.getNetwork(g.network).connect({
        Container: relay.id,
        EndpointConfig: { IPAMConfig: { IPv4Address: g.relay.ipv4, IPv6Address: g.relay.ipv6 } },
      });
    }
    for (const v of plan.vrfs) {
      await docker.getNetwork(v.network).connect({
        Container: relay.id,
        EndpointConfig: { IPAMConfig: { IPv4Address: v.relay.ipv4, IPv6Address: v.relay.ipv6 } },
      });
    }
    const relayFiles: Record<string, string> = {
      "relay.yaml": renderRelayConfig(plan, {
        backendControl6: Object.fromEntries(keas.map((k) => [k.vrf, k.backendControl6])),
      }),
    };
    if (o.topology.relay.policy) relayFiles["policy.yaml"] = policyText;
    await relay.putArchive(tarOf(Object.entries(relayFiles)), { path: "/etc/dhcplab" });
    containers.set(plan.relay.container, relay.id);
    const towerContainers = await createTowers(docker, plan, o.images, labels, towerPolicies);
    for (const [name, id] of await createBootServers(docker, plan, o.images, labels, bootFiles)) {
      say(`created ${name} (TFTP)`);
      containers.set(name, id);
    }

    say("starting containers");
    await Promise.all(
      [...containers.values(), ...towerContainers.values()].map((id) => docker.getContainer(id).start()),
    );
    say(
      "waiting for every Kea (status-get where it takes commands), the relay (/healthz) and each boot server (TFTP)",
    );
    await Promise.all([
      ...[...containers.entries()].map(([name, id]) =>
        waitHealthy(docker, name, id, o.healthTimeoutMs ?? 90_000),
      ),
      ...plan.towers.map((w) => {
        const id = towerContainers.get(w.container) ?? "";
        return w.spec.kind === "isc-dhcp-relay"
          ? waitIscTower(docker, w, id, o.healthTimeoutMs ?? 90_000)
          : waitHealthy(docker, w.container, id, o.healthTimeoutMs ?? 90_000);
      }),
    ]);
    if (plan.vrfs.some((v) => v.spec.ha)) {
      say("waiting for every HA pair to reach its normal state (hot-standby, load-balancing)");
      await waitHaNormal(docker, await findLab(docker, o.name), o.healthTimeoutMs ?? 90_000);
    }
    if (o.monitoring) {
      say("starting the monitoring: an exporter beside each Kea, and Prometheus");
      const monitored = plan.vrfs.flatMap((v, i) =>
        v.keas.map((k) => ({
          container: k.container,
          id: containers.get(k.container) ?? "",
          vrf: v.spec.name,
          service: k.service,
          control: keas[i]?.control ?? {},
        })),
      );
      const monitoring = await startMonitoring(docker, plan, o.images, labels, monitored);
      for (const [name, id] of monitoring.containers) containers.set(name, id);
      const { name, id } = monitoring.prometheus;
      await waitHealthy(docker, name, id, o.healthTimeoutMs ?? 90_000);
    }
    const startSeconds = (performance.now() - started) / 1000;
    const down = async () => {
      await removeAll();
    };
    return {
      plan,
      containers: new Map([...containers, ...towerContainers]),
      startSeconds,
      down,
      [Symbol.asyncDispose]: down,
    };
  } catch (err) {
    await removeAll().catch(() => {});
    throw err;
  }
}

/** Waits for a container's health check to pass; fails with its last log lines if it dies or times out. */
export async function waitHealthy(
  docker: Docker,
  name: string,
  id: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const state = (await docker.getContainer(id).inspect()).State;
    if (state.Health?.Status === "healthy") return;
    const dead = !state.Running;
    if (dead || Date.now() > deadline) {
      const logs = await lastLogLines(docker, id, 25);
      const why = dead
        ? `exited with status ${state.ExitCode}`
        : `not healthy after ${Math.round(timeoutMs / 1000)} s (${state.Health?.Status ?? "no health check"})`;
      throw new Error(`${name} ${why}; its last log lines:\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** The last `n` lines a container logged (stdout and stderr), indented for an error message. */
export async function lastLogLines(docker: Docker, id: string, n: number): Promise<string> {
  return (await containerLogs(docker, id, n))
    .split("\n")
    .map((l) => `  ${l}`)
    .join("\n");
}

/** What a running lab is made of, found by its labels (for commands run after `up`). */
export interface RunningLab {
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
export function segmentNetwork(lab: RunningLab, segment?: string): string {
  if (segment === undefined) return lab.accessNetwork;
  const found = lab.networks.find((n) => n.segment?.toLowerCase() === segment.toLowerCase());
  if (!found) {
    const names = lab.networks.filter((n) => n.segment).map((n) => n.segment);
    throw new Error(`lab ${lab.name} has no segment ${segment}: it has ${names.join(", ")}`);
  }
  return found.name;
}

/** The families a Kea container's label names. */
function familiesOf(label: string | undefined): (4 | 6)[] {
  return (label ?? "4,6")
    .split(",")
    .map(Number)
    .filter((f): f is 4 | 6 => f === 4 || f === 6);
}

/** A Kea container's control endpoints, from its label (a lab from before the label: Kea 2.6's agent). */
function controlOf(label: string | undefined): Partial<Record<"dhcp4" | "dhcp6", KeaEndpoint>> {
  if (label) return JSON.parse(label) as Partial<Record<"dhcp4" | "dhcp6", KeaEndpoint>>;
  const agent = "http://127.0.0.1:8000/";
  return { dhcp4: { url: agent, service: "dhcp4" }, dhcp6: { url: agent, service: "dhcp6" } };
}

/** Finds a running lab by name; throws when there is none. */
export async function findLab(docker: Docker, name: string): Promise<RunningLab> {
  const filters = JSON.stringify({ label: [`${LABEL.lab}=${name}`] });
  const [containers, networks] = await Promise.all([
    docker.listContainers({ all: true, filters }),
    docker.listNetworks({ filters }),
  ]);
  const access = networks.find((n) => n.Labels?.[LABEL.role] === "access");
  if (!access) throw new Error(`no lab named ${name} is up (dhcplab up --name ${name})`);
  const health = (status: string) => /\((healthy|unhealthy|health: starting)\)/.exec(status)?.[1];
  const relay = containers.find((c) => c.Labels[LABEL.role] === "relay");
  /** The containers of one role, by name: what every service has, and what its labels add. */
  const servicesOf = <T extends object>(role: string, more: (c: Docker.ContainerInfo) => T) =>
    containers
      .filter((c) => c.Labels[LABEL.role] === role)
      .map((c) => ({
        id: c.Id,
        name: c.Names[0]?.replace(/^\//, "") ?? "",
        ...more(c),
        ipv4: Object.values(c.NetworkSettings?.Networks ?? {})[0]?.IPAddress ?? "",
        state: c.State,
        health: health(c.Status),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  // Prometheus is reached at its address on the lab's monitoring network.
  const monitoringNetwork = networks.find((n) => n.Labels?.[LABEL.role] === "monitoring")?.Name ?? "";
  const [prometheus] = servicesOf("prometheus", (c) => ({
    url: `http://${c.NetworkSettings?.Networks?.[monitoringNetwork]?.IPAddress ?? ""}:${PROMETHEUS_PORT}/`,
  }));
  return {
    name,
    accessNetwork: access.Name,
    relay: relay && {
      id: relay.Id,
      name: relay.Names[0]?.replace(/^\//, "") ?? "",
      image: relay.Image,
      accessIpv4: relay.NetworkSettings?.Networks?.[access.Name]?.IPAMConfig?.IPv4Address ?? "",
      ipv4ByNetwork: Object.fromEntries(
        Object.entries(relay.NetworkSettings?.Networks ?? {}).map(([n, e]) => [
          n,
          e.IPAMConfig?.IPv4Address ?? e.IPAddress ?? "",
        ]),
      ),
      state: relay.State,
      health: health(relay.Status),
    },
    keas: servicesOf("kea", (c) => ({
      vrf: c.Labels[LABEL.vrf] ?? "",
      families: familiesOf(c.Labels[LABEL.families]),
      version: c.Labels[LABEL.keaVersion] ?? "2.6",
      control: controlOf(c.Labels[LABEL.keaControl]),
      ha: c.Labels[LABEL.ha],
    })),
    towers: servicesOf("tower", (c) => ({
      tower: c.Labels[LABEL.tower] ?? "",
      kind: c.Labels[LABEL.towerKind] ?? "",
    })),
    boots: servicesOf("boot", (c) => ({
      vrf: c.Labels[LABEL.vrf] ?? "",
      address: c.Labels[LABEL.bootAddress] ?? "",
    })),
    ...(prometheus
      ? {
          monitoring: {
            prometheus,
            exporters: servicesOf("exporter", (c) => ({ vrf: c.Labels[LABEL.vrf] ?? "" })),
          },
        }
      : {}),
    networks: networks
      .map((n) => ({
        name: n.Name,
        role: n.Labels?.[LABEL.role] ?? "",
        vrf: n.Labels?.[LABEL.vrf],
        segment: n.Labels?.[LABEL.segment] ?? (n.Labels?.[LABEL.role] === "access" ? "access" : undefined),
        subnets: (n.IPAM?.Config ?? []).map((c) => c.Subnet ?? ""),
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
  clientImage = "dhcplab-client:latest",
  within: string = LABEL.managed,
): Promise<{ containers: number; networks: number }> {
  const removed = await removeLabelled(docker, name === undefined ? within : `${LABEL.lab}=${name}`);
  const haveImage = await docker
    .getImage(clientImage)
    .inspect()
    .then(
      () => true,
      () => false,
    );
  // A scoped --all removes its labs' rules through the stale-rule sweep: their bridges are gone.
  if (haveImage)
    await pruneRules(
      docker,
      clientImage,
      name !== undefined ? { lab: name } : within === LABEL.managed ? "all" : "stale-only",
    );
  return removed;
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
  // Lab services only: one-shot clients and captures come and go.
  for (const c of containers.filter((c) =>
    ["kea", "relay", "boot", "prometheus"].includes(c.Labels[LABEL.role] ?? ""),
  )) {
    const l = of(c.Labels[LABEL.lab] ?? "");
    l.containers++;
    if (c.State === "running") l.running++;
    if (/\(healthy\)/.test(c.Status)) l.healthy++;
  }
  for (const l of labs.values())
    l.state = l.running === 0 ? "stopped" : l.healthy === l.containers ? "up" : "degraded";
  return [...labs.values()].filter((l) => l.name !== "").sort((a, b) => a.name.localeCompare(b.name));
}
