import { stringify } from "yaml";
import { LABEL } from "./labels.ts";
import { ipv4Host, ipv6Host } from "./subnets.ts";
import type { SegmentSpec, Topology, VrfSpec } from "./topology.ts";

/** A network's subnets. */
export interface Subnets {
  ipv4Subnet: string;
  ipv6Subnet: string;
}

/** One container's place on a network. */
export interface Endpoint {
  ipv4: string;
  ipv6: string;
}

/** A Kea container of a VRF. */
export interface KeaPlan extends Endpoint {
  /** Its service name in the lab (`kea-red`, or `kea-red-1` of several); an HA peer's name too. */
  service: string;
  container: string;
  /** Set by the lab so that the link-local address the relay sends DHCPv6 to is known in advance. */
  mac: string;
  /** The EUI-64 link-local address of `mac`: kea-dhcp6 listens on it (and on ff02::1:2), not on global addresses. */
  linkLocal: string;
}

/** A VRF as the lab builds it. */
export interface VrfPlan {
  spec: VrfSpec;
  network: string;
  subnets: Subnets;
  /** The relay's addresses on this VRF's backend network. */
  relay: Endpoint;
  keas: KeaPlan[];
}

/** An access segment as the lab builds it. */
export interface SegmentPlan {
  spec: SegmentSpec;
  network: string;
  subnets: Subnets;
  /** The relay's addresses on the segment. */
  relay: Endpoint;
  /** The client gateways the relay holds there: the segment's own, and on the first every VRF's. */
  gateways: string[];
}

/** Everything the lab's Docker graph needs, derived from the topology and the subnets it got. */
export interface LabPlan {
  name: string;
  labels: Record<string, string>;
  /** The first access segment, where clients go unless told otherwise. */
  access: SegmentPlan;
  /** Every access segment, the first included. */
  segments: SegmentPlan[];
  vrfs: VrfPlan[];
  relay: { container: string; httpPort: number };
  policyFile?: string;
}

// Fixed hosts: .1 the bridge, .2 the relay, .10 + n Kea n; dynamic addresses (clients) come
// from the upper half of each /24 (see createLabNetwork), so they never collide.
const RELAY_HOST = 2;
const KEA_HOST = 10;

/** The lab's container and network names and every fixed address. Pure: no Docker. */
export function planLab(
  name: string,
  topology: Topology,
  segmentSubnets: readonly Subnets[],
  backends: readonly Subnets[],
): LabPlan {
  const segments = topology.segments.map((spec, i): SegmentPlan => {
    const subnets = segmentSubnets[i];
    if (!subnets) throw new Error(`no subnets for segment ${spec.name}`);
    return {
      spec,
      network: `${name}-${spec.name.toLowerCase()}`,
      subnets,
      relay: endpoint(subnets, RELAY_HOST),
      gateways: [...spec.gateways, ...(i === 0 ? topology.vrfs.flatMap((v) => v.gateways) : [])],
    };
  });
  const vrfs = topology.vrfs.map((spec, i): VrfPlan => {
    const subnets = backends[i];
    if (!subnets) throw new Error(`no subnets for VRF ${spec.name}`);
    const vrf = spec.name.toLowerCase();
    return {
      spec,
      network: `${name}-${vrf}`,
      subnets,
      relay: endpoint(subnets, RELAY_HOST),
      keas: Array.from({ length: spec.servers }, (_, k) => {
        const service = `kea-${vrf}${spec.servers > 1 ? `-${k + 1}` : ""}`;
        return {
          service,
          container: `${name}-${service}`,
          ...endpoint(subnets, KEA_HOST + k),
          // Each backend network is its own link, so these only need to differ within a VRF.
          mac: `02:00:00:00:00:${(KEA_HOST + k).toString(16).padStart(2, "0")}`,
          linkLocal: `fe80::ff:fe00:${(KEA_HOST + k).toString(16)}`,
        };
      }),
    };
  });
  return {
    name,
    labels: { [LABEL.managed]: "true", [LABEL.lab]: name },
    access: segments[0] as SegmentPlan,
    segments,
    vrfs,
    relay: { container: `${name}-relay`, httpPort: 9100 },
    policyFile: topology.relay.policy,
  };
}

/** A segment as the relay's configuration has it (name and VLAN left out where they are the default). */
function segmentConfig(s: SegmentPlan): Record<string, unknown> {
  return {
    ...(s.spec.name !== "access" ? { name: s.spec.name } : {}),
    ...(s.spec.vlan !== undefined ? { vlan: s.spec.vlan } : {}),
    ipv4: s.relay.ipv4,
    ipv6: s.relay.ipv6,
    gateways: s.gateways,
  };
}

function endpoint(s: Subnets, host: number): Endpoint {
  return { ipv4: ipv4Host(s.ipv4Subnet, host), ipv6: ipv6Host(s.ipv6Subnet, host) };
}

/**
 * Kernel settings of the relay's network namespace. A new namespace inherits IP forwarding from
 * the host, where Docker turns it on: the relay would then route between VRFs. It relays DHCP
 * in user space and routes nothing.
 */
export const RELAY_SYSCTLS = {
  "net.ipv4.ip_forward": "0",
  "net.ipv6.conf.all.forwarding": "0",
} as const;

/** Where the relay reads its configuration and policy inside its container. */
export const RELAY_CONFIG_PATH = "/etc/dhcplab/relay.yaml";
export const RELAY_POLICY_PATH = "/etc/dhcplab/policy.yaml";

/** The relay's configuration file for a plan (see relay/agent/config.ts). */
export function renderRelayConfig(
  plan: LabPlan,
  o: { servers6: "link-local" | "multicast" } = { servers6: "link-local" },
): string {
  const config = {
    ...(plan.policyFile ? { policy: RELAY_POLICY_PATH } : {}),
    http: { port: plan.relay.httpPort },
    access: segmentConfig(plan.access),
    ...(plan.segments.length > 1 ? { segments: plan.segments.slice(1).map(segmentConfig) } : {}),
    vrfs: plan.vrfs.map((v) => ({
      name: v.spec.name,
      ipv4: v.relay.ipv4,
      ipv6: v.relay.ipv6,
      subnetSelection: v.spec.subnetSelection,
      ...(v.spec.link4 ? { link4: v.spec.link4 } : {}),
      ...(v.spec.link6 ? { link6: v.spec.link6 } : {}),
      servers4: v.spec.families.includes(4) ? v.keas.map((k) => k.ipv4) : [],
      servers6: !v.spec.families.includes(6)
        ? []
        : o.servers6 === "multicast"
          ? ["ff02::1:2"]
          : v.keas.map((k) => k.linkLocal),
    })),
  };
  return `# Generated by dhcplab from the lab's topology; see relay/agent/config.ts.\n${stringify(config)}`;
}
