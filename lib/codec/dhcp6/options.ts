import { macToString } from "../address.ts";
import { type Codec, Reader, text, type Writer } from "../bytes.ts";
import { DecodeError } from "../errors.ts";

/** Remote-ID (RFC 4649 §3): the relay's enterprise number and an opaque id. */
export interface RemoteId6 {
  enterprise: number;
  id: Uint8Array;
}

/** Codec of Remote-ID values. */
export const remoteId6: Codec<RemoteId6> = {
  decode(r: Reader): RemoteId6 {
    const enterprise = r.u32("Remote-ID enterprise number");
    return { enterprise, id: r.bytes(r.left, "Remote-ID") };
  },
  encode(w: Writer, v: RemoteId6): void {
    w.u32(v.enterprise);
    w.bytes(v.id);
  },
  encodingLength: (v: RemoteId6) => 4 + v.id.length,
};

/** Client Link-Layer Address (RFC 6939 §4): hardware type and address. */
export interface ClientLinkLayerAddress {
  hwtype: number;
  address: Uint8Array;
}

/** Codec of Client Link-Layer Address values. */
export const clientLinkLayerAddress: Codec<ClientLinkLayerAddress> = {
  decode(r: Reader): ClientLinkLayerAddress {
    const hwtype = r.u16("link-layer type");
    return { hwtype, address: r.bytes(r.left, "link-layer address") };
  },
  encode(w: Writer, v: ClientLinkLayerAddress): void {
    w.u16(v.hwtype);
    w.bytes(v.address);
  },
  encodingLength: (v: ClientLinkLayerAddress) => 2 + v.address.length,
};

/** The address of a Client Link-Layer Address option as 00:aa:01:00:00:01. */
export const clientLinkLayerMac = (v: ClientLinkLayerAddress): string => macToString(v.address);

/** Reads 2-byte length-prefixed items to the end (user class data, vendor class data). */
function lengthPrefixed(r: Reader, what: string): Uint8Array[] {
  const items: Uint8Array[] = [];
  while (r.left > 0) {
    const lenAt = r.pos;
    const len = r.u16(`${what} length`);
    if (r.left < len) throw new DecodeError("overrun", lenAt, `${what} claims ${len} bytes, ${r.left} left`);
    items.push(r.bytes(len, what));
  }
  return items;
}

function writeLengthPrefixed(w: Writer, items: Uint8Array[]): void {
  for (const item of items) {
    w.u16(item.length);
    w.bytes(item);
  }
}

const prefixedLength = (items: Uint8Array[]) => items.reduce((n, i) => n + 2 + i.length, 0);

/** Codec of User Class values (RFC 8415 §21.15): a list of opaque classes. */
export const userClass6: Codec<Uint8Array[]> = {
  decode: (r: Reader) => lengthPrefixed(r, "user-class-data"),
  encode: writeLengthPrefixed,
  encodingLength: prefixedLength,
};

/** Vendor Class (RFC 8415 §21.16): enterprise number and a list of opaque classes. */
export interface VendorClass6 {
  enterprise: number;
  classes: Uint8Array[];
}

/** Codec of Vendor Class values. */
export const vendorClass6: Codec<VendorClass6> = {
  decode(r: Reader): VendorClass6 {
    const enterprise = r.u32("vendor class enterprise number");
    return { enterprise, classes: lengthPrefixed(r, "vendor-class-data") };
  },
  encode(w: Writer, v: VendorClass6): void {
    w.u32(v.enterprise);
    writeLengthPrefixed(w, v.classes);
  },
  encodingLength: (v: VendorClass6) => 4 + prefixedLength(v.classes),
};

/** Decodes an option's value with `codec`. */
export function decodeOption<T>(codec: Codec<T>, value: Uint8Array): T {
  return codec.decode(new Reader(value));
}

/** Class strings for matching: each opaque class read as text. */
export const classTexts = (classes: Uint8Array[]): string[] => classes.map(text);
