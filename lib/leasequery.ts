import { ipv4ToBytes, ipv6ToBytes, macToBytes, macToString } from "./codec/address.ts";
import { fromHex, hex, Reader, Writer } from "./codec/bytes.ts";
import { OP, OPT } from "./codec/dhcp4/codes.ts";
import { bootRequest, type Dhcp4Message, encodeDhcp4 } from "./codec/dhcp4/message.ts";
import { getOption, messageType } from "./codec/dhcp4/options.ts";
import { OPT6 } from "./codec/dhcp6/codes.ts";
import { decodeValue, iaAddress, iaPrefix } from "./codec/dhcp6/ia.ts";
import {
  decodeDhcp6,
  isRelay,
  isRelayMessageOption,
  options6,
  type RawOption6,
  relayedMessage,
} from "./codec/dhcp6/message.ts";
import { type RelayInfo, relayInfo4, relayInfo6 } from "./relay-info.ts";

// Lease queries, pure: what a requester (the relay) sends a DHCP server to learn who holds a lease,
// and what the answers say. DHCPv4 over UDP (RFC 4388: DHCPLEASEQUERY by address, MAC or client
// identifier); DHCPv6 as bulk leasequery over TCP (RFC 5460, the messages of RFC 5007), which Kea
// answers from the requester's own address on its backend.

/** RFC 4388 §6.1 and RFC 6926 §6.2.1: the leasequery message types. */
export const LEASEQUERY4 = {
  QUERY: 10,
  UNASSIGNED: 11,
  UNKNOWN: 12,
  ACTIVE: 13,
  BULK: 14,
  DONE: 15,
} as const;
/** RFC 6926 §6.2.2: status-code (one octet of code, then text). */
const OPT_STATUS_CODE = 151;
/** RFC 3046 §3.2 Remote-ID and RFC 6925 Relay-ID: the Option 82 sub-options a bulk query asks by. */
const SUB_REMOTE_ID = 2;
const SUB_RELAY_ID = 12;
/** RFC 4388 §6.2: client-last-transaction-time and associated-ip. */
const OPT_CLTT = 91;
const OPT_ASSOCIATED_IP = 92;

/** RFC 5007 §4.2 and RFC 5460 §5.2: the leasequery message types. */
export const LEASEQUERY6 = { QUERY: 14, REPLY: 15, DONE: 16, DATA: 17 } as const;
/** RFC 5007 §4.1.2: the leasequery options; RFC 5460 §5.1: relay-id. */
const OPT6_LQ_QUERY = 44;
const OPT6_CLIENT_DATA = 45;
const OPT6_CLT_TIME = 46;
const OPT6_LQ_RELAY_DATA = 47;
const OPT6_RELAY_ID = 53;
/** RFC 5007 §4.1.2.1 and RFC 5460 §5.3: the query types. */
const QUERY6 = { address: 1, "client-id": 2, "relay-id": 3, link: 4, "remote-id": 5 } as const;

/**
 * What a DHCPv4 lease query asks by: ip, mac, client-id over UDP (RFC 4388 §6.3); remote-id and
 * relay-id as bulk leasequery over TCP (RFC 6926 §7.2, which Kea answers only in bulk).
 */
export type LeaseQuery4By = "ip" | "mac" | "client-id" | "remote-id" | "relay-id";

/** The DHCPv4 queries asked in bulk, over TCP. */
export const BULK_ONLY4: ReadonlySet<LeaseQuery4By> = new Set(["remote-id", "relay-id"]);
/** What a DHCPv6 bulk lease query asks by (RFC 5007 §4.1.2.1, RFC 5460 §5.3). */
export type LeaseQuery6By = keyof typeof QUERY6;

/** A lease query: by what, and its value (an address; a MAC; a client-id, DUID or relay-id in hex; a Remote-ID). */
export type LeaseQuery =
  | { family: 4; by: LeaseQuery4By; value: string }
  | { family: 6; by: LeaseQuery6By; value: string; enterprise?: number };

/** What a server said of one client's lease. */
export interface LeaseBinding {
  /** DHCPv4: the leased address; DHCPv6: each address and delegated prefix (prefix/length). */
  addresses: string[];
  prefixes: string[];
  /** DHCPv4: its MAC and client identifier (hex); DHCPv6: its DUID (hex). */
  mac?: string;
  clientId?: string;
  duid?: string;
  /** Seconds since the server last heard from the client (RFC 4388 option 91, RFC 5007 OPTION_CLT_TIME). */
  lastTransaction?: number;
  /** DHCPv4: the lease's remaining time in seconds (option 51). */
  leaseTime?: number;
  /** DHCPv4: the client's other addresses (option 92). */
  associated?: string[];
  /**
   * What the relay added when the client took the lease: DHCPv4 the Option 82 Kea stored; DHCPv6
   * the closest relay's RELAY-FORW (OPTION_LQ_RELAY_DATA, RFC 5007 §4.1.2.3): its options, its
   * link-address and peer-address (the client, or the next relay down).
   */
  relay?: RelayInfo;
  /** DHCPv6: each address's and delegated prefix's remaining valid lifetime in seconds, by address or prefix. */
  lifetimes?: Record<string, number>;
}

/** A server's answer. */
export interface LeaseQueryAnswer {
  /** active: the server holds leases for it; unassigned: it serves the address but holds no lease; unknown: it knows nothing of it. */
  status: "active" | "unassigned" | "unknown";
  bindings: LeaseBinding[];
  /** DHCPv6: the server's status message (RFC 8415 §21.13). */
  message?: string;
}

/** A DHCPLEASEQUERY from `giaddr` (RFC 4388 §6.3): exactly one of ciaddr, chaddr, client identifier set. */
export function leaseQuery4(q: {
  by: Exclude<LeaseQuery4By, "remote-id" | "relay-id">;
  value: string;
  giaddr: string;
  xid: number;
}): Uint8Array {
  const chaddr = new Uint8Array(16);
  const mac = q.by === "mac" ? macToBytes(q.value) : undefined;
  if (mac) chaddr.set(mac);
  if (q.by === "ip") ipv4ToBytes(q.value);
  return encodeDhcp4(
    bootRequest({
      htype: mac ? 1 : 0,
      hlen: mac ? mac.length : 0,
      xid: q.xid,
      ciaddr: q.by === "ip" ? q.value : "0.0.0.0",
      giaddr: q.giaddr,
      chaddr,
      options: [
        { code: OPT.messageType, data: Uint8Array.of(LEASEQUERY4.QUERY) },
        ...(q.by === "client-id" ? [{ code: OPT.clientId, data: hexBytes(q.value) }] : []),
        // RFC 4388 §6.4.1: the options the requester wants with an active lease.
        {
          code: OPT.parameterRequestList,
          data: Uint8Array.of(OPT.leaseTime, OPT.clientId, OPT.relayAgentInfo, OPT_CLTT, OPT_ASSOCIATED_IP),
        },
      ],
    }),
  );
}

/**
 * A DHCPBULKLEASEQUERY framed for TCP (RFC 6926 §6.2, a two-octet length first): htype and hlen 0
 * (Kea reads any other as a query by MAC), the Remote-ID or Relay-ID in an Option 82.
 */
export function bulkLeaseQuery4(q: { by: "remote-id" | "relay-id"; value: string; xid: number }): Uint8Array {
  const id = q.by === "remote-id" ? new TextEncoder().encode(q.value) : hexBytes(q.value);
  if (id.length === 0 || id.length > 255) throw new Error(`${q.by} ${q.value}: 1 to 255 octets`);
  return framed(
    encodeDhcp4(
      bootRequest({
        xid: q.xid,
        options: [
          { code: OPT.messageType, data: Uint8Array.of(LEASEQUERY4.BULK) },
          {
            code: OPT.relayAgentInfo,
            data: Uint8Array.of(q.by === "remote-id" ? SUB_REMOTE_ID : SUB_RELAY_ID, id.length, ...id),
          },
        ],
      }),
    ),
  );
}

/** A message for a leasequery TCP connection: its two-octet length first (RFC 5460 §5.1, RFC 6926 §6.1). */
function framed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  new DataView(out.buffer).setUint16(0, body.length);
  out.set(body, 2);
  return out;
}

/**
 * What a DHCPv4 bulk leasequery's answer says (RFC 6926 §7.3): a DHCPLEASEACTIVE per lease, then
 * DHCPLEASEQUERYDONE, whose status-code (151) says why when it is not a success.
 */
export function bulkLeaseQueryAnswer4(messages: readonly Dhcp4Message[]): LeaseQueryAnswer {
  const bindings = messages
    .filter((m) => messageType(m) === LEASEQUERY4.ACTIVE)
    .flatMap((m) => leaseQueryAnswer4(m).bindings);
  const done = messages.find((m) => messageType(m) === LEASEQUERY4.DONE);
  const status = done && getOption(done, OPT_STATUS_CODE);
  const code = status?.[0] ?? 0;
  const message = status && status.length > 1 ? new TextDecoder().decode(status.subarray(1)) : undefined;
  return {
    status: code !== 0 ? "unknown" : bindings.length > 0 ? "active" : "unknown",
    bindings,
    ...(message ? { message } : {}),
  };
}

/** Whether a DHCPv4 message is a lease query's answer (DHCPLEASEUNASSIGNED, -UNKNOWN, -ACTIVE). */
export function isLeaseQueryAnswer4(m: Dhcp4Message): boolean {
  return m.op === OP.BOOTREPLY && isLeaseQueryAnswerType4(messageType(m));
}

/** Whether a DHCPv4 message type answers a lease query (RFC 4388 §6.4). */
export function isLeaseQueryAnswerType4(type: number | undefined): boolean {
  return type !== undefined && type >= LEASEQUERY4.UNASSIGNED && type <= LEASEQUERY4.ACTIVE;
}

/** What a DHCPv4 lease query's answer says (RFC 4388 §6.4). */
export function leaseQueryAnswer4(m: Dhcp4Message): LeaseQueryAnswer {
  const t = messageType(m);
  if (t !== LEASEQUERY4.ACTIVE)
    return { status: t === LEASEQUERY4.UNASSIGNED ? "unassigned" : "unknown", bindings: [] };
  const u32 = (code: number) => {
    const v = getOption(m, code);
    return v && v.length === 4 ? new DataView(v.buffer, v.byteOffset).getUint32(0) : undefined;
  };
  const associated = getOption(m, OPT_ASSOCIATED_IP);
  const clientId = getOption(m, OPT.clientId);
  const relay = getOption(m, OPT.relayAgentInfo);
  const binding: LeaseBinding = {
    addresses: [m.ciaddr],
    prefixes: [],
    ...(m.hlen > 0 ? { mac: macToString(m.chaddr.subarray(0, m.hlen)) } : {}),
    ...(clientId ? { clientId: hex(clientId) } : {}),
    ...optionalNumber("leaseTime", u32(OPT.leaseTime)),
    ...optionalNumber("lastTransaction", u32(OPT_CLTT)),
    ...(associated && associated.length % 4 === 0
      ? { associated: Array.from({ length: associated.length / 4 }, (_, i) => addr4(associated, i * 4)) }
      : {}),
    ...(relay ? { relay: relayInfo4(relay) } : {}),
  };
  return { status: "active", bindings: [binding] };
}

/**
 * A bulk LEASEQUERY (RFC 5460 §5.2) framed for TCP (a two-octet length, RFC 5460 §5.1), from the
 * requester's DUID: the OPTION_LQ_QUERY with its query type, link-address and the option that
 * names what is asked (IAADDR, CLIENTID, RELAY_ID, or Remote-ID with its enterprise number).
 */
export function bulkLeaseQuery6(
  q: { by: LeaseQuery6By; value: string; enterprise?: number },
  requester: Uint8Array,
  xid: number,
): Uint8Array {
  const inner: RawOption6[] = [];
  let link = "::";
  if (q.by === "address")
    inner.push({ code: OPT6.iaAddr, data: concat(ipv6ToBytes(q.value), new Uint8Array(8)) });
  else if (q.by === "client-id") inner.push({ code: OPT6.clientId, data: hexBytes(q.value) });
  else if (q.by === "relay-id") inner.push({ code: OPT6_RELAY_ID, data: hexBytes(q.value) });
  else if (q.by === "remote-id") {
    const enterprise = new Uint8Array(4);
    new DataView(enterprise.buffer).setUint32(0, q.enterprise ?? 0);
    inner.push({ code: OPT6.remoteId, data: concat(enterprise, new TextEncoder().encode(q.value)) });
  } else link = q.value;
  const query = concat(Uint8Array.of(QUERY6[q.by]), ipv6ToBytes(link), encodeOptions(inner));
  const body = concat(
    Uint8Array.of(LEASEQUERY6.QUERY, (xid >> 16) & 0xff, (xid >> 8) & 0xff, xid & 0xff),
    encodeOptions([
      { code: OPT6.clientId, data: requester },
      { code: OPT6_LQ_QUERY, data: query },
    ]),
  );
  return framed(body);
}

/**
 * The messages of a bulk leasequery's TCP stream so far, and the bytes of an incomplete one left
 * over (RFC 5460 §5.1: each message after its two-octet length).
 */
export function splitFramed(stream: Uint8Array): { messages: Uint8Array[]; rest: Uint8Array } {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (at + 2 <= stream.length) {
    const length = ((stream[at] as number) << 8) | (stream[at + 1] as number);
    if (at + 2 + length > stream.length) break;
    messages.push(stream.subarray(at + 2, at + 2 + length));
    at += 2 + length;
  }
  return { messages, rest: stream.subarray(at) };
}

/** The message type and transaction id of a DHCPv6 message. */
export function header6(message: Uint8Array): { type: number; xid: number } {
  return {
    type: message[0] ?? 0,
    xid: ((message[1] ?? 0) << 16) | ((message[2] ?? 0) << 8) | (message[3] ?? 0),
  };
}

/**
 * What a bulk leasequery's answer says: the LEASEQUERY-REPLY's status and its client, then one
 * client per LEASEQUERY-DATA, until LEASEQUERY-DONE (RFC 5460 §5.2, §5.4).
 */
export function bulkLeaseQueryAnswer6(messages: readonly Uint8Array[]): LeaseQueryAnswer {
  const bindings: LeaseBinding[] = [];
  let status: LeaseQueryAnswer["status"] = "unknown";
  let message: string | undefined;
  for (const m of messages) {
    const { type } = header6(m);
    if (type !== LEASEQUERY6.REPLY && type !== LEASEQUERY6.DATA) continue;
    const options = options6.decode(new Reader(m.subarray(4)));
    const code = options.find((o) => o.code === OPT6.statusCode);
    if (type === LEASEQUERY6.REPLY && code) {
      const value = code.data.length >= 2 ? ((code.data[0] as number) << 8) | (code.data[1] as number) : 0;
      message = new TextDecoder().decode(code.data.subarray(2));
      // RFC 8415 §21.13 Success 0; RFC 5007 §4.4.1 NotConfigured 9 (the server serves no such link).
      status = value === 0 ? "active" : value === 9 ? "unassigned" : "unknown";
    }
    for (const data of options.filter((o) => o.code === OPT6_CLIENT_DATA))
      bindings.push(clientData(options6.decode(new Reader(data.data))));
  }
  if (status === "active" && bindings.length === 0) status = "unknown";
  return { status, bindings, ...(message ? { message } : {}) };
}

/** OPTION_CLIENT_DATA's contents (RFC 5007 §4.1.2.2): the client's DUID, its leases, its last transaction, its relay. */
function clientData(options: readonly RawOption6[]): LeaseBinding {
  const duid = options.find((o) => o.code === OPT6.clientId);
  const clt = options.find((o) => o.code === OPT6_CLT_TIME);
  const relayData = options.find((o) => o.code === OPT6_LQ_RELAY_DATA);
  const lifetimes: Record<string, number> = {};
  const addresses = options
    .filter((o) => o.code === OPT6.iaAddr)
    .map((o) => {
      const a = decodeValue(iaAddress, o.data);
      lifetimes[a.address] = a.validLifetime;
      return a.address;
    });
  const prefixes = options
    .filter((o) => o.code === OPT6.iaPrefix)
    .map((o) => {
      const p = decodeValue(iaPrefix, o.data);
      const prefix = `${p.prefix}/${p.prefixLength}`;
      lifetimes[prefix] = p.validLifetime;
      return prefix;
    });
  const relay = relayData && relayOf6(relayData.data);
  return {
    addresses,
    prefixes,
    ...(duid ? { duid: hex(duid.data) } : {}),
    ...(clt && clt.data.length === 4
      ? { lastTransaction: new DataView(clt.data.buffer, clt.data.byteOffset).getUint32(0) }
      : {}),
    ...(relay ? { relay } : {}),
    ...(addresses.length + prefixes.length > 0 ? { lifetimes } : {}),
  };
}

/**
 * OPTION_LQ_RELAY_DATA (RFC 5007 §4.1.2.3): the peer-address, then the relay message as the server
 * received it, whose closest relay (the innermost RELAY-FORW) is the relay the client came through.
 */
function relayOf6(data: Uint8Array): RelayInfo | undefined {
  if (data.length < 16) return undefined;
  try {
    let m = decodeDhcp6(data.subarray(16));
    // The innermost relay: the one nearest the client (RFC 8415 §9).
    while (isRelay(m)) {
      const inner = relayedMessage(m);
      if (!inner || !isRelay(inner)) {
        const options = m.options.filter((o): o is RawOption6 => !isRelayMessageOption(o));
        return relayInfo6(options, m.linkAddress, m.peerAddress);
      }
      m = inner;
    }
  } catch {
    // An unreadable relay message: no relay information.
  }
  return undefined;
}

function encodeOptions(options: readonly RawOption6[]): Uint8Array {
  const w = Writer.alloc(options6.encodingLength([...options]));
  options6.encode(w, [...options]);
  return w.buf;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Hex as people write it (colons, dashes or none) as bytes; refuses anything else. */
function hexBytes(text: string): Uint8Array {
  const clean = text.replace(/[:\-\s]/g, "").replace(/^0x/i, "");
  if (!/^([0-9a-fA-F]{2})+$/.test(clean)) throw new Error(`${text} is not hex (e.g. 01:00:aa:01:00:00:42)`);
  return fromHex(clean);
}

const addr4 = (b: Uint8Array, at: number) => Array.from(b.subarray(at, at + 4)).join(".");
const optionalNumber = <K extends string>(key: K, value: number | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, number>>;
