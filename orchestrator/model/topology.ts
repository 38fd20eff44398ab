import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, join } from "node:path";
import { z } from "zod";
import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";
import { inPrefix, isPrefix, prefixesOverlap } from "../../lib/codec/prefix.ts";
import { parseYamlConfig } from "../../lib/config/yaml-config.ts";
import { LOG_LEVELS } from "../../lib/log-level.ts";
import { overlapOnSharedSegment } from "../../lib/vrf-overlap.ts";
import { ROOT } from "../paths.ts";

const address = (parse: (s: string) => Uint8Array, what: string) =>
  z.string().refine((s) => {
    try {
      parse(s);
      return true;
    } catch {
      return false;
    }
  }, `not an ${what} address`);

/** The Kea versions the lab runs: Debian trixie's 2.6 and forky's 3.0. */
export const KEA_VERSIONS = ["2.6", "3.0"] as const;
/** A Kea version the lab runs. */
export type KeaVersion = (typeof KEA_VERSIONS)[number];
const keaVersion = z.enum(KEA_VERSIONS, {
  error: (i) => `kea ${JSON.stringify(i.input)} is not one of ${KEA_VERSIONS.join(", ")}`,
});

/** Kea HA's modes the lab builds (Kea ARM, "High Availability"). */
export const HA_MODES = ["hot-standby", "load-balancing"] as const;
/** An HA mode. */
export type HaMode = (typeof HA_MODES)[number];

/** A duration in milliseconds: a number, or text such as "1500ms" or "3s". */
const duration = z
  .union([
    z.number().int().positive(),
    z.string().regex(/^\d+(ms|s)$/, 'a duration: milliseconds, or "500ms", "3s"'),
  ])
  .meta({ description: 'a duration: milliseconds, or "500ms", "3s"' })
  .transform((d) =>
    typeof d === "number" ? d : d.endsWith("ms") ? Number.parseInt(d, 10) : Number.parseInt(d, 10) * 1000,
  );

/**
 * A VRF's Kea HA pair. The timers are Kea's own (its names, in milliseconds; Kea's defaults when
 * absent: 10 s, 60 s, 10 s and 10 clients). Failure detection counts only clients whose `secs` (or
 * Elapsed Time) exceeds max-ack-delay; max-unacked-clients 0 turns it off (partner-down as soon as
 * the partner stops answering).
 */
const ha = z.strictObject({
  mode: z
    .enum(HA_MODES, {
      error: (i) => `mode ${JSON.stringify(i.input)} is not one of ${HA_MODES.join(", ")}`,
    })
    .describe("Kea HA's mode: the first server is primary, the second standby (or secondary)"),
  heartbeat: duration
    .optional()
    .describe("Kea's heartbeat-delay: how often each server asks its partner's state (Kea: 10 s)"),
  "max-response-delay": duration
    .optional()
    .describe(
      "Kea's max-response-delay: how long without an answer until the partner is suspect (Kea: 60 s)",
    ),
  "max-ack-delay": duration
    .optional()
    .describe("Kea's max-ack-delay: a client unanswered this long counts as unacked (Kea: 10 s)"),
  "max-unacked-clients": z
    .number()
    .int()
    .min(0)
    .optional()
    .describe(
      "Kea's max-unacked-clients: unacked clients until partner-down; 0 turns failure detection off (Kea: 10)",
    ),
});

/** A VLAN-style number (1 to 4094), for policies and templates. */
const vlanNumber = z.number().int().min(1, "a VLAN is 1 to 4094").max(4094, "a VLAN is 1 to 4094");

/** Routers of client subnets as address/prefix. */
const gateways = z
  .array(
    z
      .string()
      .regex(
        /^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2\d|30)$/,
        "a gateway is address/prefix, e.g. 192.168.10.1/24 (/16 to /30)",
      )
      .refine((s) => isPrefix(s, 4), "a gateway's address is four numbers 0 to 255, e.g. 192.168.10.1/24"),
  )
  .default([]);

/**
 * A VRF's boot server: a TFTP server (Debian's tftpd-hpa) on the VRF's backend network, serving
 * a folder of boot files. It answers on a service address of its own, the next-server the VRF's
 * Kea hands out; the relay routes the VRF's client subnets to that address, and nothing else.
 */
/** A VRF server's service address: unicast IPv4 outside the lab's own networks. */
const serviceAddress = (description: string, example: string) =>
  address(ipv4ToBytes, "IPv4")
    .refine(
      (a) => !a.startsWith("10.213.") && !/^(0|127|22[4-9]|2[3-5]\d)\./.test(a),
      "a unicast address outside the lab's own networks (10.213.0.0/16)",
    )
    .meta({ description, examples: [example] });

const bootServer = z.strictObject({
  address: serviceAddress(
    "its service address: the next-server (siaddr) the VRF's Kea hands out; a unicast address outside 10.213.0.0/16 and the VRF's client subnets",
    "172.31.10.30",
  ),
  files: z
    .string()
    .min(1)
    .meta({
      description:
        "the folder it serves, relative to the topology file; Debian's iPXE binaries (undionly.kpxe, ipxe.efi, snponly.efi) are served beside it unless the folder has files of those names",
      examples: ["pxe/RED"],
    }),
});

/**
 * A VRF's DNS server for dynamic updates: BIND 9 (Debian's bind9) on the VRF's backend network,
 * answering on a service address of its own, which the VRF's kea-dhcp-ddns sends its updates to
 * (the lab routes it from the VRF's Kea, and from nothing else). Its folder holds
 * named.conf.local (zones and TSIG keys, included by Debian's named.conf) and the zone files,
 * which BIND keeps in /var/lib/bind (zone files named there as "/var/lib/bind/NAME").
 */
const dnsServer = z.strictObject({
  address: serviceAddress(
    "its service address: the dns-servers ip-address of the VRF's kea-dhcp-ddns.conf; a unicast address outside 10.213.0.0/16",
    "172.31.10.53",
  ),
  files: z
    .string()
    .min(1)
    .meta({
      description:
        "its folder, relative to the topology file: named.conf.local (zones, TSIG keys) and the zone files it names under /var/lib/bind/",
      examples: ["dns/RED"],
    }),
});

/**
 * A VRF's RADIUS server: Debian's FreeRADIUS on the VRF's backend network, answering on a service
 * address of its own, which the VRF's Kea radius hook sends Access-Requests and accounting to (the
 * lab routes it from the VRF's Kea only). Its folder holds clients.conf (who may ask, the shared
 * secret) and authorize (the files module's users: who is accepted, with what).
 */
const radiusServer = z.strictObject({
  address: serviceAddress(
    "its service address: the access and accounting servers' name in the radius hook's parameters; a unicast address outside 10.213.0.0/16",
    "172.31.20.18",
  ),
  files: z
    .string()
    .min(1)
    .meta({
      description:
        "its folder, relative to the topology file: clients.conf and authorize (FreeRADIUS's users file)",
      examples: ["radius/BLUE"],
    }),
});

const vrf = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/, "a VRF name: a letter, then up to 15 letters, digits, '_' or '-'")
    .meta({ description: "the VRF's name, which the policy's rules send clients to", examples: ["RED"] }),
  keaConfig: z
    .string()
    .min(1)
    .meta({
      description:
        "folder with the VRF's Kea configuration, relative to the topology file: kea-dhcp4.conf and kea-dhcp6.conf (and kea-ctrl-agent.conf for Kea 2.6), or one subfolder per version (2.6/, 3.0/) from which the VRF's version is taken",
      examples: ["../kea-configs/RED"],
    }),
  kea: keaVersion.optional().describe("the VRF's Kea version; the lab-wide `kea` when absent"),
  servers: z
    .number()
    .int()
    .min(1)
    .max(4)
    .default(1)
    .describe(
      "Kea containers serving this VRF; the relay sends every request to each. More than one serves DHCPv6 only (independent DHCPv4 servers sharing one pool would each ACK the same client), unless they are an HA pair",
    ),
  ha: ha
    .optional()
    .describe("makes the VRF a Kea HA pair (two servers, peers over the VRF's backend network)"),
  families: z
    .array(z.union([z.literal(4), z.literal(6)], { error: "a family is 4 or 6" }))
    .min(1)
    .default([4, 6])
    .describe("the DHCP families the VRF serves: 4, 6 or both"),
  subnetSelection: z
    .enum(["link-selection", "giaddr"], {
      error: (i) => `subnetSelection ${JSON.stringify(i.input)} is not one of link-selection, giaddr`,
    })
    .default("link-selection")
    .describe(
      "how Kea learns the clients' link: link-selection (Option 82 sub-option 5, RFC 3527; giaddr is the relay's backend address) or giaddr (giaddr is link4, which Kea answers through the relay)",
    ),
  link4: address(ipv4ToBytes, "IPv4")
    .optional()
    .meta({
      description:
        "an address on the clients' link as Kea knows it: the Link Selection (or giaddr); needed for DHCPv4",
      examples: ["192.168.10.1"],
    }),
  link6: address(ipv6ToBytes, "IPv6")
    .optional()
    .meta({
      description: "RELAY-FORW's link-address: selects the VRF's DHCPv6 subnet in Kea; needed for DHCPv6",
      examples: ["fd00:10::1"],
    }),
  gateways: gateways.meta({
    description:
      "the routers of the VRF's client subnets (the `routers` Kea hands out), as address/prefix. The relay holds them on the VRF's first segment (the lab's first when it names none), as a real relay is its clients' router: clients renew and release by unicast through them, and the relay answers bound clients by unicast",
    examples: [["192.168.10.1/24", "192.168.11.1/24"]],
  }),
  gateways6: z
    .array(
      z
        .string()
        .regex(/^[0-9a-fA-F:]+\/64$/, "an IPv6 gateway is address/64, e.g. fd00:10::1/64")
        .refine((s) => {
          try {
            ipv6ToBytes(s.split("/")[0] ?? "");
            return true;
          } catch {
            return false;
          }
        }, "not an IPv6 address"),
    )
    .default([])
    .meta({
      description:
        "the routers of the VRF's IPv6 client subnets, as address/64: held by the relay on the VRF's first segment (the lab's first when it names none) and announced in its router advertisements there; the relay forwards them, and the prefixes delegated to the VRF's clients, between the VRF's segments and its backend only",
      examples: [["fd00:10::1/64"]],
    }),
  segments: z
    .array(z.string().min(1))
    .min(1)
    .optional()
    .meta({
      description:
        "the access segments (ports, VLANs) whose clients this VRF serves: its gateways are held on the first, the relay drops a client the policy sends to it from another segment (vrf-not-on-segment), and routes the VRF in a table of its own. Absent: every segment. VRFs whose client subnets overlap (tenants numbered alike) each need segments of their own",
      examples: [["red-port"]],
    }),
  bootServer: bootServer
    .optional()
    .describe("a TFTP boot server for the VRF's network-booting clients (PXE, iPXE), on its backend network"),
  dnsServer: dnsServer
    .optional()
    .describe(
      "a DNS server (BIND 9) on the VRF's backend network that the VRF's kea-dhcp-ddns updates (DDNS); its Kea folder then has kea-dhcp-ddns.conf",
    ),
  radiusServer: radiusServer
    .optional()
    .describe(
      "a RADIUS server (FreeRADIUS) on the VRF's backend network that the VRF's Kea radius hook asks and accounts to",
    ),
});

/**
 * Router advertisements from the relay on every access segment (Debian's radvd): the M and O
 * flags, and each VRF's gateways6 prefixes on its first segment (on-link, not for SLAAC) or none.
 */
const routerAdvertisements = z.strictObject({
  managed: z.boolean().default(true).describe("the M flag: addresses from DHCPv6"),
  other: z.boolean().default(true).describe("the O flag: other configuration from DHCPv6"),
  prefixes: z
    .boolean()
    .default(true)
    .describe(
      "announce each VRF's gateways6 prefixes on its first segment (the lab's first when it names none; on-link, not for SLAAC)",
    ),
  interval: duration
    .refine((ms) => ms >= 4000 && ms <= 1_800_000, "an interval of 4 s to 1800 s")
    .default(10_000)
    .describe("the longest interval between advertisements (RFC 4861 MaxRtrAdvInterval, 4 s to 1800 s)"),
  lifetime: z
    .union([z.literal(0), duration])
    .default(0)
    .describe(
      "router lifetime; 0: not a default router. Engine 20.10 fails to start a container whose RA default route came before Docker's own: set one only where no container starts on the segments while the lab runs",
    ),
});

/**
 * An access segment (a port or VLAN): its own internal network, on which the relay has an
 * interface. The policy matches on it (`segment`, `vlan`) and templates use `{segment}`, `{vlan}`.
 */
const segment = z.strictObject({
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,30}$/, "a segment name starts with a letter: letters, digits, '_', '-'")
    .meta({
      description: "the segment's name: the policy's `segment`, templates' {segment}",
      examples: ["port5"],
    }),
  vlan: vlanNumber
    .optional()
    .describe("a VLAN-style number for policies and templates ({vlan}); the segment is an untagged network"),
  gateways: gateways.meta({
    description: "routers of client subnets on this segment: the relay holds them on the segment's interface",
    examples: [["192.168.11.1/24"]],
  }),
});

/** The kinds of downstream relay a tower can be. */
export const TOWER_KINDS = ["isc-dhcp-relay", "dhcplab"] as const;

/**
 * A downstream relay (a tower router) in front of a subscriber segment of its own: it sets
 * giaddr to its subscriber-side address, adds its Option 82 and forwards by unicast to the
 * central relay over the transport network. The central relay routes that subnet to it.
 */
const tower = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-z][a-z0-9-]{0,30}$/,
      "a tower name: lower-case letters, digits and '-', starting with a letter",
    )
    .meta({
      description: "the tower's name: its container, and its subscriber segment (clients: --segment NAME)",
      examples: ["tower-a"],
    }),
  kind: z
    .enum(TOWER_KINDS, {
      error: (i) => `kind ${JSON.stringify(i.input)} is not one of ${TOWER_KINDS.join(", ")}`,
    })
    .describe(
      "Debian's isc-dhcp-relay (dhcrelay -a: Circuit-ID = its subscriber interface), or dhcplab's relay as an edge relay",
    ),
  address: z
    .string()
    .regex(
      /^\d+\.\d+\.\d+\.\d+\/(1[6-9]|2\d|30)$/,
      "the tower's subscriber-side address/prefix, e.g. 100.64.1.1/24 (/16 to /30)",
    )
    .meta({
      description:
        "its address on its subscriber segment, with the prefix: the giaddr it sets, its clients' router",
      examples: ["100.64.1.1/24"],
    }),
  address6: z
    .string()
    .regex(/^[0-9a-fA-F:]+\/64$/, "the tower's subscriber-side IPv6 address/64, e.g. fd00:a::1/64")
    .optional()
    .meta({
      description:
        "DHCPv6: its subscriber-side address/64, the link-address of its RELAY-FORW (without it, DHCPv4 only)",
      examples: ["fd00:a::1/64"],
    }),
  policy: z
    .string()
    .optional()
    .describe(
      "dhcplab towers: their policy file (relative to the topology); default: Circuit-ID {relay}:{segment}, Remote-ID {mac}",
    ),
  port: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_-]{0,30}$/, "a port name starts with a letter: letters, digits, '_', '-'")
    .default("subscribers")
    .describe("dhcplab towers: the name of their subscriber port, the policy's {segment}"),
  vlan: vlanNumber
    .optional()
    .describe("dhcplab towers: the VLAN of their subscriber port, the policy's {vlan}"),
});

/** The lab's one segment when the topology names none. */
export const DEFAULT_SEGMENTS = [{ name: "access", gateways: [] as string[] }];

/** The topology file's schema: the VRFs and the relay; everything else is derived. */
export const topologySchema = z
  .strictObject({
    kea: keaVersion.default("3.0").describe("the Kea version of every VRF that names none"),
    vrfs: z
      .array(vrf)
      .min(1, "a lab has at least one VRF")
      .max(32, "at most 32 VRFs")
      .describe("the VRFs: each gets its own Kea on its own internal backend network"),
    segments: z
      .array(segment)
      .min(1)
      .max(16, "at most 16 segments")
      .default(DEFAULT_SEGMENTS)
      .describe(
        "the access segments (ports, VLANs), each a network of its own; the first is where clients go unless told otherwise, and the gateways of VRFs that name no segments are held there",
      ),
    towers: z
      .array(tower)
      .max(8, "at most 8 towers")
      .default([])
      .describe("downstream relays (tower routers), each in front of a subscriber segment of its own"),
    relay: z
      .strictObject({
        policy: z
          .string()
          .optional()
          .meta({
            description:
              "a policy file, relative to the topology file; the relay's embedded default when absent",
            examples: ["policy.yaml"],
          }),
        hostname: z
          .string()
          .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i, "a hostname: letters, digits and '-'")
          .default("relay")
          .describe("the relay container's hostname: policy templates' {relay}"),
        logLevel: z
          .enum(LOG_LEVELS)
          .optional()
          .describe(
            "the relay's log level (info when absent); debug logs each message relayed with its rule and VRF. `up --log-level` overrides it, `dhcplab log-level relay LEVEL` changes it at run time",
          ),
        routerAdvertisements: routerAdvertisements
          .optional()
          .describe("router advertisements on the access segments (Debian's radvd); none when absent"),
        datapath: z
          .enum(["native", "node"])
          .optional()
          .describe(
            "how the relay moves datagrams: native (its addon: one recvmmsg per wake-up, one sendmmsg per socket per turn; the default) or node (Node's dgram, a system call per datagram: the fallback)",
          ),
      })
      .default({ hostname: "relay" })
      .describe("the lab's relay"),
  })
  .superRefine((t, ctx) => {
    const names = new Set<string>();
    t.segments.forEach((s, i) => {
      const n = s.name.toLowerCase();
      if (names.has(n))
        ctx.addIssue({
          code: "custom",
          path: ["segments", i, "name"],
          message: `duplicate segment ${s.name}`,
        });
      if (t.vrfs.some((v) => v.name.toLowerCase() === n))
        ctx.addIssue({
          code: "custom",
          path: ["segments", i, "name"],
          message: `segment ${s.name} has a VRF's name: each is a network of the lab, named after it`,
        });
      names.add(n);
    });
    t.towers.forEach((w, i) => {
      if (names.has(w.name) || t.vrfs.some((v) => v.name.toLowerCase() === w.name) || w.name === "transport")
        ctx.addIssue({
          code: "custom",
          path: ["towers", i, "name"],
          message: `tower ${w.name} has the name of a segment, a VRF or the transport network: each is a network of the lab`,
        });
      names.add(w.name);
      if (w.kind !== "dhcplab" && (w.policy !== undefined || w.vlan !== undefined))
        ctx.addIssue({
          code: "custom",
          path: ["towers", i, w.policy !== undefined ? "policy" : "vlan"],
          message: `${w.kind} takes no policy or vlan: it adds Circuit-ID = its subscriber interface (isc-dhcp-relay -a)`,
        });
    });
    if (names.has("transport"))
      ctx.addIssue({
        code: "custom",
        path: ["segments"],
        message: "transport is the towers' network: name the segment otherwise",
      });
    checkVrfSegments(t, ctx);
    const seen = new Set<string>();
    // Service addresses: each server its own (the relay and Kea route each to one container).
    const serviceAddresses = new Map<string, string>();
    t.vrfs.forEach((v, i) => {
      for (const field of ["bootServer", "dnsServer", "radiusServer"] as const) {
        const a = v[field]?.address;
        if (!a) continue;
        const holder = serviceAddresses.get(a);
        if (holder)
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, field, "address"],
            message: `${a} is ${holder} already: each server has a service address of its own`,
          });
        serviceAddresses.set(a, `VRF ${v.name}'s ${field}`);
      }
      if (seen.has(v.name.toLowerCase()))
        ctx.addIssue({ code: "custom", path: ["vrfs", i, "name"], message: `duplicate VRF ${v.name}` });
      seen.add(v.name.toLowerCase());
      if (v.families.includes(4) && !v.link4)
        ctx.addIssue({ code: "custom", path: ["vrfs", i], message: "DHCPv4 needs link4" });
      if (v.families.includes(6) && !v.link6)
        ctx.addIssue({ code: "custom", path: ["vrfs", i], message: "DHCPv6 needs link6" });
      if (v.gateways6.length > 0 && !v.families.includes(6))
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "gateways6"],
          message: "gateways6 without DHCPv6: add 6 to families",
        });
      if (v.bootServer && !v.families.includes(4))
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "bootServer"],
          message: "a boot server without DHCPv4: PXE boots over DHCPv4, add 4 to families",
        });
      if (v.bootServer && v.gateways.length === 0)
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "bootServer"],
          message: "a boot server needs the VRF's gateways: the relay routes those client subnets to it",
        });
      // A server's service address is routed to it on the backend: one in a client subnet, the
      // link address or a tower's subnet would take Kea's answers to those away from the relay.
      for (const field of ["bootServer", "dnsServer", "radiusServer"] as const) {
        const a = v[field]?.address;
        // An address or a prefix refused by its own field's check is compared with nothing.
        if (!a || !isPrefix(`${a}/32`, 4)) continue;
        const what = {
          bootServer: "the boot server",
          dnsServer: "the DNS server",
          radiusServer: "the RADIUS server",
        }[field];
        const inside = v.gateways.find((g) => isPrefix(g, 4) && inPrefix(a, g));
        const tower = t.towers.find((w) => isPrefix(w.address, 4) && inPrefix(a, w.address));
        const reason = inside
          ? `in the client subnet of gateway ${inside}`
          : a === v.link4
            ? "the VRF's link4"
            : tower
              ? `in tower ${tower.name}'s subnet ${tower.address}`
              : undefined;
        if (reason)
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, field, "address"],
            message: `${what}'s address is ${reason}: give it one behind the relay`,
          });
      }
      if (v.ha && v.servers > 2)
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "servers"],
          message: `servers: ${v.servers} with ha: an HA pair is two servers (leave servers out)`,
        });
      if (v.servers > 1 && v.families.includes(4) && !v.ha)
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "servers"],
          message: `servers: ${v.servers} with DHCPv4: independent Kea servers sharing one pool would each ACK the same client; use servers: 1, families: [6], or ha`,
        });
    });
  })
  // An HA pair is two servers.
  .transform((t) => ({ ...t, vrfs: t.vrfs.map((v) => (v.ha ? { ...v, servers: 2 } : v)) }));

/**
 * VRFs' segments: each names a segment of the lab, and VRFs whose client subnets overlap (their
 * gateways, or gateways6) are told apart by their segments, none shared; a segment holds no two
 * gateways of one subnet.
 */
function checkVrfSegments(
  t: { vrfs: z.output<typeof vrf>[]; segments: z.output<typeof segment>[] },
  ctx: z.RefinementCtx,
): void {
  const segmentNames = new Set(t.segments.map((s) => s.name));
  t.vrfs.forEach((v, i) => {
    v.segments?.forEach((name, j) => {
      if (!segmentNames.has(name))
        ctx.addIssue({
          code: "custom",
          path: ["vrfs", i, "segments", j],
          message: `segment ${name} is not one of the topology's: ${[...segmentNames].join(", ")}`,
        });
    });
    for (const [field, family] of [
      ["gateways", 4],
      ["gateways6", 6],
    ] as const) {
      v[field].forEach((gateway, j) => {
        const other = overlapOnSharedSegment(t.vrfs, i, (w) => w[field], gateway, family);
        if (other)
          ctx.addIssue({
            code: "custom",
            path: ["vrfs", i, field, j],
            message: `${gateway} overlaps VRF ${other.name}'s client subnets on a segment both serve: VRFs numbered alike each need segments of their own (vrfs[].segments, none shared)`,
          });
      });
    }
  });
  // A segment's own gateways beside those of the VRFs held there: no subnet twice on one link.
  t.segments.forEach((s, i) => {
    const held = t.vrfs
      .filter((v) => homeSegmentName(t, v) === s.name)
      .flatMap((v) => v.gateways.map((g) => ({ g, who: `VRF ${v.name}` })))
      .filter((h) => isPrefix(h.g, 4));
    s.gateways.forEach((gateway, j) => {
      if (!isPrefix(gateway, 4)) return;
      const own = s.gateways.slice(0, j).filter((g) => isPrefix(g, 4));
      const clash = [...held, ...own.map((g) => ({ g, who: `segment ${s.name}` }))].find((h) =>
        prefixesOverlap(h.g, gateway),
      );
      if (clash)
        ctx.addIssue({
          code: "custom",
          path: ["segments", i, "gateways", j],
          message: `${gateway} overlaps ${clash.g} of ${clash.who}, held on this segment too: one subnet is one link`,
        });
    });
  });
}

/** The segment a VRF's gateways are held on: its first, else the lab's first. */
export function homeSegmentName(t: Pick<Topology, "segments">, v: Pick<VrfSpec, "segments">): string {
  return v.segments?.[0] ?? (t.segments[0]?.name as string);
}

/** A topology as its file says it, with paths made absolute. */
export type Topology = z.output<typeof topologySchema>;
/** One VRF of a topology. */
export type VrfSpec = Topology["vrfs"][number];
/** One access segment of a topology. */
export type SegmentSpec = Topology["segments"][number];
/** One tower (downstream relay) of a topology. */
export type TowerSpec = Topology["towers"][number];

/** A VRF's Kea version: its own, or the lab's. */
export function keaVersionOf(topology: Topology, v: VrfSpec): KeaVersion {
  return v.kea ?? topology.kea;
}

/** The topology with another lab-wide Kea version (`dhcplab up --kea`); VRFs that name one keep it. */
export function withKea(topology: Topology, kea: KeaVersion): Topology {
  return { ...topology, kea };
}

/** The embedded default: the classic RED/BLUE scenario. */
export const DEFAULT_TOPOLOGY_TEXT = `# dhcplab topology: the classic scenario.
kea: "3.0"                         # every VRF's Kea version unless it names its own (or 2.6)
vrfs:
  - name: RED
    keaConfig: kea-configs/RED     # 2.6/ and 3.0/: VIDEO 192.168.10.0/24 + DATA 192.168.11.0/24, fd00:10::/64 + fd00:11::/64
    link4: 192.168.10.1            # RFC 3527 Link Selection: picks RED's shared network
    link6: fd00:10::1              # RELAY-FORW link-address
    gateways: [192.168.10.1/24, 192.168.11.1/24]   # the clients' routers: the relay holds them
    gateways6: [fd00:10::1/64, fd00:11::1/64]      # IPv6 too; delegated prefixes fd10:100::/48, fd11:100::/48
  - name: BLUE
    keaConfig: kea-configs/BLUE    # 192.168.20.0/24, fd00:20::/64
    link4: 192.168.20.1
    link6: fd00:20::1
    gateways: [192.168.20.1/24]
    gateways6: [fd00:20::1/64]     # delegated prefixes fd20:100::/48
relay:
  # policy: my-policy.yaml         # default: the relay's embedded policy
  routerAdvertisements: { managed: true, other: true }   # M and O: hosts use DHCPv6
`;

function absolutize(t: Topology, base: string): Topology {
  const abs = (p: string) => (isAbsolute(p) ? p : join(base, p));
  return {
    kea: t.kea,
    vrfs: t.vrfs.map((v) => ({
      ...v,
      keaConfig: abs(v.keaConfig),
      ...(v.bootServer ? { bootServer: { ...v.bootServer, files: abs(v.bootServer.files) } } : {}),
      ...(v.dnsServer ? { dnsServer: { ...v.dnsServer, files: abs(v.dnsServer.files) } } : {}),
      ...(v.radiusServer ? { radiusServer: { ...v.radiusServer, files: abs(v.radiusServer.files) } } : {}),
    })),
    segments: t.segments,
    towers: t.towers.map((w) => (w.policy ? { ...w, policy: abs(w.policy) } : w)),
    relay: { ...t.relay, ...(t.relay.policy ? { policy: abs(t.relay.policy) } : {}) },
  };
}

/** Parses and validates topology text; paths are relative to `base`. Throws ConfigError. */
export function parseTopology(text: string, file: string, base: string): Topology {
  return absolutize(parseYamlConfig(text, file, topologySchema), base);
}

/** The topology in `file`, or the embedded default when no file is given. */
export async function loadTopology(file?: string): Promise<Topology> {
  if (!file) return parseTopology(DEFAULT_TOPOLOGY_TEXT, "(embedded default topology)", ROOT);
  return parseTopology(await readFile(file, "utf8"), file, dirname(file));
}
