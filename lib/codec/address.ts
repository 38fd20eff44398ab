import { EncodeError } from "./errors.ts";

const ZERO4 = "0.0.0.0";

/** Dotted-quad text of 4 bytes at `at`. */
export function ipv4ToString(b: Uint8Array, at = 0): string {
  // Most of a client message's addresses are 0.0.0.0: one shared string for them.
  if (b[at] === 0 && b[at + 1] === 0 && b[at + 2] === 0 && b[at + 3] === 0) return ZERO4;
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The 4 bytes of a dotted-quad address. */
export function ipv4ToBytes(s: string): Uint8Array {
  const out = new Uint8Array(4);
  writeIpv4(s, out, 0);
  return out;
}

/** Writes the 4 bytes of a dotted-quad address into `out` at `at`. */
export function writeIpv4(s: string, out: Uint8Array, at: number): void {
  // A hand-written scanner: the relay converts four addresses per packet.
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = 0; i <= s.length; i++) {
    const c = i < s.length ? s.charCodeAt(i) : 46;
    if (c >= 48 && c <= 57 && digits < 3) {
      value = value * 10 + (c - 48);
      digits++;
    } else if (c === 46 && digits > 0 && value <= 255 && part < 4) {
      out[at + part++] = value;
      value = 0;
      digits = 0;
    } else throw new EncodeError("bad-value", `not an IPv4 address: ${s}`);
  }
  if (part !== 4) throw new EncodeError("bad-value", `not an IPv4 address: ${s}`);
}

/** RFC 5952 text of 16 bytes at `at`: lower case, the longest run of two or more zero groups as "::". */
export function ipv6ToString(b: Uint8Array, at = 0): string {
  // Written without arrays: the relay converts every DHCPv6 datagram's source and addresses.
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    if (b[at + 2 * i] === 0 && b[at + 2 * i + 1] === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else runStart = -1;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && out.charCodeAt(out.length - 1) !== 58) out += ":";
    out += (((b[at + 2 * i] as number) << 8) | (b[at + 2 * i + 1] as number)).toString(16);
  }
  return out;
}

/** The 16 bytes of an IPv6 address in text form (no zone, no embedded IPv4). */
export function ipv6ToBytes(s: string): Uint8Array {
  // A hand-written scanner: the relay converts two addresses per relayed message.
  const groups: number[] = [];
  let gap = -1;
  let value = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d >= 0 && digits < 4) {
      value = value * 16 + d;
      digits++;
      continue;
    }
    if (c !== 58) throw badIpv6(s);
    if (s.charCodeAt(i + 1) === 58) {
      if (gap >= 0) throw badIpv6(s);
      if (digits > 0) groups.push(value);
      else if (i !== 0) throw badIpv6(s);
      gap = groups.length;
      i++;
    } else {
      if (digits === 0) throw badIpv6(s);
      groups.push(value);
    }
    value = 0;
    digits = 0;
  }
  if (digits > 0) groups.push(value);
  else if (gap !== groups.length || s.length === 0) throw badIpv6(s);
  if (gap < 0 ? groups.length !== 8 : groups.length > 7) throw badIpv6(s);
  const out = new Uint8Array(16);
  const tail = gap < 0 ? 0 : groups.length - gap;
  for (let g = 0; g < groups.length; g++) {
    const slot = gap >= 0 && g >= gap ? 8 - tail + (g - gap) : g;
    out[2 * slot] = (groups[g] as number) >> 8;
    out[2 * slot + 1] = (groups[g] as number) & 0xff;
  }
  return out;
}

function badIpv6(s: string): EncodeError {
  return new EncodeError("bad-value", `not an IPv6 address: ${s}`);
}

/** Colon-separated lower-case hex of a link-layer address (00:aa:01:00:00:01). */
export function macToString(b: Uint8Array): string {
  let s = "";
  for (let i = 0; i < b.length; i++)
    s += (i ? ":" : "") + ((b[i] as number) < 16 ? "0" : "") + (b[i] as number).toString(16);
  return s;
}

/** The bytes of a link-layer address written with ':' or '-' separators (or none). */
export function macToBytes(s: string): Uint8Array {
  const clean = s.replace(/[:-]/g, "");
  if (!/^([0-9a-fA-F]{2}){1,16}$/.test(clean))
    throw new EncodeError("bad-value", `not a link-layer address: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * The MAC address inside a modified EUI-64 interface identifier (the low 8 bytes of an
 * IPv6 address, RFC 4291 Appendix A), or undefined when the identifier holds none (no ff:fe).
 */
export function macFromEui64(addr: Uint8Array): Uint8Array | undefined {
  if (addr.length !== 16 || addr[11] !== 0xff || addr[12] !== 0xfe) return undefined;
  return Uint8Array.of(
    (addr[8] as number) ^ 0x02,
    addr[9] as number,
    addr[10] as number,
    addr[13] as number,
    addr[14] as number,
    addr[15] as number,
  );
}
