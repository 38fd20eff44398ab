import * as z from "zod/mini";
import { DUID } from "../codec/dhcp6/codes.ts";
import "../zod-english.ts";

/** What can stand in `{...}` in a value the policy adds. */
export const TEMPLATE_FIELDS = [
  "vrf",
  "mac",
  "rule",
  "duid",
  "hostname",
  "segment",
  "vlan",
  "relay",
] as const;

const templated = z.string().check(
  z.minLength(1, "must not be empty"),
  z.maxLength(250, "longer than fits in an option"),
  z.refine(
    (s) =>
      [...s.matchAll(/\{([^}]*)\}/g)].every((m) =>
        (TEMPLATE_FIELDS as readonly string[]).includes(m[1] ?? ""),
      ),
    {
      message: `unknown placeholder: use {${TEMPLATE_FIELDS.join("}, {")}}`,
    },
  ),
);

const HEX = "[0-9a-fA-F]{2}";
const MAC_TEXT = `${HEX}(?::${HEX}){0,15}`;

/** `00:aa:01:00:00:01` exact, `00:aa:01:*` prefix, or `00:aa:01:00:00:00/ff:ff:ff:00:00:00` value/mask. */
export const macPattern = z
  .string()
  .check(
    z.regex(
      new RegExp(`^(${MAC_TEXT}(:\\*)?|${MAC_TEXT}/${MAC_TEXT}|\\*)$`),
      "not a MAC pattern: write 00:aa:01:00:00:01, 00:aa:01:* or 00:aa:01:00:00:00/ff:ff:ff:00:00:00",
    ),
  );

const DUID_TYPES = { LLT: DUID.LLT, EN: DUID.EN, LL: DUID.LL, UUID: DUID.UUID } as const;

/** A DUID type by name (LLT, EN, LL, UUID) or number. */
const duidType = z.union([
  z.enum(["LLT", "EN", "LL", "UUID"], {
    error: (i) => `unknown DUID type ${JSON.stringify(i.input)}: use LLT, EN, LL, UUID or a number`,
  }),
  z.number().check(z.int(), z.gte(0), z.lte(0xffff)),
]);

/** Which client messages a rule looks at. */
const match = z.strictObject({
  family: z
    .optional(z.union([z.literal(4), z.literal(6)], { error: "family is 4 or 6" }))
    .check(z.describe("the message's family: 4 or 6")),
  mac: z.optional(macPattern).check(
    z.meta({
      description:
        "the client's MAC: exact, a prefix (00:aa:01:*) or value/mask; DHCPv4 chaddr, DHCPv6 the DUID's, a downstream relay's Client Link-Layer Address, or the EUI-64 of the link-local source",
      examples: ["00:aa:01:*"],
    }),
  ),
  duidType: z.optional(duidType).check(z.describe("DHCPv6: the DUID's type: LLT, EN, LL, UUID or a number")),
  enterprise: z
    .optional(z.number().check(z.int(), z.gte(0), z.lte(0xffffffff)))
    .check(z.describe("the enterprise number of a DUID-EN or of the vendor class")),
  vendorClass: z
    .optional(z.string())
    .check(z.describe("the vendor class (option 60 / 16), a glob with * and ?")),
  userClass: z.optional(z.string()).check(z.describe("the user class (option 77 / 15), a glob")),
  hostname: z
    .optional(z.string())
    .check(z.describe("the client's hostname (option 12 / the FQDN), a glob, any case")),
  circuitId: z
    .optional(z.string())
    .check(z.describe("a Circuit-ID a downstream relay already inserted, a glob")),
  remoteId: z
    .optional(z.string())
    .check(z.describe("a Remote-ID a downstream relay already inserted, a glob")),
  segment: z.optional(z.string()).check(z.describe("the access segment the message came in on, a glob")),
  vlan: z
    .optional(z.number().check(z.int(), z.gte(1), z.lte(4094)))
    .check(z.describe("the VLAN of the access segment it came in on")),
  giaddr: z
    .optional(
      z
        .string()
        .check(
          z.regex(
            /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/(3[0-2]|[12]?\d))?$/,
            "not an IPv4 address or prefix such as 10.64.1.1 or 10.64.0.0/16",
          ),
        ),
    )
    .check(
      z.meta({
        description: "DHCPv4: the downstream relay's giaddr, an address or a prefix",
        examples: ["100.64.0.0/16"],
      }),
    ),
});

const option82 = z.strictObject({
  circuitId: z
    .optional(templated)
    .check(z.meta({ description: "sub-option 1 (RFC 3046), a template", examples: ["VIDEO_CIRCUIT"] })),
  remoteId: z
    .optional(templated)
    .check(z.meta({ description: "sub-option 2 (RFC 3046), a template", examples: ["{mac}"] })),
  subscriberId: z.optional(templated).check(z.describe("sub-option 6 (RFC 3993), a template")),
});

const dhcp6Options = z.strictObject({
  interfaceId: z
    .optional(templated)
    .check(
      z.meta({ description: "Interface-ID (option 18, RFC 8415), a template", examples: ["V6_VIDEO_LINK"] }),
    ),
  remoteId: z
    .optional(
      z.strictObject({
        enterprise: z
          .number()
          .check(z.int(), z.gte(0), z.lte(0xffffffff), z.describe("the enterprise number")),
        id: templated.check(z.describe("the remote-id, a template")),
      }),
    )
    .check(z.describe("Remote-ID (option 37, RFC 4649)")),
  subscriberId: z.optional(templated).check(z.describe("Subscriber-ID (option 38, RFC 4580), a template")),
  clientLinkLayerAddress: z
    .optional(z.boolean())
    .check(z.describe("adds the Client Link-Layer Address (option 79, RFC 6939)")),
});

/**
 * RFC 6607 Virtual Subnet Selection: the VPN the client is in, for a server that serves several.
 * A name (type 0, NVT ASCII, a template such as "{vrf}") or an RFC 2685 VPN-ID (type 1: OUI and
 * index in hex).
 */
const vss = z.union(
  [
    templated,
    z.strictObject({
      vpnId: z
        .string()
        .check(
          z.regex(
            /^[0-9a-fA-F]{6}:[0-9a-fA-F]{8}$/,
            "an RFC 2685 VPN-ID: OUI:index in hex, e.g. 00000a:00000001",
          ),
          z.describe("an RFC 2685 VPN-ID: its OUI (3 bytes) and index (4 bytes) in hex"),
        ),
    }),
  ],
  { error: 'vss is a VPN name (a template such as "{vrf}") or { vpnId: OUI:index }' },
);

const rule = z
  .strictObject({
    name: z.string().check(
      z.minLength(1),
      z.regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.' and '-'"),
      z.meta({
        description: "the rule's name: counted per decision, templates' {rule}",
        examples: ["red-video"],
      }),
    ),
    match: z
      ._default(match, {})
      .check(
        z.describe(
          "what the message must be for the rule to decide; every field given must hold (none: any)",
        ),
      ),
    vrf: z
      .optional(z.string().check(z.minLength(1)))
      .check(z.describe("the VRF the message goes to (or drop: true)")),
    drop: z
      .optional(z.literal(true, { error: "drop is true or absent" }))
      .check(z.describe("drops the message, counted")),
    option82: z.optional(option82).check(z.describe("DHCPv4: the Relay Agent Information the relay adds")),
    dhcp6: z
      .optional(dhcp6Options)
      .check(z.describe("DHCPv6: the relay options the relay adds to its RELAY-FORW")),
    vss: z.optional(vss).check(
      z.meta({
        description:
          "RFC 6607 Virtual Subnet Selection, both families: DHCPv4 sub-options 151 (VSS) and 152 (VSS-Control) in Option 82, DHCPv6 OPTION_VSS (68) in the RELAY-FORW; a VPN name (type 0, a template) or { vpnId: OUI:index } (type 1, RFC 2685)",
        examples: ["{vrf}"],
      }),
    ),
  })
  .check(
    z.refine((r) => (r.vrf === undefined) !== (r.drop === undefined), {
      message: "a rule has either vrf or drop: true",
    }),
  );

/** An IPv4 prefix such as 10.0.0.0/8. */
const cidr4 = z
  .string()
  .check(
    z.regex(
      /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/,
      "not an IPv4 prefix such as 10.0.0.0/8",
    ),
  );

const ENUM = <T extends readonly [string, ...string[]]>(field: string, values: T) =>
  z.enum(values, { error: (i) => `${field} ${JSON.stringify(i.input)} is not one of ${values.join(", ")}` });

/** The policy file's schema (version 1). */
export function policySchema(knownVrfs?: readonly string[]) {
  const vrf = z.string().check(z.minLength(1));
  return z
    .strictObject({
      version: z.literal(1, { error: "version must be 1" }).check(z.describe("the policy format's version")),
      unmatched: z
        ._default(
          z.union([z.literal("drop"), z.strictObject({ vrf })], {
            error: 'unmatched is "drop" or { vrf: NAME }',
          }),
          "drop",
        )
        .check(z.describe("what happens to a message no rule matches: dropped (counted), or sent to a VRF")),
      relayedClients: z
        ._default(ENUM("relayedClients", ["forward", "takeover"]), "forward")
        .check(
          z.describe(
            "DHCPv4 messages with giaddr set (a downstream relay): forward (RFC 3046: hops + 1, sent on unchanged) or takeover (this policy applies as for a client, the reply goes back to giaddr:67)",
          ),
        ),
      existingOption82: z
        ._default(ENUM("existingOption82", ["discard", "append", "replace", "forward"]), "discard")
        .check(
          z.describe(
            "Option 82 a client sent itself (RFC 3046 §2.1: untrusted), as isc-dhcp-relay's -m; append and forward never keep a sub-option this relay sets",
          ),
        ),
      // RFC 1542 §4.1.1: discard when hops exceeds the limit (at most 16); the default SHOULD be 4.
      maxHops: z
        ._default(
          z.number().check(z.int(), z.gte(0), z.lte(16, "maxHops is at most 16 (RFC 1542 §4.1.1)")),
          4,
        )
        .check(z.describe("DHCPv4: a request whose hops exceeds this is discarded (RFC 1542 §4.1.1)")),
      maxHopCount6: z
        ._default(z.number().check(z.int(), z.gte(1), z.lte(32)), 8)
        .check(
          z.describe("DHCPv6: a RELAY-FORW whose hop-count has reached this is discarded (RFC 8415 §19.1.2)"),
        ),
      trustedRelays: z._default(z.array(cidr4), []).check(
        z.meta({
          description:
            "downstream DHCPv4 relays trusted beyond those whose giaddr is their own source address",
          examples: [["100.64.0.0/16"]],
        }),
      ),
      vssReplies: z
        ._default(ENUM("vssReplies", ["strict", "lenient"]), "strict")
        .check(
          z.describe(
            "replies to a request sent with VSS from a server that shows it did not process VSS (RFC 6607: a DHCPv4 reply that still carries VSS-Control, a RELAY-REPL without OPTION_VSS): strict drops them (vss-not-supported), lenient relays them and counts a notice (Kea 3.0 does both: it classifies on VSS but implements no VSS reply)",
          ),
        ),
      rules: z
        ._default(z.array(rule), [])
        .check(z.describe("tried in order; the first whose match holds decides")),
    })
    .check(
      z.superRefine((p, ctx) => {
        const names = new Set<string>();
        p.rules.forEach((r, i) => {
          if (names.has(r.name))
            ctx.addIssue({
              code: "custom",
              path: ["rules", i, "name"],
              message: `duplicate rule name ${r.name}`,
            });
          names.add(r.name);
          if (knownVrfs && r.vrf !== undefined && !knownVrfs.includes(r.vrf)) {
            ctx.addIssue({
              code: "custom",
              path: ["rules", i, "vrf"],
              message: `unknown VRF ${r.vrf}: the lab has ${knownVrfs.join(", ")}`,
            });
          }
        });
        if (knownVrfs && typeof p.unmatched === "object" && !knownVrfs.includes(p.unmatched.vrf)) {
          ctx.addIssue({
            code: "custom",
            path: ["unmatched", "vrf"],
            message: `unknown VRF ${p.unmatched.vrf}: the lab has ${knownVrfs.join(", ")}`,
          });
        }
      }),
    );
}

/** A policy as the file says it, defaults filled in. */
export type PolicyDocument = z.output<ReturnType<typeof policySchema>>;
/** One rule of a policy document. */
export type RuleDocument = PolicyDocument["rules"][number];

/** The number of a DUID type written by name or number. */
export function duidTypeNumber(t: keyof typeof DUID_TYPES | number): number {
  return typeof t === "number" ? t : DUID_TYPES[t];
}
