import { z } from "zod";
import type { RelayInfo } from "./relay-info.ts";

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
  family: z.union([z.literal(4), z.literal(6)]).default(4),
  mac: z.string().regex(MAC, "mac: not a MAC address such as 00:aa:02:00:00:07"),
  /** The access segment it is on (the first when absent). */
  segment: z.string().optional(),
  vendorClass: z.string().min(1).optional(),
  userClass: z.string().min(1).optional(),
  hostname: z.string().min(1).optional(),
  /** DHCPv6: the type of its DUID (LL when absent); EN takes `enterprise`. */
  duidType: z.enum(["LLT", "EN", "LL", "UUID"]).optional(),
  /** The enterprise number of a DUID-EN, or of a DHCPv6 vendor class. */
  enterprise: z.number().int().min(0).max(0xffffffff).optional(),
});
export type ExplainRequest = z.input<typeof explainRequestSchema>;

/** The facts of a client to explain, defaults filled in. */
export type ExplainFacts = z.output<typeof explainRequestSchema>;

/** explain's answer: the decision, what the relay would add, and the VRF's servers it would send to. */
export type Explanation = Omit<RelayDecision, "at"> & { servers?: string[] };
