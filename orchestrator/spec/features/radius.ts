import type { NodeSpec } from "../spec.ts";
import type { FeatureContext } from "./context.ts";
import { vrfServerNode } from "./vrf-server.ts";

// A VRF's RADIUS server is Debian's FreeRADIUS on the VRF's backend network, answering on the
// VRF's RADIUS service address, which its Kea radius hook sends Access-Requests and accounting to
// (Kea routes that address to this server: plan.ts keaRoutes). Its folder (clients.conf,
// authorize) is copied to /etc/dhcplab/radius, from where the image's entrypoint puts each file
// where FreeRADIUS reads it. Compose mounts them there read-only.

/** Where a RADIUS server's folder is copied. */
export const RADIUS_FOLDER = "/etc/dhcplab/radius";

/** Each VRF's RADIUS server. */
export function radiusNodes(ctx: FeatureContext): NodeSpec[] {
  return ctx.plan.vrfs.flatMap((v): NodeSpec[] =>
    v.radius
      ? [
          vrfServerNode(v, v.radius, ctx.inputs.radiusFiles.get(v.spec.name) ?? [], {
            kind: "radius",
            image: ctx.inputs.images.radius,
            env: { DHCPLAB_RADIUS_ADDRESS: v.radius.address },
            dir: RADIUS_FOLDER,
          }),
        ]
      : [],
  );
}
