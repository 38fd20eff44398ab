import { type Codec, Reader, Writer } from "../bytes.ts";
import { DecodeError, EncodeError } from "../errors.ts";
import { HEADER_LENGTH, MAGIC_COOKIE, MIN_MAX_MESSAGE_SIZE, OP, OPT } from "./codes.ts";

/**
 * One option instance as it stands in the packet. PAD is kept as `{ code: 0 }` so that
 * decode then encode gives back the same bytes; a value longer than 255 bytes is split
 * into several instances when encoded (RFC 3396 §7).
 */
export interface Option4 {
  code: number;
  data: Uint8Array;
}

/** The options of one field: the options field, or `file` / `sname` when option 52 overloads them. */
export interface OptionArea {
  options: Option4[];
  /** Whether the area ends with END (RFC 2131 §4.1 requires it; some clients omit it). */
  end: boolean;
  /** Bytes after END, usually zero padding; kept as they came. */
  trailer: Uint8Array;
}

/** A DHCPv4 message (RFC 2131 §2). */
export interface Dhcp4Message {
  op: number;
  htype: number;
  hlen: number;
  hops: number;
  xid: number;
  secs: number;
  flags: number;
  ciaddr: string;
  yiaddr: string;
  siaddr: string;
  giaddr: string;
  /** All 16 bytes of the field; the client's address is the first `hlen`. */
  chaddr: Uint8Array;
  /** 64 bytes, or options when option 52 overloads the field (RFC 2132 §9.3). */
  sname: Uint8Array | OptionArea;
  /** 128 bytes, or options when option 52 overloads the field (RFC 2132 §9.3). */
  file: Uint8Array | OptionArea;
  /** The options field, after the magic cookie. */
  options: OptionArea;
}

/** The broadcast bit of `flags` (RFC 2131 §2). */
export const FLAG_BROADCAST = 0x8000;

const SNAME_LENGTH = 64;
const FILE_LENGTH = 128;

/** Codec of an option area; `size` pads it to a fixed field length (sname, file). */
function areaCodec(size?: number): Codec<OptionArea> {
  return {
    decode(r: Reader): OptionArea {
      const options: Option4[] = [];
      while (r.left > 0) {
        const at = r.pos;
        const code = r.u8("option code");
        if (code === OPT.pad) {
          options.push({ code, data: EMPTY });
          continue;
        }
        if (code === OPT.end) return { options, end: true, trailer: r.bytes(r.left, "trailer") };
        const len = r.u8(`length of option ${code}`);
        if (r.left < len)
          throw new DecodeError("overrun", at, `option ${code} claims ${len} bytes, ${r.left} left`);
        options.push({ code, data: r.bytes(len, `option ${code}`) });
      }
      return { options, end: false, trailer: EMPTY };
    },
    encode(w: Writer, area: OptionArea): void {
      const start = w.pos;
      // RFC 3046 §2.1: the relay agent option goes last, after every other option.
      for (const o of area.options) if (o.code !== OPT.relayAgentInfo) writeOption(w, o);
      for (const o of area.options) if (o.code === OPT.relayAgentInfo) writeOption(w, o);
      if (area.end) w.u8(OPT.end);
      w.bytes(area.trailer);
      if (size !== undefined) w.zeros(size - (w.pos - start));
    },
    encodingLength(area: OptionArea): number {
      let n = area.trailer.length + (area.end ? 1 : 0);
      for (const o of area.options) n += optionLength(o);
      if (size !== undefined && n > size) {
        throw new EncodeError("too-long", `options overloaded into a ${size}-byte field take ${n} bytes`);
      }
      return size ?? n;
    },
  };
}

const EMPTY = new Uint8Array(0);
const optionsArea = areaCodec();
const snameArea = areaCodec(SNAME_LENGTH);
const fileArea = areaCodec(FILE_LENGTH);

function optionLength(o: Option4): number {
  if (o.code === OPT.pad || o.code === OPT.end) return 1;
  // RFC 3396 §7: a value over 255 bytes is split into instances of at most 255.
  const parts = Math.max(1, Math.ceil(o.data.length / 255));
  return o.data.length + 2 * parts;
}

function writeOption(w: Writer, o: Option4): void {
  if (o.code === OPT.pad || o.code === OPT.end) {
    w.u8(o.code);
    return;
  }
  let at = 0;
  do {
    const chunk = o.data.subarray(at, at + 255);
    w.u8(o.code);
    w.u8(chunk.length);
    w.bytes(chunk);
    at += 255;
  } while (at < o.data.length);
}

/** Which fields option 52 overloads: 1 file, 2 sname, 3 both (RFC 2132 §9.3). */
function overloadOf(area: OptionArea): number {
  for (const o of area.options)
    if (o.code === OPT.overload && o.data.length === 1) return o.data[0] as number;
  return 0;
}

/** The DHCPv4 message codec. */
export const dhcp4: Codec<Dhcp4Message> = {
  decode(r: Reader): Dhcp4Message {
    r.need(HEADER_LENGTH, "BOOTP header and magic cookie");
    const op = r.u8("op");
    const htype = r.u8("htype");
    const hlenAt = r.pos;
    const hlen = r.u8("hlen");
    if (hlen > 16) throw new DecodeError("bad-hlen", hlenAt, `hlen ${hlen} exceeds the 16-byte chaddr field`);
    const hops = r.u8("hops");
    const xid = r.u32("xid");
    const secs = r.u16("secs");
    const flags = r.u16("flags");
    const ciaddr = r.ipv4("ciaddr");
    const yiaddr = r.ipv4("yiaddr");
    const siaddr = r.ipv4("siaddr");
    const giaddr = r.ipv4("giaddr");
    const chaddr = r.bytes(16, "chaddr");
    const snameRaw = r.bytes(SNAME_LENGTH, "sname");
    const fileRaw = r.bytes(FILE_LENGTH, "file");
    const cookieAt = r.pos;
    const cookie = r.u32("magic cookie");
    if (cookie !== MAGIC_COOKIE) {
      throw new DecodeError(
        "bad-cookie",
        cookieAt,
        `magic cookie 0x${cookie.toString(16)}, expected 0x63825363`,
      );
    }
    const options = optionsArea.decode(r);
    const overload = overloadOf(options);
    const fileAt = cookieAt - FILE_LENGTH;
    const snameAt = fileAt - SNAME_LENGTH;
    return {
      op,
      htype,
      hlen,
      hops,
      xid,
      secs,
      flags,
      ciaddr,
      yiaddr,
      siaddr,
      giaddr,
      chaddr,
      sname: overload & 2 ? snameArea.decode(new Reader(r.buf, snameAt, snameAt + SNAME_LENGTH)) : snameRaw,
      file: overload & 1 ? fileArea.decode(new Reader(r.buf, fileAt, fileAt + FILE_LENGTH)) : fileRaw,
      options,
    };
  },

  encode(w: Writer, m: Dhcp4Message): void {
    w.u8(m.op);
    w.u8(m.htype);
    w.u8(m.hlen);
    w.u8(m.hops);
    w.u32(m.xid);
    w.u16(m.secs);
    w.u16(m.flags);
    w.ipv4(m.ciaddr);
    w.ipv4(m.yiaddr);
    w.ipv4(m.siaddr);
    w.ipv4(m.giaddr);
    writeFixed(w, m.chaddr, 16, "chaddr");
    if (m.sname instanceof Uint8Array) writeFixed(w, m.sname, SNAME_LENGTH, "sname");
    else snameArea.encode(w, m.sname);
    if (m.file instanceof Uint8Array) writeFixed(w, m.file, FILE_LENGTH, "file");
    else fileArea.encode(w, m.file);
    w.u32(MAGIC_COOKIE);
    optionsArea.encode(w, m.options);
  },

  encodingLength(m: Dhcp4Message): number {
    if (!(m.sname instanceof Uint8Array)) snameArea.encodingLength(m.sname);
    if (!(m.file instanceof Uint8Array)) fileArea.encodingLength(m.file);
    return HEADER_LENGTH + optionsArea.encodingLength(m.options);
  },
};

function writeFixed(w: Writer, b: Uint8Array, size: number, what: string): void {
  if (b.length > size)
    throw new EncodeError("too-long", `${what} is ${b.length} bytes, the field holds ${size}`);
  w.bytes(b);
  w.zeros(size - b.length);
}

/**
 * The largest message this one may grow to: the client's option 57 when it sends one,
 * else 576 (RFC 2131 §2, RFC 2132 §9.10).
 */
export function maxMessageSize(m: Dhcp4Message): number {
  for (const o of m.options.options)
    if (o.code === OPT.maxMessageSize && o.data.length === 2) return maxMessageSizeOf(o.data);
  return MIN_MAX_MESSAGE_SIZE;
}

/** What option 57's value allows (RFC 2132 §9.10): never less than 576; not two bytes, 576. */
export function maxMessageSizeOf(value: Uint8Array | undefined): number {
  if (value?.length !== 2) return MIN_MAX_MESSAGE_SIZE;
  return Math.max(MIN_MAX_MESSAGE_SIZE, ((value[0] as number) << 8) | (value[1] as number));
}

/** Decodes a DHCPv4 message; throws only DecodeError. */
export function decodeDhcp4(buf: Uint8Array): Dhcp4Message {
  return dhcp4.decode(new Reader(buf));
}

/** Options for `encodeDhcp4`. */
export interface Encode4Options {
  /** Refuse a message longer than this (default: `maxMessageSize(m)`); `Infinity` disables the check. */
  maxSize?: number;
}

/** Encodes a DHCPv4 message, Option 82 last; throws EncodeError when it exceeds the maximum size. */
export function encodeDhcp4(m: Dhcp4Message, opts: Encode4Options = {}): Uint8Array {
  const length = dhcp4.encodingLength(m);
  const limit = opts.maxSize ?? maxMessageSize(m);
  if (length > limit)
    throw new EncodeError("too-long", `message is ${length} bytes, the maximum is ${limit}`);
  const w = Writer.alloc(length);
  dhcp4.encode(w, m);
  return w.buf;
}

/** A BOOTREQUEST (RFC 2131 §2) with every field not given zero: no hardware address, no addresses, empty sname and file. */
export function bootRequest(
  f: Partial<Omit<Dhcp4Message, "options">> & { xid: number; options: Option4[] },
): Dhcp4Message {
  const { options, ...fields } = f;
  return {
    op: OP.BOOTREQUEST,
    htype: 0,
    hlen: 0,
    hops: 0,
    secs: 0,
    flags: 0,
    ciaddr: "0.0.0.0",
    yiaddr: "0.0.0.0",
    siaddr: "0.0.0.0",
    giaddr: "0.0.0.0",
    chaddr: new Uint8Array(16),
    sname: new Uint8Array(64),
    file: new Uint8Array(128),
    ...fields,
    options: { options, end: true, trailer: new Uint8Array(0) },
  };
}
