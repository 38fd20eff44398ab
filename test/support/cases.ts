import { expect } from "vitest";
import type { LeaseRow } from "../../orchestrator/index.ts";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import { completed } from "../../orchestrator/model/perfdhcp.ts";
import type { TestLab } from "./lab.ts";

/** One class of the default policy and Kea configurations: who, where they land, what Kea stores. */
export interface VrfCase {
  family: 4 | 6;
  vrf: string;
  mac: string;
  prefix: string;
  /** What the relay adds that Kea's classes test: a Circuit-ID or an Interface-ID. */
  added: string;
}

/** Every class of the default lab, each VRF and family. */
export const DEFAULT_LAB_CASES: readonly VrfCase[] = [
  { family: 4, vrf: "RED", mac: "00:aa:01:00:00:00", prefix: "192.168.10.", added: "VIDEO_CIRCUIT" },
  { family: 4, vrf: "RED", mac: "00:aa:02:00:00:00", prefix: "192.168.11.", added: "DATA_CIRCUIT" },
  { family: 4, vrf: "BLUE", mac: "00:bb:01:00:00:00", prefix: "192.168.20.", added: "BLUE_" },
  { family: 6, vrf: "RED", mac: "00:aa:01:00:00:00", prefix: "fd00:10::", added: "V6_VIDEO_LINK" },
  { family: 6, vrf: "RED", mac: "00:aa:02:00:00:00", prefix: "fd00:11::", added: "V6_DATA_LINK" },
  { family: 6, vrf: "BLUE", mac: "00:bb:01:00:00:00", prefix: "fd00:20::", added: "V6_BLUE_LINK" },
];

const hexOf = (s: string) => Buffer.from(s).toString("hex").toUpperCase();
const relayText = (l: LeaseRow) => JSON.stringify(l.relayInfo ?? {});

/**
 * 50 perfdhcp clients of one class through the relay: their leases come only from the class's
 * VRF, in its subnet, with what the relay added stored by Kea (so Kea classified on it).
 */
export async function expectLeasesOfClass(lab: TestLab, c: VrfCase): Promise<void> {
  const before = await lab.leases({ family: c.family });
  const r = await lab.load({
    mac: c.mac,
    family: c.family,
    clients: 50,
    rate: 50,
    seconds: 2,
  });
  expect(r.report.exchanges.map((e) => e.exchange)).toEqual(
    c.family === 4 ? ["DISCOVER-OFFER", "REQUEST-ACK"] : ["SOLICIT-ADVERTISE", "REQUEST-REPLY"],
  );
  expect(completed(r.report)).toBeGreaterThan(0);
  const mine = (await lab.leases({ family: c.family })).filter(
    (l) => !before.some((b) => b.address === l.address && b.vrf === l.vrf),
  );
  // perfdhcp draws from its 50 clients at random, and each keeps one lease: as many as
  // completed an exchange (how many did is the machine's business, not the relay's).
  expect(mine.length).toBeGreaterThan(0);
  expect(mine.length).toBeLessThanOrEqual(50);
  expect(mine.every((l) => l.vrf === c.vrf && l.address.startsWith(c.prefix))).toBe(true);
  expect(mine.every((l) => relayText(l).includes(hexOf(c.added)))).toBe(true);
  if (c.family === 4) expect(mine.every((l) => l.client.startsWith(c.mac.slice(0, 8)))).toBe(true);
}

/** Prints each global address of eth0 as `ADDRESS a/len`. */
export const PRINT_ADDRESSES = (flag: string) =>
  `ip -o ${flag} addr show dev eth0 scope global | awk '{print "ADDRESS " $4}'`;

/** Every `ADDRESS a/len` line's address within `prefix`. */
export function addressIn(output: string, prefix: string): string | undefined {
  return [...output.matchAll(/^ADDRESS (\S+)\/\d+$/gm)].map((m) => m[1]).find((a) => a?.startsWith(prefix));
}

/** Runs a shell script in a client container with `mac` on the lab's access network. */
export function runScript(
  lab: TestLab,
  mac: string,
  script: string[],
  writableProc = false,
  segment?: string,
) {
  return lab.run(["sh", "-c", script.join("\n")], {
    mac,
    capAdd: ["NET_ADMIN", "NET_RAW"],
    writableProc,
    segment,
  });
}

/**
 * Whether Kea holds a lease on `address` (Kea keeps a released one with valid lifetime 0): any
 * VRF's, or `vrf`'s where VRFs number their clients alike.
 */
export async function held(
  lab: TestLab,
  family: 4 | 6,
  address: string | undefined,
  vrf?: string,
): Promise<boolean> {
  return (await lab.leases({ family, ...(vrf ? { vrf } : {}) })).some(
    (l) => l.address === address && l.validLifetime > 0,
  );
}

/**
 * udhcpc (with `args` besides its own: a host name, `-x hostname:NAME`) obtains an address in
 * `prefix`, renews it (SIGUSR1) and releases it (SIGUSR2); then Kea holds it no more.
 */
export async function expectUdhcpcRenewRelease(
  lab: TestLab,
  mac: string,
  prefix: string,
  segment?: string,
  args: readonly string[] = [],
  vrf?: string,
): Promise<string> {
  // Arguments as shell words: each single-quoted.
  const words = args.map((a) => ` '${a.replaceAll("'", "'\\''")}'`).join("");
  const r = await runScript(
    lab,
    mac,
    [
      `udhcpc -f -i eth0 -t 5 -T 2${words} > /tmp/out 2>&1 & pid=$!`,
      // udhcpc's script flushes and adds the address after it logs the lease: wait for the address.
      `for i in $(seq 100); do ip -o -4 addr show dev eth0 | grep -qF " inet ${prefix}" && break; sleep 0.1; done`,
      PRINT_ADDRESSES("-4"),
      "kill -USR1 $pid",
      "for i in $(seq 100); do [ \"$(grep -c 'lease of' /tmp/out)\" -ge 2 ] && break; sleep 0.1; done",
      "kill -USR2 $pid",
      // udhcpc logs "sending release" before it sends it, then unconfigures the address: wait for
      // the address to go, so that the RELEASE is out before udhcpc is stopped (a clean-clone run
      // stopped it between the log line and the send).
      `for i in $(seq 50); do ip -o -4 addr show dev eth0 | grep -qF " inet ${prefix}" || break; sleep 0.1; done`,
      "kill $pid; wait $pid",
      "cat /tmp/out",
    ],
    false,
    segment,
  );
  const address = addressIn(r.output, prefix);
  expect(address, r.output).toBeDefined();
  expect(r.output).toMatch(/sending renew to server/);
  expect(r.output.match(/lease of .* obtained/g)?.length, r.output).toBeGreaterThanOrEqual(2);
  expect(r.output).toMatch(/sending release/);
  await expect.poll(() => held(lab, 4, address, vrf), { timeout: 5000 }).toBe(false);
  return r.output;
}

/** dhclient -6 obtains an address in `prefix` and releases it; the relay relayed the RELEASE, Kea holds it no more. */
export async function expectDhclient6ObtainRelease(
  lab: TestLab,
  mac: string,
  prefix: string,
  segment?: string,
): Promise<string> {
  const releases = () =>
    lab.counter("dhcplab_relay_messages_total", { family: 6, type: "RELEASE", direction: "to-server" });
  const before = await releases();
  const r = await runScript(
    lab,
    mac,
    [
      WAIT_FOR_LINK,
      "dhclient -6 -1 -v -lf /tmp/leases eth0 > /tmp/out 2>&1",
      PRINT_ADDRESSES("-6"),
      "dhclient -6 -r -v -lf /tmp/leases eth0 >> /tmp/out 2>&1",
      "cat /tmp/out",
    ],
    false,
    segment,
  );
  const address = addressIn(r.output, prefix);
  expect(address, r.output).toBeDefined();
  await expect.poll(releases, { timeout: 5000 }).toBeGreaterThan(before);
  await expect.poll(() => held(lab, 6, address), { timeout: 5000 }).toBe(false);
  return address as string;
}
