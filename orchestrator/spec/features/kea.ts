import { join } from "node:path";
import { serverFiles } from "../../model/kea-ha.ts";
import { LABEL } from "../../model/labels.ts";
import { keaRoutes, networkKey, vrfClients4 } from "../../model/plan.ts";
import type { Topology } from "../../model/topology.ts";
import type { NetworkDecl } from "../build.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";

// Kea per VRF: each VRF's backend network, and on it its Kea server (or an HA pair), running the
// VRF's configuration (an HA peer's as the lab writes it, kea-ha.ts).

/**
 * Each VRF's backend. Kea's answers cross it off-subnet where they go to an address the relay
 * routes: the link address in giaddr mode, every tower's giaddr, the VRF's DHCPv4 clients (an
 * INFORM's ACK, the boot server's traffic).
 */
export function backendNetworks(t: Topology): NetworkDecl[] {
  return t.vrfs.map((v) => ({
    key: networkKey.vrf(v),
    role: "backend",
    vrf: v.name,
    offSubnet: t.towers.length > 0 || v.families.includes(4),
    isolate6: true,
  }));
}

/** Every VRF's Kea servers. */
export function keaNodes(ctx: FeatureContext): NodeSpec[] {
  return ctx.plan.vrfs.flatMap((v, i) => {
    const k = ctx.inputs.keas[i];
    if (!k) throw new Error(`no Kea configuration for VRF ${v.spec.name}`);
    // The entrypoint installs these (also after a restart); the health check asks each server
    // for status-get where its configuration says it listens.
    const routes = keaRoutes(ctx.plan, v, {
      delegatedPools: k.delegatedPools,
      clients4: vrfClients4(ctx.plan, v, k.subnets4),
    });
    return v.keas.map((kea, index): NodeSpec => {
      const files = serverFiles(k, v, index);
      return {
        service: kea.service,
        container: kea.container,
        role: {
          kind: "kea",
          vrf: v.spec.name,
          families: [...v.spec.families],
          version: k.version,
          control: k.control,
          ...(v.spec.ha ? { ha: v.spec.ha.mode } : {}),
        },
        image: k.image,
        env: {
          KEA_CONTROL: JSON.stringify(k.control),
          ...(routes.length > 0 ? { DHCPLAB_ROUTES: routes.join("\n") } : {}),
        },
        labels: {
          [LABEL.role]: "kea",
          [LABEL.vrf]: v.spec.name,
          [LABEL.keaVersion]: k.version,
          ...(v.spec.ha ? { [LABEL.ha]: v.spec.ha.mode } : {}),
        },
        capAdd: routes.length > 0 ? ["NET_ADMIN"] : [],
        sysctls: {},
        ...(ctx.target === "engine" ? { mac: kea.mac } : {}),
        endpoints: [{ network: v.network, ipv4: kea.ipv4, ipv6: kea.ipv6 }],
        files: Object.entries(files).map(([name, bytes]) => ({
          dir: "/etc/kea",
          name,
          content: bytes.toString(),
          // An HA peer's server configuration is the lab's writing; the rest is the folder's.
          ...(bytes === k.files[name] ? { source: join(k.dir, name) } : {}),
        })),
        waitHealthy: true,
        stage: "main",
      };
    });
  });
}
