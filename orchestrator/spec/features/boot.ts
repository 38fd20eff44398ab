import { bootRoutes } from "../../model/plan.ts";
import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";
import { vrfServerNode } from "./vrf-server.ts";

// A VRF's boot server is Debian's tftpd-hpa on the VRF's backend network, answering on the
// VRF's boot service address (the next-server its Kea hands out) and routing to the VRF's
// client subnets through the relay, which forwards those subnets to that address and nothing
// else (relay/agent/routing.ts). Its files are the topology's folder, copied in.

/** The folder under the boot server's image that tftpd-hpa serves. */
export const TFTP_ROOT = "/srv/tftp";

/** Each VRF's boot server. */
export function bootNodes(ctx: FeatureContext): NodeSpec[] {
  return ctx.plan.vrfs.flatMap((v): NodeSpec[] =>
    v.boot
      ? [
          vrfServerNode(v, v.boot, ctx.inputs.bootFiles.get(v.spec.name) ?? [], {
            kind: "boot",
            image: ctx.inputs.images.boot,
            env: { DHCPLAB_BOOT_ADDRESS: v.boot.address, DHCPLAB_ROUTES: bootRoutes(v).join("\n") },
            dir: TFTP_ROOT,
            binary: true,
          }),
        ]
      : [],
  );
}
