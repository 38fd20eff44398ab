import type { KeaEndpoint } from "../model/kea-config.ts";
import { LABEL } from "../model/labels.ts";
import type { LabPlan, Subnets } from "../model/plan.ts";

// A lab is data before it is containers: the spec is computed once from the topology, the files
// it names and the subnets the lab got, and every reader works from it: the deployer (dhcplab
// up), the Compose renderer, graph, status and the library's Lab. Each feature adds its networks
// and nodes from a module of its own (spec/features/). The spec is stored with the lab (on its
// relay container, without file contents) so that openLab restores it rather than guessing it.

/** The spec's format: stored specs of another version are refused by openLab. */
export const SPEC_VERSION = 1;

/** What a network is for in the lab. */
export type NetworkRole = "access" | "segment" | "backend" | "transport" | "tower-segment" | "monitoring";

/** An internal dual-stack Docker network of the lab. */
export interface NetworkSpec {
  /** Its key in the lab: the Docker name is `<lab>-<key>` (access, red, transport, tower-a, monitoring). */
  key: string;
  name: string;
  role: NetworkRole;
  vrf?: string;
  segment?: string;
  tower?: string;
  subnets: Subnets;
  /** Its Linux bridge's name, fixed so that the host's rules can name it before it exists. */
  bridge: string;
  /**
   * Host rules: traffic that enters and leaves this bridge is accepted before the Engine's
   * isolation rules (clients' broadcasts, answers to addresses outside the subnet); see firewall.ts.
   */
  offSubnet: boolean;
  /** Host rules: IPv6 is kept inside this bridge (Engines before 27 manage no ip6tables). */
  isolate6: boolean;
}

/** A node's place on a network: fixed addresses, or Docker's pick when absent. */
export interface EndpointSpec {
  network: string;
  ipv4?: string;
  ipv6?: string;
}

/** A file copied into a node before it starts. */
export interface FileSpec {
  /** The folder inside the container. */
  dir: string;
  /** Its path below `dir`. */
  name: string;
  /** Its bytes (text, or base64 when `binary`); absent in a stored spec. */
  content?: string;
  binary?: boolean;
  /** The file on the host it was read from, unchanged (Compose mounts it rather than inlining it). */
  source?: string;
  /** The SHA-256 of its bytes: kept in a stored spec, so that `apply` sees which files changed. */
  sha256?: string;
}

/** A container health check, as Docker's API takes it (nanoseconds). */
export interface HealthSpec {
  test: string[];
  intervalNs: number;
  timeoutNs: number;
  startPeriodNs: number;
  retries: number;
}

/** What each kind of node is, beside its container. */
export type NodeRole =
  | { kind: "kea"; vrf: string; families: (4 | 6)[]; version: string; control: KeaControl; ha?: string }
  | { kind: "relay" }
  | { kind: "tower"; tower: string; towerKind: string }
  | { kind: "boot"; vrf: string; address: string }
  | { kind: "dns"; vrf: string; address: string }
  | { kind: "radius"; vrf: string; address: string }
  | { kind: "exporter"; vrf: string; kea: string }
  | { kind: "prometheus"; url: string }
  | { kind: "host-rules" };

/** Where each family's Kea server takes commands. */
export type KeaControl = Partial<Record<"dhcp4" | "dhcp6", KeaEndpoint>>;

/** A container of the lab. */
export interface NodeSpec {
  /** Its service name in the lab (relay, kea-red, kea-red-1, tower-a, boot-red, prometheus). */
  service: string;
  container: string;
  role: NodeRole;
  /** The image tag it runs. */
  image: string;
  hostname?: string;
  entrypoint?: string[];
  command?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  capAdd: string[];
  sysctls: Record<string, string>;
  mac?: string;
  /** Its networks, the first one the one it is created on; none when it shares another's namespace. */
  endpoints: EndpointSpec[];
  /** Another node's network namespace (its service), instead of endpoints of its own. */
  namespaceOf?: string;
  /** The host's network namespace (a one-shot node that changes the host's firewall). */
  hostNetwork?: boolean;
  files: FileSpec[];
  /** A health check of its own, instead of its image's. */
  health?: HealthSpec;
  /** Whether `up` waits for it to be healthy. */
  waitHealthy: boolean;
  /**
   * host: run to completion before the lab's services are created (the host's rules); main:
   * started with the lab; post: after every main node is healthy and HA pairs are normal.
   */
  stage: "host" | "main" | "post";
}

/** What the lab was made from, so that `apply` and `watch` can make it again. */
export interface SpecSource {
  /** The topology file (absolute); the embedded default lab when absent (and not `fromObject`). */
  topology?: string;
  /** Made from a Topology object (the library's): apply needs it given again. */
  fromObject?: boolean;
  /** The Kea version given for VRFs that name none (`up --kea`). */
  kea?: string;
  monitoring: boolean;
  /** The relay's log level given at `up` (over the topology's). */
  logLevel?: string;
  /** Extra environment given to the relay at `up`. */
  relayEnv?: Record<string, string>;
}

/** The lab as data: the plan's addresses per feature, and every network and node. */
export interface LabSpec extends LabPlan {
  version: typeof SPEC_VERSION;
  source: SpecSource;
  /** Labels on every network and container (the lab's own and the user's). */
  labels: Record<string, string>;
  networks: NetworkSpec[];
  nodes: NodeSpec[];
}

/**
 * A service's node by name: the lab's long-running services, not the one-shot host rules; throws
 * naming the services there are.
 */
export function nodeOf(spec: LabSpec, service: string): NodeSpec {
  const services = spec.nodes.filter((n) => n.stage !== "host");
  const node = services.find((n) => n.service === service);
  if (!node)
    throw new Error(
      `lab ${spec.name} has no service ${service}: it has ${services.map((n) => n.service).join(", ")}`,
    );
  return node;
}

/** A network by key; throws when there is none. */
export function networkOf(spec: LabSpec, key: string): NetworkSpec {
  const network = spec.networks.find((n) => n.key === key);
  if (!network) throw new Error(`lab ${spec.name} has no network ${key}`);
  return network;
}

/** A network's labels: the lab's, its role, and its VRF, segment or tower. */
export function networkLabels(
  labels: Record<string, string>,
  n: Pick<NetworkSpec, "role" | "vrf" | "segment" | "tower">,
): Record<string, string> {
  return {
    ...labels,
    [LABEL.role]: n.role,
    ...(n.vrf ? { [LABEL.vrf]: n.vrf } : {}),
    ...(n.segment ? { [LABEL.segment]: n.segment } : {}),
    ...(n.tower ? { [LABEL.tower]: n.tower } : {}),
  };
}

/** A node's labels: the lab's, its own, its service; the relay also carries the lab's spec. */
export function nodeLabels(spec: LabSpec, node: NodeSpec): Record<string, string> {
  return {
    ...spec.labels,
    ...node.labels,
    [LABEL.service]: node.service,
    ...(node.role.kind === "relay" ? { [LABEL.spec]: storedSpec(spec) } : {}),
  };
}

/** The spec as it is stored with the lab: without file contents (they are in the containers). */
export function storedSpec(spec: LabSpec): string {
  return JSON.stringify({
    ...spec,
    nodes: spec.nodes.map((n) => ({ ...n, files: n.files.map(({ content: _, ...f }) => f) })),
  });
}

/** A stored spec read back; refuses one of another format version. */
export function parseStoredSpec(text: string, lab: string): LabSpec {
  const spec = JSON.parse(text) as LabSpec;
  if (spec.version !== SPEC_VERSION)
    throw new Error(
      `lab ${lab} was started by a dhcplab whose lab spec is version ${spec.version}, this one reads ${SPEC_VERSION}: dhcplab down --name ${lab}, then up again`,
    );
  return spec;
}
