import { join } from "node:path";
import { expect, it } from "vitest";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { addressIn, expectUdhcpcRenewRelease, runScript } from "../support/cases.ts";
import { useTestLab } from "../support/lab.ts";
import { accountingRecords } from "../support/radius.ts";

// RADIUS from Option 82 (issue #31), from examples/radius: BLUE's Kea 3.0 asks BLUE's FreeRADIUS
// about each new client with the port the relay saw it on (the Circuit-ID BLUE_<mac>, as
// NAS-Port-Id) and serves what RADIUS answers; each lease is accounted to the same server, whose
// detail files the tests read. Every pool of BLUE needs a class RADIUS names: fail closed.

const lab = useTestLab("radius", () => loadTopology(join(ROOT, "examples", "radius", "topology.yaml")));

const client = (mac: string) => lab.client({ kind: "udhcpc", mac });
const leaseOf = async (mac: string) =>
  (await lab.leases({ vrf: "BLUE", family: 4 })).find((l) => l.client === mac && l.validLifetime > 0);

it("an authorised port gets what RADIUS says: its Framed-IP-Address, or an address of its Framed-Pool", async () => {
  const fixed = await client("00:bb:01:00:18:01");
  expect(fixed.address, fixed.output).toBe("192.168.20.241");
  const gold = await client("00:bb:01:00:18:02");
  expect(gold.address, gold.output).toMatch(/^192\.168\.20\.2(0\d|1\d)$/);
  const standard = await client("00:bb:01:00:18:11");
  expect(standard.address, standard.output).toMatch(/^192\.168\.20\.(\d\d|1\d\d)$/);
  // Kea holds each with the port the relay added.
  const lease = await leaseOf("00:bb:01:00:18:01");
  expect(lease?.relay?.circuitId).toBe("BLUE_00:bb:01:00:18:01");
});

it("a port RADIUS rejects gets no lease, nor does a client of no known port", async () => {
  for (const mac of ["00:bb:01:00:18:03", "00:bb:01:00:19:01"]) {
    // FreeRADIUS rejects at once: three DISCOVERs a second apart are answered by nothing.
    const r = await runScript(lab, mac, ["udhcpc -i eth0 -n -q -f -t 3 -T 1 -s /bin/true 2>&1"]);
    expect(r.output.match(/broadcasting discover/g)).toHaveLength(3);
    expect(r.output, r.output).not.toMatch(/select for|obtained/);
    expect(await leaseOf(mac)).toBeUndefined();
    // Asked, and rejected: FreeRADIUS logged the reject for this client.
    await expect
      .poll(() => lab.logs("radius-blue"), { timeout: 5000 })
      .toMatch(new RegExp(`Login incorrect.*${mac.replaceAll(":", "[:-]")}`, "i"));
  }
  // Kea read FreeRADIUS's reason for the suspended port.
  expect(await lab.logs("kea-blue")).toMatch(/RADIUS_REPLY_MESSAGE_ATTRIBUTE .*'suspended'/);
});

it("accounting: Start, Interim-Update on renewal and Stop on release, each naming the client, its address and its port", async () => {
  const mac = "00:bb:01:00:18:05";
  const output = await expectUdhcpcRenewRelease(lab, mac, "192.168.20.");
  const address = addressIn(output, "192.168.20.");
  await expect
    .poll(
      async () =>
        withoutRetransmissions(
          (await accountingRecords(lab, "radius-blue")).filter((r) => r["Calling-Station-Id"] === mac),
        ).map((r) => [r["Acct-Status-Type"], r["Framed-IP-Address"], r.Class]),
      { timeout: 10_000, interval: 250 },
    )
    .toEqual([
      ["Start", address, `port=BLUE_${mac}`],
      ["Interim-Update", address, `port=BLUE_${mac}`],
      ["Stop", address, `port=BLUE_${mac}`],
    ]);
});

it("FreeRADIUS down: a new client gets no address (no pool opens without RADIUS's class); once it is back, the same client is served", async () => {
  const mac = "00:bb:01:00:18:06";
  await lab.stop("radius-blue");
  try {
    const r = await client(mac);
    expect(r.address, r.output).toBeUndefined();
    expect(await lab.logs("kea-blue")).toMatch(
      /RADIUS_ACCESS_ERROR Access-Request failed with \d+ \(timeout\)/,
    );
  } finally {
    await lab.start("radius-blue");
    await lab.healthy("radius-blue");
  }
  const again = await client(mac);
  expect(again.address, again.output).toMatch(/^192\.168\.20\./);
});

/**
 * Accounting records with each run of one status collapsed: a request FreeRADIUS answers late (a
 * loaded machine) is retransmitted (RFC 2866 §2), and the detail file logs each copy; and Kea 3.0
 * may send a second Stop for a released lease when it expires it on release (its log:
 * DHCP4_RELEASE_EXPIRED), seen in a clean-clone run. Either way the client's accounting is one
 * Start, then its updates, then its Stop.
 */
function withoutRetransmissions(records: readonly Record<string, string>[]): Record<string, string>[] {
  const status = (r: Record<string, string>) => r["Acct-Status-Type"];
  return records.filter((r, i) => i === 0 || status(r) !== status(records[i - 1] as Record<string, string>));
}
