import * as z from "zod/mini";
import type { RelayInfo } from "./relay-info.ts";
import "./zod-english.ts";

// What the relay decides for a client message, as its journal keeps it and as `dhcplab explain`
// and `trace` report it; and the client that explain is asked about. Shared by the relay (which
// decides) and the orchestrator (which asks).

/** What the relay did with one client message: the rule and VRF, or why it dropped it. */
export interface RelayDecision {
  /** When (ISO 8601). */
  at: string;
  family: 4 | 6;
  /** The client's message type (DISCOVER, SOLICIT, ...), also inside a downstream relay's packet. */
  type: string;
  /** The client's MAC: DHCPv4 chaddr; DHCPv6 from its DUID, Client Link-Layer Address or link-local address. */
  mac?: string;
  /** DHCPv6: the client's DUID, hex with colons. */
  duid?: string;
  /** DHCPv4 xid / DHCPv6 transaction-id, hex. */
  transaction: string;
  /** The access segment it came in on. */
  segment: string;
  /** A downstream relay's giaddr (DHCPv4), when one relayed it here. */
  downstream?: string;
  action: "relay" | "drop";
  /** The policy rule that decided; `(unmatched)` when none matched and `unmatched` sent it on. */
  rule?: string;
  vrf?: string;
  /** Why it was dropped (a drop counter's reason). */
  reason?: string;
  /** What the relay added, as the VRF's servers see it. */
  added?: RelayInfo;
  /** DHCPv4: the giaddr the servers see. */
  giaddr?: string;
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;

/** A client to explain: what it sends, and where it is. */
export const explainRequestSchema = z.strictObject({
  family: z._default(z.union([z.literal(4), z.literal(6)]), 4),
  mac: z.string().check(z.regex(MAC, "mac: not a MAC address such as 00:aa:02:00:00:07")),
  /** The access segment it is on (the first when absent). */
  segment: z.optional(z.string()),
  vendorClass: z.optional(z.string().check(z.minLength(1))),
  userClass: z.optional(z.string().check(z.minLength(1))),
  hostname: z.optional(z.string().check(z.minLength(1))),
  /** DHCPv6: the type of its DUID (LL when absent); EN takes `enterprise`. */
  duidType: z.optional(z.enum(["LLT", "EN", "LL", "UUID"])),
  /** The enterprise number of a DUID-EN, or of a DHCPv6 vendor class. */
  enterprise: z.optional(z.number().check(z.int(), z.gte(0), z.lte(0xffffffff))),
});
export type ExplainRequest = z.input<typeof explainRequestSchema>;

/** The facts of a client to explain, defaults filled in. */
export type ExplainFacts = z.output<typeof explainRequestSchema>;

/** explain's answer: the decision, what the relay would add, and the VRF's servers it would send to. */
export type Explanation = Omit<RelayDecision, "at"> & { servers?: string[] };
