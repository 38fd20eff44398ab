import { ipv4ToBytes, ipv6ToBytes } from "../../lib/codec/address.ts";

// What Kea did for one client, read from its log (the stdout of kea-dhcp4 and kea-dhcp6). Kea
// writes `2026-12-06 06:13:07.432 INFO  [kea-dhcp4.leases/13.1405] DHCP4_LEASE_ALLOC <client>:
// text`, where <client> is `[hwtype=1 00:aa:...], cid=[...], tid=0x...` (DHCPv4) or
// `duid=[00:03:...], [no hwaddr info], tid=0x...` (DHCPv6). Checked on Kea 2.6.3 and 3.0.4.

/** The messages trace reads; the DEBUG ones need Kea's debug logging (level 45 and up). */
export const TRACED_MESSAGES = {
  received: ["DHCP4_PACKET_RECEIVED", "DHCP6_PACKET_RECEIVED"],
  classes: ["DHCP4_CLASSES_ASSIGNED", "DHCP6_CLASSES_ASSIGNED"],
  subnet: ["DHCP4_SUBNET_SELECTED", "DHCP6_SUBNET_SELECTED"],
  evaluated: ["EVAL_RESULT", "DHCPSRV_EVAL_RESULT"],
  lease: [
    "DHCP4_LEASE_OFFER",
    "DHCP4_LEASE_ALLOC",
    "DHCP4_LEASE_REUSE",
    "DHCP6_LEASE_ADVERT",
    "DHCP6_LEASE_ALLOC",
    "DHCP6_PD_LEASE_ADVERT",
    "DHCP6_PD_LEASE_ALLOC",
  ],
  sent: ["DHCP4_PACKET_SEND", "DHCP6_PACKET_SEND"],
} as const;

/** The messages that only Kea's debug logging shows. */
export const DEBUG_MESSAGES: readonly string[] = [...TRACED_MESSAGES.classes, ...TRACED_MESSAGES.subnet];

const TRACED: ReadonlySet<string> = new Set(Object.values(TRACED_MESSAGES).flat());

/** One line of Kea's log about a client. */
export interface KeaLogLine {
  /** Kea's timestamp, as it wrote it (the server's local time). */
  at: string;
  severity: string;
  logger: string;
  /** Kea's message ID (DHCP4_LEASE_ALLOC). */
  id: string;
  /** The message after the client's identification. */
  text: string;
}

const LINE = /^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+) (\w+) +\[([^/\]]+)[^\]]*\] (\w+) (.*)$/;

/** Who a line is about, as Kea prints the client: by hardware address (DHCPv4) or DUID (DHCPv6). */
export interface ClientKeys {
  mac?: string;
  duids?: readonly string[];
}

/** The traced lines of Kea's log that are about this client, oldest first. */
export function clientLines(log: string, who: ClientKeys): KeaLogLine[] {
  const needles = [
    ...(who.mac ? [`hwtype=1 ${who.mac.toLowerCase()}]`] : []),
    ...(who.duids ?? []).map((d) => `duid=[${d.toLowerCase()}]`),
  ];
  if (needles.length === 0) return [];
  const lines: KeaLogLine[] = [];
  for (const raw of log.split("\n")) {
    const m = LINE.exec(raw);
    if (!m || !TRACED.has(m[4] ?? "")) continue;
    const rest = m[5] ?? "";
    if (!needles.some((n) => rest.toLowerCase().includes(n))) continue;
    // The text after the client's identification ("<client>: text"; "received query: <client>").
    const at = rest.search(/tid=0x[0-9a-f]+:? ?/i);
    const text = at < 0 ? rest : rest.slice(at).replace(/^tid=0x[0-9a-f]+:? ?/i, "");
    lines.push({ at: m[1] ?? "", severity: m[2] ?? "", logger: m[3] ?? "", id: m[4] ?? "", text });
  }
  return lines;
}

/** What Kea's lines say it did, the latest of each: classes, subnet, address or prefix, lifetime. */
export interface KeaOutcome {
  /** The client classes of its last message (DHCPn_CLASSES_ASSIGNED; Kea debug logging). */
  classes?: string[];
  /** The class expressions that evaluated true (Kea 2.6 logs these at INFO). */
  matched?: string[];
  /**
   * The subnet Kea selected first (DHCPn_SUBNET_SELECTED; Kea debug logging). In a shared network
   * Kea may then lease from another of its subnets, whose pool the client's classes admit.
   */
  selectedSubnetId?: number;
  /** The address (or delegated prefix) Kea offered or leased last, and its message. */
  address?: string;
  prefix?: string;
  lease?: string;
  /** Seconds, when Kea allocated or reused it. */
  lifetime?: number;
}

/** The outcome of a client's lines. */
export function outcomeOf(lines: readonly KeaLogLine[]): KeaOutcome {
  const o: KeaOutcome = {};
  const matched = new Set<string>();
  for (const l of lines) {
    if ((TRACED_MESSAGES.classes as readonly string[]).includes(l.id)) {
      const list = /following classes?: (.*)$/.exec(l.text)?.[1];
      if (list)
        o.classes = list
          .split(",")
          .map((c) => c.trim())
          .filter(Boolean);
    } else if ((TRACED_MESSAGES.subnet as readonly string[]).includes(l.id)) {
      const id = /subnet with ID (\d+)/.exec(l.text)?.[1];
      if (id) o.selectedSubnetId = Number(id);
    } else if ((TRACED_MESSAGES.evaluated as readonly string[]).includes(l.id)) {
      const m = /Expression '?([^' ]+)'? evaluated to true/.exec(l.text);
      if (m?.[1]) matched.add(m[1]);
    } else if ((TRACED_MESSAGES.lease as readonly string[]).includes(l.id)) {
      const v4 = /lease (\d+\.\d+\.\d+\.\d+)/.exec(l.text)?.[1];
      const v6 = /lease for address (\S+)/.exec(l.text)?.[1];
      const pd = /lease for prefix (\S+)/.exec(l.text)?.[1];
      if (pd) o.prefix = pd;
      else if (v4 ?? v6) o.address = v4 ?? v6;
      o.lease = l.id;
      const seconds = /for (\d+) seconds/.exec(l.text)?.[1];
      if (seconds) o.lifetime = Number(seconds);
    }
  }
  if (matched.size > 0) o.matched = [...matched];
  return o;
}

/** A subnet of a Kea configuration: its ID, prefix, and pools with the classes they admit. */
export interface KeaSubnet {
  id: number;
  subnet: string;
  pools: { pool: string; classes: string[] }[];
}

type Obj = Record<string, unknown>;

/** Every subnet of a server's configuration (Dhcp4 or Dhcp6 object), shared networks' included. */
export function keaSubnets(server: Obj, family: 4 | 6): KeaSubnet[] {
  const key = family === 4 ? "subnet4" : "subnet6";
  const lists = [
    server[key],
    ...((server["shared-networks"] as Obj[] | undefined) ?? []).map((n) => n[key]),
  ] as (Obj[] | undefined)[];
  return lists.flatMap((list) =>
    (list ?? []).map((s) => ({
      id: Number(s.id),
      subnet: String(s.subnet),
      pools: [...((s.pools as Obj[] | undefined) ?? []), ...((s["pd-pools"] as Obj[] | undefined) ?? [])].map(
        (p) => ({
          pool: p.pool !== undefined ? String(p.pool) : `${String(p.prefix)}/${String(p["prefix-len"])}`,
          // Kea 3.0: client-classes (a list); 2.6: client-class (one).
          classes: Array.isArray(p["client-classes"])
            ? (p["client-classes"] as string[])
            : p["client-class"]
              ? [String(p["client-class"])]
              : [],
        }),
      ),
    })),
  );
}

/** The pool of a subnet that holds an address (a range `a - b` or a prefix); undefined when none does. */
export function poolHolding(subnet: KeaSubnet, address: string): KeaSubnet["pools"][number] | undefined {
  const family = address.includes(":") ? 6 : 4;
  const bytes = (a: string) => (family === 4 ? ipv4ToBytes(a) : ipv6ToBytes(a));
  const cmp = (a: Uint8Array, b: Uint8Array) => {
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  };
  const target = bytes(address.split("/")[0] ?? address);
  return subnet.pools.find((p) => {
    const range = p.pool.split("-").map((s) => s.trim());
    if (range.length === 2 && range[0] && range[1])
      return cmp(bytes(range[0]), target) <= 0 && cmp(target, bytes(range[1])) <= 0;
    const [net, len] = p.pool.split("/");
    return net !== undefined && len !== undefined && samePrefix(bytes(net), target, Number(len));
  });
}

/** Whether two addresses share their first `bits` bits. */
function samePrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) {
    const mask = 0x80 >> (i % 8);
    if (((a[i >> 3] ?? 0) & mask) !== ((b[i >> 3] ?? 0) & mask)) return false;
  }
  return true;
}
