import { createSocket, type Socket } from "node:dgram";
import { networkInterfaces } from "node:os";

/** The name of the interface that holds `address` (e.g. eth0), found through os.networkInterfaces(). */
export function interfaceWith(address: string): string {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.address === address)) return name;
  }
  throw new Error(`no interface holds ${address}: is the relay on that network?`);
}

/** Receives datagrams from a socket with their source address. */
export type Receive = (bytes: Uint8Array, source: string) => void;

/** Options for the relay's sockets. */
export interface SocketOptions {
  bufferBytes: number;
  /** The access interface: DHCPv6 joins ff02::1:2 there and sends link-local replies out of it. */
  accessInterface: string;
}

/** A bound UDP socket with its send path; close() stops receiving. */
export interface RelaySocket {
  send(bytes: Uint8Array, port: number, address: string): void;
  close(): Promise<void>;
}

function bind(sock: Socket, port: number, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    sock.once("error", reject);
    sock.bind({ port, address, exclusive: true }, () => {
      sock.off("error", reject);
      resolve();
    });
  });
}

function wrap(sock: Socket, scope?: string): RelaySocket {
  return {
    send(bytes, port, address) {
      // Link-local destinations need the interface they are on.
      const to =
        scope && address.startsWith("fe80:") && !address.includes("%") ? `${address}%${scope}` : address;
      sock.send(bytes, port, to);
    },
    close: () => new Promise((resolve) => sock.close(() => resolve())),
  };
}

/** UDP port 67 on every interface: client broadcasts, unicast renewals, and server replies. */
export async function openDhcp4Socket(o: SocketOptions, onMessage: Receive): Promise<RelaySocket> {
  const sock = createSocket({ type: "udp4", recvBufferSize: o.bufferBytes, sendBufferSize: o.bufferBytes });
  sock.on("message", (msg, rinfo) => onMessage(msg, rinfo.address));
  await bind(sock, 67, "0.0.0.0");
  sock.setBroadcast(true);
  return wrap(sock);
}

/** UDP port 547 on every interface, joined to All_DHCP_Relay_Agents_and_Servers on the access interface. */
export async function openDhcp6Socket(o: SocketOptions, onMessage: Receive): Promise<RelaySocket> {
  const sock = createSocket({
    type: "udp6",
    ipv6Only: true,
    recvBufferSize: o.bufferBytes,
    sendBufferSize: o.bufferBytes,
  });
  // Sources keep their scope (fe80::1%eth2): it tells which link a link-local server is on.
  sock.on("message", (msg, rinfo) => onMessage(msg, rinfo.address));
  await bind(sock, 547, "::");
  // RFC 8415 §7.1: clients send to ff02::1:2.
  sock.addMembership("ff02::1:2", `::%${o.accessInterface}`);
  return wrap(sock, o.accessInterface);
}
