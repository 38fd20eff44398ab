// The floor of a relay on Node (`npm run bench`'s "node-floor" path): the least any relay written
// for Node does per datagram, on dhcplab's own native datapath (docker/relay/dhcplab-udp.c), so
// that the bench can tell the cost of running on Node from the cost of dhcplab's relay logic.
//
// It relays as isc-dhcp-relay does in the bench, and nothing more: no policy, no journal, no
// metrics, no trust rules, no checks beyond what it needs not to crash.
// - DHCPv4: a client's BOOTREQUEST gets giaddr (its backend address), hops + 1 and an Option 82
//   with a Circuit-ID before END, and goes to Kea; a BOOTREPLY loses its Option 82 and is broadcast
//   on the access link (the clients engine sets the broadcast bit), framed on the datapath's packet
//   socket as dhcplab's relay and isc-dhcp-relay frame it.
// - DHCPv6: a client's message goes to Kea in a RELAY-FORW (link-address LINK6, the client as
//   peer-address, an Interface-ID); a RELAY-REPL's Relay Message goes to its peer-address.
//
// DHCPv4 clients are the clients engine's, as on the wire (giaddr 0, the broadcast bit): the bench
// leaves this path out with BENCH_V4_ENGINE=perfdhcp, whose giaddr this relay would overwrite.
//
// Plain JavaScript, run by the relay image's Node with the addon from the image:
//   node floor-relay.mjs   (env: ACCESS_V4 and BACKEND_V4, its addresses, dotted; KEA_V4, LINK6 and
//   KEA_LL, Kea's addresses and the link-address as bytes in hex: test/bench/relays.ts converts them)
import { networkInterfaces } from "node:os";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`floor-relay: ${name} is required`);
  return v;
};
const addon = { exports: {} };
process.dlopen(addon, process.env.DHCPLAB_UDP_ADDON ?? "/opt/dhcplab/dhcplab-udp.node");
const udp = addon.exports;

const SLOTS = 64;
const SLOT = 9216;
const META = 8;
const v4 = (s) => Uint8Array.from(s.split(".").map(Number));
const bytes = (name) => Uint8Array.from(Buffer.from(env(name), "hex"));
const ifnameOf = (address) => {
  for (const [name, list] of Object.entries(networkInterfaces())) {
    if (list?.some((a) => a.address === address)) return name;
  }
  throw new Error(`floor-relay: no interface holds ${address}`);
};

const accessIf = ifnameOf(env("ACCESS_V4"));
const backendIf = ifnameOf(env("BACKEND_V4"));
const giaddr = v4(env("BACKEND_V4"));
const kea4 = bytes("KEA_V4");
const link6 = bytes("LINK6");
const kea6 = bytes("KEA_LL");
const circuitId = new TextEncoder().encode(accessIf);

let pending = 0;
const rings = udp.create(
  SLOTS,
  SLOT,
  (socket, count) => onBatch(socket, count),
  () => {},
);
const recv = new Uint8Array(rings.recv);
const recvMeta = new Int32Array(rings.recvMeta);
const recvAddr = new Uint8Array(rings.recvMeta);
const send = new Uint8Array(rings.send);
const sendMeta = new Int32Array(rings.sendMeta);
const sendAddr = new Uint8Array(rings.sendMeta);

const open = (family, ifname, port) => {
  const [fd] = udp.bind(family, new Uint8Array(family === 4 ? 4 : 16), port, ifname);
  return udp.adopt(fd, family, ifname, 4 << 20);
};
const access4 = open(4, accessIf, 67);
const backend4 = open(4, backendIf, 67);
const link4 = udp.openLink(accessIf);
const access6 = open(6, accessIf, 547);
const backend6 = open(6, backendIf, 547);
// All_DHCP_Relay_Agents_and_Servers, ff02::1:2 (RFC 8415 §7.1).
udp.join6(access6, Uint8Array.from(Buffer.from("ff020000000000000000000000010002", "hex")));

/** Takes the next send slot: its offset in the ring, with its socket, port and address written. */
function slot(socket, port, address, length) {
  if (pending === SLOTS) flush();
  const i = pending++;
  const m = i * META;
  sendMeta[m] = socket;
  sendMeta[m + 1] = length;
  sendMeta[m + 2] = port;
  sendAddr.set(address, (m + 4) * 4);
  return i * SLOT;
}
function flush() {
  if (pending > 0) udp.flush(pending);
  pending = 0;
}

const BROADCAST = v4("255.255.255.255");
const ACCESS = v4(env("ACCESS_V4"));
const BROADCAST_HARDWARE = new Uint8Array(6).fill(255);
/** DHCPv4: options start after the fixed fields and the magic cookie (RFC 2131 §3). */
const OPTIONS = 240;

function relay4(at, length, fromServer) {
  if (length <= OPTIONS) return;
  if (!fromServer && recv[at] === 1) {
    // BOOTREQUEST: a copy with giaddr, hops and an Option 82 before END.
    let end = OPTIONS;
    while (end < length && recv[at + end] !== 255) end += recv[at + end] === 0 ? 1 : 2 + recv[at + end + 1];
    if (end >= length) return;
    const out = slot(backend4, 67, kea4, end + 4 + circuitId.length + 1);
    send.set(recv.subarray(at, at + end), out);
    send[out + 3]++;
    send.set(giaddr, out + 24);
    let o = out + end;
    send[o++] = 82;
    send[o++] = 2 + circuitId.length;
    send[o++] = 1;
    send[o++] = circuitId.length;
    send.set(circuitId, o);
    send[o + circuitId.length] = 255;
  } else if (fromServer && recv[at] === 2) {
    // BOOTREPLY: every option but 82, broadcast to the clients in a frame from port 67 and the
    // relay's access address (the link send's layout in dhcplab-udp.c).
    const out = slot(link4, 68, BROADCAST, length);
    const m = (pending - 1) * META;
    sendMeta[m + 3] = 67;
    sendAddr.set(ACCESS, (m + 4) * 4 + 4);
    sendAddr.set(BROADCAST_HARDWARE, (m + 4) * 4 + 8);
    send.set(recv.subarray(at, at + OPTIONS), out);
    let o = OPTIONS;
    let i = OPTIONS;
    while (i < length) {
      const code = recv[at + i];
      const size = code === 0 || code === 255 ? 1 : 2 + recv[at + i + 1];
      if (code !== 82) {
        send.set(recv.subarray(at + i, at + i + size), out + o);
        o += size;
      }
      if (code === 255) break;
      i += size;
    }
    sendMeta[(pending - 1) * META + 1] = o;
  }
}

const RELAY_FORW = 12;
const RELAY_REPL = 13;
const OPTION_RELAY_MSG = 9;
const OPTION_INTERFACE_ID = 18;

function relay6(at, length, peer, fromServer) {
  if (!fromServer && recv[at] !== RELAY_FORW && recv[at] !== RELAY_REPL) {
    // RFC 8415 §19.1.1: a RELAY-FORW with the client's message in a Relay Message option.
    const out = slot(backend6, 547, kea6, 34 + 4 + circuitId.length + 4 + length);
    send[out] = RELAY_FORW;
    send[out + 1] = 0;
    send.set(link6, out + 2);
    send.set(peer, out + 18);
    let o = out + 34;
    send[o++] = 0;
    send[o++] = OPTION_INTERFACE_ID;
    send[o++] = circuitId.length >> 8;
    send[o++] = circuitId.length & 255;
    send.set(circuitId, o);
    o += circuitId.length;
    send[o++] = 0;
    send[o++] = OPTION_RELAY_MSG;
    send[o++] = length >> 8;
    send[o++] = length & 255;
    send.set(recv.subarray(at, at + length), o);
  } else if (fromServer && recv[at] === RELAY_REPL && length >= 34) {
    // RFC 8415 §19.2: the Relay Message goes to the peer-address, on the client's port.
    let i = 34;
    while (i + 4 <= length) {
      const code = (recv[at + i] << 8) | recv[at + i + 1];
      const size = (recv[at + i + 2] << 8) | recv[at + i + 3];
      if (code === OPTION_RELAY_MSG && i + 4 + size <= length) {
        const out = slot(access6, 546, recv.subarray(at + 18, at + 34), size);
        send.set(recv.subarray(at + i + 4, at + i + 4 + size), out);
        return;
      }
      i += 4 + size;
    }
  }
}

function onBatch(socket, count) {
  for (let n = 0; n < count; n++) {
    const m = n * META;
    if (recvMeta[m + 1] !== 0) continue;
    const at = n * SLOT;
    const length = recvMeta[m];
    if (socket === access4 || socket === backend4) relay4(at, length, socket === backend4);
    else relay6(at, length, recvAddr.subarray((m + 4) * 4, (m + 8) * 4), socket === backend6);
  }
  flush();
}

process.on("SIGTERM", () => {
  udp.close();
  process.exit(0);
});
console.log(`floor-relay: ${accessIf} <-> ${backendIf}`);
