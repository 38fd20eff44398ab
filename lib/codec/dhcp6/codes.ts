/** DHCPv6 message types (RFC 8415 §7.3). */
export const MSG6 = {
  SOLICIT: 1,
  ADVERTISE: 2,
  REQUEST: 3,
  CONFIRM: 4,
  RENEW: 5,
  REBIND: 6,
  REPLY: 7,
  RELEASE: 8,
  DECLINE: 9,
  RECONFIGURE: 10,
  INFORMATION_REQUEST: 11,
  RELAY_FORW: 12,
  RELAY_REPL: 13,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(MSG6).map(([k, v]) => [v, k.replace("_", "-")]),
);

/** The name of a DHCPv6 message type (SOLICIT, RELAY-FORW), or TYPE-n. */
export function messageType6Name(type: number): string {
  return NAMES[type] ?? `TYPE-${type}`;
}

/** Message types only servers send; a relay drops them when they come from the client side (RFC 8415 §16). */
export const SERVER_TYPES: ReadonlySet<number> = new Set([
  MSG6.ADVERTISE,
  MSG6.REPLY,
  MSG6.RECONFIGURE,
  MSG6.RELAY_REPL,
]);

/** DHCPv6 option codes the codec knows by name. Unknown codes are kept as bytes. */
export const OPT6 = {
  clientId: 1, // RFC 8415 §21.2
  serverId: 2, // RFC 8415 §21.3
  iaNa: 3, // RFC 8415 §21.4
  iaTa: 4, // RFC 8415 §21.5
  iaAddr: 5, // RFC 8415 §21.6
  oro: 6, // RFC 8415 §21.7
  elapsedTime: 8, // RFC 8415 §21.9
  relayMessage: 9, // RFC 8415 §21.10
  statusCode: 13, // RFC 8415 §21.13
  rapidCommit: 14, // RFC 8415 §21.14
  userClass: 15, // RFC 8415 §21.15
  vendorClass: 16, // RFC 8415 §21.16
  interfaceId: 18, // RFC 8415 §21.18
  iaPd: 25, // RFC 8415 §21.21
  iaPrefix: 26, // RFC 8415 §21.22
  remoteId: 37, // RFC 4649 §3
  subscriberId: 38, // RFC 4580 §2
  vss: 68, // RFC 6607 (OPTION_VSS)
  clientLinkLayerAddress: 79, // RFC 6939 §4
} as const;

/** DUID types (RFC 8415 §11.1, RFC 6355 for DUID-UUID). */
export const DUID = { LLT: 1, EN: 2, LL: 3, UUID: 4 } as const;

/** The longest DUID: 128 octets after the 2-byte type (RFC 8415 §11.1). */
export const MAX_DUID_LENGTH = 130;

/** How deep relay messages may nest before decoding gives up (HOP_COUNT_LIMIT may be set up to 32). */
export const MAX_RELAY_DEPTH = 32;

/** The fixed part of RELAY-FORW / RELAY-REPL: type, hop-count, link-address, peer-address (RFC 8415 §9). */
export const RELAY_HEADER_LENGTH = 34;
