import { ipv6ToBytes, ipv6ToString } from "../address.ts";
import { type Codec, Reader, type Writer } from "../bytes.ts";
import { options6, type RawOption6 } from "./message.ts";

/** IA_NA (RFC 8415 §21.4) and IA_PD (RFC 8415 §21.21): IAID, T1, T2, options. */
export interface IaWithTimers {
  iaid: number;
  t1: number;
  t2: number;
  options: RawOption6[];
}

/** IA_TA (RFC 8415 §21.5): IAID and options. */
export interface IaTa {
  iaid: number;
  options: RawOption6[];
}

/** IA Address (RFC 8415 §21.6). */
export interface IaAddress {
  address: string;
  preferredLifetime: number;
  validLifetime: number;
  options: RawOption6[];
}

/** IA Prefix (RFC 8415 §21.22). */
export interface IaPrefix {
  preferredLifetime: number;
  validLifetime: number;
  prefixLength: number;
  prefix: string;
  options: RawOption6[];
}

/** Codec of IA_NA and IA_PD values. */
export const iaWithTimers: Codec<IaWithTimers> = {
  decode(r: Reader): IaWithTimers {
    const iaid = r.u32("IAID");
    const t1 = r.u32("T1");
    const t2 = r.u32("T2");
    return { iaid, t1, t2, options: options6.decode(r) };
  },
  encode(w: Writer, v: IaWithTimers): void {
    w.u32(v.iaid);
    w.u32(v.t1);
    w.u32(v.t2);
    options6.encode(w, v.options);
  },
  encodingLength: (v: IaWithTimers) => 12 + options6.encodingLength(v.options),
};

/** Codec of IA_TA values. */
export const iaTa: Codec<IaTa> = {
  decode(r: Reader): IaTa {
    const iaid = r.u32("IAID");
    return { iaid, options: options6.decode(r) };
  },
  encode(w: Writer, v: IaTa): void {
    w.u32(v.iaid);
    options6.encode(w, v.options);
  },
  encodingLength: (v: IaTa) => 4 + options6.encodingLength(v.options),
};

/** Codec of IA Address values. */
export const iaAddress: Codec<IaAddress> = {
  decode(r: Reader): IaAddress {
    const address = ipv6ToString(r.bytes(16, "IA address"));
    const preferredLifetime = r.u32("preferred-lifetime");
    const validLifetime = r.u32("valid-lifetime");
    return { address, preferredLifetime, validLifetime, options: options6.decode(r) };
  },
  encode(w: Writer, v: IaAddress): void {
    w.bytes(ipv6ToBytes(v.address));
    w.u32(v.preferredLifetime);
    w.u32(v.validLifetime);
    options6.encode(w, v.options);
  },
  encodingLength: (v: IaAddress) => 24 + options6.encodingLength(v.options),
};

/** Codec of IA Prefix values. */
export const iaPrefix: Codec<IaPrefix> = {
  decode(r: Reader): IaPrefix {
    const preferredLifetime = r.u32("preferred-lifetime");
    const validLifetime = r.u32("valid-lifetime");
    const prefixLength = r.u8("prefix-length");
    const prefix = ipv6ToString(r.bytes(16, "IPv6 prefix"));
    return { preferredLifetime, validLifetime, prefixLength, prefix, options: options6.decode(r) };
  },
  encode(w: Writer, v: IaPrefix): void {
    w.u32(v.preferredLifetime);
    w.u32(v.validLifetime);
    w.u8(v.prefixLength);
    w.bytes(ipv6ToBytes(v.prefix));
    options6.encode(w, v.options);
  },
  encodingLength: (v: IaPrefix) => 25 + options6.encodingLength(v.options),
};

/** Decodes an option value with one of the codecs above. */
export function decodeValue<T>(codec: Codec<T>, value: Uint8Array): T {
  return codec.decode(new Reader(value));
}
