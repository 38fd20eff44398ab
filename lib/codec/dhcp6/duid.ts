import { macToString } from "../address.ts";
import { type Codec, hex, Reader, type Writer } from "../bytes.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { DUID, MAX_DUID_LENGTH } from "./codes.ts";

/** A DUID, decoded by type (RFC 8415 §11); other types keep their bytes. */
export type Duid =
  /** DUID-LLT: link-layer address plus time (RFC 8415 §11.2). */
  | { type: typeof DUID.LLT; hwtype: number; time: number; linkLayer: Uint8Array }
  /** DUID-EN: enterprise number plus identifier (RFC 8415 §11.3). */
  | { type: typeof DUID.EN; enterprise: number; id: Uint8Array }
  /** DUID-LL: link-layer address (RFC 8415 §11.4). */
  | { type: typeof DUID.LL; hwtype: number; linkLayer: Uint8Array }
  /** DUID-UUID (RFC 6355 §4): 16 bytes. */
  | { type: typeof DUID.UUID; uuid: Uint8Array }
  | { type: number; data: Uint8Array };

/** The DUID codec; the value is the whole option (Client-ID or Server-ID). */
export const duid: Codec<Duid> = {
  decode(r: Reader): Duid {
    const start = r.pos;
    if (r.left < 3)
      throw new DecodeError("bad-duid", start, `DUID of ${r.left} bytes is shorter than type plus one byte`);
    if (r.left > MAX_DUID_LENGTH) {
      throw new DecodeError(
        "duid-too-long",
        start,
        `DUID of ${r.left} bytes exceeds ${MAX_DUID_LENGTH} (RFC 8415 §11.1)`,
      );
    }
    const type = r.u16("DUID type");
    switch (type) {
      case DUID.LLT: {
        const hwtype = r.u16("DUID-LLT hardware type");
        const time = r.u32("DUID-LLT time");
        return { type, hwtype, time, linkLayer: r.bytes(r.left, "DUID-LLT address") };
      }
      case DUID.EN: {
        const enterprise = r.u32("DUID-EN enterprise number");
        return { type, enterprise, id: r.bytes(r.left, "DUID-EN identifier") };
      }
      case DUID.LL: {
        const hwtype = r.u16("DUID-LL hardware type");
        return { type, hwtype, linkLayer: r.bytes(r.left, "DUID-LL address") };
      }
      case DUID.UUID:
        if (r.left !== 16)
          throw new DecodeError("bad-duid", r.pos, `DUID-UUID holds ${r.left} bytes, not 16`);
        return { type, uuid: r.bytes(16, "DUID-UUID") };
      default:
        return { type, data: r.bytes(r.left, "DUID") };
    }
  },
  encode(w: Writer, d: Duid): void {
    w.u16(d.type);
    if ("linkLayer" in d) {
      w.u16(d.hwtype);
      if ("time" in d) w.u32(d.time);
      w.bytes(d.linkLayer);
    } else if ("enterprise" in d) {
      w.u32(d.enterprise);
      w.bytes(d.id);
    } else if ("uuid" in d) w.bytes(d.uuid);
    else w.bytes(d.data);
  },
  encodingLength(d: Duid): number {
    let n = 2;
    if ("linkLayer" in d) n += 2 + ("time" in d ? 4 : 0) + d.linkLayer.length;
    else if ("enterprise" in d) n += 4 + d.id.length;
    else if ("uuid" in d) n += d.uuid.length;
    else n += d.data.length;
    if (n > MAX_DUID_LENGTH)
      throw new EncodeError("too-long", `DUID of ${n} bytes exceeds ${MAX_DUID_LENGTH}`);
    return n;
  },
};

/** Decodes a DUID from an option's value. */
export function decodeDuid(value: Uint8Array): Duid {
  return duid.decode(new Reader(value));
}

/** The link-layer address a DUID holds (DUID-LLT and DUID-LL), as 00:aa:01:00:00:01. */
export function duidMac(d: Duid): string | undefined {
  return "linkLayer" in d && d.linkLayer.length > 0 ? macToString(d.linkLayer) : undefined;
}

/** A DUID's bytes as Kea prints them: colon-separated hex. */
export function duidText(value: Uint8Array): string {
  return hex(value, ":");
}
