import { pino } from "pino";
import { fromHex } from "../../lib/codec/bytes.ts";
import { MSG, OP, OPT } from "../../lib/codec/dhcp4/codes.ts";
import { type Dhcp4Message, decodeDhcp4, encodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { getOption } from "../../lib/codec/dhcp4/options.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeDhcp6,
  innermost,
  isRelay,
  relayedMessage,
} from "../../lib/codec/dhcp6/message.ts";
import { DEFAULT_POLICY } from "../../lib/policy/default-policy.ts";
import { type Policy, parsePolicy } from "../../lib/policy/policy.ts";
import {
  type Link,
  linkName,
  type OnLink,
  type Relayed,
  type SendOutcome,
  type Transport,
} from "../../relay/agent/links.ts";
import type { Vrf4 } from "../../relay/agent/relay4.ts";
import { goldenPackets } from "./golden.ts";

/** A datagram a fake transport was asked to send, and the link it was to leave by. */
export interface Sent {
  bytes: Uint8Array;
  port: number;
  address: string;
  via: string;
  /** How the relay framed it itself (`Transport.sendOnLink`), when it did. */
  frame?: OnLink;
}

/**
 * A transport that records instead of sending; unit tests of the relay paths use it. Sends to an
 * address in `unreachable` fail, as a real socket's callback reports them.
 */
export class FakeTransport implements Transport {
  readonly sent: Sent[] = [];
  readonly unreachable = new Set<string>();

  /** `framing`: it frames DHCPv4 replies on access links, as the native datapath does. */
  constructor(private readonly framing = false) {}

  sendOnLink(
    bytes: Uint8Array,
    port: number,
    frame: OnLink,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): boolean {
    if (!this.framing || via.side !== "access") return false;
    const hardware = frame.hardware && Uint8Array.from(frame.hardware);
    this.sent.push({
      bytes: bytes.slice(),
      port,
      address: frame.destination,
      via: linkName(via),
      frame: { ...frame, hardware },
    });
    outcome.sent(what);
    return true;
  }

  send(
    bytes: Uint8Array,
    port: number,
    address: string,
    via: Link,
    what: Relayed,
    outcome: SendOutcome,
  ): void {
    if (this.unreachable.has(address)) {
      outcome.failed(what, "EHOSTUNREACH", address, port);
      return;
    }
    this.sent.push({ bytes: bytes.slice(), port, address, via: linkName(via) });
    outcome.sent(what);
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** A silent logger. */
export const quietLog = pino({ level: "silent" });

/** The default policy with some top-level settings changed (e.g. { existingOption82: "append" }). */
export function policyWith(settings: Record<string, string | number> = {}): Policy {
  let text = DEFAULT_POLICY;
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key}: .*$`, "m");
    text = line.test(text) ? text.replace(line, `${key}: ${value}`) : `${text}\n${key}: ${value}\n`;
  }
  return parsePolicy(text, "test-policy.yaml", ["RED", "BLUE"]);
}

/** A golden packet's bytes by name. */
export function golden(name: string): Uint8Array {
  const p = goldenPackets().find((g) => g.name === name);
  if (!p) throw new Error(`no golden packet ${name}`);
  return p.bytes.slice();
}

/** RED as the DHCPv4 path sees it in the unit tests: link selection, server-id override, one server. */
export const RED_VRF4: Vrf4 = {
  name: "RED",
  relayAddress: "10.213.2.2",
  link: "192.168.10.1",
  subnetSelection: "link-selection",
  serverIdOverride: true,
  servers: ["10.213.2.10"],
};

/** The server's answer to a relayed request: what Kea does, Option 82 echoed (RFC 3046 §2.2). */
export function offerFor(
  relayed: Uint8Array,
  type: number = MSG.OFFER,
  edit?: (m: Dhcp4Message) => void,
): Uint8Array {
  const m = decodeDhcp4(relayed);
  m.op = OP.BOOTREPLY;
  m.yiaddr = "192.168.10.10";
  const rai = getOption(m, OPT.relayAgentInfo);
  m.options.options = [
    { code: OPT.messageType, data: Uint8Array.of(type) },
    { code: OPT.serverId, data: Uint8Array.of(192, 168, 10, 1) },
  ];
  if (rai) m.options.options.push({ code: OPT.relayAgentInfo, data: rai });
  edit?.(m);
  return encodeDhcp4(m, { maxSize: 1500 });
}

/** What Kea answers: a RELAY-REPL echoing the relay's Interface-ID around an ADVERTISE (or `type`). */
export function replyTo(
  forw: Uint8Array,
  edit?: (r: Dhcp6RelayMessage) => void,
  type: number = MSG6.ADVERTISE,
): Uint8Array {
  const f = decodeDhcp6(forw);
  if (!isRelay(f)) throw new Error("expected RELAY-FORW");
  const inner = relayedMessage(f) as Dhcp6Message;
  const advertise: Dhcp6Message = {
    type,
    transactionId: innermost(inner)?.transactionId ?? 0,
    options: [{ code: OPT6.serverId, data: fromHex("000300010200000000aa") }],
  };
  const repl: Dhcp6RelayMessage = {
    type: MSG6.RELAY_REPL,
    hopCount: f.hopCount,
    linkAddress: f.linkAddress,
    peerAddress: f.peerAddress,
    options: [
      ...f.options.filter((o) => o.code === OPT6.interfaceId),
      {
        code: OPT6.relayMessage,
        message: isRelay(inner)
          ? { ...inner, type: MSG6.RELAY_REPL, options: [{ code: OPT6.relayMessage, message: advertise }] }
          : advertise,
      },
    ],
  };
  edit?.(repl);
  return encodeDhcp6(repl);
}
