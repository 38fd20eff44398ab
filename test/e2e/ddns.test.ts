import { join } from "node:path";
import { expect, it } from "vitest";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { addressIn, expectUdhcpcRenewRelease, PRINT_ADDRESSES, runScript } from "../support/cases.ts";
import { keaStat } from "../support/exchanges.ts";
import { type KeaEdit, withKeaEdit } from "../support/kea-edit.ts";
import { useTestLab } from "../support/lab.ts";

// Dynamic DNS through the relay (issue #31), from examples/ddns: RED's kea-dhcp4 and kea-dhcp6
// queue name changes for clients that name themselves, RED's kea-dhcp-ddns sends them TSIG-signed
// to RED's BIND 9 (on RED's backend, at the topology's dnsServer address), and the records are
// read back with dig inside that server's container. Every wait polls with a deadline.

const EXAMPLE = join(ROOT, "examples", "ddns", "topology.yaml");
const lab = useTestLab("ddns", () => loadTopology(EXAMPLE));

/** What RED's DNS server answers for `name` and `type`, one record a line (dig +short). */
async function dig(name: string, type: "A" | "AAAA" | "PTR"): Promise<string[]> {
  const r = await lab.exec("dns-red", [
    "dig",
    "+short",
    "@127.0.0.1",
    ...(type === "PTR" ? ["-x", name] : [name, type]),
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout.split("\n").filter((l) => l.trim() !== "");
}

/** Polls dig until it answers `want` (nothing: []), within 15 s. */
const expectDns = (name: string, type: "A" | "AAAA" | "PTR", want: string[]) =>
  expect.poll(() => dig(name, type), { timeout: 15_000, interval: 250 }).toEqual(want);

it("DHCPv4: udhcpc's host name (option 12) gets an A and a PTR record; its release removes both", async () => {
  const mac = "00:aa:01:00:d0:01";
  const got = await lab.client({ kind: "udhcpc", mac, hostname: "ddns-v4" });
  expect(got.address, got.output).toMatch(/^192\.168\.10\./);
  const address = got.address as string;
  await expectDns("ddns-v4.red.example", "A", [address]);
  await expectDns(address, "PTR", ["ddns-v4.red.example."]);
  // The same client (MAC, client-id, name) again: renewed, then released.
  const output = await expectUdhcpcRenewRelease(lab, mac, "192.168.10.", undefined, [
    "-x",
    "hostname:ddns-v4",
  ]);
  expect(addressIn(output, "192.168.10."), output).toBe(address);
  await expectDns("ddns-v4.red.example", "A", []);
  await expectDns(address, "PTR", []);
});

it("dhcplab client --hostname: dhcpcd and dhclient (option 12) in RED's other subnet, dhcpcd and dhclient in DHCPv6 (option 39)", async () => {
  const cases = [
    {
      kind: "dhcpcd",
      family: 4,
      mac: "00:aa:02:00:d0:02",
      hostname: "ddns-dhcpcd4",
      type: "A",
      prefix: "192.168.11.",
    },
    {
      kind: "dhclient",
      family: 4,
      mac: "00:aa:02:00:d0:05",
      hostname: "ddns-dhclient4",
      type: "A",
      prefix: "192.168.11.",
    },
    {
      kind: "dhcpcd",
      family: 6,
      mac: "00:aa:01:00:d0:06",
      hostname: "ddns-dhcpcd6",
      type: "AAAA",
      prefix: "fd00:10::",
    },
    // dhclient sends its DHCPv6 name fully qualified.
    {
      kind: "dhclient",
      family: 6,
      mac: "00:aa:01:00:d0:07",
      hostname: "ddns-dhclient6.red.example",
      type: "AAAA",
      prefix: "fd00:10::",
    },
  ] as const;
  for (const c of cases) {
    const got = await lab.client({ kind: c.kind, family: c.family, mac: c.mac, hostname: c.hostname });
    expect(got.address, got.output).toMatch(new RegExp(`^${c.prefix.replaceAll(".", "\\.")}`));
    const fqdn = c.hostname.includes(".") ? c.hostname : `${c.hostname}.red.example`;
    await expectDns(fqdn, c.type, [got.address as string]);
    await expectDns(got.address as string, "PTR", [`${fqdn}.`]);
  }
});

it("DHCPv4: udhcpc's Client FQDN (option 81, -F) gets its A and PTR records too", async () => {
  const r = await runScript(lab, "00:aa:01:00:d0:08", [
    "udhcpc -i eth0 -n -q -f -t 5 -T 2 -F ddns-fqdn -s /bin/true 2>&1",
  ]);
  const address = /lease of (\S+) obtained/.exec(r.output)?.[1];
  expect(address, r.output).toMatch(/^192\.168\.10\./);
  await expectDns("ddns-fqdn.red.example", "A", [address as string]);
  await expectDns(address as string, "PTR", ["ddns-fqdn.red.example."]);
});

/** dhclient -6 with a Client FQDN (option 39) and a DUID from its MAC (DUID-LL), so that a second run is the same client. */
const dhclient6 = (fqdn: string, then: string[] = []) => [
  `printf 'send fqdn.fqdn "${fqdn}";\\nsend fqdn.server-update on;\\n' > /tmp/dhclient6.conf`,
  "for i in $(seq 50); do ip -6 addr show dev eth0 tentative | grep -q . || break; sleep 0.1; done",
  "dhclient -6 -D LL -1 -v -cf /tmp/dhclient6.conf -lf /tmp/leases eth0 2>&1",
  PRINT_ADDRESSES("-6"),
  ...then,
];

it("DHCPv6: dhclient's Client FQDN (option 39) gets an AAAA and a PTR record; its release removes both", async () => {
  const mac = "00:aa:01:00:d0:03";
  // dhclient sends the name fully qualified (it ends the option's name with the root label).
  const fqdn = "ddns-v6.red.example";
  const first = await runScript(lab, mac, dhclient6(fqdn));
  // The default policy sends DUID-LL clients of 00:aa:* to RED's DATA class.
  const address = addressIn(first.output, "fd00:11::");
  expect(address, first.output).toBeDefined();
  await expectDns(fqdn, "AAAA", [address as string]);
  await expectDns(address as string, "PTR", [`${fqdn}.`]);
  const again = await runScript(
    lab,
    mac,
    dhclient6(fqdn, ["dhclient -6 -D LL -r -v -cf /tmp/dhclient6.conf -lf /tmp/leases eth0 2>&1"]),
  );
  expect(addressIn(again.output, "fd00:11::"), again.output).toBe(address);
  await expectDns(fqdn, "AAAA", []);
  await expectDns(address as string, "PTR", []);
});

/** Leases of 10 s (T1 3 s, T2 6 s), so that an abandoned one expires while the test waits. */
const TEN_SECOND_LEASES: KeaEdit = (name, text) =>
  name === "kea-dhcp4.conf"
    ? text
        .replace(/"valid-lifetime": \d+/, '"valid-lifetime": 10')
        .replace(/"renew-timer": \d+/, '"renew-timer": 3')
        .replace(/"rebind-timer": \d+/, '"rebind-timer": 6')
    : text;

it("expiry: a client that goes away leaves its records until Kea reclaims the lease, then they are removed", async () => {
  await withKeaEdit(lab, await loadTopology(EXAMPLE), "RED", TEN_SECOND_LEASES, async () => {
    const reclaimed = await keaStat(lab, "RED", 4, "reclaimed-leases");
    // udhcpc -q leaves without releasing: the lease runs out.
    const got = await lab.client({ kind: "udhcpc", mac: "00:aa:01:00:d0:04", hostname: "ddns-gone" });
    const address = got.address as string;
    expect(address, got.output).toMatch(/^192\.168\.10\./);
    await expectDns("ddns-gone.red.example", "A", [address]);
    // Kea reclaims it (its reclaimed-leases statistic counts it): the records go with it.
    await expect
      .poll(() => keaStat(lab, "RED", 4, "reclaimed-leases"), { timeout: 30_000, interval: 500 })
      .toBeGreaterThan(reclaimed);
    await expectDns("ddns-gone.red.example", "A", []);
    await expectDns(address, "PTR", []);
  });
});
