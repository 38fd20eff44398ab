import { bootRoutes } from "../../model/plan.ts";
import { vrfServerNodes } from "./vrf-server.ts";

// A VRF's boot server is Debian's tftpd-hpa on the VRF's backend network, answering on the
// VRF's boot service address (the next-server its Kea hands out) and routing to the VRF's
// client subnets through the relay, which forwards those subnets to that address and nothing
// else (relay/agent/routing.ts). Its files are the topology's folder, copied in.

/** The folder under the boot server's image that tftpd-hpa serves. */
export const TFTP_ROOT = "/srv/tftp";

/** Each VRF's boot server. */
export const bootNodes = vrfServerNodes({
  kind: "boot",
  server: (v) => v.boot,
  files: (inputs) => inputs.bootFiles,
  image: (images) => images.boot,
  env: (v, boot) => ({ DHCPLAB_BOOT_ADDRESS: boot.address, DHCPLAB_ROUTES: bootRoutes(v).join("\n") }),
  dir: TFTP_ROOT,
  binary: true,
});
