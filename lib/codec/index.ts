// dhcplab's DHCP codec: pure functions over bytes, no sockets, files or logging.
export * from "./address.ts";
export * from "./bytes.ts";
export * from "./dhcp4/codes.ts";
export * from "./dhcp4/message.ts";
export * from "./dhcp4/options.ts";
export * from "./dhcp4/relay-agent-info.ts";
export * from "./dhcp6/codes.ts";
export * from "./dhcp6/duid.ts";
export * from "./dhcp6/ia.ts";
export * from "./dhcp6/message.ts";
export * from "./dhcp6/options.ts";
export * from "./errors.ts";
