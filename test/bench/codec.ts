// `npm run bench:codec`: per family, the median time to decode a typical client
// message, add the relay's options and encode it. Prints figures; asserts nothing.
import { utf8 } from "../../lib/codec/bytes.ts";
import { OPT } from "../../lib/codec/dhcp4/codes.ts";
import { decodeDhcp4, encodeDhcp4 } from "../../lib/codec/dhcp4/message.ts";
import { setOption } from "../../lib/codec/dhcp4/options.ts";
import { encodeRelayAgentInfo, subOptionsOf } from "../../lib/codec/dhcp4/relay-agent-info.ts";
import { MSG6, OPT6 } from "../../lib/codec/dhcp6/codes.ts";
import { decodeDhcp6, encodeDhcp6 } from "../../lib/codec/dhcp6/message.ts";
import { goldenPackets } from "../support/golden.ts";

const packets = goldenPackets();
const discover = packets.find((p) => p.name === "dhclient-v4-01-discover")?.bytes;
const solicit = packets.find((p) => p.name === "dhclient-v6-01-solicit")?.bytes;
if (!discover || !solicit)
  throw new Error("golden packets dhclient-v4-01-discover and dhclient-v6-01-solicit are missing");

const circuit = utf8("VIDEO_CIRCUIT");
const ifaceId = utf8("V6_VIDEO_LINK");

function relay4(): Uint8Array {
  const m = decodeDhcp4(discover as Uint8Array);
  m.hops++;
  m.giaddr = "10.213.1.2";
  setOption(
    m,
    OPT.relayAgentInfo,
    encodeRelayAgentInfo(subOptionsOf({ circuitId: circuit, linkSelection: "192.168.10.0" })),
  );
  return encodeDhcp4(m);
}

function relay6(): Uint8Array {
  const m = decodeDhcp6(solicit as Uint8Array);
  return encodeDhcp6({
    type: MSG6.RELAY_FORW,
    hopCount: 0,
    linkAddress: "fd00:10::1",
    peerAddress: "fe80::2aa:1ff:fe00:1",
    options: [
      { code: OPT6.interfaceId, data: ifaceId },
      { code: OPT6.relayMessage, message: m },
    ],
  });
}

/** Median nanoseconds per call over `rounds` batches of `batch` calls, after a warm-up. */
function measure(fn: () => Uint8Array, rounds = 31, batch = 20_000): number {
  let sink = 0;
  for (let i = 0; i < batch * 5; i++) sink += fn().length;
  const perCall: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += fn().length;
    perCall.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  if (sink === 0) throw new Error("unreachable: keeps the work from being optimised away");
  perCall.sort((a, b) => a - b);
  return perCall[Math.floor(rounds / 2)] as number;
}

console.log(`codec benchmark, node ${process.version}, one core; target < 5 µs per packet`);
for (const [name, fn] of [
  ["DHCPv4 DISCOVER: decode, hops+giaddr+Option 82, encode", relay4],
  ["DHCPv6 SOLICIT: decode, wrap in RELAY-FORW with Interface-ID, encode", relay6],
] as const) {
  const ns = measure(fn);
  console.log(
    `${name}: median ${(ns / 1000).toFixed(2)} µs per packet (${Math.round(1e9 / ns).toLocaleString("en")} packets/s)`,
  );
}
