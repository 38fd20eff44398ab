import { ipv4ToBytes, ipv4ToString, macToString } from "../address.ts";
import { text } from "../bytes.ts";
import { OPT } from "./codes.ts";
import type { Dhcp4Message, Option4, OptionArea } from "./message.ts";

/** Every option area of a message in RFC 2131 §4.1 order: options, then file, then sname. */
function areas(m: Dhcp4Message): OptionArea[] {
  const out = [m.options];
  if (!(m.file instanceof Uint8Array)) out.push(m.file);
  if (!(m.sname instanceof Uint8Array)) out.push(m.sname);
  return out;
}

/**
 * The value of option `code`, with every instance concatenated in order (RFC 3396 §6),
 * or undefined when the message does not carry it.
 */
export function getOption(m: Dhcp4Message, code: number): Uint8Array | undefined {
  // The common case, one instance in the options field, allocates nothing.
  let found: Uint8Array | undefined;
  let parts = 0;
  for (const o of m.options.options) {
    if (o.code !== code) continue;
    found = o.data;
    parts++;
  }
  const overloaded = !(m.file instanceof Uint8Array) || !(m.sname instanceof Uint8Array);
  if (parts <= 1 && !overloaded) return found;
  const chunks: Uint8Array[] = [];
  for (const area of areas(m)) for (const o of area.options) if (o.code === code) chunks.push(o.data);
  if (chunks.length <= 1) return chunks[0];
  const joined = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  return joined;
}

/** Sets option `code` in the options field, replacing every instance of it anywhere. */
export function setOption(m: Dhcp4Message, code: number, data: Uint8Array): void {
  removeOption(m, code);
  m.options.options.push({ code, data });
}

/** Removes every instance of option `code`; returns how many there were. */
export function removeOption(m: Dhcp4Message, code: number): number {
  let removed = 0;
  for (const area of areas(m)) {
    const kept = area.options.filter((o: Option4) => o.code !== code);
    removed += area.options.length - kept.length;
    area.options = kept;
  }
  return removed;
}

function u8Of(m: Dhcp4Message, code: number): number | undefined {
  const v = getOption(m, code);
  return v?.length === 1 ? (v[0] as number) : undefined;
}

function ipv4Of(m: Dhcp4Message, code: number): string | undefined {
  const v = getOption(m, code);
  return v?.length === 4 ? ipv4ToString(v) : undefined;
}

function textOf(m: Dhcp4Message, code: number): string | undefined {
  const v = getOption(m, code);
  return v === undefined ? undefined : text(v);
}

/** Option 53, DHCP message type (RFC 2132 §9.6); undefined for plain BOOTP. */
export const messageType = (m: Dhcp4Message): number | undefined => u8Of(m, OPT.messageType);

/** Option 50, requested IP address (RFC 2132 §9.1). */
export const requestedAddress = (m: Dhcp4Message): string | undefined => ipv4Of(m, OPT.requestedAddress);

/** Option 54, server identifier (RFC 2132 §9.7). */
export const serverId = (m: Dhcp4Message): string | undefined => ipv4Of(m, OPT.serverId);

/** Option 12, host name (RFC 2132 §3.14). */
export const hostname = (m: Dhcp4Message): string | undefined => textOf(m, OPT.hostname);

/** Option 60, vendor class identifier (RFC 2132 §9.13). */
export const vendorClass = (m: Dhcp4Message): string | undefined => textOf(m, OPT.vendorClass);

/** Option 61, client identifier (RFC 2132 §9.14): the type byte then the identifier. */
export const clientId = (m: Dhcp4Message): Uint8Array | undefined => getOption(m, OPT.clientId);

/** Option 55, parameter request list (RFC 2132 §9.8). */
export function parameterRequestList(m: Dhcp4Message): number[] | undefined {
  const v = getOption(m, OPT.parameterRequestList);
  return v === undefined ? undefined : [...v];
}

/** Option 57, maximum DHCP message size (RFC 2132 §9.10), as the client sent it. */
export function maxMessageSizeOption(m: Dhcp4Message): number | undefined {
  const v = getOption(m, OPT.maxMessageSize);
  return v?.length === 2 ? ((v[0] as number) << 8) | (v[1] as number) : undefined;
}

/**
 * Option 77, user class (RFC 3004 §4): length-prefixed instances. A value that is not
 * well-formed RFC 3004 (some clients send plain text) is returned whole, as one class.
 */
export function userClasses(m: Dhcp4Message): string[] | undefined {
  const v = getOption(m, OPT.userClass);
  return v === undefined ? undefined : userClassesOf(v);
}

/** Option 77's value as its classes (RFC 3004 §4); not well-formed, the whole value as one class. */
export function userClassesOf(v: Uint8Array): string[] {
  const out: string[] = [];
  for (let at = 0; at < v.length; ) {
    const len = v[at] as number;
    if (len === 0 || at + 1 + len > v.length) return [text(v)];
    out.push(text(v.subarray(at + 1, at + 1 + len)));
    at += 1 + len;
  }
  return out;
}

/** The client's hardware address from chaddr (the first hlen bytes), as 00:aa:01:00:00:01. */
export function clientMac(m: Dhcp4Message): string {
  return macToString(m.chaddr.subarray(0, Math.min(m.hlen, 16)));
}

/** An option holding an IPv4 address. */
export function ipv4Option(code: number, address: string): Option4 {
  return { code, data: ipv4ToBytes(address) };
}
