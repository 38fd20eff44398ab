import { LABEL } from "../../model/labels.ts";
import {
  networkKey,
  RELAY_CONFIG_PATH,
  relaySysctls,
  renderRelayConfig,
  vrfClients4,
} from "../../model/plan.ts";
import type { Topology } from "../../model/topology.ts";
import type { NetworkDecl } from "../build.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";

// The relay and the access side it serves: every access segment is a network of its own (the
// first is where clients go unless told otherwise); the relay is on each, on every VRF's backend
// and on the towers' transport network.

/** Every access segment's network: clients' broadcasts cross its bridge off-subnet (firewall.ts). */
export function segmentNetworks(t: Topology): NetworkDecl[] {
  return t.segments.map((s, i) => ({
    key: networkKey.segment(s),
    role: i === 0 ? "access" : "segment",
    segment: s.name,
    offSubnet: true,
    isolate6: true,
  }));
}

/** The relay: its addresses on every network, its configuration and policy. */
export function relayNodes(ctx: FeatureContext): NodeSpec[] {
  const { plan, topology, inputs } = ctx;
  const files = [
    {
      dir: "/etc/dhcplab",
      name: "relay.yaml",
      content: renderRelayConfig(plan, {
        servers6: ctx.target === "compose" ? "multicast" : "link-local",
        backendControl6: Object.fromEntries(inputs.keas.map((k) => [k.vrf, k.backendControl6])),
        pingCheck4: new Set(inputs.keas.filter((k) => k.pingCheck4).map((k) => k.vrf)),
        bulkLeasequery: Object.fromEntries(
          inputs.keas.map((k) => [k.vrf, { 4: k.bulkLeasequery4, 6: k.bulkLeasequery6 }]),
        ),
        clients4: Object.fromEntries(
          plan.vrfs.map((v) => [
            v.spec.name,
            vrfClients4(plan, v, inputs.keas.find((k) => k.vrf === v.spec.name)?.subnets4 ?? []),
          ]),
        ),
      }),
    },
    ...(inputs.policy !== undefined && topology.relay.policy
      ? [{ dir: "/etc/dhcplab", name: "policy.yaml", content: inputs.policy, source: topology.relay.policy }]
      : []),
  ];
  return [
    {
      service: "relay",
      container: plan.relay.container,
      role: { kind: "relay" },
      image: inputs.images.relay,
      // Policy templates' {relay}.
      hostname: topology.relay.hostname,
      env: { DHCPLAB_RELAY_CONFIG: RELAY_CONFIG_PATH, ...ctx.relayEnv },
      labels: { [LABEL.role]: "relay" },
      // It holds the clients' gateway addresses (and in giaddr mode the VRF's link address),
      // routes delegated prefixes and guards what it forwards with nftables.
      capAdd: ["NET_ADMIN", "NET_RAW"],
      sysctls: relaySysctls(topology),
      endpoints: [
        ...plan.segments.map((g) => ({ network: g.network, ...g.relay })),
        ...(plan.transport ? [{ network: plan.transport.network, ...plan.transport.relay }] : []),
        ...plan.vrfs.map((v) => ({ network: v.network, ...v.relay })),
      ],
      files,
      waitHealthy: true,
      stage: "main",
    },
  ];
}
