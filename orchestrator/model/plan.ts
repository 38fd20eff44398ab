import { stringify } from "yaml";
import { networkOf, networkOf6, prefixWithin } from "../../lib/codec/prefix.ts";
import type { BackendControl } from "./kea-config.ts";
import { LABEL } from "./labels.ts";
import { ipv4Host, ipv6Host } from "./subnets.ts";
import {
  homeSegmentName,
  type SegmentSpec,
  type Topology,
  type TowerSpec,
  type VrfSpec,
} from "./topology.ts";

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

/** A server of a VRF's on its backend network besides Kea: its boot server (TFTP), its DNS server. */
export interface ServicePlan extends Endpoint {
  container: string;
  /** Its service address, held besides its Docker ones: the next-server, the DNS server Kea updates. */
  address: string;
  /** The folder of its files. */
  files: string;
}

/** A VRF's boot server (TFTP) on its backend network. */
export type BootPlan = ServicePlan;

/** A VRF as the lab builds it. */
export interface VrfPlan {
  spec: VrfSpec;
  network: string;
  subnets: Subnets;
  /** The relay's addresses on this VRF's backend network. */
  relay: Endpoint;
  keas: KeaPlan[];
  boot?: BootPlan;
  /** Its DNS server (BIND 9), which its kea-dhcp-ddns updates. */
  dns?: ServicePlan;
  /** Its RADIUS server (FreeRADIUS), which its Kea radius hook asks. */
  radius?: ServicePlan;
}

/** An access segment as the lab builds it. */
export interface SegmentPlan {
  spec: SegmentSpec;
  network: string;
  subnets: Subnets;
  /** The relay's addresses on the segment. */
  relay: Endpoint;
  /** The client gateways the relay holds there: the segment's own, and those of the VRFs whose first segment it is (on the first, of VRFs that name none). */
  gateways: string[];
}

/** A tower (downstream relay) as the lab builds it. */
export interface TowerPlan {
  spec: TowerSpec;
  container: string;
  /** Its subscriber segment's network (clients run there with `--segment <tower>`). */
  network: string;
  subnets: Subnets;
  /** Its Docker addresses on its subscriber segment (it takes spec.address there too) and on the transport network. */
  subscriber: Endpoint;
  transport: Endpoint;
  /** The subscriber prefix the central relay routes to it (100.64.1.0/24 of 100.64.1.1/24). */
  prefix: string;
}

/** Everything the lab's Docker graph needs, derived from the topology and the subnets it got. */
export interface LabPlan {
  name: string;
  labels: Record<string, string>;
  /** The first access segment, where clients go unless told otherwise. */
  access: SegmentPlan;
  /** Every access segment, the first included. */
  segments: SegmentPlan[];
  /** The towers and the transport network between them and the relay (absent without towers). */
  towers: TowerPlan[];
  transport?: { network: string; subnets: Subnets; relay: Endpoint };
  vrfs: VrfPlan[];
  relay: {
    container: string;
    httpPort: number;
    logLevel?: NonNullable<Topology["relay"]["logLevel"]>;
    datapath?: NonNullable<Topology["relay"]["datapath"]>;
    routerAdvertisements?: NonNullable<Topology["relay"]["routerAdvertisements"]>;
  };
  policyFile?: string;
}

// Fixed hosts: .1 the bridge, .2 the relay, .10 + n Kea n; dynamic addresses (clients) come
// from the upper half of each /24 (see createLabNetwork), so they never collide.
const RELAY_HOST = 2;
const KEA_HOST = 10;
/** Towers on the transport network: .20 + n. */
const TOWER_HOST = 20;
/** A VRF's boot server on its backend network. */
const BOOT_HOST = 30;
/** A VRF's DNS server on its backend network. */
const DNS_HOST = 31;
/** A VRF's RADIUS server on its backend network. */
const RADIUS_HOST = 32;

/** The network keys of a topology's lab: a network is called `<lab>-<key>`. */
export const networkKey = {
  segment: (s: SegmentSpec) => s.name.toLowerCase(),
  vrf: (v: VrfSpec) => v.name.toLowerCase(),
  tower: (w: TowerSpec) => w.name,
  transport: "transport",
  monitoring: "monitoring",
} as const;

/** The lab's container and network names and every fixed address. Pure: no Docker. */
export function planLab(
  name: string,
  topology: Topology,
  /** Each network's subnets, by its key (networkKey). */
  subnetsOf: (key: string) => Subnets,
): LabPlan {
  const transportSubnets = topology.towers.length > 0 ? subnetsOf(networkKey.transport) : undefined;
  const towers = topology.towers.map((spec, i): TowerPlan => {
    const subnets = subnetsOf(networkKey.tower(spec));
    return {
      spec,
      container: `${name}-${spec.name}`,
      network: `${name}-${networkKey.tower(spec)}`,
      subnets,
      subscriber: endpoint(subnets, RELAY_HOST),
      transport: endpoint(transportSubnets as Subnets, TOWER_HOST + i),
      prefix: networkOf(spec.address),
    };
  });
  const segments = topology.segments.map((spec): SegmentPlan => {
    const subnets = subnetsOf(networkKey.segment(spec));
    return {
      spec,
      network: `${name}-${networkKey.segment(spec)}`,
      subnets,
      relay: endpoint(subnets, RELAY_HOST),
      gateways: [
        ...spec.gateways,
        ...topology.vrfs.filter((v) => homeSegmentName(topology, v) === spec.name).flatMap((v) => v.gateways),
      ],
    };
  });
  const vrfs = topology.vrfs.map((spec): VrfPlan => {
    const subnets = subnetsOf(networkKey.vrf(spec));
    const vrf = spec.name.toLowerCase();
    // A server of the VRF's besides Kea, at its fixed host on the backend.
    const server = (kind: string, host: number, s: { address: string; files: string }): ServicePlan => ({
      container: `${name}-${kind}-${vrf}`,
      ...endpoint(subnets, host),
      address: s.address,
      files: s.files,
    });
    return {
      spec,
      network: `${name}-${networkKey.vrf(spec)}`,
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
      ...(spec.bootServer ? { boot: server("boot", BOOT_HOST, spec.bootServer) } : {}),
      ...(spec.dnsServer ? { dns: server("dns", DNS_HOST, spec.dnsServer) } : {}),
      ...(spec.radiusServer ? { radius: server("radius", RADIUS_HOST, spec.radiusServer) } : {}),
    };
  });
  return {
    name,
    labels: { [LABEL.managed]: "true", [LABEL.lab]: name },
    access: segments[0] as SegmentPlan,
    segments,
    towers,
    ...(transportSubnets
      ? {
          transport: {
            network: `${name}-${networkKey.transport}`,
            subnets: transportSubnets,
            relay: endpoint(transportSubnets, RELAY_HOST),
          },
        }
      : {}),
    vrfs,
    relay: {
      container: `${name}-relay`,
      httpPort: 9100,
      ...(topology.relay.logLevel ? { logLevel: topology.relay.logLevel } : {}),
      ...(topology.relay.datapath ? { datapath: topology.relay.datapath } : {}),
      ...(topology.relay.routerAdvertisements
        ? { routerAdvertisements: topology.relay.routerAdvertisements }
        : {}),
    },
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

/** The addresses of host `host` in a network's subnets. */
export function endpoint(s: Subnets, host: number): Endpoint {
  return { ipv4: ipv4Host(s.ipv4Subnet, host), ipv6: ipv6Host(s.ipv6Subnet, host) };
}

/**
 * Kernel settings of a relay's network namespace that routes nothing (a tower's). A new
 * namespace inherits IP forwarding from the host, where Docker turns it on: the relay would
 * then route between VRFs.
 */
export const RELAY_SYSCTLS = {
  "net.ipv4.ip_forward": "0",
  "net.ipv6.conf.all.forwarding": "0",
} as const;

/**
 * Kernel settings of a client's network namespace: a host, not a router. A new namespace
 * inherits IPv4 forwarding from the host, where Docker turns it on; a client would then
 * forward what a relay sends to an address it does not hold yet (an OFFER unicast to yiaddr at
 * its MAC, RFC 1542 §4.1.2) to its default route, where RFC 1122 §3.2.1.3 says "A host MUST
 * silently discard an incoming datagram that is not destined for the host".
 */
export const CLIENT_SYSCTLS = {
  "net.ipv4.ip_forward": "0",
} as const;

/**
 * The lab relay's kernel settings: IPv6 forwarding where a VRF serves DHCPv6 (its client
 * subnets and delegated prefixes), IPv4 forwarding where one serves DHCPv4 (its servers' DHCP
 * to its clients, an INFORM's ACK; and the boot server's traffic) or with towers (the servers'
 * replies to them), each behind the relay's nftables forward chain, whose policy is drop
 * (relay/agent/routing.ts; /healthz checks that chain).
 */
export function relaySysctls(t: Topology): Record<string, string> {
  return {
    "net.ipv4.ip_forward": t.towers.length > 0 || t.vrfs.some((v) => v.families.includes(4)) ? "1" : "0",
    "net.ipv6.conf.all.forwarding": t.vrfs.some((v) => v.families.includes(6)) ? "1" : "0",
    // VRFs numbered alike hold one subnet on several segments: a strict reverse-path check (RFC
    // 3704 §2.2, which the host may have set) would drop one VRF's clients for the other's route.
    // Loose (§2.3) still drops sources with no route at all; the forward chain does the rest.
    ...(t.vrfs.some((v) => v.segments) ? { "net.ipv4.conf.all.rp_filter": "2" } : {}),
  };
}

/**
 * A VRF's IPv4 client subnets on the relay's access side: its gateways' networks, and those of
 * the segments' gateways that lie in a subnet its kea-dhcp4 serves (`subnets4`: each subnet4's prefix). Its
 * servers reach them through the relay (an INFORM's ACK goes to ciaddr, RFC 2131 §4.3.5).
 */
export function vrfClients4(plan: LabPlan, v: VrfPlan, subnets4: readonly string[]): string[] {
  if (!v.spec.families.includes(4)) return [];
  const segments = plan.segments
    .filter((s) => !v.spec.segments || v.spec.segments.includes(s.spec.name))
    .flatMap((s) => s.spec.gateways)
    .map(networkOf)
    .filter((n) => subnets4.some((s) => prefixWithin(n, networkOf(s))));
  return [...new Set([...v.spec.gateways.map(networkOf), ...segments])];
}

/** Where the relay reads its configuration and policy inside its container. */
export const RELAY_CONFIG_PATH = "/etc/dhcplab/relay.yaml";
export const RELAY_POLICY_PATH = "/etc/dhcplab/policy.yaml";

/** The relay's configuration file for a plan (see relay/agent/config.ts). */
export function renderRelayConfig(
  plan: LabPlan,
  o: {
    servers6?: "link-local" | "multicast";
    /** Where each VRF's kea-dhcp6 takes commands from the backend: the relay reads delegated prefixes there. */
    backendControl6?: Readonly<Record<string, BackendControl | undefined>>;
    /** Each VRF's client subnets (vrfClients4); without it, its gateways' networks. */
    clients4?: Readonly<Record<string, readonly string[] | undefined>>;
    /** The VRFs whose kea-dhcp4 pings an address before offering it (Kea's ping_check hook). */
    pingCheck4?: ReadonlySet<string>;
    /** Each VRF's kea-dhcp4 and kea-dhcp6 bulk leasequery ports, where they take lease queries (Kea's lease_query hook). */
    bulkLeasequery?: Readonly<Record<string, { 4?: number; 6?: number } | undefined>>;
  } = {},
): string {
  const ra = plan.relay.routerAdvertisements;
  const config = {
    ...(plan.policyFile ? { policy: RELAY_POLICY_PATH } : {}),
    http: { port: plan.relay.httpPort },
    access: segmentConfig(plan.access),
    ...(plan.segments.length > 1 ? { segments: plan.segments.slice(1).map(segmentConfig) } : {}),
    ...(plan.transport
      ? {
          transport: {
            ipv4: plan.transport.relay.ipv4,
            ipv6: plan.transport.relay.ipv6,
            towers: plan.towers.map((w) => ({
              name: w.spec.name,
              source: w.transport.ipv4,
              giaddr: w.prefix,
              ...(w.spec.address6 ? { source6: w.transport.ipv6 } : {}),
            })),
          },
        }
      : {}),
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
      ...(v.spec.gateways6.length > 0 ? { gateways6: v.spec.gateways6 } : {}),
      ...(v.spec.segments ? { segments: v.spec.segments } : {}),
      ...clientsOf(v, o.clients4?.[v.spec.name] ?? vrfClients4(plan, v, [])),
      ...(o.pingCheck4?.has(v.spec.name) ? { pingCheck4: true } : {}),
      ...(v.boot ? { services4: [{ address: v.boot.address, via: v.boot.ipv4 }] } : {}),
      ...leases6(v, o.backendControl6?.[v.spec.name]),
      ...bulkLeasequery(v, o.bulkLeasequery?.[v.spec.name]),
    })),
    ...(plan.relay.logLevel ? { logLevel: plan.relay.logLevel } : {}),
    ...(plan.relay.datapath ? { datapath: plan.relay.datapath } : {}),
    ...(ra
      ? {
          routerAdvertisements: {
            managed: ra.managed,
            other: ra.other,
            prefixes: ra.prefixes,
            interval: Math.round(ra.interval / 1000),
            lifetime: Math.round(ra.lifetime / 1000),
          },
        }
      : {}),
  };
  return `# Generated by dhcplab from the lab's topology; see relay/agent/config.ts.\n${stringify(config)}`;
}

/** The relay's `clients4` of a VRF that serves DHCPv4 to client subnets. */
function clientsOf(v: VrfPlan, clients: readonly string[]): { clients4?: string[] } {
  return v.spec.families.includes(4) && clients.length > 0 ? { clients4: [...clients] } : {};
}

/** The relay's `bulkLeasequery4` and `bulkLeasequery6` of a VRF: each of its Kea servers' address and port, where they take bulk lease queries. */
function bulkLeasequery(
  v: VrfPlan,
  ports: { 4?: number; 6?: number } | undefined,
): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  if (ports?.[4] && v.spec.families.includes(4))
    out.bulkLeasequery4 = v.keas.map((k) => ({ address: k.ipv4, port: ports[4] }));
  if (ports?.[6] && v.spec.families.includes(6))
    out.bulkLeasequery6 = v.keas.map((k) => ({ address: k.ipv6, port: ports[6] }));
  return out;
}

/** The relay's `leases6` of a VRF: each of its Kea servers where it takes commands from the backend. */
function leases6(v: VrfPlan, control: BackendControl | undefined): { leases6?: unknown[] } {
  if (!control || !v.spec.families.includes(6)) return {};
  return {
    leases6: v.keas.map((k) => ({
      url: `http://${k.ipv4}:${control.port}/`,
      ...(control.service ? { service: control.service } : {}),
    })),
  };
}

/**
 * The routes a VRF's Kea takes through the relay, as `prefix via address` lines (the image's
 * entrypoint installs them from DHCPLAB_ROUTES, also after a restart): Kea answers a giaddr it
 * has no link to (the link address in giaddr mode, every tower's prefix) and a client by
 * unicast in its subnet (an INFORM's ACK to ciaddr: `clients4`, vrfClients4), and the VRF's
 * backend reaches its IPv6 client subnets and delegated prefixes through the relay. Its DNS and
 * RADIUS servers' service addresses are routed to those servers, not the relay.
 */
export function keaRoutes(
  plan: LabPlan,
  v: VrfPlan,
  k: { delegatedPools: readonly string[]; clients4: readonly string[] },
): string[] {
  const v4 = [
    ...(v.spec.subnetSelection === "giaddr" && v.spec.link4 ? [`${v.spec.link4}/32`] : []),
    ...k.clients4,
    ...plan.towers.map((w) => w.prefix),
  ].map((p) => `${p} via ${v.relay.ipv4}`);
  const v6 = v.spec.families.includes(6)
    ? [...v.spec.gateways6.map(networkOf6), ...k.delegatedPools.map(networkOf6)].map(
        (p) => `${p} via ${v.relay.ipv6}`,
      )
    : [];
  // The VRF's DNS and RADIUS servers on their own backend addresses, which hold the service addresses.
  const servers = [v.dns, v.radius].flatMap((s) => (s ? [`${s.address}/32 via ${s.ipv4}`] : []));
  return [...v4, ...v6, ...servers];
}

/**
 * The routes a VRF's boot server takes through the relay, as keaRoutes' lines: to the VRF's
 * client subnets (its gateways), the only ones that reach it.
 */
export function bootRoutes(v: VrfPlan): string[] {
  return v.spec.gateways.map((g) => `${networkOf(g)} via ${v.relay.ipv4}`);
}

/** The VRF name a dhcplab tower's policy sends to: the central relay, its one upstream. */
export const TOWER_UPSTREAM = "central";

/** A dhcplab tower's default policy: every subscriber upstream, Circuit-ID {relay}:{segment}, Remote-ID {mac}. */
export const DEFAULT_TOWER_POLICY = `# A dhcplab tower's default policy: every subscriber to the central relay.
version: 1
rules:
  - name: subscribers
    vrf: ${TOWER_UPSTREAM}
    option82: { circuitId: "{relay}:{segment}", remoteId: "{mac}" }
`;

/**
 * A dhcplab tower's relay configuration: its subscriber port as its access segment, holding its
 * address there (the giaddr it sets, giaddr mode), and the central relay as the one server of
 * its one VRF. Kea's replies reach it through the central relay, which forwards them: they come
 * from the VRFs' servers, whose backend subnets it accepts replies from.
 */
export function renderTowerConfig(plan: LabPlan, tower: TowerPlan): string {
  const address = tower.spec.address.split("/")[0] as string;
  const config = {
    ...(tower.spec.kind === "dhcplab" ? { policy: RELAY_POLICY_PATH } : {}),
    http: { port: plan.relay.httpPort },
    access: {
      name: tower.spec.port,
      ...(tower.spec.vlan !== undefined ? { vlan: tower.spec.vlan } : {}),
      ipv4: tower.subscriber.ipv4,
      ipv6: tower.subscriber.ipv6,
      gateways: [tower.spec.address],
    },
    vrfs: [
      {
        name: TOWER_UPSTREAM,
        ipv4: tower.transport.ipv4,
        ipv6: tower.transport.ipv6,
        subnetSelection: "giaddr",
        link4: address,
        servers4: [plan.transport?.relay.ipv4],
        ...(tower.spec.address6
          ? { link6: tower.spec.address6.split("/")[0], servers6: [plan.transport?.relay.ipv6] }
          : {}),
        acceptFrom: plan.vrfs.map((v) => v.subnets.ipv4Subnet),
      },
    ],
  };
  return `# Generated by dhcplab for tower ${tower.spec.name}; see relay/agent/config.ts.\n${stringify(config)}`;
}
