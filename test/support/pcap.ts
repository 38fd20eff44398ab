import { ipv4ToString, ipv6ToString } from "../../lib/codec/address.ts";

/** One UDP datagram from a capture. */
export interface UdpDatagram {
  /** Seconds since the epoch, with microseconds. */
  time: number;
  family: 4 | 6;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
}

const LINKTYPE_ETHERNET = 1;
const LINKTYPE_LINUX_SLL = 113;

/** The UDP datagrams in a classic pcap file (Ethernet or Linux cooked capture), in capture order. */
export function udpDatagrams(file: Uint8Array): UdpDatagram[] {
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magic = view.getUint32(0, true);
  const little = magic === 0xa1b2c3d4;
  if (!little && magic !== 0xd4c3b2a1) throw new Error("not a pcap file (pcapng is not read here)");
  const u32 = (at: number) => view.getUint32(at, little);
  const linkType = u32(20);
  const out: UdpDatagram[] = [];
  for (let at = 24; at + 16 <= file.length; ) {
    const time = u32(at) + u32(at + 4) / 1e6;
    const captured = u32(at + 8);
    const frame = file.subarray(at + 16, at + 16 + captured);
    at += 16 + captured;
    let l3 = linkType === LINKTYPE_ETHERNET ? 14 : linkType === LINKTYPE_LINUX_SLL ? 16 : -1;
    if (l3 < 0) throw new Error(`pcap link type ${linkType} is not read here`);
    let etherType = (frame[l3 - 2] as number) * 256 + (frame[l3 - 1] as number);
    if (etherType === 0x8100) {
      etherType = (frame[l3 + 2] as number) * 256 + (frame[l3 + 3] as number);
      l3 += 4;
    }
    const d = udpIn(frame, l3, etherType);
    if (d) out.push({ time, ...d });
  }
  return out;
}

function udpIn(f: Uint8Array, l3: number, etherType: number): Omit<UdpDatagram, "time"> | undefined {
  let l4: number;
  let family: 4 | 6;
  let src: string;
  let dst: string;
  if (etherType === 0x0800 && f[l3 + 9] === 17) {
    family = 4;
    l4 = l3 + ((f[l3] as number) & 0x0f) * 4;
    src = ipv4ToString(f, l3 + 12);
    dst = ipv4ToString(f, l3 + 16);
  } else if (etherType === 0x86dd && f[l3 + 6] === 17) {
    family = 6;
    l4 = l3 + 40;
    src = ipv6ToString(f, l3 + 8);
    dst = ipv6ToString(f, l3 + 24);
  } else return undefined;
  const length = (f[l4 + 4] as number) * 256 + (f[l4 + 5] as number);
  return {
    family,
    src,
    dst,
    srcPort: (f[l4] as number) * 256 + (f[l4 + 1] as number),
    dstPort: (f[l4 + 2] as number) * 256 + (f[l4 + 3] as number),
    payload: f.slice(l4 + 8, l4 + length),
  };
}
