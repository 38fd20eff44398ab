import { relative } from "node:path";
import { stringify } from "yaml";
import { ROOT } from "../paths.ts";
import type { KeaConfig } from "./kea-config.ts";
import { serverFiles } from "./kea-ha.ts";
import { LABEL } from "./labels.ts";
import {
  keaRoutes,
  type LabPlan,
  planLab,
  RELAY_CONFIG_PATH,
  relaySysctls,
  renderRelayConfig,
} from "./plan.ts";
import { ipv4Host, ipv6Host, RESERVED_FROM, slotSubnets } from "./subnets.ts";
import type { Topology } from "./topology.ts";

/** The Compose project's lab name; `dhcplab status --name dhcplab-compose` works on it. */
export const COMPOSE_LAB = "dhcplab-compose";

/** The pool slots the Compose lab uses: fixed, at the top of the pool, away from `dhcplab up`'s random picks. */
const COMPOSE_FIRST_SLOT = RESERVED_FROM;

/** compose.yaml for a topology: the same networks, addresses and configuration as `dhcplab up`. */
/** The plan of the Compose lab: the topology on its fixed subnets. */
export function composePlan(topology: Topology): LabPlan {
  // The first segment, then the VRFs, then any further segments.
  const backends = topology.vrfs.map((_, i) => slotSubnets(COMPOSE_FIRST_SLOT + 1 + i));
  const segments = topology.segments.map((_, i) =>
    slotSubnets(i === 0 ? COMPOSE_FIRST_SLOT : COMPOSE_FIRST_SLOT + topology.vrfs.length + i),
  );
  return planLab(COMPOSE_LAB, topology, segments, backends);
}

/** compose.yaml for a topology, each VRF's Kea from its configuration (`readKeaConfigs`). */
export function renderCompose(topology: Topology, keas: readonly KeaConfig[]): string {
  if (topology.relay.policy)
    throw new Error("compose.yaml is rendered for the embedded policy; give no relay.policy");
  if (topology.towers.length > 0)
    throw new Error(
      "compose.yaml does not carry towers (their routes are set after start): use dhcplab up --topology",
    );
  const booting = topology.vrfs.find((v) => v.bootServer);
  if (booting)
    throw new Error(
      `compose.yaml does not carry boot servers (VRF ${booting.name}'s files are copied in at start): use dhcplab up --topology`,
    );
  const plan = composePlan(topology);
  const labels = (role: string, vrf?: string, segment?: string) => ({
    [LABEL.managed]: "true",
    [LABEL.lab]: COMPOSE_LAB,
    [LABEL.role]: role,
    ...(vrf ? { [LABEL.vrf]: vrf } : {}),
    ...(segment ? { [LABEL.segment]: segment } : {}),
  });
  const network = (
    name: string,
    subnets: { ipv4Subnet: string; ipv6Subnet: string },
    role: string,
    o: { vrf?: string; segment?: string } = {},
  ) => ({
    name,
    internal: true,
    enable_ipv6: true,
    labels: labels(role, o.vrf, o.segment),
    ipam: {
      config: [
        {
          subnet: subnets.ipv4Subnet,
          gateway: ipv4Host(subnets.ipv4Subnet, 1),
          ip_range: subnets.ipv4Subnet.replace(/\.0\/24$/, ".128/25"),
        },
        {
          subnet: subnets.ipv6Subnet,
          gateway: ipv6Host(subnets.ipv6Subnet, 1),
          ip_range: subnets.ipv6Subnet.replace(/::\/64$/, "::1:0/112"),
        },
      ],
    },
  });
  const services: Record<string, unknown> = {};
  const configs: Record<string, { content?: string }> = {
    relay: {
      content: renderRelayConfig(plan, {
        servers6: "multicast",
        backendControl6: Object.fromEntries(keas.map((k) => [k.vrf, k.backendControl6])),
      }),
    },
  };
  const networks: Record<string, unknown> = Object.fromEntries(
    plan.segments.map((g, i) => [
      g.spec.name.toLowerCase(),
      network(g.network, g.subnets, i === 0 ? "access" : "segment", { segment: g.spec.name }),
    ]),
  );
  for (const v of plan.vrfs) {
    const key = v.spec.name.toLowerCase();
    networks[key] = network(v.network, v.subnets, "backend", { vrf: v.spec.name });
    const config = keas.find((k) => k.vrf === v.spec.name);
    if (!config) throw new Error(`no Kea configuration for VRF ${v.spec.name}`);
    const dir = relative(ROOT, config.dir);
    const routes = keaRoutes(plan, v, config.delegatedPools);
    for (const [index, kea] of v.keas.entries()) {
      // An HA peer's server configurations are the lab's writing (kea-ha.ts): inline configs.
      const files = serverFiles(config, v, index);
      const written = Object.keys(files).filter((f) => files[f] !== config.files[f]);
      for (const f of written) configs[`${kea.service}-${f}`] = { content: files[f]?.toString() };
      services[kea.service] = {
        image: `dhcplab-kea-${config.version}:latest`,
        container_name: kea.container,
        labels: {
          ...labels("kea", v.spec.name),
          [LABEL.families]: v.spec.families.join(","),
          [LABEL.keaVersion]: config.version,
          [LABEL.keaControl]: JSON.stringify(config.control),
          ...(v.spec.ha ? { [LABEL.ha]: v.spec.ha.mode } : {}),
        },
        environment: {
          KEA_CONTROL: JSON.stringify(config.control),
          ...(routes.length > 0 ? { DHCPLAB_ROUTES: routes.join("\n") } : {}),
        },
        ...(routes.length > 0 ? { cap_add: ["NET_ADMIN"] } : {}),
        networks: { [key]: { ipv4_address: kea.ipv4, ipv6_address: kea.ipv6 } },
        ...(written.length < Object.keys(files).length
          ? {
              volumes: Object.keys(files)
                .filter((f) => !written.includes(f))
                .map((f) => `./${dir}/${f}:/etc/kea/${f}:ro`),
            }
          : {}),
        ...(written.length > 0
          ? { configs: written.map((f) => ({ source: `${kea.service}-${f}`, target: `/etc/kea/${f}` })) }
          : {}),
      };
    }
  }
  services.relay = {
    image: "dhcplab-relay:latest",
    container_name: plan.relay.container,
    hostname: topology.relay.hostname,
    labels: labels("relay"),
    environment: { DHCPLAB_RELAY_CONFIG: RELAY_CONFIG_PATH },
    // It holds the clients' gateway addresses, routes delegated prefixes behind its nftables chain.
    cap_add: ["NET_ADMIN", "NET_RAW"],
    sysctls: relaySysctls(topology),
    configs: [{ source: "relay", target: RELAY_CONFIG_PATH }],
    networks: Object.fromEntries([
      ...plan.segments.map((g) => [
        g.spec.name.toLowerCase(),
        { ipv4_address: g.relay.ipv4, ipv6_address: g.relay.ipv6 },
      ]),
      ...plan.vrfs.map((v) => [
        v.spec.name.toLowerCase(),
        { ipv4_address: v.relay.ipv4, ipv6_address: v.relay.ipv6 },
      ]),
    ]),
    depends_on: Object.fromEntries(
      plan.vrfs.flatMap((v) => v.keas.map((k) => [k.service, { condition: "service_healthy" }])),
    ),
  };
  const doc = {
    name: COMPOSE_LAB,
    services,
    networks,
    // Compose on Engine API 1.41 cannot set a container's MAC, so Kea's link-local address is
    // not known in advance: the relay reaches the VRF's Kea through ff02::1:2 on its link.
    configs,
  };
  return [
    "# The default dhcplab lab for `docker compose up -d --wait`.",
    "# Generated by `npx dhcplab compose` from the topology model: do not edit by hand (a test",
    "# fails when this file differs from what the model renders). Build the images it names",
    "# first with `npx dhcplab images`. `npx dhcplab status --name dhcplab-compose` shows it.",
    stringify(doc, { lineWidth: 0 }),
  ].join("\n");
}
