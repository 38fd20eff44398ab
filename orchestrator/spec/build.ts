import { createHash } from "node:crypto";
import { LABEL } from "../model/labels.ts";
import { planLab, type Subnets } from "../model/plan.ts";
import { slotSubnets } from "../model/subnets.ts";
import type { Topology } from "../model/topology.ts";
import { bootNodes } from "./features/boot.ts";
import type { FeatureContext } from "./features/context.ts";
import { dnsNodes } from "./features/dns.ts";
import { hostRulesNodes } from "./features/host-rules.ts";
import { backendNetworks, keaNodes } from "./features/kea.ts";
import { monitoringNetworks, monitoringNodes } from "./features/monitoring.ts";
import { radiusNodes } from "./features/radius.ts";
import { relayNodes, segmentNetworks } from "./features/relay.ts";
import { towerNetworks, towerNodes } from "./features/towers.ts";
import type { LabInputs } from "./inputs.ts";
import { type LabSpec, type NetworkSpec, type NodeSpec, SPEC_VERSION, type SpecSource } from "./spec.ts";

/** A network as a feature declares it, before the lab has subnets for it. */
export type NetworkDecl = Omit<NetworkSpec, "name" | "subnets" | "bridge">;

/**
 * A network's Linux bridge name: "dl-" and a hash of its Docker name (IFNAMSIZ allows 15
 * characters), so that two labs' bridges never share one and the host's rules can name it.
 */
export function bridgeOf(network: string): string {
  return `dl-${createHash("sha256").update(network).digest("hex").slice(0, 12)}`;
}

/** Every network a topology's lab has, in order: access segments, VRF backends, towers, monitoring. */
export function labNetworks(topology: Topology, o: { monitoring?: boolean } = {}): NetworkDecl[] {
  return [
    ...segmentNetworks(topology),
    ...backendNetworks(topology),
    ...towerNetworks(topology),
    ...monitoringNetworks(o.monitoring === true),
  ];
}

/** Subnets of consecutive pool slots from `first`, in the lab's network order (a lab's plan before it has networks). */
export function poolSlots(
  topology: Topology,
  first = 0,
  o: { monitoring?: boolean } = {},
): (key: string) => Subnets {
  const keys = labNetworks(topology, o).map((n) => n.key);
  return (key) => slotSubnets(first + keys.indexOf(key));
}

/** The features, each contributing its nodes, in the order the lab creates them. */
const NODES: ((ctx: FeatureContext) => LabSpec["nodes"])[] = [
  hostRulesNodes,
  keaNodes,
  relayNodes,
  towerNodes,
  bootNodes,
  dnsNodes,
  radiusNodes,
  monitoringNodes,
];

/** How to build a spec. */
export interface SpecOptions {
  name: string;
  topology: Topology;
  inputs: LabInputs;
  /** Each network's subnets, by key: what the lab was allocated (or Compose's fixed slots). */
  subnets: (key: string) => Subnets;
  /** Labels on everything besides the lab's own (a CI job's, a test run's). */
  labels?: Record<string, string>;
  target?: FeatureContext["target"];
  relayEnv?: Record<string, string>;
  monitoring?: boolean;
  /** What the lab is made from (kept in the spec for apply); the embedded default topology when absent. */
  source?: Omit<SpecSource, "monitoring">;
}

/** The lab's spec: a pure function of the topology, what it names, and the subnets the lab got. */
export function buildSpec(o: SpecOptions): LabSpec {
  const plan = planLab(o.name, o.topology, o.subnets);
  const networks = labNetworks(o.topology, { monitoring: o.monitoring }).map((n): NetworkSpec => {
    const name = `${o.name}-${n.key}`;
    return { ...n, name, bridge: bridgeOf(name), subnets: o.subnets(n.key) };
  });
  const ctx: FeatureContext = {
    topology: o.topology,
    plan,
    inputs: o.inputs,
    networks,
    target: o.target ?? "engine",
    relayEnv: o.relayEnv ?? {},
    monitoring: o.monitoring === true,
  };
  return {
    ...plan,
    version: SPEC_VERSION,
    labels: { ...o.labels, [LABEL.managed]: "true", [LABEL.lab]: o.name },
    networks,
    source: { ...o.source, monitoring: o.monitoring === true },
    nodes: NODES.flatMap((f) => f(ctx)).map(withDigests),
  };
}

/** A node with the SHA-256 of each file's bytes. */
function withDigests(node: NodeSpec): NodeSpec {
  return {
    ...node,
    files: node.files.map((f) => ({
      ...f,
      sha256: createHash("sha256")
        .update(f.binary ? Buffer.from(f.content ?? "", "base64") : (f.content ?? ""))
        .digest("hex"),
    })),
  };
}
