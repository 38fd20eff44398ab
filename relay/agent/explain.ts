import { pino } from "pino";
import { macToBytes } from "../../lib/codec/address.ts";
import { encodeWith, utf8 } from "../../lib/codec/bytes.ts";
import { MSG, OPT } from "../../lib/codec/dhcp4/codes.ts";
import { bootRequest, encodeDhcp4, type Option4 } from "../../lib/codec/dhcp4/message.ts";
import { DUID, MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { duid } from "../../lib/codec/dhcp6/duid.ts";
import { encodeDhcp6, type RawOption6 } from "../../lib/codec/dhcp6/message.ts";
import { userClass6, vendorClass6 } from "../../lib/codec/dhcp6/options.ts";
import { type ExplainFacts, type Explanation, explainRequestSchema } from "../../lib/decision.ts";
import { accessSegments, type RelayConfig } from "./config.ts";
import { Counters } from "./counters.ts";
import { Journal } from "./journal.ts";
import { accessLink, type Link, type Relayed, type SendOutcome, type Transport } from "./links.ts";
import type { RelayDeps, Relays } from "./relays.ts";

// dhcplab explain: the relay's decision for a client described by its facts, without sending
// anything. The relay builds the message such a client sends (DISCOVER, SOLICIT) and runs it
// through a second instance of its own paths, built from the same configuration and policy, whose
// transport keeps what it would send: one code path with the real decision.

/** A transport that keeps the datagrams instead of sending them. */
class Kept implements Transport {
  readonly sent: { address: string; port: number }[] = [];
  send(_bytes: Uint8Array, port: number, address: string, _via: Link, what: Relayed, outcome: SendOutcome) {
    this.sent.push({ address, port });
    outcome.sent(what);
  }
}

const quiet = pino({ level: "silent" });

/**
 * Explains a client: throws an Error with the reason when the request is not one (bad MAC, a
 * segment the relay does not have).
 */
export function explain(
  raw: unknown,
  config: RelayConfig,
  make: (deps: Omit<RelayDeps, "policy">) => Relays,
): Explanation {
  const parsed = explainRequestSchema.safeParse(raw);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => i.message).join("; "));
  const req = parsed.data;
  const segments = accessSegments(config);
  const segment = req.segment === undefined ? segments[0] : segments.find((s) => s.name === req.segment);
  if (!segment)
    throw new Error(`segment ${req.segment}: the relay has ${segments.map((s) => s.name).join(", ")}`);
  const journal = new Journal(4);
  const kept = new Kept();
  const relays = make({ transport4: kept, transport6: kept, counters: new Counters(), journal, log: quiet });
  const link = accessLink(segment.name, segment.vlan);
  const mac = macToBytes(req.mac);
  const dropped =
    req.family === 4
      ? relays.relay4.handle(discover(mac, req), "0.0.0.0", link)
      : relays.relay6.handle(solicit(mac, req), `${linkLocal(mac)}%explain`, link);
  const [entry] = journal.find({});
  const servers = [...new Set(kept.sent.map((s) => s.address))];
  if (entry) {
    const { at: _, ...decision } = entry;
    return { ...decision, ...(servers.length > 0 ? { servers } : {}) };
  }
  return {
    family: req.family,
    type: req.family === 4 ? "DISCOVER" : "SOLICIT",
    mac: req.mac.toLowerCase(),
    transaction: "",
    segment: segment.name,
    action: "drop",
    reason: dropped ?? "unknown",
  };
}

type Facts = ExplainFacts;

/** The DISCOVER such a client broadcasts (RFC 2131 §4.4.1). */
function discover(mac: Uint8Array, f: Facts): Uint8Array {
  const chaddr = new Uint8Array(16);
  chaddr.set(mac);
  const options: Option4[] = [{ code: OPT.messageType, data: Uint8Array.of(MSG.DISCOVER) }];
  if (f.hostname) options.push({ code: OPT.hostname, data: utf8(f.hostname) });
  if (f.vendorClass) options.push({ code: OPT.vendorClass, data: utf8(f.vendorClass) });
  if (f.userClass) {
    // RFC 3004 §4: each class is a length and its bytes.
    const c = utf8(f.userClass);
    options.push({ code: OPT.userClass, data: Uint8Array.of(c.length, ...c) });
  }
  return encodeDhcp4(bootRequest({ htype: 1, hlen: 6, xid: 0x0e791a17, chaddr, options }));
}

/** The SOLICIT such a client multicasts (RFC 8415 §18.2.1), with its DUID of the asked type. */
function solicit(mac: Uint8Array, f: Facts): Uint8Array {
  const options: RawOption6[] = [{ code: OPT6.clientId, data: encodeWith(duid, duidOf(mac, f)) }];
  if (f.vendorClass)
    options.push({
      code: OPT6.vendorClass,
      data: encodeWith(vendorClass6, { enterprise: f.enterprise ?? 0, classes: [utf8(f.vendorClass)] }),
    });
  if (f.userClass) options.push({ code: OPT6.userClass, data: encodeWith(userClass6, [utf8(f.userClass)]) });
  return encodeDhcp6({ type: MSG6.SOLICIT, transactionId: 0xe791a1, options });
}

function duidOf(mac: Uint8Array, f: Facts) {
  switch (f.duidType ?? "LL") {
    case "LLT":
      return { type: DUID.LLT, hwtype: 1, time: 0x2e8d5c00, linkLayer: mac };
    case "EN":
      return { type: DUID.EN, enterprise: f.enterprise ?? 0, id: mac };
    case "UUID":
      return { type: DUID.UUID, uuid: Uint8Array.of(...mac, ...mac, 0xde, 0x1a, 0xb0, 0x0f) };
    default:
      return { type: DUID.LL, hwtype: 1, linkLayer: mac };
  }
}

/** The EUI-64 link-local address a client with this MAC sends from (RFC 4291 §2.5.1). */
function linkLocal(mac: Uint8Array): string {
  const b = [(mac[0] ?? 0) ^ 0x02, mac[1], mac[2], 0xff, 0xfe, mac[3], mac[4], mac[5]];
  const groups = [0, 2, 4, 6].map((i) => (((b[i] ?? 0) << 8) | (b[i + 1] ?? 0)).toString(16));
  return `fe80::${groups.join(":")}`;
}
