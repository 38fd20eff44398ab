import { ipv4ToBytes, ipv4ToString } from "../address.ts";
import { type Codec, checkLength, encodeWith, Reader, text, utf8, type Writer } from "../bytes.ts";
import { DecodeError } from "../errors.ts";
import { SUBOPT } from "./codes.ts";

/** One sub-option of the Relay Agent Information option (RFC 3046 §2.0). Unknown codes keep their bytes. */
export interface SubOption {
  code: number;
  data: Uint8Array;
}

/**
 * The sub-options of option 82 (RFC 3046 §2.0): code, length, value, repeated. Each
 * sub-option's length is at least 1 for the sub-options RFC 3046 defines, but later RFCs
 * (RFC 6607's VSS control) define empty ones, so any length is decoded.
 */
export const relayAgentInfo: Codec<SubOption[]> = {
  decode(r: Reader): SubOption[] {
    const subs: SubOption[] = [];
    while (r.left > 0) {
      const at = r.pos;
      const code = r.u8("sub-option code");
      const len = r.u8(`length of sub-option ${code}`);
      if (r.left < len)
        throw new DecodeError("overrun", at, `sub-option ${code} claims ${len} bytes, ${r.left} left`);
      subs.push({ code, data: r.bytes(len, `sub-option ${code}`) });
    }
    return subs;
  },
  encode(w: Writer, subs: SubOption[]): void {
    for (const s of subs) {
      w.u8(s.code);
      w.u8(s.data.length);
      w.bytes(s.data);
    }
  },
  encodingLength(subs: SubOption[]): number {
    let n = 0;
    for (const s of subs) {
      checkLength(s.data.length, 8, `sub-option ${s.code}`);
      n += 2 + s.data.length;
    }
    // The whole option value must fit one instance: RFC 3046 §2.0 gives it an 8-bit length.
    checkLength(n, 8, "option 82");
    return n;
  },
};

/** Decodes the value of option 82. */
export function decodeRelayAgentInfo(value: Uint8Array): SubOption[] {
  return relayAgentInfo.decode(new Reader(value));
}

/** Encodes sub-options into the value of option 82. */
export function encodeRelayAgentInfo(subs: SubOption[]): Uint8Array {
  return encodeWith(relayAgentInfo, subs);
}

/** Virtual Subnet Selection (RFC 6607 §3.1): a type byte and its information. */
export interface Vss {
  /** 0 NVT ASCII VPN id, 1 RFC 2685 VPN-ID, 255 global (default) VPN. */
  type: number;
  info: Uint8Array;
}

/** The sub-options the relay reads and writes, by name. */
export interface RelayAgentFields {
  circuitId?: Uint8Array;
  remoteId?: Uint8Array;
  /** RFC 3527 Link Selection: the subnet the client is on. */
  linkSelection?: string;
  /** RFC 3993 Subscriber-ID: NVT ASCII. */
  subscriberId?: string;
  /** RFC 5107 Server Identifier Override. */
  serverIdOverride?: string;
  vss?: Vss;
  /** RFC 6607 §3.2 VSS control: present or not. */
  vssControl?: boolean;
}

/** Reads the named sub-options out of a list (the first instance of each). */
export function relayAgentFields(subs: SubOption[]): RelayAgentFields {
  const f: RelayAgentFields = {};
  for (const s of subs) {
    switch (s.code) {
      case SUBOPT.circuitId:
        f.circuitId ??= s.data;
        break;
      case SUBOPT.remoteId:
        f.remoteId ??= s.data;
        break;
      case SUBOPT.linkSelection:
        if (s.data.length === 4) f.linkSelection ??= ipv4ToString(s.data);
        break;
      case SUBOPT.subscriberId:
        f.subscriberId ??= text(s.data);
        break;
      case SUBOPT.serverIdOverride:
        if (s.data.length === 4) f.serverIdOverride ??= ipv4ToString(s.data);
        break;
      case SUBOPT.vss:
        if (s.data.length >= 1) f.vss ??= { type: s.data[0] as number, info: s.data.subarray(1) };
        break;
      case SUBOPT.vssControl:
        f.vssControl = true;
        break;
    }
  }
  return f;
}

/** Builds sub-options from named fields, in code order. */
export function subOptionsOf(f: RelayAgentFields): SubOption[] {
  const subs: SubOption[] = [];
  if (f.circuitId) subs.push({ code: SUBOPT.circuitId, data: f.circuitId });
  if (f.remoteId) subs.push({ code: SUBOPT.remoteId, data: f.remoteId });
  if (f.linkSelection) subs.push({ code: SUBOPT.linkSelection, data: ipv4ToBytes(f.linkSelection) });
  if (f.subscriberId !== undefined) subs.push({ code: SUBOPT.subscriberId, data: utf8(f.subscriberId) });
  if (f.serverIdOverride) subs.push({ code: SUBOPT.serverIdOverride, data: ipv4ToBytes(f.serverIdOverride) });
  if (f.vss) subs.push({ code: SUBOPT.vss, data: Uint8Array.of(f.vss.type, ...f.vss.info) });
  if (f.vssControl) subs.push({ code: SUBOPT.vssControl, data: new Uint8Array(0) });
  return subs;
}
