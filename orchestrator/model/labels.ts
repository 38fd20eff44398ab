/** Labels every dhcplab object carries, so a lab (or all of them) can be found and removed. */
export const LABEL = {
  /** Marks an object as dhcplab's. */
  managed: "dev.dhcplab.managed",
  /** The lab's name. */
  lab: "dev.dhcplab.lab",
  /** The role of a container in the lab: kea, relay, tower, boot, client. */
  role: "dev.dhcplab.role",
  /** The VRF a Kea container or backend network serves. */
  vrf: "dev.dhcplab.vrf",
  /** The DHCP families a Kea container serves: "4", "6" or "4,6". */
  families: "dev.dhcplab.families",
  /** The Kea version a Kea container runs: "2.6" or "3.0". */
  keaVersion: "dev.dhcplab.kea",
  /** Where a Kea container's servers take commands: JSON, { dhcp4: { url, service? }, dhcp6: ... }. */
  keaControl: "dev.dhcplab.kea-control",
  /** An access segment's name, on its network (role access for the first, segment for the others). */
  segment: "dev.dhcplab.segment",
  /** A tower's name, on its container and its subscriber segment's network. */
  tower: "dev.dhcplab.tower",
  /** A tower's kind (isc-dhcp-relay, dhcplab), on its container. */
  towerKind: "dev.dhcplab.tower-kind",
  /** An HA peer's mode (hot-standby, load-balancing), on the Kea containers of an HA pair. */
  ha: "dev.dhcplab.ha",
  /** A boot server's service address (the next-server), on its container. */
  bootAddress: "dev.dhcplab.boot-address",
  /** A test run's id, on objects created by tests. */
  testRun: "dev.dhcplab.test-run",
  /** The lab's spec (JSON, without file contents), on its relay container: openLab reads it. */
  spec: "dev.dhcplab.spec",
  /** A container's service name in its lab (relay, kea-red, ...). */
  service: "dev.dhcplab.service",
  /** The hash of an image's inputs. */
  inputs: "dev.dhcplab.inputs",
} as const;
