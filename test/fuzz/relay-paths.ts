import { OP, OPT } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4, encodeDhcp4, type Option4 } from "../../lib/codec/dhcp4/message.ts";
import { getOption } from "../../lib/codec/dhcp4/options.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { decodeDhcp6, encodeDhcp6, isRelay, relayedMessage } from "../../lib/codec/dhcp6/message.ts";
import { parseRelayConfig } from "../../relay/agent/config.ts";
import { Counters } from "../../relay/agent/counters.ts";
import { Journal } from "../../relay/agent/journal.ts";
import { ACCESS, type Link, vrfLink } from "../../relay/agent/links.ts";
import { Relay4 } from "../../relay/agent/relay4.ts";
import { Relay6 } from "../../relay/agent/relay6.ts";
import { createRelays } from "../../relay/agent/relays.ts";
import type { ResolvedVrf } from "../../relay/agent/resolve.ts";
import { goldenPackets } from "../support/golden.ts";
import { FakeTransport, policyWith, quietLog } from "../support/relay-fakes.ts";
import { nextInput, prng } from "./mutate.ts";

/** What a fuzz run of a relay path saw. */
export interface RelayFuzzResult {
  family: 4 | 6;
  inputs: number;
  relayed: number;
  dropped: number;
  /** Datagrams that were neither relayed nor counted as exactly one drop (must stay empty). */
  unaccounted: { input: string; side: string }[];
  /** Datagrams on which the path threw (must stay empty). */
  failures: { input: string; side: string; error: string }[];
}

const SERVER4 = { RED: "10.213.2.10", BLUE: "10.213.3.10" };
const SERVER6 = { RED: "fe80::ff:fe00:a%eth1", BLUE: "fe80::ff:fe00:a%eth2" };

/**
 * A relay whose VRFs have DHCPv4 servers only, built as the relay builds its paths
 * (createRelays): its DHCPv6 path has no VRF to relay to, and must still count what it drops.
 */
const V4_ONLY = parseRelayConfig(
  `
access: { ipv4: 10.213.1.2, gateways: [192.168.10.1/24] }
vrfs:
  - { name: RED, ipv4: 10.213.2.2, link4: 192.168.10.1, servers4: [${SERVER4.RED}] }
  - { name: BLUE, ipv4: 10.213.3.2, link4: 192.168.20.1, servers4: [${SERVER4.BLUE}] }
`,
  "relay.yaml",
);

/** A relay path over a fake transport and the embedded policy, as the relay builds it. */
function relayFor(
  family: 4 | 6,
  transport: FakeTransport,
  counters: Counters,
  o: {
    v4Only?: boolean;
    readInPlace?: boolean;
    journal?: Journal;
    settings?: Record<string, string | number>;
  },
): Relay4 | Relay6 {
  const policy = policyWith(o.settings ?? { existingOption82: "append" });
  if (o.v4Only) {
    const relays = createRelays(V4_ONLY, V4_ONLY.vrfs as ResolvedVrf[], {
      policy: () => policy,
      transport4: transport,
      transport6: transport,
      counters,
      log: quietLog,
    });
    return family === 4 ? relays.relay4 : relays.relay6;
  }
  if (family === 4) {
    return new Relay4({
      segments: [{ name: "access", address: "10.213.1.2", gateways: ["192.168.10.1/24"] }],
      ownAddresses: ["10.213.1.2", "10.213.2.2", "10.213.3.2"],
      // RED as the default lab has it; BLUE by giaddr, without server-id-override, with two servers.
      vrfs: [
        {
          name: "RED",
          relayAddress: "10.213.2.2",
          link: "192.168.10.1",
          subnetSelection: "link-selection",
          serverIdOverride: true,
          servers: [SERVER4.RED],
        },
        {
          name: "BLUE",
          relayAddress: "10.213.3.2",
          link: "192.168.20.1",
          subnetSelection: "giaddr",
          serverIdOverride: false,
          servers: [SERVER4.BLUE, "10.213.3.11"],
        },
      ],
      policy: () => policy,
      transport,
      counters,
      log: quietLog,
      ...(o.readInPlace !== undefined ? { readInPlace: o.readInPlace } : {}),
      ...(o.journal ? { journal: o.journal } : {}),
    });
  }
  return new Relay6({
    vrfs: (["RED", "BLUE"] as const).map((name, i) => ({
      name,
      link: `fd00:${(i + 1) * 10}::1`,
      servers: [SERVER6[name]],
    })),
    policy: () => policy,
    transport,
    counters,
    log: quietLog,
  });
}

/** What a server answers to a relayed request: enough like Kea's for the reply path to be reached. */
function replyTo(family: 4 | 6, relayed: Uint8Array): Uint8Array {
  if (family === 4) return reply4(relayed, [{ code: OPT.messageType, data: Uint8Array.of(2) }]);
  const f = decodeDhcp6(relayed);
  if (!isRelay(f)) return relayed;
  const inner = relayedMessage(f);
  return encodeDhcp6({
    ...f,
    type: MSG6.RELAY_REPL,
    options: [
      ...f.options.filter((o) => o.code === OPT6.interfaceId),
      {
        code: OPT6.relayMessage,
        message:
          inner && !isRelay(inner)
            ? { type: MSG6.ADVERTISE, transactionId: inner.transactionId, options: inner.options }
            : { type: MSG6.ADVERTISE, transactionId: 0, options: [] },
      },
    ],
  });
}

/**
 * Feeds `count` random and mutated datagrams into a relay path, from clients on the access link
 * and from servers on the VRFs' links (seeds: the golden packets, and the replies a server
 * gives to them). Every datagram must be relayed or counted as exactly one drop; none may throw.
 * `v4Only`: the relay has no DHCPv6 servers at all (its DHCPv6 path relays nothing).
 */
export function fuzzRelayPath(
  family: 4 | 6,
  count: number,
  seed: number,
  o: { v4Only?: boolean } = {},
): RelayFuzzResult {
  const transport = new FakeTransport();
  const counters = new Counters();
  const relay = relayFor(family, transport, counters, o);
  const rand = prng(seed);
  const clientSeeds = goldenPackets()
    .filter((p) => p.family === family && !p.name.startsWith("malformed"))
    .map((p) => p.bytes);
  const clientSource = family === 4 ? "10.213.1.200" : "fe80::2aa:1ff:fe00:1";
  // Relay each seed once so that replies to them find their requests in flight.
  const serverSeeds: Uint8Array[] = [];
  for (const bytes of clientSeeds) {
    relay.handle(bytes, clientSource, ACCESS);
    for (const sent of transport.take()) serverSeeds.push(replyTo(family, sent.bytes));
  }
  const result: RelayFuzzResult = {
    family,
    inputs: count,
    relayed: 0,
    dropped: 0,
    unaccounted: [],
    failures: [],
  };
  const drops = () => counters.sum("dhcplab_relay_drops_total");
  for (let i = 0; i < count; i++) {
    const fromServer = rand() < 0.5 && serverSeeds.length > 0;
    const vrf = rand() < 0.5 ? "RED" : "BLUE";
    const link: Link = fromServer ? vrfLink(vrf) : ACCESS;
    const source = fromServer ? (family === 4 ? SERVER4[vrf] : SERVER6[vrf]) : clientSource;
    const input = nextInput(rand, fromServer ? serverSeeds : clientSeeds);
    const side = fromServer ? `server ${vrf}` : "client";
    const before = drops();
    try {
      relay.handle(input, source, link);
    } catch (err) {
      if (result.failures.length < 10)
        result.failures.push({ input: Buffer.from(input).toString("hex"), side, error: String(err) });
      continue;
    }
    const sent = transport.take().length;
    const dropped = drops() - before;
    if (sent > 0 && dropped === 0) result.relayed++;
    else if (sent === 0 && dropped === 1) result.dropped++;
    else if (result.unaccounted.length < 10)
      result.unaccounted.push({ input: Buffer.from(input).toString("hex"), side });
  }
  return result;
}

/** Where the DHCPv4 path read in place and the same path decoding every message whole parted. */
export interface Differential4Result {
  inputs: number;
  /** Inputs relayed by the path read in place, from clients and from servers. */
  relayed: { client: number; server: number };
  /** Requests relayed without Option 82, for want of room (RFC 3046 §2.1). */
  noRoom: number;
  /** Where the two paths' counters differ at the end (histograms' sums of time left out). */
  counters: { inPlace: string; decoded: string } | undefined;
  differences: { input: string; side: string; inPlace: string; decoded: string }[];
}

/**
 * The DHCPv4 path as it runs (messages read in place where their shape allows) against the same
 * path decoding every message whole: fed the same datagrams in the same order, from clients and
 * from servers (seeds: the golden packets, and replies with option 54 and Option 82 in either
 * order), both must drop the same ones for the same reasons, send the same bytes to the same
 * places, and record the same journal entries. `settings`: the policy's (e.g. trusted relays).
 */
export function differential4(
  count: number,
  seed: number,
  settings: Record<string, string | number> = { existingOption82: "append" },
): Differential4Result {
  const sides = [true, false].map((readInPlace) => {
    const transport = new FakeTransport();
    const journal = new Journal(1, () => 0);
    const counters = new Counters();
    const relay = relayFor(4, transport, counters, { readInPlace, journal, settings }) as Relay4;
    return { relay, transport, journal, counters };
  });
  const [inPlace, decoded] = sides as [(typeof sides)[0], (typeof sides)[0]];
  const rand = prng(seed);
  const golden = goldenPackets()
    .filter((p) => p.family === 4 && !p.name.startsWith("malformed"))
    .map((p) => p.bytes);
  // And a request with no room left for Option 82 under the 576 bytes every client takes.
  const clientSeeds = [...golden, nearlyFull(golden[0] as Uint8Array)];
  const clientSource = "10.213.1.200";
  const serverSeeds: Uint8Array[] = [];
  for (const bytes of clientSeeds) {
    for (const s of sides) s.relay.handle(bytes, clientSource, ACCESS);
    decoded.transport.take();
    for (const [i, sent] of inPlace.transport.take().entries())
      serverSeeds.push(i % 2 === 0 ? replyTo(4, sent.bytes) : replyWithServerId(sent.bytes));
  }
  const result: Differential4Result = {
    inputs: count,
    relayed: { client: 0, server: 0 },
    noRoom: 0,
    counters: undefined,
    differences: [],
  };
  const outcome = (s: (typeof sides)[0], dropped: string | undefined) =>
    JSON.stringify({
      dropped,
      sent: s.transport.take().map((d) => ({ ...d, bytes: Buffer.from(d.bytes).toString("hex") })),
      journal: s.journal.find({}),
    });
  for (let i = 0; i < count; i++) {
    const fromServer = rand() < 0.5;
    const vrf = rand() < 0.5 ? "RED" : "BLUE";
    const link: Link = fromServer ? vrfLink(vrf) : ACCESS;
    const source = fromServer ? SERVER4[vrf] : clientSource;
    // A client's request as it came, now and then, puts its transaction back in flight: the
    // replies to it get past the transactions table to the rewrite.
    const input =
      !fromServer && rand() < 0.3
        ? (clientSeeds[Math.floor(rand() * clientSeeds.length)] as Uint8Array)
        : nextInput(rand, fromServer ? serverSeeds : clientSeeds);
    const [a, b] = sides.map((s) => outcome(s, s.relay.handle(input, source, link))) as [string, string];
    if (a.includes('"sent":[{')) result.relayed[fromServer ? "server" : "client"]++;
    if (a !== b && result.differences.length < 10)
      result.differences.push({
        input: Buffer.from(input).toString("hex"),
        side: fromServer ? `server ${vrf}` : "client",
        inPlace: a,
        decoded: b,
      });
  }
  const [countedInPlace, countedDecoded] = sides.map((s) =>
    JSON.stringify(Object.entries(s.counters.toJSON()).filter(([name]) => !name.endsWith("_sum"))),
  ) as [string, string];
  if (countedInPlace !== countedDecoded)
    result.counters = { inPlace: countedInPlace, decoded: countedDecoded };
  result.noRoom = inPlace.counters.get("dhcplab_relay_notices_total", {
    family: 4,
    notice: "no-room-for-option82",
  });
  return result;
}

/** `request` grown with a vendor-specific option to 570 bytes: no room for the relay's Option 82. */
function nearlyFull(request: Uint8Array): Uint8Array {
  const m = decodeDhcp4(request);
  const room = 570 - request.length;
  m.options.options.push({ code: 43, data: new Uint8Array(Math.min(255, room - 2)).fill(0x5a) });
  if (room - 257 > 2) m.options.options.push({ code: 43, data: new Uint8Array(room - 259).fill(0x5b) });
  return encodeDhcp4(m, { maxSize: Number.POSITIVE_INFINITY });
}

/** A server's reply with its option 54 before the echoed Option 82, and a pad between them. */
function replyWithServerId(relayed: Uint8Array): Uint8Array {
  return reply4(relayed, [
    { code: OPT.messageType, data: Uint8Array.of(5) },
    { code: OPT.serverId, data: Uint8Array.of(10, 213, 2, 10) },
    { code: OPT.pad, data: new Uint8Array(0) },
  ]);
}

/** A DHCPv4 server's reply to a relayed request: `options`, then the request's Option 82 echoed. */
function reply4(relayed: Uint8Array, options: Option4[]): Uint8Array {
  const m = decodeDhcp4(relayed);
  const rai = getOption(m, OPT.relayAgentInfo);
  m.op = OP.BOOTREPLY;
  m.yiaddr = "192.168.10.50";
  m.options.options = rai ? [...options, { code: OPT.relayAgentInfo, data: rai }] : options;
  return encodeDhcp4(m, { maxSize: 1500 });
}
