import type Docker from "dockerode";
import { nextServerWarnings } from "../model/kea-config.ts";
import { serverFiles } from "../model/kea-ha.ts";
import { LABEL } from "../model/labels.ts";
import type { Subnets, VrfPlan } from "../model/plan.ts";
import { serviceAddressWarnings } from "../model/service-addresses.ts";
import type { Topology } from "../model/topology.ts";
import { bridgeOf, buildSpec, labNetworks, poolSlots, type SpecOptions } from "../spec/build.ts";
import { type LabInputs, readLabInputs } from "../spec/inputs.ts";
import { type LabSpec, type NodeSpec, networkLabels, nodeLabels } from "../spec/spec.ts";
import { containerLogs, tarOf, withMac } from "./engine.ts";
import { waitHaNormal } from "./ha.ts";
import type { ImageTags } from "./images.ts";
import { testKeaConfigs } from "./kea-setup.ts";
import { checkLabName, downLabs, labState, waitHealthy } from "./lab.ts";
import { createLabNetwork } from "./networks.ts";

// The one deployer: it applies a lab's spec to a Docker Engine in named phases, and is the one
// place that creates a lab's containers.

/** How to deploy a lab. */
export interface DeployOptions {
  name: string;
  topology: Topology;
  images: ImageTags;
  /** Extra labels on everything (a CI job's, a test run's). */
  labels?: Record<string, string>;
  /** Progress lines for people. */
  progress?: (line: string) => void;
  /** How long to wait for every service to be healthy. */
  healthTimeoutMs?: number;
  /** Extra environment for the relay (e.g. DHCPLAB_CPU_PROFILE, DHCPLAB_LOG_LEVEL). */
  relayEnv?: Record<string, string>;
  /** An exporter beside each Kea and a Prometheus server scraping them and the relay. */
  monitoring?: boolean;
  /** A failed start leaves what it created, to be looked at (StartLabOptions.keep). */
  keepOnFailure?: boolean;
  /** What the lab is made from, kept in its spec for apply. */
  source?: SpecOptions["source"];
}

/** The deploy's phases, in order. */
export const PHASES = [
  "validate",
  "networks",
  "host-rules",
  "create",
  "start",
  "healthy",
  "post-start",
] as const;

/** How long one phase took. */
export interface PhaseTiming {
  phase: (typeof PHASES)[number];
  seconds: number;
}

/** A deployed lab: its spec, and how long each phase took. */
export interface Deployed {
  spec: LabSpec;
  phases: PhaseTiming[];
}

/**
 * Deploys a lab: validate (policies, boot folders, Kea's own config test: nothing exists yet),
 * networks (each gets the first free subnets of the pool; then the spec is computed), host-rules,
 * create, start, healthy, post-start (HA pairs in their normal state, then monitoring). Fails,
 * leaving nothing behind, naming what did not come up.
 */
export async function deployLab(docker: Docker, o: DeployOptions): Promise<Deployed> {
  checkLabName(o.name);
  const say = o.progress ?? (() => {});
  const timeoutMs = o.healthTimeoutMs ?? 90_000;
  const phases: PhaseTiming[] = [];
  const phase = async <T>(name: PhaseTiming["phase"], run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    const result = await run();
    phases.push({ phase: name, seconds: Number(((performance.now() - started) / 1000).toFixed(2)) });
    return result;
  };
  const specOf = (inputs: LabInputs, subnets: (key: string) => Subnets) =>
    buildSpec({
      name: o.name,
      topology: o.topology,
      inputs,
      subnets,
      labels: o.labels,
      relayEnv: o.relayEnv,
      monitoring: o.monitoring,
      source: o.source,
    });

  const inputs = await phase("validate", async () => {
    const existing = await docker.listNetworks({
      filters: JSON.stringify({ label: [`${LABEL.lab}=${o.name}`] }),
    });
    if (existing.length > 0)
      throw new Error(`a lab named ${o.name} is already up: dhcplab down --name ${o.name}`);
    const inputs = await readLabInputs(o.topology, o.images);
    for (const w of nextServerWarnings(o.topology, inputs.keas)) say(`warning: ${w}`);
    for (const w of serviceAddressWarnings(o.topology, inputs.keas)) say(`warning: ${w}`);
    say(
      `testing the Kea configurations (${inputs.keas.map((k) => `${k.vrf}: Kea ${k.version}`).join(", ")})`,
    );
    // An HA pair's servers run what the lab writes for them: Kea tests the first peer's (the
    // second differs in its name only), on the addresses of pool slots in the network order.
    const provisional = specOf(inputs, poolSlots(o.topology, 0, o));
    await testKeaConfigs(
      docker,
      inputs.keas.map((k, i) => ({ ...k, files: serverFiles(k, provisional.vrfs[i] as VrfPlan, 0) })),
      { ...o.labels, [LABEL.managed]: "true", [LABEL.lab]: o.name },
    );
    return inputs;
  });

  try {
    const spec = await phase("networks", async () => {
      say(`creating networks for ${o.name}`);
      const subnets = new Map<string, Subnets>();
      for (const n of labNetworks(o.topology, o)) {
        const name = `${o.name}-${n.key}`;
        const labels = networkLabels({ ...o.labels, [LABEL.managed]: "true", [LABEL.lab]: o.name }, n);
        subnets.set(n.key, await createLabNetwork(docker, name, labels, bridgeOf(name)));
      }
      return specOf(inputs, (key) => {
        const s = subnets.get(key);
        if (!s) throw new Error(`no network ${key} was created`);
        return s;
      });
    });

    await phase("host-rules", async () => {
      for (const node of spec.nodes.filter((n) => n.stage === "host"))
        await runHostNode(docker, spec, node, say);
    });
    const lab = spec;
    const main = lab.nodes.filter((n) => n.stage === "main");
    const post = lab.nodes.filter((n) => n.stage === "post");

    await phase("create", async () => {
      for (const node of main) {
        say(`creating ${node.container} on ${node.endpoints.map((e) => e.network).join(", ")}`);
        await createNode(docker, lab, node);
      }
    });
    await phase("start", () => startNodes(docker, main));
    await phase("healthy", async () => {
      say("waiting for every service's health check (Kea's status-get, the relay's /healthz, TFTP, towers)");
      await waitNodes(docker, main, timeoutMs);
    });
    await phase("post-start", async () => {
      if (lab.vrfs.some((v) => v.spec.ha)) {
        say("waiting for every HA pair to reach its normal state (hot-standby, load-balancing)");
        await waitHaNormal(docker, await labState(docker, lab), timeoutMs);
      }
      if (post.length === 0) return;
      say("starting the monitoring: an exporter beside each Kea, and Prometheus");
      for (const node of post) await createNode(docker, lab, node);
      await startNodes(docker, post);
      await waitNodes(docker, post, timeoutMs);
    });
    return { spec: lab, phases };
  } catch (err) {
    if (o.keepOnFailure && err instanceof Error) {
      err.message += `\nthe lab is kept as it failed: dhcplab status --name ${o.name}; dhcplab down --name ${o.name} removes it`;
      throw err;
    }
    await downLabs(docker, o.name, o.images.client).catch(() => {});
    throw err;
  }
}

/**
 * Runs a one-shot node on the host (the host's rules) to its end, and removes it. A failure is a
 * warning: the lab may still work (an Engine that drops nothing).
 */
export async function runHostNode(
  docker: Docker,
  spec: LabSpec,
  node: NodeSpec,
  say: (line: string) => void,
): Promise<void> {
  const id = await createNode(docker, spec, node);
  const c = docker.getContainer(id);
  try {
    await c.start();
    const { StatusCode } = (await c.wait()) as { StatusCode: number };
    if (StatusCode !== 0)
      say(
        `warning: ${node.service} failed (clients' broadcasts may be dropped, or IPv6 routed between VRFs): ${await containerLogs(docker, id)}`,
      );
  } finally {
    await c.remove({ force: true }).catch(() => {});
  }
}

/** Docker's endpoint settings for fixed addresses (none: Docker picks from the upper half). */
function endpointConfig(e: NodeSpec["endpoints"][number]): Docker.EndpointSettings {
  return e.ipv4 || e.ipv6 ? { IPAMConfig: { IPv4Address: e.ipv4, IPv6Address: e.ipv6 } } : {};
}

/** Creates a node's container (not started): its networks, health check and files. */
export async function createNode(docker: Docker, spec: LabSpec, node: NodeSpec): Promise<string> {
  const [first, ...rest] = node.endpoints;
  const shared = node.namespaceOf && spec.nodes.find((n) => n.service === node.namespaceOf);
  const c = await docker.createContainer({
    name: node.container,
    Image: node.image,
    ...(node.hostname ? { Hostname: node.hostname } : {}),
    ...(node.entrypoint ? { Entrypoint: node.entrypoint } : {}),
    ...(node.command ? { Cmd: node.command } : {}),
    Env: Object.entries(node.env).map(([k, v]) => `${k}=${v}`),
    Labels: nodeLabels(spec, node),
    ...(node.health
      ? {
          Healthcheck: {
            Test: node.health.test,
            Interval: node.health.intervalNs,
            Timeout: node.health.timeoutNs,
            StartPeriod: node.health.startPeriodNs,
            Retries: node.health.retries,
          },
        }
      : {}),
    HostConfig: {
      NetworkMode: node.hostNetwork
        ? "host"
        : shared
          ? `container:${shared.container}`
          : (first?.network ?? "none"),
      CapAdd: node.capAdd,
      ...(Object.keys(node.sysctls).length > 0 ? { Sysctls: node.sysctls } : {}),
    },
    ...(first && !node.hostNetwork ? withMac(first.network, node.mac, endpointConfig(first)) : {}),
  });
  // Engine API 1.41 attaches one network at creation; the others are connected before start.
  for (const e of rest)
    await docker.getNetwork(e.network).connect({ Container: c.id, EndpointConfig: endpointConfig(e) });
  const dirs = new Map<string, [string, string | Uint8Array][]>();
  for (const f of node.files) {
    const entries = dirs.get(f.dir) ?? [];
    entries.push([f.name, f.binary ? Buffer.from(f.content ?? "", "base64") : (f.content ?? "")]);
    dirs.set(f.dir, entries);
  }
  for (const [dir, entries] of dirs) await c.putArchive(tarOf(entries), { path: dir });
  return c.id;
}

function startNodes(docker: Docker, nodes: readonly NodeSpec[]): Promise<unknown> {
  return Promise.all(nodes.map((n) => docker.getContainer(n.container).start()));
}

/** Waits for the health check of every node that `up` waits for. */
export function waitNodes(docker: Docker, nodes: readonly NodeSpec[], timeoutMs: number): Promise<unknown> {
  return Promise.all(
    nodes.filter((n) => n.waitHealthy).map((n) => waitHealthy(docker, n.container, n.container, timeoutMs)),
  );
}
