import { ipv6ToBytes, ipv6ToString } from "../address.ts";
import { type Codec, checkLength, Reader, Writer } from "../bytes.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { MAX_RELAY_DEPTH, MSG6, OPT6, RELAY_HEADER_LENGTH } from "./codes.ts";

/** An option kept as its bytes. */
export interface RawOption6 {
  code: number;
  data: Uint8Array;
}

/** Option 9 of a relay message, decoded: the message it carries (RFC 8415 §21.10). */
export interface RelayMessageOption {
  code: typeof OPT6.relayMessage;
  message: Dhcp6Message;
  /** The option's value as it was received, when decoded: a relay passes it on byte for byte. */
  bytes?: Uint8Array;
}

/** An option of a DHCPv6 message, in the order it stood. */
export type Option6 = RawOption6 | RelayMessageOption;

/** A client/server message (RFC 8415 §8). */
export interface Dhcp6ClientMessage {
  type: number;
  /** 24 bits. */
  transactionId: number;
  options: RawOption6[];
}

/** RELAY-FORW or RELAY-REPL (RFC 8415 §9). */
export interface Dhcp6RelayMessage {
  type: typeof MSG6.RELAY_FORW | typeof MSG6.RELAY_REPL;
  hopCount: number;
  linkAddress: string;
  peerAddress: string;
  options: Option6[];
}

/** Any DHCPv6 message. */
export type Dhcp6Message = Dhcp6ClientMessage | Dhcp6RelayMessage;

/** Whether msg-type `type` is RELAY-FORW or RELAY-REPL (RFC 8415 §9). */
export function isRelayType(type: number): type is Dhcp6RelayMessage["type"] {
  return type === MSG6.RELAY_FORW || type === MSG6.RELAY_REPL;
}

/** Whether `m` is RELAY-FORW or RELAY-REPL. */
export function isRelay(m: Dhcp6Message): m is Dhcp6RelayMessage {
  return isRelayType(m.type);
}

/** Whether an option is a decoded Relay-Message. */
export function isRelayMessageOption(o: Option6): o is RelayMessageOption {
  return "message" in o;
}

/** The options codec for a list of 2-byte code, 2-byte length options (RFC 8415 §21.1). */
export const options6: Codec<RawOption6[]> = {
  decode(r: Reader): RawOption6[] {
    const out: RawOption6[] = [];
    while (r.left > 0) {
      const at = r.pos;
      const code = r.u16("option code");
      const len = r.u16(`length of option ${code}`);
      if (r.left < len)
        throw new DecodeError("overrun", at, `option ${code} claims ${len} bytes, ${r.left} left`);
      out.push({ code, data: r.bytes(len, `option ${code}`) });
    }
    return out;
  },
  encode(w: Writer, opts: RawOption6[]): void {
    for (const o of opts) {
      w.u16(o.code);
      w.u16(o.data.length);
      w.bytes(o.data);
    }
  },
  encodingLength(opts: RawOption6[]): number {
    let n = 0;
    for (const o of opts) {
      checkLength(o.data.length, 16, `option ${o.code}`);
      n += 4 + o.data.length;
    }
    return n;
  },
};

function decodeMessage(r: Reader, depth: number): Dhcp6Message {
  const typeAt = r.pos;
  const type = r.u8("message type");
  if (!isRelayType(type)) {
    const transactionId = r.u24("transaction id");
    return { type, transactionId, options: options6.decode(r) };
  }
  if (depth >= MAX_RELAY_DEPTH) {
    throw new DecodeError("too-deep", typeAt, `relay messages nested more than ${MAX_RELAY_DEPTH} deep`);
  }
  r.need(RELAY_HEADER_LENGTH - 1, "relay message header");
  const hopCount = r.u8("hop-count");
  const linkAddress = ipv6ToString(r.bytes(16, "link-address"));
  const peerAddress = ipv6ToString(r.bytes(16, "peer-address"));
  const options: Option6[] = [];
  for (const o of options6.decode(r)) {
    if (o.code !== OPT6.relayMessage) {
      options.push(o);
      continue;
    }
    // Offset of the option's value within the whole buffer, for precise errors.
    const at = o.data.byteOffset - r.buf.byteOffset;
    if (o.data.length === 0)
      throw new DecodeError("empty-relay-message", at, "Relay-Message option is empty");
    options.push({
      code: OPT6.relayMessage,
      message: decodeMessage(new Reader(r.buf, at, at + o.data.length), depth + 1),
      bytes: o.data,
    });
  }
  return { type, hopCount, linkAddress, peerAddress, options };
}

function optionLength(o: Option6): number {
  if (isRelayMessageOption(o)) {
    const n = dhcp6.encodingLength(o.message);
    checkLength(n, 16, "Relay-Message option");
    return 4 + n;
  }
  checkLength(o.data.length, 16, `option ${o.code}`);
  return 4 + o.data.length;
}

/** The DHCPv6 message codec, relay messages nested to any depth up to MAX_RELAY_DEPTH. */
export const dhcp6: Codec<Dhcp6Message> = {
  decode: (r: Reader) => decodeMessage(r, 0),
  encode(w: Writer, m: Dhcp6Message): void {
    w.u8(m.type);
    if (!isRelay(m)) {
      w.u24(m.transactionId);
      options6.encode(w, m.options);
      return;
    }
    w.u8(m.hopCount);
    w.bytes(ipv6ToBytes(m.linkAddress));
    w.bytes(ipv6ToBytes(m.peerAddress));
    for (const o of m.options) {
      if (!isRelayMessageOption(o)) {
        options6.encode(w, [o]);
        continue;
      }
      w.u16(o.code);
      const lengthAt = w.pos;
      w.u16(0);
      dhcp6.encode(w, o.message);
      const len = w.pos - lengthAt - 2;
      w.buf[lengthAt] = len >> 8;
      w.buf[lengthAt + 1] = len & 0xff;
    }
  },
  encodingLength(m: Dhcp6Message): number {
    if (!isRelay(m)) return 4 + options6.encodingLength(m.options);
    let n = RELAY_HEADER_LENGTH;
    for (const o of m.options) n += optionLength(o);
    return n;
  },
};

/** Decodes a DHCPv6 message; throws only DecodeError. */
export function decodeDhcp6(buf: Uint8Array): Dhcp6Message {
  return dhcp6.decode(new Reader(buf));
}

/** Encodes a DHCPv6 message. */
export function encodeDhcp6(m: Dhcp6Message): Uint8Array {
  const w = Writer.alloc(dhcp6.encodingLength(m));
  dhcp6.encode(w, m);
  return w.buf;
}

/**
 * A RELAY-FORW (RFC 8415 §9) from its parts, its addresses as bytes: what encodeDhcp6 writes for
 * the same message, without converting addresses from text. A relay has the link-address once per
 * VRF and the peer's from the datagram; `options` end with the Relay Message, the client's bytes.
 */
export function encodeRelayForw(
  hopCount: number,
  linkAddress: Uint8Array,
  peerAddress: Uint8Array,
  options: RawOption6[],
): Uint8Array {
  if (linkAddress.length !== 16 || peerAddress.length !== 16)
    throw new EncodeError("bad-value", "a relay message's link-address and peer-address are 16 bytes");
  const w = Writer.alloc(RELAY_HEADER_LENGTH + options6.encodingLength(options));
  w.u8(MSG6.RELAY_FORW);
  w.u8(hopCount);
  w.bytes(linkAddress);
  w.bytes(peerAddress);
  options6.encode(w, options);
  return w.buf;
}

/** The first option `code` of `m` as bytes (a decoded Relay-Message is not returned here). */
export function getOption6(m: { options: Option6[] }, code: number): Uint8Array | undefined {
  for (const o of m.options) if (o.code === code && !isRelayMessageOption(o)) return o.data;
  return undefined;
}

/** The message a relay message carries in option 9, if any. */
export function relayedMessage(m: Dhcp6RelayMessage): Dhcp6Message | undefined {
  for (const o of m.options) if (isRelayMessageOption(o)) return o.message;
  return undefined;
}

/** The bytes of the message a decoded relay message carries, exactly as they were received. */
export function relayedBytes(m: Dhcp6RelayMessage): Uint8Array | undefined {
  for (const o of m.options) if (isRelayMessageOption(o)) return o.bytes ?? encodeDhcp6(o.message);
  return undefined;
}

/** The client message at the bottom of any nesting of relay messages. */
export function innermost(m: Dhcp6Message): Dhcp6ClientMessage | undefined {
  let cur: Dhcp6Message | undefined = m;
  while (cur && isRelay(cur)) cur = relayedMessage(cur);
  return cur;
}
