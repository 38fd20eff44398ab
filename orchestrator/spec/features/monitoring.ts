import { LABEL } from "../../model/labels.ts";
import {
  EXPORTER_PORT,
  PROMETHEUS_PORT,
  prometheusConfig,
  prometheusRules,
  RULES_FILE,
} from "../../model/monitoring.ts";
import { endpoint, networkKey, RELAY_SYSCTLS } from "../../model/plan.ts";
import type { NetworkDecl } from "../build.ts";
import type { NodeSpec } from "../spec.ts";
import { type FeatureContext, health } from "./context.ts";

// The lab's monitoring (up --monitoring): an exporter in each Kea's network namespace (Kea takes
// commands on 127.0.0.1 there) and Prometheus on a monitoring network of its own and on every
// backend, forwarding nothing. Both start once the lab is healthy.

/** The host Prometheus takes on the monitoring network, where it is reached from the host. */
const PROMETHEUS_HOST = 2;

/** The monitoring network, when the lab is monitored. */
export function monitoringNetworks(monitoring: boolean): NetworkDecl[] {
  return monitoring
    ? [{ key: networkKey.monitoring, role: "monitoring", offSubnet: false, isolate6: false }]
    : [];
}

/** The exporters and Prometheus. */
export function monitoringNodes(ctx: FeatureContext): NodeSpec[] {
  if (!ctx.monitoring) return [];
  const { plan, inputs } = ctx;
  const prometheusImage = inputs.images.prometheus;
  if (!prometheusImage) throw new Error("monitoring needs the prometheus image");
  const network = ctx.networks.find((n) => n.key === networkKey.monitoring);
  if (!network) throw new Error("monitoring needs its network");
  const at = endpoint(network.subnets, PROMETHEUS_HOST);
  const exporters = plan.vrfs.flatMap((v, i) =>
    v.keas.map(
      (k): NodeSpec => ({
        service: `${k.service}-exporter`,
        container: `${k.container}-exporter`,
        role: { kind: "exporter", vrf: v.spec.name, kea: k.service },
        image: inputs.images.relay,
        entrypoint: ["node", "/opt/dhcplab/kea-exporter.mjs"],
        env: {
          KEA_CONTROL: JSON.stringify(inputs.keas[i]?.control ?? {}),
          DHCPLAB_EXPORTER_LABELS: JSON.stringify({ vrf: v.spec.name, server: k.service }),
          DHCPLAB_EXPORTER_PORT: String(EXPORTER_PORT),
        },
        labels: { [LABEL.role]: "exporter", [LABEL.vrf]: v.spec.name },
        capAdd: [],
        sysctls: {},
        endpoints: [],
        namespaceOf: k.service,
        files: [],
        // Not the relay image's own check: healthy when it serves Kea's statistics.
        health: health(
          ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${EXPORTER_PORT}/metrics`],
          {
            interval: 2,
            timeout: 2,
            start: 10,
          },
        ),
        waitHealthy: false,
        stage: "post",
      }),
    ),
  );
  const prometheus: NodeSpec = {
    service: "prometheus",
    container: `${plan.name}-prometheus`,
    role: { kind: "prometheus", url: `http://${at.ipv4}:${PROMETHEUS_PORT}/` },
    image: prometheusImage,
    env: {},
    labels: { [LABEL.role]: "prometheus" },
    capAdd: [],
    // It is on every VRF's backend: it must route none of them to another.
    sysctls: { ...RELAY_SYSCTLS },
    endpoints: [{ network: network.name, ...at }, ...plan.vrfs.map((v) => ({ network: v.network }))],
    files: [
      { dir: "/etc/prometheus", name: "dhcplab.yml", content: prometheusConfig(plan) },
      { dir: "/etc/prometheus", name: RULES_FILE, content: prometheusRules() },
    ],
    waitHealthy: true,
    stage: "post",
  };
  return [...exporters, prometheus];
}
