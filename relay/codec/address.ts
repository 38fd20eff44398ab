import { EncodeError } from "./errors.ts";

/** Dotted-quad text of 4 bytes at `at`. */
export function ipv4ToString(b: Uint8Array, at = 0): string {
  return `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;
}

/** The 4 bytes of a dotted-quad address. */
export function ipv4ToBytes(s: string): Uint8Array {
  const parts = s.split(".");
  const out = new Uint8Array(4);
  if (parts.length !== 4) throw new EncodeError("bad-value", `not an IPv4 address: ${s}`);
  for (let i = 0; i < 4; i++) {
    const p = parts[i] as string;
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new EncodeError("bad-value", `not an IPv4 address: ${s}`);
    out[i] = n;
  }
  return out;
}

/** RFC 5952 text of 16 bytes at `at`: lower case, the longest run of two or more zero groups as "::". */
export function ipv6ToString(b: Uint8Array, at = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push(((b[at + 2 * i] as number) << 8) | (b[at + 2 * i + 1] as number));
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hexOf = (g: number[]) => g.map((n) => n.toString(16)).join(":");
  if (bestStart < 0) return hexOf(groups);
  return `${hexOf(groups.slice(0, bestStart))}::${hexOf(groups.slice(bestStart + bestLen))}`;
}

/** The 16 bytes of an IPv6 address in text form (no zone, no embedded IPv4). */
export function ipv6ToBytes(s: string): Uint8Array {
  const bad = () => new EncodeError("bad-value", `not an IPv6 address: ${s}`);
  const halves = s.split("::");
  if (halves.length > 2) throw bad();
  const parse = (part: string) => (part === "" ? [] : part.split(":"));
  const head = parse(halves[0] as string);
  const tail = halves.length === 2 ? parse(halves[1] as string) : [];
  const fill = 8 - head.length - tail.length;
  if ((halves.length === 2 && fill < 1) || (halves.length === 1 && fill !== 0)) throw bad();
  const groups = [...head, ...new Array<string>(halves.length === 2 ? fill : 0).fill("0"), ...tail];
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad();
    const n = Number.parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 0xff;
  });
  return out;
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
