import { z } from "zod";
import { DUID } from "../codec/dhcp6/codes.ts";

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

const templated = z
  .string()
  .min(1, "must not be empty")
  .max(250, "longer than fits in an option")
  .refine(
    (s) =>
      [...s.matchAll(/\{([^}]*)\}/g)].every((m) =>
        (TEMPLATE_FIELDS as readonly string[]).includes(m[1] ?? ""),
      ),
    {
      message: `unknown placeholder: use {${TEMPLATE_FIELDS.join("}, {")}}`,
    },
  );

const HEX = "[0-9a-fA-F]{2}";
const MAC_TEXT = `${HEX}(?::${HEX}){0,15}`;

/** `00:aa:01:00:00:01` exact, `00:aa:01:*` prefix, or `00:aa:01:00:00:00/ff:ff:ff:00:00:00` value/mask. */
export const macPattern = z
  .string()
  .regex(
    new RegExp(`^(${MAC_TEXT}(:\\*)?|${MAC_TEXT}/${MAC_TEXT}|\\*)$`),
    "not a MAC pattern: write 00:aa:01:00:00:01, 00:aa:01:* or 00:aa:01:00:00:00/ff:ff:ff:00:00:00",
  );

const DUID_TYPES = { LLT: DUID.LLT, EN: DUID.EN, LL: DUID.LL, UUID: DUID.UUID } as const;

/** A DUID type by name (LLT, EN, LL, UUID) or number. */
const duidType = z.union([
  z.enum(["LLT", "EN", "LL", "UUID"], {
    error: (i) => `unknown DUID type ${JSON.stringify(i.input)}: use LLT, EN, LL, UUID or a number`,
  }),
  z.number().int().min(0).max(0xffff),
]);

/** Which client messages a rule looks at. */
const match = z.strictObject({
  family: z.union([z.literal(4), z.literal(6)], { error: "family is 4 or 6" }).optional(),
  mac: macPattern.optional(),
  duidType: duidType.optional(),
  enterprise: z.number().int().min(0).max(0xffffffff).optional(),
  vendorClass: z.string().optional(),
  userClass: z.string().optional(),
  hostname: z.string().optional(),
  circuitId: z.string().optional(),
  remoteId: z.string().optional(),
  /** The access segment the message came in on (a glob). */
  segment: z.string().optional(),
  vlan: z.number().int().min(1).max(4094).optional(),
  /** DHCPv4: the downstream relay's giaddr, an address or a prefix (10.64.1.1, 10.64.0.0/16). */
  giaddr: z
    .string()
    .regex(
      /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}(\/(3[0-2]|[12]?\d))?$/,
      "not an IPv4 address or prefix such as 10.64.1.1 or 10.64.0.0/16",
    )
    .optional(),
});

const option82 = z.strictObject({
  circuitId: templated.optional(),
  remoteId: templated.optional(),
  subscriberId: templated.optional(),
});

const dhcp6Options = z.strictObject({
  interfaceId: templated.optional(),
  remoteId: z.strictObject({ enterprise: z.number().int().min(0).max(0xffffffff), id: templated }).optional(),
  subscriberId: templated.optional(),
  clientLinkLayerAddress: z.boolean().optional(),
});

const rule = z
  .strictObject({
    name: z
      .string()
      .min(1)
      .regex(/^[A-Za-z0-9_.-]+$/, "use letters, digits, '_', '.' and '-'"),
    match: match.default({}),
    vrf: z.string().min(1).optional(),
    drop: z.literal(true, { error: "drop is true or absent" }).optional(),
    option82: option82.optional(),
    dhcp6: dhcp6Options.optional(),
  })
  .refine((r) => (r.vrf === undefined) !== (r.drop === undefined), {
    message: "a rule has either vrf or drop: true",
  });

/** An IPv4 prefix such as 10.0.0.0/8. */
const cidr4 = z
  .string()
  .regex(
    /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/,
    "not an IPv4 prefix such as 10.0.0.0/8",
  );

const ENUM = <T extends readonly [string, ...string[]]>(field: string, values: T) =>
  z.enum(values, { error: (i) => `${field} ${JSON.stringify(i.input)} is not one of ${values.join(", ")}` });

/** The policy file's schema (version 1). */
export function policySchema(knownVrfs?: readonly string[]) {
  const vrf = z.string().min(1);
  return z
    .strictObject({
      version: z.literal(1, { error: "version must be 1" }),
      unmatched: z
        .union([z.literal("drop"), z.strictObject({ vrf })], {
          error: 'unmatched is "drop" or { vrf: NAME }',
        })
        .default("drop"),
      relayedClients: ENUM("relayedClients", ["forward", "takeover"]).default("forward"),
      existingOption82: ENUM("existingOption82", ["discard", "append", "replace", "forward"]).default(
        "discard",
      ),
      // RFC 1542 §4.1.1: discard when hops exceeds the limit (at most 16); the default SHOULD be 4.
      maxHops: z.number().int().min(0).max(16, "maxHops is at most 16 (RFC 1542 §4.1.1)").default(4),
      maxHopCount6: z.number().int().min(1).max(32).default(8),
      /** Downstream DHCPv4 relays trusted beyond those whose giaddr is their own source address. */
      trustedRelays: z.array(cidr4).default([]),
      rules: z.array(rule).default([]),
    })
    .superRefine((p, ctx) => {
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
    });
}

/** A policy as the file says it, defaults filled in. */
export type PolicyDocument = z.output<ReturnType<typeof policySchema>>;
/** One rule of a policy document. */
export type RuleDocument = PolicyDocument["rules"][number];

/** The number of a DUID type written by name or number. */
export function duidTypeNumber(t: keyof typeof DUID_TYPES | number): number {
  return typeof t === "number" ? t : DUID_TYPES[t];
}
