import { relative } from "node:path";
import { stringify } from "yaml";
import { IMAGE_NAMES, type ImageTags } from "../docker/images.ts";
import { LABEL } from "../model/labels.ts";
import { ipamRanges, RESERVED_FROM, slotSubnets } from "../model/subnets.ts";
import type { Topology } from "../model/topology.ts";
import { buildSpec, labNetworks } from "./build.ts";
import type { LabInputs } from "./inputs.ts";
import { type LabSpec, type NetworkSpec, type NodeSpec, nodeLabels } from "./spec.ts";

// Compose is a second renderer of the lab's spec: the same networks, nodes, addresses and files
// as `dhcplab up`, for `docker compose up -d --wait`. What only the deployer does: the host's
// firewall rules (firewall.ts) and waiting for HA pairs to reach their normal state.

/** The Compose project's lab name; `dhcplab status --name dhcplab-compose` works on it. */
export const COMPOSE_LAB = "dhcplab-compose";

/** The pool slots the Compose lab uses: fixed, at the top of the pool, away from `dhcplab up`'s random picks. */
const COMPOSE_FIRST_SLOT = RESERVED_FROM;

/** The images a Compose lab runs: their stable names (`dhcplab images` tags them). */
export const COMPOSE_IMAGES = Object.fromEntries(
  IMAGE_NAMES.map((n) => [n, `dhcplab-${n}:latest`]),
) as unknown as ImageTags;

/** The Compose lab's spec: the topology on fixed subnets (the access network first, then the backends). */
export function composeSpec(
  topology: Topology,
  inputs: LabInputs,
  o: { name?: string; monitoring?: boolean; labels?: Record<string, string> } = {},
): LabSpec {
  const networks = labNetworks(topology, o);
  const order = [
    ...networks.filter((n) => n.role === "access"),
    ...networks.filter((n) => n.role === "backend"),
    ...networks.filter((n) => n.role !== "access" && n.role !== "backend"),
  ].map((n) => n.key);
  return buildSpec({
    name: o.name ?? COMPOSE_LAB,
    topology,
    inputs,
    subnets: (key) => slotSubnets(COMPOSE_FIRST_SLOT + order.indexOf(key)),
    target: "compose",
    monitoring: o.monitoring,
    labels: o.labels,
  });
}

/** A Compose network of the lab. */
function networkOf(spec: LabSpec, n: NetworkSpec) {
  return {
    name: n.name,
    internal: true,
    enable_ipv6: true,
    driver_opts: { "com.docker.network.bridge.name": n.bridge },
    labels: {
      ...spec.labels,
      [LABEL.role]: n.role,
      ...(n.vrf ? { [LABEL.vrf]: n.vrf } : {}),
      ...(n.segment ? { [LABEL.segment]: n.segment } : {}),
      ...(n.tower ? { [LABEL.tower]: n.tower } : {}),
    },
    ipam: {
      config: ipamRanges(n.subnets).map((r) => ({
        subnet: r.subnet,
        gateway: r.gateway,
        ip_range: r.ipRange,
      })),
    },
  };
}

/** A duration in Compose's notation. */
const seconds = (ns: number) => `${ns / 1_000_000_000}s`;

/**
 * What a node waits for before it starts: the relay for the host's rules and its Kea servers,
 * monitoring for the whole lab.
 */
function dependsOn(spec: LabSpec, node: NodeSpec): Record<string, { condition: string }> | undefined {
  const healthy = (nodes: NodeSpec[]) =>
    Object.fromEntries(nodes.map((n) => [n.service, { condition: "service_healthy" }]));
  if (node.role.kind === "relay")
    return {
      ...Object.fromEntries(
        spec.nodes
          .filter((n) => n.stage === "host")
          .map((n) => [n.service, { condition: "service_completed_successfully" }]),
      ),
      ...healthy(spec.nodes.filter((n) => n.role.kind === "kea")),
    };
  if (node.stage === "post") return healthy(spec.nodes.filter((n) => n.stage === "main" && n.waitHealthy));
  return undefined;
}

/** A Compose service of a node; its files as read-only mounts of their sources, or inline configs. */
function serviceOf(spec: LabSpec, node: NodeSpec, dir: string, configs: Record<string, { content: string }>) {
  const keyOf = new Map(spec.networks.map((n) => [n.name, n.key]));
  const mounted = node.files.filter((f) => f.source !== undefined);
  const inline = node.files.filter((f) => f.source === undefined);
  for (const f of inline) {
    if (f.binary) throw new Error(`${node.service}: ${f.name} has no file to mount`);
    configs[`${node.service}-${f.name}`] = { content: f.content ?? "" };
  }
  const depends = dependsOn(spec, node);
  // The stored spec names the topology's files relative to the Compose file, as its mounts do.
  const labels = nodeLabels(relativeSpec(spec, dir), node);
  return {
    image: node.image,
    container_name: node.container,
    ...(node.hostname ? { hostname: node.hostname } : {}),
    ...(node.entrypoint ? { entrypoint: node.entrypoint } : {}),
    ...(node.command ? { command: node.command } : {}),
    labels,
    ...(Object.keys(node.env).length > 0 ? { environment: node.env } : {}),
    ...(node.capAdd.length > 0 ? { cap_add: node.capAdd } : {}),
    ...(Object.keys(node.sysctls).length > 0 ? { sysctls: node.sysctls } : {}),
    ...(node.hostNetwork
      ? { network_mode: "host" }
      : node.namespaceOf
        ? { network_mode: `service:${node.namespaceOf}` }
        : {
            networks: Object.fromEntries(
              node.endpoints.map((e) => [
                keyOf.get(e.network) ?? e.network,
                e.ipv4 || e.ipv6 ? { ipv4_address: e.ipv4, ipv6_address: e.ipv6 } : {},
              ]),
            ),
          }),
    ...(node.health
      ? {
          healthcheck: {
            test: node.health.test,
            interval: seconds(node.health.intervalNs),
            timeout: seconds(node.health.timeoutNs),
            start_period: seconds(node.health.startPeriodNs),
            retries: node.health.retries,
          },
        }
      : {}),
    ...(mounted.length > 0
      ? { volumes: mounted.map((f) => `./${relative(dir, f.source ?? "")}:${f.dir}/${f.name}:ro`) }
      : {}),
    ...(inline.length > 0
      ? {
          configs: inline.map((f) => ({ source: `${node.service}-${f.name}`, target: `${f.dir}/${f.name}` })),
        }
      : {}),
    ...(depends ? { depends_on: depends } : {}),
    ...(node.stage === "host" ? { restart: "no" } : {}),
  };
}

/** Compose reads `$` as the start of a variable: every string is written with `$$`. */
function escapeDollars<T>(value: T): T {
  if (typeof value === "string") return value.replaceAll("$", "$$$$") as T;
  if (Array.isArray(value)) return value.map(escapeDollars) as T;
  if (value && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, escapeDollars(v)])) as T;
  return value;
}

/** The spec with the host's paths (the topology's folders and files) relative to `dir`, as "./...". */
function relativeSpec(spec: LabSpec, dir: string): LabSpec {
  const rel = (p: string) => `./${relative(dir, p)}`;
  return {
    ...spec,
    ...(spec.policyFile ? { policyFile: rel(spec.policyFile) } : {}),
    vrfs: spec.vrfs.map((v) => ({
      ...v,
      spec: {
        ...v.spec,
        keaConfig: rel(v.spec.keaConfig),
        ...(v.spec.bootServer
          ? { bootServer: { ...v.spec.bootServer, files: rel(v.spec.bootServer.files) } }
          : {}),
        ...(v.spec.dnsServer
          ? { dnsServer: { ...v.spec.dnsServer, files: rel(v.spec.dnsServer.files) } }
          : {}),
        ...(v.spec.radiusServer
          ? { radiusServer: { ...v.spec.radiusServer, files: rel(v.spec.radiusServer.files) } }
          : {}),
      },
      ...(v.boot ? { boot: { ...v.boot, files: rel(v.boot.files) } } : {}),
      ...(v.dns ? { dns: { ...v.dns, files: rel(v.dns.files) } } : {}),
      ...(v.radius ? { radius: { ...v.radius, files: rel(v.radius.files) } } : {}),
    })),
    towers: spec.towers.map((w) => ({
      ...w,
      spec: { ...w.spec, ...(w.spec.policy ? { policy: rel(w.spec.policy) } : {}) },
    })),
    nodes: spec.nodes.map((n) => ({
      ...n,
      files: n.files.map((f) => (f.source ? { ...f, source: rel(f.source) } : f)),
    })),
  };
}

/**
 * A spec as a Compose file; `dir` is the folder the file is written to, which its mounts of
 * the topology's files (Kea's configurations, policies, boot files) are relative to.
 */
export function renderCompose(spec: LabSpec, dir: string): string {
  const configs: Record<string, { content: string }> = {};
  const services = Object.fromEntries(spec.nodes.map((n) => [n.service, serviceOf(spec, n, dir, configs)]));
  const doc = escapeDollars({
    name: spec.name,
    services,
    networks: Object.fromEntries(spec.networks.map((n) => [n.key, networkOf(spec, n)])),
    ...(Object.keys(configs).length > 0 ? { configs } : {}),
  });
  return [
    "# A dhcplab lab for `docker compose up -d --wait`.",
    "# Generated by `npx dhcplab compose` from the lab's spec: do not edit by hand (a test fails",
    "# when this file differs from what the spec renders). Build the images it names first with",
    `# \`npx dhcplab images\`. \`npx dhcplab status --name ${spec.name}\` shows it.`,
    stringify(doc, { lineWidth: 0 }),
  ].join("\n");
}
