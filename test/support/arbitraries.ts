import fc from "fast-check";
import { ipv4ToString, ipv6ToString } from "../../lib/codec/address.ts";
import { OPT } from "../../lib/codec/dhcp4/codes.ts";
import type { Dhcp4Message, Option4, OptionArea } from "../../lib/codec/dhcp4/message.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import type { Dhcp6Message, Option6, RawOption6 } from "../../lib/codec/dhcp6/message.ts";

// fast-check generators of well-formed messages, for the property and fuzz tests.

const bytes = (max: number) => fc.uint8Array({ maxLength: max });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => ipv4ToString(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => ipv6ToString(b));

/** An option other than PAD, END and overload (52 changes how sname and file are read). */
const option4: fc.Arbitrary<Option4> = fc.record({
  code: fc.integer({ min: 1, max: 254 }).filter((c) => c !== OPT.overload && c !== OPT.relayAgentInfo),
  data: bytes(255),
});

/** Option areas as they survive a round trip: option 82 last, as the encoder writes it. */
const area = (maxOptions: number): fc.Arbitrary<OptionArea> =>
  fc
    .record({
      options: fc.array(
        fc.oneof(
          { weight: 9, arbitrary: option4 },
          { weight: 1, arbitrary: fc.constant({ code: 0, data: new Uint8Array(0) }) },
        ),
        {
          maxLength: maxOptions,
        },
      ),
      relayAgentInfo: fc.option(bytes(255), { nil: undefined }),
      end: fc.boolean(),
      trailer: bytes(8),
    })
    .map(({ options, relayAgentInfo, end, trailer }) => ({
      options: relayAgentInfo ? [...options, { code: OPT.relayAgentInfo, data: relayAgentInfo }] : options,
      end: end || trailer.length > 0,
      trailer: end || trailer.length > 0 ? trailer : new Uint8Array(0),
    }));

/** Well-formed DHCPv4 messages (no overload). */
export const dhcp4Message: fc.Arbitrary<Dhcp4Message> = fc.record({
  op: fc.integer({ min: 0, max: 255 }),
  htype: fc.integer({ min: 0, max: 255 }),
  hlen: fc.integer({ min: 0, max: 16 }),
  hops: fc.integer({ min: 0, max: 255 }),
  xid: fc.integer({ min: 0, max: 0xffffffff }),
  secs: fc.integer({ min: 0, max: 0xffff }),
  flags: fc.integer({ min: 0, max: 0xffff }),
  ciaddr: ipv4,
  yiaddr: ipv4,
  siaddr: ipv4,
  giaddr: ipv4,
  chaddr: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  sname: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  file: fc.uint8Array({ minLength: 128, maxLength: 128 }),
  options: area(12),
});

const rawOption6: fc.Arbitrary<RawOption6> = fc.record({
  code: fc.integer({ min: 0, max: 0xffff }).filter((c) => c !== OPT6.relayMessage),
  data: bytes(64),
});

const clientMessage6 = fc.record({
  type: fc.integer({ min: 0, max: 255 }).filter((t) => t !== MSG6.RELAY_FORW && t !== MSG6.RELAY_REPL),
  transactionId: fc.integer({ min: 0, max: 0xffffff }),
  options: fc.array(rawOption6, { maxLength: 8 }),
});

/** Well-formed DHCPv6 messages: client messages, wrapped in zero to four relay messages. */
export const dhcp6Message: fc.Arbitrary<Dhcp6Message> = fc
  .tuple(
    clientMessage6,
    fc.array(
      fc.record({
        type: fc.constantFrom(MSG6.RELAY_FORW, MSG6.RELAY_REPL),
        hopCount: fc.integer({ min: 0, max: 255 }),
        linkAddress: ipv6,
        peerAddress: ipv6,
        options: fc.array(rawOption6, { maxLength: 3 }),
        at: fc.nat(3),
      }),
      { maxLength: 4 },
    ),
  )
  .map(([inner, relays]) => {
    let m: Dhcp6Message = inner;
    for (const { at, options, ...relay } of relays) {
      const all: Option6[] = [...options];
      all.splice(Math.min(at, all.length), 0, { code: OPT6.relayMessage, message: m });
      m = { ...relay, options: all };
    }
    return m;
  });
