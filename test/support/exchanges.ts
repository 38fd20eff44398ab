import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { expect } from "vitest";
import { statisticName } from "../../lib/kea/statistics.ts";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import { addressIn, held, PRINT_ADDRESSES, runScript } from "./cases.ts";
import type { KeaEdit } from "./kea-edit.ts";
import type { TestLab } from "./lab.ts";

// The client lifecycle through the relay, case by case, for the exchanges suite and (its core
// cases) the Kea 2.6 suite. Each case runs a real client where one does the exchange, scapy
// (test/e2e/exchanges/exchange.py) where none can be made to, and asserts what the client got,
// what the relay counted and what Kea recorded: its lease table and its statistics.

const EXCHANGE = join(import.meta.dirname, "..", "e2e", "exchanges", "exchange.py");

/** RED's VIDEO pool, top down: where a conflict is made (other cases lease from the bottom). */
export const RED_VIDEO_TOP = Array.from({ length: 40 }, (_, i) => `192.168.10.${250 - i}`);

/** A Kea statistic of a VRF's servers for a family, summed (`pkt4-nak-sent`, `subnet[10].declined-addresses`). */
export async function keaStat(
  lab: TestLab,
  vrf: string,
  family: 4 | 6,
  name: string | RegExp,
): Promise<number> {
  const match = (n: string) => (typeof name === "string" ? n === name : name.test(n));
  return (await lab.statistics({ vrf }))
    .filter((s) => s.family === family)
    .flatMap((s) => s.statistics)
    .filter((s) => match(statisticName(s)))
    .reduce((sum, s) => sum + s.value, 0);
}

/** The relay's count of a message type one way. */
export const relayed = (lab: TestLab, family: 4 | 6, type: string, direction: "to-server" | "to-client") =>
  lab.counter("dhcplab_relay_messages_total", { family, type, direction });

/** Runs exchange.py in a client container with `mac` (its DUID-LL); its JSON line. */
export async function craft<T>(lab: TestLab, mac: string, args: string[]): Promise<T> {
  const script = await readFile(EXCHANGE, "utf8");
  const r = await runScript(lab, mac, [
    `cat > /tmp/exchange.py <<'PY'\n${script}\nPY`,
    WAIT_FOR_LINK,
    `python3 /tmp/exchange.py ${args.join(" ")}`,
  ]);
  expect(r.exitCode, r.output).toBe(0);
  const line = r.output.trim().split("\n").at(-1) ?? "";
  return JSON.parse(line) as T;
}

/** A dhclient lease file of an address the client held elsewhere: it starts in INIT-REBOOT with it. */
const leaseFile = (address: string) =>
  [
    "lease {",
    '  interface "eth0";',
    `  fixed-address ${address};`,
    "  option subnet-mask 255.255.255.0;",
    "  renew 4 2037/01/01 00:00:00;",
    "  rebind 4 2037/01/01 00:00:00;",
    "  expire 4 2037/01/01 00:00:00;",
    "}",
  ].join("\n");

/**
 * DHCPv4, a client moved from another VRF: dhclient starts in INIT-REBOOT with the address it
 * held there (RFC 2131 §4.3.2). An authoritative server NAKs it at once and the relay delivers
 * the NAK; a non-authoritative one stays silent, and the client gives up on the address only
 * when its reboot timeout (3 s here) runs out. Either way it then lands in its own VRF.
 */
export async function expectMovedClient(
  lab: TestLab,
  o: { mac: string; vrf: string; elsewhere: string; prefix: string; authoritative: boolean },
): Promise<void> {
  const naks = () => keaStat(lab, o.vrf, 4, "pkt4-nak-sent");
  const relayedNaks = () => relayed(lab, 4, "NAK", "to-client");
  const [naksBefore, relayedBefore] = await Promise.all([naks(), relayedNaks()]);
  const r = await runScript(lab, o.mac, [
    `cat > /tmp/leases <<'L'\n${leaseFile(o.elsewhere)}\nL`,
    "echo 'reboot 3;' > /tmp/dhclient.conf",
    "start=$(date +%s%N)",
    "dhclient -4 -1 -v -cf /tmp/dhclient.conf -lf /tmp/leases eth0 > /tmp/out 2>&1",
    'echo "ELAPSED_MS $(( ($(date +%s%N) - start) / 1000000 ))"',
    "cat /tmp/out",
    PRINT_ADDRESSES("-4"),
  ]);
  const relay = lab.spec.access.relay.ipv4;
  expect(r.output).toContain(`DHCPREQUEST for ${o.elsewhere} on eth0 to 255.255.255.255 port 67`);
  const address = addressIn(r.output, o.prefix);
  expect(address, r.output).toBeDefined();
  expect(r.output).toContain(`DHCPACK of ${address} from ${relay}`);
  await expect.poll(() => held(lab, 4, address), { timeout: 5000 }).toBe(true);
  if (o.authoritative) {
    expect(r.output).toContain(`DHCPNAK from ${relay}`);
    // The NAK came before any DISCOVER: the client started over at once.
    expect(r.output.indexOf("DHCPNAK")).toBeLessThan(r.output.indexOf("DHCPDISCOVER"));
    expect(await naks()).toBeGreaterThan(naksBefore);
    await expect.poll(relayedNaks, { timeout: 5000 }).toBeGreaterThan(relayedBefore);
  } else {
    expect(r.output).not.toContain("DHCPNAK");
    // The client gave up on its old address only when its reboot timeout (3 s) ran out.
    expect(Number(/^ELAPSED_MS (\d+)$/m.exec(r.output)?.[1])).toBeGreaterThanOrEqual(3000);
    expect(await naks()).toBe(naksBefore);
    expect(await relayedNaks()).toBe(relayedBefore);
  }
}

/**
 * DHCPv4 INFORM from a host with a static address (dhcpcd --inform): the relay relays it, Kea
 * answers by unicast to ciaddr (RFC 2131 §4.3.5) through the relay's route, with the options
 * (dhcpcd writes them to resolv.conf), and records no lease.
 */
export async function expectInform(
  lab: TestLab,
  o: { mac: string; vrf: string; address: string; dns: string; domain: string },
): Promise<void> {
  const informs = () => keaStat(lab, o.vrf, 4, "pkt4-inform-received");
  const acks = () => keaStat(lab, o.vrf, 4, "pkt4-ack-sent");
  const [informsBefore, acksBefore, relayedBefore] = await Promise.all([
    informs(),
    acks(),
    relayed(lab, 4, "INFORM", "to-server"),
  ]);
  const r = await runScript(
    lab,
    o.mac,
    [
      `dhcpcd -4 -1 -B -L -t 15 -f /dev/null --inform=${o.address}/24 eth0 > /tmp/out 2>&1`,
      "cat /tmp/out /etc/resolv.conf",
    ],
    true,
  );
  expect(r.output).toContain(`received approval for ${o.address}`);
  expect(r.output).toMatch(new RegExp(`^nameserver ${o.dns.replaceAll(".", "\\.")}$`, "m"));
  expect(r.output).toMatch(new RegExp(`^(domain|search) ${o.domain.replaceAll(".", "\\.")}$`, "m"));
  expect(await informs()).toBe(informsBefore + 1);
  expect(await acks()).toBe(acksBefore + 1);
  expect(await relayed(lab, 4, "INFORM", "to-server")).toBe(relayedBefore + 1);
  // An INFORM takes no lease (RFC 2131 §3.4: the server answers "without allocating a new
  // address, checking for an existing binding").
  expect((await lab.leases({ family: 4 })).filter((l) => l.address === o.address)).toEqual([]);
}

/**
 * DHCPv4 DECLINE after an address conflict: a host on the segment already holds the address the
 * client asks for (dhcpcd -r); Kea offers it, dhcpcd's ARP probe finds the host (RFC 5227),
 * dhcpcd declines (RFC 2131 §3.1.5) and takes another; Kea marks the address declined.
 */
export async function expectConflictDeclined(
  lab: TestLab,
  o: { mac: string; host: string; vrf: string; prefix: string; candidates: readonly string[] },
): Promise<void> {
  const taken = await freeAddress(lab, o.candidates);
  const declines = () => keaStat(lab, o.vrf, 4, "pkt4-decline-received");
  const [declinesBefore, relayedBefore] = await Promise.all([
    declines(),
    relayed(lab, 4, "DECLINE", "to-server"),
  ]);
  // The host holds the address until it sees the client's DECLINE.
  const host = holdAddress(lab, { host: o.host, address: taken, until: { mac: o.mac, type: 4 } });
  const client = await runScript(
    lab,
    o.mac,
    [
      // The host holds the address before the client asks for it.
      answered(taken),
      `dhcpcd -4 -1 -B -L -d -t 30 -f /dev/null -r ${taken} eth0 > /tmp/out 2>&1`,
      "cat /tmp/out",
      PRINT_ADDRESSES("-4"),
    ],
    true,
  );
  const h = await host;
  expect(h.exitCode, `the host saw the DECLINE: ${h.output}`).toBe(0);
  expect(client.output).toMatch(new RegExp(`offered ${taken.replaceAll(".", "\\.")}`));
  expect(client.output).toMatch(/DAD detected|declin/i);
  const address = addressIn(client.output, o.prefix);
  expect(address, client.output).toBeDefined();
  expect(address).not.toBe(taken);
  expect(await declines()).toBe(declinesBefore + 1);
  expect(await relayed(lab, 4, "DECLINE", "to-server")).toBe(relayedBefore + 1);
  const rows = await lab.leases({ family: 4 });
  // Kea keeps a declined address out of use for its probation period: state 1, declined.
  expect(rows.find((l) => l.address === taken)?.state).toBe(1);
  expect(rows.find((l) => l.address === address)?.state).toBe(0);
}

/** An address of `candidates` that Kea has no lease on. */
export async function freeAddress(lab: TestLab, candidates: readonly string[]): Promise<string> {
  const leased = new Set((await lab.leases({ family: 4 })).map((l) => l.address));
  const free = candidates.find((a) => !leased.has(a));
  if (!free) throw new Error("no free address to make a conflict on");
  return free;
}

/**
 * A host on the access segment holding `address` in a /24 whose .1 is its gateway (it answers
 * ARP and ping for it, from when it watches for the client) until it sees
 * a DHCP message of `until.type` from `until.mac`; its run, which fails when none came.
 */
export function holdAddress(
  lab: TestLab,
  o: { host: string; address: string; until: { mac: string; type: number } },
): Promise<{ exitCode: number; output: string }> {
  // As a host of the subnet, it routes through the relay (its gateway): it answers a ping from Kea.
  // It takes the address only once it sniffs: its answering ARP means it sees the client.
  const gateway = o.address.replace(/\.\d+$/, ".1");
  const host = [
    "import subprocess, threading",
    "from scapy.all import DHCP, AsyncSniffer, conf",
    "conf.verb = 0",
    `wanted = lambda p: DHCP in p and ('message-type', ${o.until.type}) in p[DHCP].options`,
    "ready = threading.Event()",
    `sniffer = AsyncSniffer(iface="eth0", filter="ether src ${o.until.mac} and udp dst port 67", stop_filter=wanted, timeout=60, started_callback=ready.set)`,
    "sniffer.start()",
    "ready.wait(10)",
    `subprocess.run(["ip", "addr", "add", "${o.address}/24", "dev", "eth0"], check=True)`,
    `subprocess.run(["ip", "route", "replace", "default", "via", "${gateway}"], check=True)`,
    "sniffer.join()",
    `raise SystemExit(0 if any(wanted(p) for p in sniffer.results or []) else 'no DHCP message ${o.until.type} from the client')`,
  ].join("\n");
  return lab.run(["sh", "-c", `python3 - <<'PY'\n${host}\nPY`], {
    mac: o.host,
    capAdd: ["NET_ADMIN", "NET_RAW"],
  });
}

/** A client script's step that waits until some host answers ARP for `address`. */
export function answered(address: string): string {
  const arpWait = [
    "from scapy.all import ARP, Ether, conf, srp",
    "conf.verb = 0",
    "for _ in range(150):",
    `    answered, _ = srp(Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(pdst="${address}", psrc="0.0.0.0"), timeout=0.2, iface="eth0")`,
    "    if answered: raise SystemExit(0)",
    "raise SystemExit('the host never answered ARP')",
  ].join("\n");
  return `python3 - <<'PY'\n${arpWait}\nPY`;
}

/**
 * DHCPv6 INFORMATION-REQUEST (stateless, dhclient -6 -S): options and no lease (RFC 8415 §18.2.6).
 */
export async function expectInformationRequest(
  lab: TestLab,
  o: { mac: string; vrf: string; dns: string; domain: string },
): Promise<void> {
  const received = () => keaStat(lab, o.vrf, 6, "pkt6-infrequest-received");
  const [before, relayedBefore, leasesBefore] = await Promise.all([
    received(),
    relayed(lab, 6, "INFORMATION-REQUEST", "to-server"),
    lab.leases({ family: 6 }),
  ]);
  const r = await runScript(lab, o.mac, [
    WAIT_FOR_LINK,
    `printf '#!/bin/sh\\necho "REASON $reason"\\necho "DNS $new_dhcp6_name_servers"\\necho "SEARCH $new_dhcp6_domain_search"\\n' > /tmp/script`,
    "chmod +x /tmp/script",
    "dhclient -6 -S -1 -v -sf /tmp/script -lf /tmp/leases eth0 > /tmp/out 2>&1",
    "cat /tmp/out",
  ]);
  expect(r.output).toMatch(/^XMT: Info-Request/m);
  expect(r.output).toMatch(/^RCV: Reply/m);
  expect(r.output).toContain(`DNS ${o.dns}`);
  expect(r.output).toMatch(new RegExp(`SEARCH ${o.domain.replaceAll(".", "\\.")}\\.?$`, "m"));
  expect(await received()).toBe(before + 1);
  expect(await relayed(lab, 6, "INFORMATION-REQUEST", "to-server")).toBe(relayedBefore + 1);
  expect((await lab.leases({ family: 6 })).length).toBe(leasesBefore.length);
}

/**
 * A client script's steps that drop what the client sends through its own sockets and matches
 * `match` (nftables; a DHCP client's packet socket bypasses the hook).
 */
export function dropAtClient(match: string): string[] {
  return [
    "nft add table inet cut",
    "nft add chain inet cut out '{ type filter hook output priority 0; }'",
    `nft add rule inet cut out ${match} drop`,
  ];
}

/** A lease's client last transaction time, once Kea holds it. */
export async function clttOf(lab: TestLab, family: 4 | 6, address: string): Promise<number> {
  const row = (await lab.leases({ family })).find((l) => l.address === address);
  if (!row) throw new Error(`Kea holds no lease on ${address}`);
  return row.cltt;
}

/**
 * Lifetimes of seconds for the renewal cases, as an edit of a VRF's Kea files: T1 3 s, T2 6 s
 * (both families), leases of 10 s (preferred 8 s), reclamation every second.
 */
export const SHORT_LIFETIMES: KeaEdit = (name, text) =>
  /^kea-dhcp[46]\.conf$/.test(name)
    ? text
        .replace(/"valid-lifetime": \d+/, '"valid-lifetime": 10')
        .replace(/"preferred-lifetime": \d+/, '"preferred-lifetime": 8')
        .replace(/"renew-timer": \d+/, '"renew-timer": 3')
        .replace(/"rebind-timer": \d+/, '"rebind-timer": 6')
        .replace(
          /"valid-lifetime": 10,/,
          '"valid-lifetime": 10,\n    "expired-leases-processing": { "reclaim-timer-wait-time": 1, "hold-reclaimed-time": 3600 },',
        )
    : text;

/** dhclient -6 bound, then renewed (RENEW at T1) or rebound (REBIND at T2, RENEWs dropped). */
export async function expectRenewed6(lab: TestLab, mac: string, rebind: boolean): Promise<void> {
  const type = rebind ? "REBIND" : "RENEW";
  const before = await relayed(lab, 6, type, "to-server");
  const r = await runScript(lab, mac, [
    WAIT_FOR_LINK,
    ...(rebind
      ? [
          // RENEW is message type 5, the first byte of the UDP payload.
          ...dropAtClient("udp dport 547 @th,64,8 5"),
        ]
      : []),
    "dhclient -6 -d -v -lf /tmp/leases eth0 > /tmp/out 2>&1 & pid=$!",
    "for i in $(seq 100); do grep -q '^RCV: Reply' /tmp/out && break; sleep 0.1; done",
    'echo "BOUND $(date +%s)"',
    `for i in $(seq 300); do grep -q '^XMT: ${rebind ? "Rebind" : "Renew"}' /tmp/out && [ "$(grep -c '^RCV: Reply' /tmp/out)" -ge 2 ] && break; sleep 0.1; done`,
    PRINT_ADDRESSES("-6"),
    "kill $pid; wait $pid",
    "cat /tmp/out",
  ]);
  const address = addressIn(r.output, "fd00:1");
  expect(address, r.output).toBeDefined();
  expect(r.output).toMatch(rebind ? /^XMT: Rebind/m : /^XMT: Renew/m);
  expect(r.output.match(/^RCV: Reply/gm)?.length, r.output).toBeGreaterThanOrEqual(2);
  expect(await relayed(lab, 6, type, "to-server")).toBeGreaterThan(before);
  // Kea's lease is the renewal's: its last transaction at least T1 (3 s), or T2 (6 s) for a
  // REBIND, after the bind (whole seconds, so one less).
  expect(await clttOf(lab, 6, address ?? "")).toBeGreaterThanOrEqual(boundAt(r.output) + (rebind ? 5 : 2));
}

/** When the script saw the client bound (Unix seconds, printed as BOUND). */
export function boundAt(output: string): number {
  const at = /^BOUND (\d+)$/m.exec(output)?.[1];
  if (!at) throw new Error(`the client was never bound:\n${output}`);
  return Number(at);
}

/** Kea 3.0's ping_check hook added to kea-dhcp4's hooks: one echo, 100 ms for the reply. */
export const PING_CHECK: KeaEdit = (name, text) =>
  name === "kea-dhcp4.conf"
    ? text.replace(
        '"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_stat_cmds.so" }',
        '"library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_stat_cmds.so" },\n      { "library": "/usr/lib/x86_64-linux-gnu/kea/hooks/libdhcp_ping_check.so", "parameters": { "enable-ping-check": true, "min-ping-requests": 1, "reply-timeout": 100, "ping-cltt-secs": 60 } }',
      )
    : text;
