import { macToString } from "../../lib/codec/address.ts";
import { hex, text } from "../../lib/codec/bytes.ts";
import { messageTypeName, OPT } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { messageType } from "../../lib/codec/dhcp4/options.ts";
import { decodeRelayAgentInfo } from "../../lib/codec/dhcp4/relay-agent-info.ts";
import { messageType6Name } from "../../lib/codec/dhcp6/codes.ts";
import {
  type Dhcp6Message,
  decodeDhcp6,
  isRelay,
  isRelayMessageOption,
} from "../../lib/codec/dhcp6/message.ts";
import { DecodeError } from "../../lib/codec/errors.ts";

/** A packet's message type and a dissection, a line per field or option, for fixtures and logs. */
export function describePacket(family: 4 | 6, bytes: Uint8Array): { type: string; lines: string[] } {
  try {
    return family === 4 ? describe4(bytes) : describe6(decodeDhcp6(bytes), "");
  } catch (err) {
    if (err instanceof DecodeError) return { type: "MALFORMED", lines: [`decode error: ${err.message}`] };
    throw err;
  }
}

function describe4(bytes: Uint8Array): { type: string; lines: string[] } {
  const m = decodeDhcp4(bytes);
  const lines = [
    `op ${m.op} htype ${m.htype} hlen ${m.hlen} hops ${m.hops} xid 0x${m.xid.toString(16)} secs ${m.secs} flags 0x${m.flags.toString(16)}`,
    `ciaddr ${m.ciaddr} yiaddr ${m.yiaddr} siaddr ${m.siaddr} giaddr ${m.giaddr}`,
    `chaddr ${macToString(m.chaddr.subarray(0, m.hlen))}`,
  ];
  for (const o of m.options.options) {
    if (o.code === OPT.pad) continue;
    if (o.code === OPT.relayAgentInfo) {
      const subs = decodeRelayAgentInfo(o.data).map((s) => `${s.code}=${hex(s.data)}`);
      lines.push(`option 82 relay agent info: ${subs.join(" ")}`);
    } else lines.push(`option ${o.code} (${o.data.length}): ${hex(o.data)}`);
  }
  lines.push(`END ${m.options.end ? "present" : "absent"}, ${m.options.trailer.length} bytes after it`);
  return { type: messageTypeName(messageType(m)), lines };
}

function describe6(m: Dhcp6Message, indent: string): { type: string; lines: string[] } {
  const name = messageType6Name(m.type);
  if (!isRelay(m)) {
    const lines = [`${indent}${name} transaction-id 0x${m.transactionId.toString(16)}`];
    for (const o of m.options) lines.push(`${indent}  option ${o.code} (${o.data.length}): ${hex(o.data)}`);
    return { type: name, lines };
  }
  const lines = [`${indent}${name} hop-count ${m.hopCount} link ${m.linkAddress} peer ${m.peerAddress}`];
  let inner = name;
  for (const o of m.options) {
    if (isRelayMessageOption(o)) {
      const d = describe6(o.message, `${indent}    `);
      lines.push(`${indent}  option 9 relay message:`, ...d.lines);
      inner = `${name}-${d.type}`;
    } else {
      const shown = o.code === 18 ? `"${text(o.data)}"` : hex(o.data);
      lines.push(`${indent}  option ${o.code} (${o.data.length}): ${shown}`);
    }
  }
  return { type: inner, lines };
}
