import { hex } from "../../lib/codec/bytes.ts";
import { messageTypeName } from "../../lib/codec/dhcp4/codes.ts";
import type { Dhcp4View } from "../../lib/codec/dhcp4/scan.ts";
import { messageType6Name } from "../../lib/codec/dhcp6/codes.ts";
import { relayInfo4, relayInfo6 } from "../../lib/relay-info.ts";
import type { JournalEntry, RecordCodec, Recorded, RecordReader, RecordWriter } from "./journal.ts";

// What the relay paths record of each client message for the journal: what they knew, as they
// knew it (numbers, copies of a few bytes, references to what they made anyway), made into the
// entry `dhcplab trace` shows only when it is read. The journal writes each record into its bytes
// with the record's codec and makes it again from them when it is read: no record outlives the
// message it was made for, and nothing here keeps a received datagram alive.

type Entry = Omit<JournalEntry, "at">;

/**
 * A client's hardware address as a record keeps it: an Ethernet MAC (6 bytes, or fewer) as one
 * number (a 16-byte number on V8's heap, not a typed array and its store), anything longer as a
 * copy. Every record lives until the journal's ring comes round, so it outlives a young-generation
 * collection or two; what it holds is copied by each one (bench:paths with --trace-gc: the journal
 * tripled the scavenges' time).
 */
type KeptMac = number | Uint8Array;

/** Up to 6 bytes in a number: the length in the top bits above 48 bits of value. */
function keepMac(bytes: Uint8Array, length: number): KeptMac {
  const n = Math.min(length, bytes.length);
  if (n > 6) return bytes.slice(0, n);
  let v = 0;
  for (let i = 0; i < n; i++) v = v * 256 + (bytes[i] as number);
  return n * 2 ** 48 + v;
}

function macBytes(kept: KeptMac): Uint8Array {
  if (typeof kept !== "number") return kept;
  const n = Math.floor(kept / 2 ** 48);
  const out = new Uint8Array(n);
  let v = kept - n * 2 ** 48;
  for (let i = n - 1; i >= 0; i--) {
    out[i] = v % 256;
    v = Math.floor(v / 256);
  }
  return out;
}

/** No message type (plain BOOTP; a DHCPv6 record before the client's message was found). */
const NO_TYPE = 0xffff;

/** What both families record of the decision: the rule and VRF once known, and the outcome. */
abstract class RecordedDecision implements Recorded {
  abstract readonly family: 4 | 6;
  rule: string | undefined = undefined;
  vrf: string | undefined = undefined;
  protected action: "relay" | "drop" = "drop";
  protected reason: string | undefined = undefined;

  dropped(reason: string): this {
    this.action = "drop";
    this.reason = reason;
    return this;
  }

  /** The decision's fields, as every record's codec writes them after its own. */
  protected writeDecision(w: RecordWriter): void {
    w.u8(this.action === "relay" ? 1 : 0);
    w.text(this.reason);
    w.text(this.rule);
    w.text(this.vrf);
  }

  protected readDecision(r: RecordReader): void {
    this.action = r.u8() === 1 ? "relay" : "drop";
    this.reason = r.text();
    this.rule = r.text();
    this.vrf = r.text();
  }

  /** The rule and VRF as a dropped entry has them: each only once it was known. */
  protected decidedSoFar(): { rule?: string; vrf?: string } {
    return {
      ...(this.rule !== undefined ? { rule: this.rule } : {}),
      ...(this.vrf !== undefined ? { vrf: this.vrf } : {}),
    };
  }

  abstract entry(): Entry;
}

/** A DHCPv4 client message: who sent it, then what the relay did (set once it is known). */
export class Recorded4 extends RecordedDecision {
  readonly family = 4;
  readonly codec: RecordCodec<Recorded4> = RECORDED4;
  private type: number | undefined;
  private chaddr: KeptMac;
  private xid: number;
  private downstream: string | undefined;
  private giaddr: string | undefined = undefined;
  /** The Option 82 sent (undefined: none); null: the packet went on unchanged, nothing added. */
  private sent82: Uint8Array | undefined | null = null;

  /** Taken before the relay changes the message (giaddr, hops). */
  constructor(
    m: Pick<Dhcp4View, "messageType" | "chaddr" | "hlen" | "xid" | "giaddr">,
    private segment: string,
  ) {
    super();
    this.type = m.messageType;
    this.chaddr = keepMac(m.chaddr, m.hlen);
    this.xid = m.xid;
    this.downstream = m.giaddr !== "0.0.0.0" ? m.giaddr : undefined;
  }

  static write(r: Recorded4, w: RecordWriter): void {
    w.u16(r.type ?? NO_TYPE);
    w.field(macBytes(r.chaddr));
    w.u32(r.xid);
    w.text(r.segment);
    w.inline(r.downstream);
    // The relay's own address, or a downstream relay's when the relay forwarded its message.
    w.inline(r.giaddr);
    w.u8(r.sent82 === null ? 0 : 1);
    w.field(r.sent82 ?? undefined);
    r.writeDecision(w);
  }

  static read(from: RecordReader): Recorded4 {
    const type = from.u16();
    const chaddr = from.field() ?? new Uint8Array();
    const r = new Recorded4(
      {
        messageType: type === NO_TYPE ? undefined : type,
        chaddr,
        hlen: chaddr.length,
        xid: from.u32(),
        giaddr: "0.0.0.0",
      },
      from.text() ?? "",
    );
    r.downstream = from.inline();
    r.giaddr = from.inline();
    const added = from.u8() === 1;
    const sent82 = from.field();
    r.sent82 = added ? sent82 : null;
    r.readDecision(from);
    return r;
  }

  /** Relayed with `sent82` as its Option 82 (null: forwarded unchanged), giaddr as the servers see it. */
  relayed(giaddr: string, sent82: Uint8Array | undefined | null): this {
    this.action = "relay";
    this.giaddr = giaddr;
    this.sent82 = sent82;
    return this;
  }

  entry(): Entry {
    const head = {
      family: 4 as const,
      type: this.type === undefined ? "BOOTREQUEST" : messageTypeName(this.type),
      mac: hex(macBytes(this.chaddr), ":"),
      transaction: this.xid.toString(16).padStart(8, "0"),
      segment: this.segment,
      ...(this.downstream !== undefined ? { downstream: this.downstream } : {}),
    };
    if (this.action === "drop")
      return { ...head, ...this.decidedSoFar(), action: "drop", reason: this.reason };
    return {
      ...head,
      action: "relay",
      rule: this.rule,
      vrf: this.vrf,
      ...(this.sent82 !== null ? { added: this.sent82 ? relayInfo4(this.sent82) : {} } : {}),
      giaddr: this.giaddr,
    };
  }
}

/** A DHCPv6 client message (the innermost one of a relayed packet), as Recorded4. */
export class Recorded6 extends RecordedDecision {
  readonly family = 6;
  readonly codec: RecordCodec<Recorded6> = RECORDED6;
  /** The client's message type; undefined until the relay found the client's message. */
  clientType: number | undefined = undefined;
  transactionId = 0;
  private mac: KeptMac | undefined = undefined;
  private duid: Uint8Array | undefined = undefined;
  private added: readonly { code: number; data: Uint8Array }[] = [];
  private linkAddress: string | undefined = undefined;
  private peerAddress: string | undefined = undefined;

  constructor(private readonly segment: string) {
    super();
  }

  static write(r: Recorded6, w: RecordWriter): void {
    w.text(r.segment);
    w.u16(r.clientType ?? NO_TYPE);
    w.u32(r.transactionId);
    w.field(r.mac === undefined ? undefined : macBytes(r.mac));
    w.field(r.duid);
    w.u16(r.added.length);
    for (const o of r.added) {
      w.u16(o.code);
      w.field(o.data);
    }
    // The VRF's link (configured), and the client's own address as it came.
    w.text(r.linkAddress);
    w.inline(r.peerAddress);
    r.writeDecision(w);
  }

  static read(from: RecordReader): Recorded6 {
    const r = new Recorded6(from.text() ?? "");
    const type = from.u16();
    r.clientType = type === NO_TYPE ? undefined : type;
    r.transactionId = from.u32();
    const mac = from.field();
    r.mac = mac && keepMac(mac, mac.length);
    r.duid = from.field();
    const added: { code: number; data: Uint8Array }[] = [];
    for (let n = from.u16(); n > 0; n--)
      added.push({ code: from.u16(), data: from.field() ?? new Uint8Array() });
    r.added = added;
    r.linkAddress = from.text();
    r.peerAddress = from.inline();
    r.readDecision(from);
    return r;
  }

  /** The client, once known (its identifiers are views of the datagram until the journal writes them). */
  client(type: number, transactionId: number): void {
    this.clientType = type;
    this.transactionId = transactionId;
  }

  identified(mac: Uint8Array | undefined, duid: Uint8Array | undefined): void {
    this.mac = mac && keepMac(mac, mac.length);
    this.duid = duid;
  }

  /** Relayed in a RELAY-FORW with these options beside its Relay Message. */
  relayed(
    added: readonly { code: number; data: Uint8Array }[],
    linkAddress: string,
    peerAddress: string,
  ): this {
    this.action = "relay";
    this.added = added;
    this.linkAddress = linkAddress;
    this.peerAddress = peerAddress;
    return this;
  }

  entry(): Entry {
    const e = {
      family: 6 as const,
      type: messageType6Name(this.clientType ?? 0),
      transaction: this.transactionId.toString(16).padStart(6, "0"),
      segment: this.segment,
      ...(this.mac !== undefined ? { mac: hex(macBytes(this.mac), ":") } : {}),
      ...(this.duid ? { duid: hex(this.duid, ":") } : {}),
      ...this.decidedSoFar(),
    };
    return this.action === "drop"
      ? { ...e, action: "drop", reason: this.reason }
      : { ...e, action: "relay", added: relayInfo6(this.added, this.linkAddress, this.peerAddress) };
  }
}

const RECORDED4: RecordCodec<Recorded4> = { write: Recorded4.write, read: Recorded4.read };
const RECORDED6: RecordCodec<Recorded6> = { write: Recorded6.write, read: Recorded6.read };
