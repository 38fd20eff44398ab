import { join } from "node:path";
import { LABEL } from "../../model/labels.ts";
import { bootRoutes } from "../../model/plan.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";

// A VRF's boot server is Debian's tftpd-hpa on the VRF's backend network, answering on the
// VRF's boot service address (the next-server its Kea hands out) and routing to the VRF's
// client subnets through the relay, which forwards those subnets to that address and nothing
// else (relay/agent/routing.ts). Its files are the topology's folder, copied in.

/** The folder under the boot server's image that tftpd-hpa serves. */
export const TFTP_ROOT = "/srv/tftp";

/** Each VRF's boot server. */
export function bootNodes(ctx: FeatureContext): NodeSpec[] {
  return ctx.plan.vrfs.flatMap((v): NodeSpec[] => {
    const boot = v.boot;
    if (!boot) return [];
    const image = ctx.inputs.images.boot;
    if (!image) throw new Error(`VRF ${v.spec.name} has a boot server but no boot image was built`);
    return [
      {
        service: `boot-${v.spec.name.toLowerCase()}`,
        container: boot.container,
        role: { kind: "boot", vrf: v.spec.name, address: boot.address },
        image,
        env: { DHCPLAB_BOOT_ADDRESS: boot.address, DHCPLAB_ROUTES: bootRoutes(v).join("\n") },
        labels: { [LABEL.role]: "boot", [LABEL.vrf]: v.spec.name },
        // It holds its service address and installs its routes through the relay.
        capAdd: ["NET_ADMIN"],
        sysctls: {},
        endpoints: [{ network: v.network, ipv4: boot.ipv4, ipv6: boot.ipv6 }],
        files: (ctx.inputs.bootFiles.get(v.spec.name) ?? []).map(([name, bytes]) => ({
          dir: TFTP_ROOT,
          name,
          content: bytes.toString("base64"),
          binary: true,
          source: join(boot.files, name),
        })),
        waitHealthy: true,
        stage: "main",
      },
    ];
  });
}
