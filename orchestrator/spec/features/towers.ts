import { LABEL } from "../../model/labels.ts";
import {
  DEFAULT_TOWER_POLICY,
  networkKey,
  RELAY_CONFIG_PATH,
  RELAY_SYSCTLS,
  renderTowerConfig,
} from "../../model/plan.ts";
import type { Topology } from "../../model/topology.ts";
import type { NetworkDecl } from "../build.ts";
import type { NodeSpec } from "../spec.ts";
import { type FeatureContext, health } from "./context.ts";

// A tower is a downstream relay in front of its own subscriber segment, on the transport
// network to the central relay: Debian's isc-dhcp-relay as users run it in the field, or
// dhcplab's relay as an edge relay with its own policy. Each sets giaddr to its subscriber-side
// address and adds its Option 82.

/** The transport network between the towers and the relay, and each tower's subscriber segment. */
export function towerNetworks(t: Topology): NetworkDecl[] {
  if (t.towers.length === 0) return [];
  // Kea's answers to the towers' giaddrs cross them off-subnet.
  return [
    { key: networkKey.transport, role: "transport", offSubnet: true, isolate6: true },
    ...t.towers.map(
      (w): NetworkDecl => ({
        key: networkKey.tower(w),
        role: "tower-segment",
        segment: w.name,
        tower: w.name,
        offSubnet: true,
        isolate6: true,
      }),
    ),
  ];
}

/**
 * isc-dhcp-relay's start (docker/dhcrelay/tower.sh): its subscriber-side address made the
 * interface's only IPv4 address, then dhcrelay -4 with Option 82, and with an IPv6 address a
 * second dhcrelay -6 with Interface-ID; and its health check (tower-health.sh).
 */
const ISC_TOWER = "/usr/local/bin/dhcplab-tower";
const ISC_TOWER_HEALTH = "/usr/local/bin/dhcplab-tower-health";

/** Every tower. */
export function towerNodes(ctx: FeatureContext): NodeSpec[] {
  const { plan, inputs } = ctx;
  const transport = plan.transport;
  if (!transport) return [];
  return plan.towers.map((w): NodeSpec => {
    const isc = w.spec.kind === "isc-dhcp-relay";
    const image = isc ? inputs.images.dhcrelay : inputs.images.relay;
    if (!image) throw new Error(`tower ${w.spec.name}: no ${isc ? "dhcrelay" : "relay"} image`);
    return {
      service: w.spec.name,
      container: w.container,
      role: { kind: "tower", tower: w.spec.name, towerKind: w.spec.kind },
      image,
      hostname: w.spec.name,
      ...(isc
        ? {
            entrypoint: [ISC_TOWER],
            command: [
              w.subscriber.ipv4,
              w.spec.address,
              w.transport.ipv4,
              transport.relay.ipv4,
              w.spec.address6 ?? "-",
              transport.relay.ipv6,
            ],
            // The image has no health check of its own: healthy while a dhcrelay per family runs.
            health: health(["CMD", ISC_TOWER_HEALTH, w.spec.address6 ? "2" : "1"], {
              interval: 1,
              timeout: 2,
              start: 10,
            }),
          }
        : {}),
      env: isc ? {} : { DHCPLAB_RELAY_CONFIG: RELAY_CONFIG_PATH },
      labels: { [LABEL.role]: "tower", [LABEL.tower]: w.spec.name, [LABEL.towerKind]: w.spec.kind },
      capAdd: ["NET_ADMIN", "NET_RAW"],
      sysctls: { ...RELAY_SYSCTLS },
      endpoints: [
        { network: w.network, ...w.subscriber },
        { network: transport.network, ...w.transport },
      ],
      files: isc
        ? []
        : [
            { dir: "/etc/dhcplab", name: "relay.yaml", content: renderTowerConfig(plan, w) },
            {
              dir: "/etc/dhcplab",
              name: "policy.yaml",
              content: inputs.towerPolicies[w.spec.name] ?? DEFAULT_TOWER_POLICY,
              ...(w.spec.policy ? { source: w.spec.policy } : {}),
            },
          ],
      waitHealthy: true,
      stage: "main",
    };
  });
}
