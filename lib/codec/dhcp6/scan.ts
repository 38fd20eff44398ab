import { u16At, u24At } from "../bytes.ts";
import { MAX_RELAY_DEPTH, OPT6, RELAY_HEADER_LENGTH } from "./codes.ts";
import { type Dhcp6ClientMessage, decodeDhcp6, getOption6, isRelayType } from "./message.ts";

/** A client/server message's header: msg-type and transaction-id (RFC 8415 §8). */
const CLIENT_HEADER_LENGTH = 4;
/** An option's header: option-code and option-len (RFC 8415 §21.1). */
const OPTION_HEADER_LENGTH = 4;
/** Where a relay message's peer-address starts (RFC 8415 §9: msg-type, hop-count, link-address). */
const PEER_ADDRESS_AT = 18;

/**
 * A DHCPv6 message read in place, as a relay reads a server's reply or a client's own message: checked as decodeDhcp6
 * checks it (every option's length, every Relay Message nested to MAX_RELAY_DEPTH), without an
 * object or a copy per option. After `scan` returns true its fields describe the message until the
 * next scan; offsets are into the scanned bytes, -1 where the message has no such part.
 *
 * Of a relay message (RELAY-FORW or RELAY-REPL, RFC 8415 §9) it keeps what a relay needs to send
 * the reply on (RFC 8415 §19.2): the peer-address, the first Interface-ID, whether it carries
 * OPTION_VSS (RFC 6607), the first Relay Message's value, and, following the first Relay Message
 * of each nesting down, the client message at the bottom.
 */
export class Scan6 {
  /** The message's msg-type. */
  type = 0;
  /** A relay message's peer-address (16 bytes). */
  peerAt = -1;
  /** The first Interface-ID option's value. */
  interfaceIdAt = -1;
  interfaceIdLength = 0;
  /** Whether a relay message carries OPTION_VSS. */
  vss = false;
  /** The first Relay Message option's value: the message it carries, byte for byte. */
  relayedAt = -1;
  relayedLength = 0;
  /** The client message at the bottom of the nesting (the message itself when it is one). */
  clientAt = -1;
  clientLength = 0;

  /** Reads `bytes`; false when decodeDhcp6 would refuse them (it says why). */
  scan(bytes: Uint8Array): boolean {
    this.peerAt = -1;
    this.interfaceIdAt = -1;
    this.interfaceIdLength = 0;
    this.vss = false;
    this.relayedAt = -1;
    this.relayedLength = 0;
    this.clientAt = -1;
    this.clientLength = 0;
    if (!wellFormed(bytes, 0, bytes.length, 0)) return false;
    this.type = bytes[0] as number;
    if (!isRelayType(this.type)) {
      this.clientAt = 0;
      this.clientLength = bytes.length;
      return true;
    }
    this.peerAt = PEER_ADDRESS_AT;
    for (let at = RELAY_HEADER_LENGTH; at < bytes.length; ) {
      const code = u16At(bytes, at);
      const len = u16At(bytes, at + 2);
      at += OPTION_HEADER_LENGTH;
      if (code === OPT6.interfaceId && this.interfaceIdAt < 0) {
        this.interfaceIdAt = at;
        this.interfaceIdLength = len;
      } else if (code === OPT6.vss) this.vss = true;
      else if (code === OPT6.relayMessage && this.relayedAt < 0) {
        this.relayedAt = at;
        this.relayedLength = len;
      }
      at += len;
    }
    // Down the first Relay Message of each relay message to the client's.
    let start = this.relayedAt;
    let end = start + this.relayedLength;
    while (start >= 0 && isRelayType(bytes[start] as number)) {
      const value = firstRelayMessage(bytes, start + RELAY_HEADER_LENGTH, end);
      start = value;
      end = value < 0 ? -1 : value + u16At(bytes, value - 2);
    }
    if (start >= 0) {
      this.clientAt = start;
      this.clientLength = end - start;
    }
    return true;
  }

  /** The client message's msg-type, or -1 without one. */
  clientType(bytes: Uint8Array): number {
    return this.clientAt < 0 ? -1 : (bytes[this.clientAt] as number);
  }

  /** The client message's transaction-id (24 bits), or -1 without one. */
  clientTransactionId(bytes: Uint8Array): number {
    return this.clientAt < 0 ? -1 : u24At(bytes, this.clientAt + 1);
  }
}

/** Whether bytes `start` to `end` hold a message decodeDhcp6 takes at nesting `depth`. */
function wellFormed(b: Uint8Array, start: number, end: number, depth: number): boolean {
  if (end - start < 1) return false;
  const relay = isRelayType(b[start] as number);
  if (!relay) return end - start >= CLIENT_HEADER_LENGTH && optionsFit(b, start + CLIENT_HEADER_LENGTH, end);
  // Nested deeper than MAX_RELAY_DEPTH, a header cut short: refused (decodeDhcp6's too-deep, truncated).
  if (depth >= MAX_RELAY_DEPTH || end - start < RELAY_HEADER_LENGTH) return false;
  for (let at = start + RELAY_HEADER_LENGTH; at < end; ) {
    if (end - at < OPTION_HEADER_LENGTH) return false;
    const code = u16At(b, at);
    const len = u16At(b, at + 2);
    at += OPTION_HEADER_LENGTH;
    if (len > end - at) return false;
    // Every Relay Message a relay message carries is a message itself (RFC 8415 §21.10), never empty.
    if (code === OPT6.relayMessage && (len === 0 || !wellFormed(b, at, at + len, depth + 1))) return false;
    at += len;
  }
  return true;
}

/** Whether options from `at` to `end` each fit (RFC 8415 §21.1: code, length, that many bytes). */
function optionsFit(b: Uint8Array, at: number, end: number): boolean {
  while (at < end) {
    if (end - at < OPTION_HEADER_LENGTH) return false;
    const len = u16At(b, at + 2);
    at += OPTION_HEADER_LENGTH;
    if (len > end - at) return false;
    at += len;
  }
  return true;
}

/** The value's offset of the first Relay Message among well-formed options from `at` to `end`, or -1. */
function firstRelayMessage(b: Uint8Array, at: number, end: number): number {
  while (at < end) {
    const code = u16At(b, at);
    const len = u16At(b, at + 2);
    at += OPTION_HEADER_LENGTH;
    if (code === OPT6.relayMessage) return at;
    at += len;
  }
  return -1;
}

/**
 * A client message (RFC 8415 §8) as a relay reads it: its type, transaction-id and options by
 * code, whether read in place or decoded.
 */
export interface ClientMessage6 {
  readonly type: number;
  readonly transactionId: number;
  /** The first option `code`'s value, or undefined. */
  option(code: number): Uint8Array | undefined;
  /** The message decoded whole, for the rare reader of more (a RELEASE's delegated prefixes). */
  decoded(): Dhcp6ClientMessage;
}

/** A client message read in place from bytes Scan6 has checked: no object per option. */
export class ScannedClient6 implements ClientMessage6 {
  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  get type(): number {
    return this.bytes[this.start] as number;
  }

  get transactionId(): number {
    return u24At(this.bytes, this.start + 1);
  }

  option(code: number): Uint8Array | undefined {
    const b = this.bytes;
    for (let at = this.start + CLIENT_HEADER_LENGTH; at < this.end; ) {
      const len = u16At(b, at + 2);
      at += OPTION_HEADER_LENGTH;
      if (u16At(b, at - OPTION_HEADER_LENGTH) === code) return b.subarray(at, at + len);
      at += len;
    }
    return undefined;
  }

  decoded(): Dhcp6ClientMessage {
    return decodeDhcp6(this.bytes.subarray(this.start, this.end)) as Dhcp6ClientMessage;
  }
}

/** A client message decoded (one a downstream relay wrapped), read through the same interface. */
export class DecodedClient6 implements ClientMessage6 {
  constructor(private readonly message: Dhcp6ClientMessage) {}

  get type(): number {
    return this.message.type;
  }

  get transactionId(): number {
    return this.message.transactionId;
  }

  option(code: number): Uint8Array | undefined {
    return getOption6(this.message, code);
  }

  decoded(): Dhcp6ClientMessage {
    return this.message;
  }
}
