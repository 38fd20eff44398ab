import { readFile } from "node:fs/promises";
import * as z from "zod/mini";
import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";
import { parseYamlConfig } from "../../lib/config/yaml-config.ts";
import { LOG_LEVELS } from "../../lib/log-level.ts";
import { overlapOnSharedSegment } from "../../lib/vrf-overlap.ts";
import "../../lib/zod-english.ts";
import { TRANSPORT_SEGMENT } from "./links.ts";

const ipv4 = z.string().check(z.refine((s) => isAddress(s, ipv4ToBytes), "not an IPv4 address"));
const ipv6 = z.string().check(z.refine((s) => isAddress(s, ipv6ToBytes), "not an IPv6 address"));
const cidr4 = z.string().check(
  z.regex(/^\d+\.\d+\.\d+\.\d+\/\d+$/, "not an IPv4 prefix such as 10.213.5.0/24"),
  z.refine(
    (s) => isAddress(s.split("/")[0] ?? "", ipv4ToBytes) && Number(s.split("/")[1]) <= 32,
    "not an IPv4 prefix",
  ),
);
const cidr6 = z.string().check(
  z.regex(/^[0-9a-fA-F:]+\/\d+$/, "not an IPv6 address/prefix such as fd00:10::1/64"),
  z.refine(
    (s) => isAddress(s.split("/")[0] ?? "", ipv6ToBytes) && Number(s.split("/")[1]) <= 128,
    "not an IPv6 address/prefix",
  ),
);
/** A server: an address or a name that Docker's DNS resolves. */
const server = z.string().check(z.minLength(1));

function isAddress(s: string, parse: (s: string) => Uint8Array): boolean {
  try {
    parse(s);
    return true;
  } catch {
    return false;
  }
}

const segmentName = z
  .string()
  .check(
    z.regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "a segment name starts with a letter: letters, digits, '_', '-'"),
  );

/** A TCP or UDP port: an integer from 1 to 65535. */
const port = () => z.number().check(z.int(), z.gte(1), z.lte(65535));

/** A VRF's servers that take bulk leasequery over TCP: each address, and its port. */
const bulkLeasequeryServers = (address: typeof ipv4, defaultPort: number) =>
  z._default(
    z.array(
      z.strictObject({
        address: address.check(z.describe("the server's address on the VRF's backend network")),
        port: z._default(port(), defaultPort).check(z.describe("its bulk leasequery TCP port")),
      }),
    ),
    [],
  );

const vrf = z.strictObject({
  name: z
    .string()
    .check(
      z.regex(/^[A-Za-z][A-Za-z0-9_-]*$/, "a VRF name starts with a letter: letters, digits, '_', '-'"),
      z.describe("the VRF's name, as the policy's rules name it"),
    ),
  ipv4: z.optional(ipv4).check(z.describe("the relay's own IPv4 address on this VRF's backend network")),
  ipv6: z.optional(ipv6).check(z.describe("the relay's own IPv6 address on this VRF's backend network")),
  subnetSelection: z
    ._default(
      z.enum(["link-selection", "giaddr"], {
        error: (i) => `subnetSelection ${JSON.stringify(i.input)} is not one of link-selection, giaddr`,
      }),
      "link-selection",
    )
    .check(
      z.describe(
        "how the server picks the client's subnet: `link-selection`, giaddr is the relay's backend address and RFC 3527 sub-option 5 carries `link4`; `giaddr`, giaddr is `link4` itself (the server needs a route back to it)",
      ),
    ),
  link4: z
    .optional(ipv4)
    .check(z.describe("an address on the clients' link as the VRF's servers know it (e.g. 192.168.10.1)")),
  link6: z
    .optional(ipv6)
    .check(
      z.describe("the link-address of RELAY-FORW: an address in the VRF's client prefix (e.g. fd00:10::1)"),
    ),
  serverIdOverride: z
    ._default(z.boolean(), true)
    .check(
      z.describe(
        "add RFC 5107 Server ID Override (the relay's access address), so renewals come back through the relay",
      ),
    ),
  servers4: z
    ._default(z.array(server), [])
    .check(z.describe("DHCPv4 servers: addresses or names Docker's DNS resolves")),
  acceptFrom: z
    ._default(z.array(cidr4), [])
    .check(
      z.describe(
        "DHCPv4 replies are also accepted on this VRF's link from these prefixes: the servers behind an upstream relay that forwards (RFC 3046) rather than answering itself, as an edge relay has",
      ),
    ),
  servers6: z
    ._default(z.array(server), [])
    .check(
      z.describe(
        "DHCPv6 servers: link-local addresses (sent to through this VRF's interface), global addresses or names",
      ),
    ),
  gateways6: z
    ._default(z.array(cidr6), [])
    .check(
      z.describe(
        "routers of the VRF's IPv6 client subnets (fd00:10::1/64): held on the VRF's first segment (the first access segment when it names none), announced in router advertisements there, and forwarded between its segments and this VRF's backend only",
      ),
    ),
  segments: z
    .optional(z.array(segmentName).check(z.minLength(1)))
    .check(
      z.describe(
        "the access segments whose clients this VRF serves (`transport` for the towers'): a client decided into it on another segment is dropped (`vrf-not-on-segment`), its forwarding keeps to these segments, and its gateways6 are held on the first. Absent: every segment. VRFs whose client subnets overlap each need segments of their own",
      ),
    ),
  clients4: z
    ._default(z.array(cidr4), [])
    .check(
      z.describe(
        "the VRF's IPv4 client subnets (192.168.10.0/24): the only destinations of its servers4's DHCP forwarded to the access side (UDP 67 to 68: an INFORM's ACK to ciaddr, RFC 2131 §4.3.5), and the only sources forwarded to its services4",
      ),
    ),
  pingCheck4: z
    ._default(z.boolean(), false)
    .check(
      z.describe(
        "its servers4 ping an address before offering it (Kea's ping_check hook): ICMP echo requests from them to its clients4 are forwarded, and the echo replies back",
      ),
    ),
  services4: z
    ._default(
      z.array(
        z.strictObject({
          address: ipv4.check(z.describe("the service's address, as the VRF's clients reach it")),
          via: ipv4.check(z.describe("the host's address on the VRF's backend network")),
        }),
      ),
      [],
    )
    .check(
      z.describe(
        "hosts on this VRF's backend network that its clients reach through the relay (a boot server): each service address is routed via the host's address on the backend, and only between the VRF's clients4 and that address",
      ),
    ),
  bulkLeasequery4: bulkLeasequeryServers(ipv4, 67).check(
    z.describe(
      "where the VRF's servers take DHCPv4 bulk leasequery over TCP (RFC 6926; Kea's lease_query hook with bulk-query-enabled): the relay asks by Remote-ID or Relay-ID from its ipv4 (POST /leasequery)",
    ),
  ),
  bulkLeasequery6: bulkLeasequeryServers(ipv6, 547).check(
    z.describe(
      "where the VRF's servers take bulk leasequery over TCP (RFC 5460; Kea's lease_query hook with bulk-query-enabled): the relay asks from its ipv6 (POST /leasequery)",
    ),
  ),
  leases6: z
    ._default(
      z.array(
        z.strictObject({
          url: z.url().check(z.describe("the server's control URL, as reached from the relay")),
          service: z.optional(z.literal("dhcp6")).check(z.describe("`dhcp6` for Kea 2.6's control agent")),
        }),
      ),
      [],
    )
    .check(
      z.describe(
        "where the VRF's servers answer commands from the backend (Kea's lease6-get-all): the relay reads the delegated prefixes there at its start, to route them again",
      ),
    ),
});

/** Router advertisements on the access segments (RFC 4861 §6.2, sent by radvd). */
const routerAdvertisements = z.strictObject({
  managed: z._default(z.boolean(), true).check(z.describe("M: addresses from DHCPv6 (RFC 4861 §4.2)")),
  other: z._default(z.boolean(), true).check(z.describe("O: other configuration from DHCPv6")),
  prefixes: z
    ._default(z.boolean(), true)
    .check(
      z.describe(
        "announce each VRF's gateways6 prefixes (on-link, not for SLAAC) on its first segment (the first access segment when it names none); false: none",
      ),
    ),
  interval: z
    ._default(z.number().check(z.int(), z.gte(4), z.lte(1800)), 10)
    .check(z.describe("MaxRtrAdvInterval in seconds (RFC 4861 §6.2.1: 4 to 1800)")),
  lifetime: z
    ._default(z.number().check(z.int(), z.gte(0), z.lte(9000)), 0)
    .check(z.describe("router lifetime in seconds; 0: not a default router (RFC 4861 §6.2.1)")),
});

/** An access segment (a port or VLAN): its own network and interface on the relay. */
const segment = z.strictObject({
  name: z
    ._default(segmentName, "access")
    .check(z.describe("the segment's name, as policies and templates ({segment}) see it")),
  vlan: z
    .optional(z.number().check(z.int(), z.gte(1), z.lte(4094)))
    .check(
      z.describe(
        "a VLAN-style number, for policies and templates ({vlan}); the lab's segments are untagged networks",
      ),
    ),
  ipv4: ipv4.check(
    z.describe(
      "the relay's address on the segment; finds the interface, and is the Server ID Override there",
    ),
  ),
  ipv6: z.optional(ipv6).check(z.describe("the relay's IPv6 address on the segment")),
  gateways: z
    ._default(z.array(cidr4), [])
    .check(
      z.describe(
        "router addresses of the clients' subnets (192.168.10.1/24): the relay holds them on the segment's interface",
      ),
    ),
});

/** The relay's configuration file: its networks, its VRFs and their servers. */
export const relayConfigSchema = z
  .strictObject({
    policy: z
      .optional(z.string())
      .check(z.describe("the policy file; the embedded default policy when absent")),
    http: z
      ._default(
        z.strictObject({
          port: z
            ._default(port(), 9100)
            .check(z.describe("the port of /healthz, /metrics, /counters and the control endpoints")),
        }),
        { port: 9100 },
      )
      .check(z.describe("the relay's HTTP surface")),
    access: segment.check(
      z.describe('the first access segment (named "access" unless the configuration names it)'),
    ),
    segments: z
      ._default(z.array(segment), [])
      .check(z.describe("further access segments, each on its own interface")),
    transport: z
      .optional(
        z.strictObject({
          ipv4: ipv4.check(z.describe("the relay's IPv4 address on the transport network")),
          ipv6: z.optional(ipv6).check(z.describe("the relay's IPv6 address on the transport network")),
          towers: z
            .array(
              z.strictObject({
                name: z.string().check(z.minLength(1), z.describe("the tower's name")),
                source: ipv4.check(z.describe("the address its relayed DHCPv4 requests come from")),
                giaddr: cidr4.check(z.describe("the prefix its giaddr falls in")),
                source6: z
                  .optional(ipv6)
                  .check(
                    z.describe(
                      "DHCPv6: the address its RELAY-FORWs come from (without it, it relays DHCPv4 only)",
                    ),
                  ),
              }),
            )
            .check(
              z.minLength(1, "a transport network has at least one tower"),
              z.describe("the downstream relays trusted on the transport network"),
            ),
        }),
      )
      .check(
        z.describe(
          "the transport network to downstream relays (towers): their relayed requests arrive here, each trusted by its source address and giaddr prefix, and the relay routes each prefix to its tower for the servers' replies (RFC 3046 §2.1.1 forwarding), and nothing else",
        ),
      ),
    vrfs: z
      .array(vrf)
      .check(z.minLength(1, "at least one VRF"), z.describe("the VRFs the relay forwards to")),
    socketBuffer: z
      ._default(z.number().check(z.int(), z.gte(65536)), 4 * 1024 * 1024)
      .check(z.describe("socket buffer sizes in bytes (4 MB holds 20k requests/s without loss)")),
    datapath: z
      ._default(z.enum(["native", "node"]), "native")
      .check(
        z.describe(
          "how datagrams move between the sockets and the relay: native (the relay's addon, one recvmmsg per wake-up and one sendmmsg per socket per turn) or node (Node's dgram, a system call per datagram; the fallback)",
        ),
      ),
    logLevel: z
      ._default(z.enum(LOG_LEVELS), "info")
      .check(z.describe("the relay's log level at start (DHCPLAB_LOG_LEVEL overrides it)")),
    routerAdvertisements: z
      .optional(routerAdvertisements)
      .check(
        z.describe(
          "router advertisements on every access segment (not the transport network); none when absent",
        ),
      ),
  })
  .check(
    z.superRefine((c, ctx) => {
      const segmentNames = new Set([
        ...[c.access, ...c.segments].map((s) => s.name),
        ...(c.transport ? [TRANSPORT_SEGMENT] : []),
      ]);
      const names = new Set([c.access.name]);
      c.segments.forEach((s, i) => {
        if (names.has(s.name))
          ctx.addIssue({
            code: "custom",
            path: ["segments", i, "name"],
            message: `duplicate segment ${s.name}`,
          });
        names.add(s.name);
      });
      c.vrfs.forEach((v, i) => {
        if (v.servers4.length > 0 && (!v.ipv4 || !v.link4)) {
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i],
            message: `VRF ${v.name} has DHCPv4 servers but no ipv4 and link4`,
          });
        }
        if (v.services4.length > 0 && (!v.ipv4 || v.clients4.length === 0)) {
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, "services4"],
            message: `VRF ${v.name} has services4 but no ipv4 (its backend) or no clients4 (who may reach them)`,
          });
        }
        if (v.clients4.length > 0 && !v.ipv4) {
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, "clients4"],
            message: `VRF ${v.name} has clients4 but no ipv4: its backend, where its servers' answers come from`,
          });
        }
        if (v.pingCheck4 && (v.servers4.length === 0 || v.clients4.length === 0)) {
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, "pingCheck4"],
            message: `VRF ${v.name} has pingCheck4 but no servers4 (who pings) or no clients4 (whom)`,
          });
        }
        v.segments?.forEach((name, j) => {
          if (!segmentNames.has(name))
            ctx.addIssue({
              code: "custom",
              path: ["vrfs", i, "segments", j],
              message: `VRF ${v.name}'s segment ${name} is not one of the relay's: ${[...segmentNames].join(", ")}`,
            });
        });
        // Client subnets of two VRFs may overlap (tenants' address spaces do) only where nothing
        // else tells them apart: each VRF on segments of its own, routed in a table of its own.
        for (const [field, family] of [
          ["clients4", 4],
          ["gateways6", 6],
        ] as const) {
          v[field].forEach((prefix, j) => {
            const other = overlapOnSharedSegment(c.vrfs, i, (w) => w[field], prefix, family);
            if (other)
              ctx.addIssue({
                code: "custom",
                path: ["vrfs", i, field, j],
                message: `VRF ${v.name}'s client subnet ${prefix} overlaps VRF ${other.name}'s on a segment both serve: give each VRF segments of its own (vrfs[].segments)`,
              });
          });
        }
        if (v.servers6.length > 0 && !v.link6) {
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i],
            message: `VRF ${v.name} has DHCPv6 servers but no link6`,
          });
        }
      });
    }),
  );

/** A validated relay configuration. */
export type RelayConfig = z.output<typeof relayConfigSchema>;
/** One VRF of a relay configuration. */
export type VrfConfig = RelayConfig["vrfs"][number];
/** Router advertisement settings of a relay configuration. */
export type RouterAdvertisements = NonNullable<RelayConfig["routerAdvertisements"]>;
/** One access segment of a relay configuration. */
export type SegmentConfig = RelayConfig["access"];

/** Every access segment: the first, then the others, then the transport network to towers. */
export function accessSegments(config: RelayConfig): SegmentConfig[] {
  const transport = config.transport && {
    name: TRANSPORT_SEGMENT,
    ipv4: config.transport.ipv4,
    ipv6: config.transport.ipv6,
    gateways: [],
  };
  return [config.access, ...config.segments, ...(transport ? [transport] : [])];
}

/** The access segments whose clients a VRF serves: those it names, or every one. */
export function vrfSegments(config: RelayConfig, v: VrfConfig): SegmentConfig[] {
  const all = accessSegments(config);
  return v.segments ? all.filter((s) => v.segments?.includes(s.name)) : all;
}

/** Where a VRF's gateways6 are held and announced: its first segment, else the first access segment. */
export function homeSegment(config: RelayConfig, v: VrfConfig): SegmentConfig {
  const first = v.segments?.find((name) => name !== TRANSPORT_SEGMENT);
  return accessSegments(config).find((s) => s.name === first) ?? config.access;
}

/** Parses and validates relay configuration text; throws ConfigError. */
export function parseRelayConfig(text: string, file: string): RelayConfig {
  return parseYamlConfig(text, file, relayConfigSchema);
}

/** Reads and validates a relay configuration file. */
export async function loadRelayConfig(file: string): Promise<RelayConfig> {
  return parseRelayConfig(await readFile(file, "utf8"), file);
}
