import { vrfServerNodes } from "./vrf-server.ts";

// A VRF's DNS server is Debian's BIND 9 on the VRF's backend network, answering on the VRF's DNS
// service address, which its kea-dhcp-ddns sends TSIG-signed updates to (Kea routes that address
// to this server: plan.ts keaRoutes). Its folder is copied to /etc/dhcplab/dns, from where the
// image's entrypoint puts named.conf.local where Debian's named.conf includes it and every other
// file, a zone file, in /var/lib/bind (a zone's `file` names /var/lib/bind/NAME), where BIND
// writes its journal. Compose mounts the folder's files there read-only.

/** Where a DNS server's folder is copied. */
export const DNS_FOLDER = "/etc/dhcplab/dns";

/** Each VRF's DNS server. */
export const dnsNodes = vrfServerNodes({
  kind: "dns",
  server: (v) => v.dns,
  files: (inputs) => inputs.dnsFiles,
  image: (images) => images.dns,
  env: (_, dns) => ({ DHCPLAB_DNS_ADDRESS: dns.address }),
  dir: DNS_FOLDER,
});
