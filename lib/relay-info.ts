import { fromHex, hex, Reader, text } from "./codec/bytes.ts";
import { decodeRelayAgentInfo, relayAgentFields } from "./codec/dhcp4/relay-agent-info.ts";
import { OPT6 } from "./codec/dhcp6/codes.ts";
import { options6 } from "./codec/dhcp6/message.ts";
import {
  clientLinkLayerAddress,
  clientLinkLayerMac,
  decodeOption,
  remoteId6,
} from "./codec/dhcp6/options.ts";

/** What a relay added to a client's messages, as Kea stored it (store-extended-info), decoded. */
export interface RelayInfo {
  /** DHCPv4 sub-option 1 / DHCPv6 Interface-ID: text when printable, else 0x-hex. */
  circuitId?: string;
  /** DHCPv4 sub-option 2 / DHCPv6 Remote-ID's id (with its enterprise number). */
  remoteId?: string;
  remoteIdEnterprise?: number;
  /** RFC 3527 Link Selection. */
  linkSelection?: string;
  /** RFC 3993 / RFC 4580 Subscriber-ID. */
  subscriberId?: string;
  /** RFC 5107 Server ID Override. */
  serverIdOverride?: string;
  /** RFC 6607 VSS: the VPN's name, `vpn-id:OUI:index`, or `global`. */
  vss?: string;
  /** RFC 6939 Client Link-Layer Address (DHCPv6). */
  clientLinkLayer?: string;
  /** DHCPv6: the relay's link-address and peer-address. */
  link?: string;
  peer?: string;
}

/** Text when every byte is printable ASCII, else 0x-hex: how a person reads an identifier. */
export function readable(b: Uint8Array): string {
  return b.length > 0 && b.every((c) => c >= 0x20 && c < 0x7f) ? text(b) : `0x${hex(b)}`;
}

const bytesOf = (value: unknown): Uint8Array | undefined =>
  typeof value === "string" && /^(0x)?[0-9a-fA-F]*$/.test(value)
    ? fromHex(value.replace(/^0x/, ""))
    : undefined;

/** What a relay's Option 82 (its encoded sub-options) says. */
export function relayInfo4(subOptions: Uint8Array): RelayInfo {
  const f = relayAgentFields(decodeRelayAgentInfo(subOptions));
  return {
    circuitId: f.circuitId && readable(f.circuitId),
    remoteId: f.remoteId && readable(f.remoteId),
    linkSelection: f.linkSelection,
    subscriberId: f.subscriberId,
    serverIdOverride: f.serverIdOverride,
    vss: f.vss && vssText(Uint8Array.of(f.vss.type, ...f.vss.info)),
  };
}

/** RFC 6607's VSS value for people: type 0 a VPN name, type 1 an RFC 2685 VPN-ID, 255 the global VPN. */
export function vssText(value: Uint8Array): string {
  const [type, ...info] = value;
  const bytes = Uint8Array.from(info);
  if (type === 0) return readable(bytes);
  if (type === 1 && bytes.length === 7)
    return `vpn-id:${hex(bytes.subarray(0, 3))}:${hex(bytes.subarray(3))}`;
  if (type === 255 && bytes.length === 0) return "global";
  return `0x${hex(value)}`;
}

/** What a relay's RELAY-FORW options (beside Relay Message) say, with its link- and peer-address. */
export function relayInfo6(
  options: readonly { code: number; data: Uint8Array }[],
  link?: string,
  peer?: string,
): RelayInfo {
  const info: RelayInfo = { link, peer };
  for (const o of options) {
    if (o.code === OPT6.interfaceId) info.circuitId = readable(o.data);
    if (o.code === OPT6.remoteId) {
      const r = decodeOption(remoteId6, o.data);
      info.remoteId = readable(r.id);
      info.remoteIdEnterprise = r.enterprise;
    }
    if (o.code === OPT6.subscriberId) info.subscriberId = readable(o.data);
    if (o.code === OPT6.vss && o.data.length > 0) info.vss = vssText(o.data);
    if (o.code === OPT6.clientLinkLayerAddress)
      info.clientLinkLayer = clientLinkLayerMac(decodeOption(clientLinkLayerAddress, o.data));
  }
  return info;
}

/**
 * Decodes the user-context ISC entry Kea keeps with a lease: `relay-agent-info.sub-options`
 * (DHCPv4) or the closest relay of `relay-info` (DHCPv6). Undefined when there is none or it
 * cannot be read.
 */
export function decodeRelayInfo(isc: unknown): RelayInfo | undefined {
  if (!isc || typeof isc !== "object") return undefined;
  const entry = isc as Record<string, unknown>;
  try {
    const rai = entry["relay-agent-info"] as Record<string, unknown> | undefined;
    const subs = bytesOf(rai?.["sub-options"]);
    if (subs) return relayInfo4(subs);
    const relays = entry["relay-info"];
    // Kea lists the relays from the server's side: the last is the one closest to the client.
    const closest = Array.isArray(relays)
      ? (relays.at(-1) as Record<string, unknown> | undefined)
      : undefined;
    if (!closest) return undefined;
    const options = bytesOf(closest.options);
    return relayInfo6(
      options ? options6.decode(new Reader(options)) : [],
      typeof closest.link === "string" ? closest.link : undefined,
      typeof closest.peer === "string" ? closest.peer : undefined,
    );
  } catch {
    return undefined;
  }
}

/** One line for people: `circuit-id=VIDEO_CIRCUIT remote-id=00:aa:... link-selection=...`. */
export function relayInfoText(info: RelayInfo | undefined): string {
  if (!info) return "";
  const fields: [string, string | number | undefined][] = [
    ["circuit-id", info.circuitId],
    [
      "remote-id",
      info.remoteIdEnterprise !== undefined ? `${info.remoteIdEnterprise}:${info.remoteId}` : info.remoteId,
    ],
    ["link-selection", info.linkSelection],
    ["subscriber-id", info.subscriberId],
    ["server-id-override", info.serverIdOverride],
    ["vss", info.vss],
    ["client-link-layer", info.clientLinkLayer],
    ["link", info.link],
  ];
  return fields
    .filter(([, v]) => v !== undefined && v !== "")
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}
