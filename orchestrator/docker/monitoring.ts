import type Docker from "dockerode";
import type { KeaConfig } from "../model/kea-config.ts";
import { LABEL } from "../model/labels.ts";
import { EXPORTER_PORT, prometheusConfig } from "../model/monitoring.ts";
import { type LabPlan, RELAY_SYSCTLS } from "../model/plan.ts";
import { tarOf } from "./engine.ts";
import type { ImageTags } from "./images.ts";
import { createLabNetwork } from "./networks.ts";

/** The exporter beside a Kea container. */
export const exporterOf = (keaContainer: string) => `${keaContainer}-exporter`;

/** A Kea container the exporters stand beside: its container, VRF, service and where it takes commands. */
export interface MonitoredKea {
  container: string;
  id: string;
  vrf: string;
  service: string;
  control: KeaConfig["control"];
}

/**
 * Creates and starts the lab's monitoring: an exporter in each Kea's network namespace, the
 * monitoring network, and Prometheus on it and on every backend. Returns the containers by
 * name, and Prometheus's, whose health the lab waits for.
 */
export async function startMonitoring(
  docker: Docker,
  plan: LabPlan,
  images: ImageTags,
  labels: Record<string, string>,
  keas: readonly MonitoredKea[],
): Promise<{ containers: Map<string, string>; prometheus: { name: string; id: string } }> {
  if (!images.prometheus) throw new Error("monitoring needs the prometheus image");
  const created = new Map<string, string>();
  for (const k of keas) {
    const c = await docker.createContainer({
      name: exporterOf(k.container),
      Image: images.relay,
      Entrypoint: ["node", "/opt/dhcplab/kea-exporter.mjs"],
      Labels: { ...labels, [LABEL.role]: "exporter", [LABEL.vrf]: k.vrf },
      Env: [
        `KEA_CONTROL=${JSON.stringify(k.control)}`,
        `DHCPLAB_EXPORTER_LABELS=${JSON.stringify({ vrf: k.vrf, server: k.service })}`,
        `DHCPLAB_EXPORTER_PORT=${EXPORTER_PORT}`,
      ],
      // Kea takes commands on 127.0.0.1 of its own namespace: the exporter lives there too.
      HostConfig: { NetworkMode: `container:${k.id}` },
      // Not the relay image's own check: healthy when it serves Kea's statistics.
      Healthcheck: {
        Test: ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${EXPORTER_PORT}/metrics`],
        Interval: 2_000_000_000,
        Timeout: 2_000_000_000,
        StartPeriod: 10_000_000_000,
        Retries: 3,
      },
    });
    await c.start();
    created.set(exporterOf(k.container), c.id);
  }
  const network = await createLabNetwork(docker, `${plan.name}-monitoring`, {
    ...labels,
    [LABEL.role]: "monitoring",
  });
  const name = `${plan.name}-prometheus`;
  const prometheus = await docker.createContainer({
    name,
    Image: images.prometheus,
    Labels: { ...labels, [LABEL.role]: "prometheus" },
    // It is on every VRF's backend: it must route none of them to another.
    HostConfig: { NetworkMode: network.name, Sysctls: { ...RELAY_SYSCTLS } },
  });
  for (const v of plan.vrfs) await docker.getNetwork(v.network).connect({ Container: prometheus.id });
  await prometheus.putArchive(tarOf([["dhcplab.yml", prometheusConfig(plan)]]), { path: "/etc/prometheus" });
  await prometheus.start();
  created.set(name, prometheus.id);
  return { containers: created, prometheus: { name, id: prometheus.id } };
}
