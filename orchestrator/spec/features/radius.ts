import { vrfServerNodes } from "./vrf-server.ts";

// A VRF's RADIUS server is Debian's FreeRADIUS on the VRF's backend network, answering on the
// VRF's RADIUS service address, which its Kea radius hook sends Access-Requests and accounting to
// (Kea routes that address to this server: plan.ts keaRoutes). Its folder (clients.conf,
// authorize) is copied to /etc/dhcplab/radius, from where the image's entrypoint puts each file
// where FreeRADIUS reads it. Compose mounts them there read-only.

/** Where a RADIUS server's folder is copied. */
export const RADIUS_FOLDER = "/etc/dhcplab/radius";

/** Each VRF's RADIUS server. */
export const radiusNodes = vrfServerNodes({
  kind: "radius",
  server: (v) => v.radius,
  files: (inputs) => inputs.radiusFiles,
  image: (images) => images.radius,
  env: (_, radius) => ({ DHCPLAB_RADIUS_ADDRESS: radius.address }),
  dir: RADIUS_FOLDER,
});
