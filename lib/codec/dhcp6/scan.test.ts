import { describe, expect, it } from "vitest";
import { ipv6ToString } from "../address.ts";
import { fromHex, utf8 } from "../bytes.ts";
import { MAX_RELAY_DEPTH, MSG6, OPT6 } from "./codes.ts";
import {
  type Dhcp6Message,
  type Dhcp6RelayMessage,
  decodeDhcp6,
  encodeDhcp6,
  getOption6,
  innermost,
  isRelay,
  relayedBytes,
  relayedMessage,
} from "./message.ts";
import { DecodedClient6, Scan6, ScannedClient6 } from "./scan.ts";

const ADVERTISE: Dhcp6Message = {
  type: MSG6.ADVERTISE,
  transactionId: 0xa1b2c3,
  options: [
    { code: OPT6.clientId, data: fromHex("00030001" + "00aa01000001") },
    { code: OPT6.serverId, data: fromHex("000300010200000000aa") },
    { code: OPT6.iaNa, data: fromHex("00000001" + "00000e10" + "00001c20") },
  ],
};

function relayRepl(inner: Dhcp6Message, options: Dhcp6RelayMessage["options"] = []): Dhcp6RelayMessage {
  return {
    type: MSG6.RELAY_REPL,
    hopCount: 0,
    linkAddress: "fd00:10::1",
    peerAddress: "fe80::2aa:1ff:fe00:1",
    options: [...options, { code: OPT6.relayMessage, message: inner }],
  };
}

// Server replies as a relay gets them, and what a relay must refuse or pass by.
const MESSAGES: Record<string, Dhcp6Message> = {
  "a client message": ADVERTISE,
  "a RELAY-REPL with an Interface-ID": relayRepl(ADVERTISE, [
    { code: OPT6.interfaceId, data: utf8("V6_VIDEO_LINK") },
  ]),
  "a RELAY-REPL with VSS after its Relay Message": {
    ...relayRepl(ADVERTISE),
    options: [
      { code: OPT6.relayMessage, message: ADVERTISE },
      { code: OPT6.vss, data: fromHex("ff") },
    ],
  },
  "a RELAY-REPL to a downstream relay": relayRepl(
    relayRepl(ADVERTISE, [{ code: OPT6.interfaceId, data: utf8("inner") }]),
    [{ code: OPT6.interfaceId, data: utf8("outer") }],
  ),
  "a RELAY-REPL with two Relay Messages and two Interface-IDs": {
    ...relayRepl(ADVERTISE),
    options: [
      { code: OPT6.interfaceId, data: utf8("first") },
      { code: OPT6.relayMessage, message: { ...ADVERTISE, transactionId: 7 } },
      { code: OPT6.interfaceId, data: utf8("second") },
      { code: OPT6.relayMessage, message: ADVERTISE },
    ],
  },
  "a RELAY-REPL without a Relay Message": {
    ...relayRepl(ADVERTISE),
    options: [{ code: OPT6.interfaceId, data: utf8("x") }],
  },
  "a RELAY-REPL whose relays carry no client message": relayRepl({
    ...relayRepl(ADVERTISE),
    options: [],
  }),
};

/** What the decoder says of a message's parts, as Scan6 reports them; undefined when it refuses it. */
function decoded(bytes: Uint8Array) {
  let m: Dhcp6Message;
  try {
    m = decodeDhcp6(bytes);
  } catch {
    return undefined;
  }
  if (!isRelay(m)) return { type: m.type, clientType: m.type, clientTransactionId: m.transactionId };
  const inner = relayedMessage(m);
  const client = inner && innermost(inner);
  return {
    type: m.type,
    peer: m.peerAddress,
    interfaceId: getOption6(m, OPT6.interfaceId),
    vss: m.options.some((o) => o.code === OPT6.vss),
    relayed: relayedBytes(m),
    clientType: client?.type ?? -1,
    clientTransactionId: client?.transactionId ?? -1,
  };
}

function scanned(s: Scan6, bytes: Uint8Array) {
  if (!s.scan(bytes)) return undefined;
  const common = {
    type: s.type,
    clientType: s.clientType(bytes),
    clientTransactionId: s.clientTransactionId(bytes),
  };
  if (s.peerAt < 0) return common;
  return {
    ...common,
    peer: ipv6ToString(bytes, s.peerAt),
    interfaceId:
      s.interfaceIdAt < 0
        ? undefined
        : bytes.subarray(s.interfaceIdAt, s.interfaceIdAt + s.interfaceIdLength),
    vss: s.vss,
    relayed: s.relayedAt < 0 ? undefined : bytes.subarray(s.relayedAt, s.relayedAt + s.relayedLength),
  };
}

/** Every prefix of `bytes`, and every byte of it set in turn to values that break lengths and types. */
function* variants(bytes: Uint8Array): Generator<Uint8Array> {
  for (let n = 0; n < bytes.length; n++) yield bytes.slice(0, n);
  for (let i = 0; i < bytes.length; i++) {
    for (const v of [0, 1, 9, 12, 13, 0x7f, 0xff, ((bytes[i] as number) + 1) & 0xff]) {
      const b = bytes.slice();
      b[i] = v;
      yield b;
    }
  }
  const longer = new Uint8Array(bytes.length + 3);
  longer.set(bytes);
  yield longer;
}

describe("Scan6: a DHCPv6 message read in place", () => {
  const s = new Scan6();

  for (const [name, m] of Object.entries(MESSAGES)) {
    it(`${name}: reads what decodeDhcp6 decodes, and refuses what it refuses, cut short or with any byte changed`, () => {
      const bytes = encodeDhcp6(m);
      expect(scanned(s, bytes)).toEqual(decoded(bytes));
      let refused = 0;
      let read = 0;
      for (const b of variants(bytes)) {
        const want = decoded(b);
        expect(scanned(s, b), Buffer.from(b).toString("hex")).toEqual(want);
        if (want) read++;
        else refused++;
      }
      // Both kinds were tried.
      expect(refused).toBeGreaterThan(0);
      expect(read).toBeGreaterThan(0);
    });
  }

  it("reads the client message under the first Relay Message of each relay, to its transaction-id", () => {
    const bytes = encodeDhcp6(MESSAGES["a RELAY-REPL to a downstream relay"] as Dhcp6Message);
    expect(s.scan(bytes)).toBe(true);
    expect(s.type).toBe(MSG6.RELAY_REPL);
    expect(bytes[s.relayedAt]).toBe(MSG6.RELAY_REPL);
    expect(s.clientType(bytes)).toBe(MSG6.ADVERTISE);
    expect(s.clientTransactionId(bytes)).toBe(0xa1b2c3);
    expect(
      Buffer.from(bytes.subarray(s.interfaceIdAt, s.interfaceIdAt + s.interfaceIdLength)).toString(),
    ).toBe("outer");
  });

  it("reads a client message's options in place as getOption6 reads them decoded: the first of a code, none absent", () => {
    const m: Dhcp6Message = {
      ...ADVERTISE,
      options: [
        ...(ADVERTISE as { options: { code: number; data: Uint8Array }[] }).options,
        { code: OPT6.clientId, data: fromHex("ff") },
      ],
    };
    const bytes = encodeDhcp6(m);
    const decodedMessage = decodeDhcp6(bytes);
    if (isRelay(decodedMessage)) throw new Error("expected a client message");
    const inPlace = new ScannedClient6(bytes, 0, bytes.length);
    const decodedView = new DecodedClient6(decodedMessage);
    for (const view of [inPlace, decodedView]) {
      expect([view.type, view.transactionId]).toEqual([MSG6.ADVERTISE, 0xa1b2c3]);
      for (const code of [OPT6.clientId, OPT6.serverId, OPT6.iaNa, OPT6.vendorClass])
        expect(view.option(code)).toEqual(getOption6(decodedMessage, code));
      expect(view.decoded()).toEqual(decodedMessage);
    }
    expect(Buffer.from(inPlace.option(OPT6.clientId) ?? []).toString("hex")).toBe("0003000100aa01000001");
    expect(inPlace.option(OPT6.vendorClass)).toBeUndefined();
  });

  it(`refuses relay messages nested deeper than ${MAX_RELAY_DEPTH}, as decodeDhcp6 does`, () => {
    let m: Dhcp6Message = ADVERTISE;
    for (let i = 0; i < MAX_RELAY_DEPTH; i++) m = relayRepl(m);
    expect(s.scan(encodeDhcp6(m))).toBe(true);
    expect(s.scan(encodeDhcp6(relayRepl(m)))).toBe(false);
    expect(() => decodeDhcp6(encodeDhcp6(relayRepl(m)))).toThrow();
  });

  it("keeps nothing of the message before: a client message after a relay message has no relay parts", () => {
    expect(s.scan(encodeDhcp6(MESSAGES["a RELAY-REPL with an Interface-ID"] as Dhcp6Message))).toBe(true);
    expect(s.scan(encodeDhcp6(ADVERTISE))).toBe(true);
    expect([s.peerAt, s.interfaceIdAt, s.relayedAt, s.vss]).toEqual([-1, -1, -1, false]);
  });
});
