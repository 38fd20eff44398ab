/** DHCPv4 option codes the codec knows by name. Unknown codes are kept as bytes. */
export const OPT = {
  pad: 0, // RFC 2132 §3.1
  subnetMask: 1, // RFC 2132 §3.3
  router: 3, // RFC 2132 §3.5
  dnsServers: 6, // RFC 2132 §3.8
  hostname: 12, // RFC 2132 §3.14
  requestedAddress: 50, // RFC 2132 §9.1
  leaseTime: 51, // RFC 2132 §9.2
  overload: 52, // RFC 2132 §9.3
  messageType: 53, // RFC 2132 §9.6
  serverId: 54, // RFC 2132 §9.7
  parameterRequestList: 55, // RFC 2132 §9.8
  message: 56, // RFC 2132 §9.9
  maxMessageSize: 57, // RFC 2132 §9.10
  vendorClass: 60, // RFC 2132 §9.13
  clientId: 61, // RFC 2132 §9.14
  userClass: 77, // RFC 3004
  relayAgentInfo: 82, // RFC 3046
  end: 255, // RFC 2132 §3.2
} as const;

/** DHCP message types, option 53 (RFC 2132 §9.6, RFC 4388 for LEASEQUERY). */
export const MSG = {
  DISCOVER: 1,
  OFFER: 2,
  REQUEST: 3,
  DECLINE: 4,
  ACK: 5,
  NAK: 6,
  RELEASE: 7,
  INFORM: 8,
} as const;

const MSG_NAMES: Record<number, string> = Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k]));

/** The name of a message type (DISCOVER), or TYPE-n for one the codec does not name. */
export function messageTypeName(type: number | undefined): string {
  if (type === undefined) return "BOOTP";
  return MSG_NAMES[type] ?? `TYPE-${type}`;
}

/** BOOTP op codes (RFC 951). */
export const OP = { BOOTREQUEST: 1, BOOTREPLY: 2 } as const;

/** Relay Agent Information sub-option codes (option 82). */
export const SUBOPT = {
  circuitId: 1, // RFC 3046 §3.1
  remoteId: 2, // RFC 3046 §3.2
  linkSelection: 5, // RFC 3527 §3
  subscriberId: 6, // RFC 3993 §3
  serverIdOverride: 11, // RFC 5107 §4
  vss: 151, // RFC 6607 §3.1 (Virtual Subnet Selection)
  vssControl: 152, // RFC 6607 §3.2
} as const;

/** The magic cookie that starts the options field (RFC 2131 §3, RFC 1497). */
export const MAGIC_COOKIE = 0x63825363;

/** The smallest maximum message size every DHCP host accepts (RFC 2131 §2, RFC 2132 §9.10). */
export const MIN_MAX_MESSAGE_SIZE = 576;

/** The fixed BOOTP header plus the magic cookie (RFC 2131 §2). */
export const HEADER_LENGTH = 240;
