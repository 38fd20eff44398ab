import { join } from "node:path";
import { expect, it } from "vitest";
import type { LeaseQueryResult } from "../../orchestrator/index.ts";
import { loadTopology } from "../../orchestrator/model/topology.ts";
import { ROOT } from "../../orchestrator/paths.ts";
import { dhcplab, dhcplabJson } from "../support/cli.ts";
import { startCpe } from "../support/cpe.ts";
import { useTestLab } from "../support/lab.ts";

// Lease query through the relay (issue #31), from examples/lease-query: RED's Kea 3.0 loads the
// lease_query hook, the lab adds the relay's backend addresses to its requesters, and the relay
// asks: DHCPv4 over UDP (RFC 4388), DHCPv6 as bulk leasequery over TCP (RFC 5460). Each answer is
// checked against what the client obtained and what the relay added.

const lab = useTestLab("lease-query", () =>
  loadTopology(join(ROOT, "examples", "lease-query", "topology.yaml")),
);

/** The relay stopped and started again: it has forgotten every route it learned. */
async function restartRelay(): Promise<void> {
  await lab.stop("relay", 2);
  await lab.start("relay");
  await lab.healthy("relay", 30_000);
}

it("DHCPv4: by address, MAC and client identifier, and in bulk by Remote-ID, an active lease with its client, times and Option 82; unassigned and unknown otherwise", async () => {
  const mac = "00:aa:01:00:1a:01";
  const got = await lab.client({ kind: "udhcpc", mac });
  const address = got.address as string;
  expect(address, got.output).toMatch(/^192\.168\.10\./);
  for (const [by, value] of [
    ["ip", address],
    ["mac", mac],
    ["client-id", `01:${mac}`],
  ] as const) {
    const r = await lab.leasequery({ vrf: "RED", family: 4, by, value });
    expect(r.answers.map((a) => [a.server, a.status])).toEqual([["kea-red", "active"]]);
    expect(r.answers[0]?.bindings).toEqual([
      expect.objectContaining({
        addresses: [address],
        mac,
        clientId: `01${mac.replaceAll(":", "")}`,
        leaseTime: expect.any(Number),
        lastTransaction: expect.any(Number),
        relay: expect.objectContaining({
          circuitId: "VIDEO_CIRCUIT",
          remoteId: mac,
          linkSelection: "192.168.10.1",
        }),
      }),
    ]);
  }
  // In bulk over TCP (RFC 6926), by the Remote-ID the relay added: the client's MAC in RED VIDEO.
  const byRemoteId = await lab.leasequery({ vrf: "RED", family: 4, by: "remote-id", value: mac });
  expect(byRemoteId.answers.map((a) => [a.server, a.status])).toEqual([["kea-red", "active"]]);
  expect(byRemoteId.answers[0]?.bindings.map((b) => [b.addresses, b.mac, b.relay?.circuitId])).toEqual([
    [[address], mac, "VIDEO_CIRCUIT"],
  ]);
  // An address RED serves that nobody holds; a MAC Kea never saw.
  const free = await lab.leasequery({ vrf: "RED", family: 4, by: "ip", value: "192.168.10.249" });
  expect(free.answers.map((a) => a.status)).toEqual(["unassigned"]);
  const stranger = await lab.leasequery({ vrf: "RED", family: 4, by: "mac", value: "00:aa:01:00:1a:99" });
  expect(stranger.answers.map((a) => a.status)).toEqual(["unknown"]);
});

it("DHCPv6 (bulk, over TCP): by address, by link and by the relay's Remote-ID, the client's address and delegated prefix", async () => {
  const mac = "00:aa:01:00:1a:02";
  const got = await lab.client({ kind: "dhclient", family: 6, pd: true, mac });
  const [address, prefix] = [got.address as string, got.prefixes[0] as string];
  expect(address, got.output).toMatch(/^fd00:10::/);
  expect(prefix, got.output).toMatch(/^fd10:100:/);
  const byAddress = await lab.leasequery({ vrf: "RED", family: 6, by: "address", value: address });
  expect(byAddress.answers.map((a) => [a.server, a.status])).toEqual([["kea-red", "active"]]);
  const duid = byAddress.answers[0]?.bindings[0]?.duid;
  expect(duid).toMatch(new RegExp(`${mac.replaceAll(":", "")}$`));
  const mine = (r: LeaseQueryResult) =>
    r.answers
      .flatMap((a) => a.bindings.filter((b) => b.duid === duid))
      .flatMap((b) => [...b.addresses, ...b.prefixes]);
  expect(
    mine(await lab.leasequery({ vrf: "RED", family: 6, by: "link", value: "fd00:10::1" })).sort(),
  ).toEqual([address, prefix].sort());
  // The default policy's Remote-ID for RED VIDEO: enterprise 2393, the client's MAC.
  const byRemoteId = await lab.leasequery({
    vrf: "RED",
    family: 6,
    by: "remote-id",
    value: mac,
    enterprise: 2393,
  });
  expect(mine(byRemoteId).sort()).toEqual([address, prefix].sort());
  const nobody = await lab.leasequery({ vrf: "RED", family: 6, by: "address", value: "fd00:10::ffee" });
  expect(nobody.answers.map((a) => a.status)).toEqual(["unknown"]);
});

it("dhcplab leasequery: --json is the library's answer; a VRF whose Kea takes no lease queries is said so or answers nothing", async () => {
  const mac = "00:aa:01:00:1a:03";
  const got = await lab.client({ kind: "udhcpc", mac });
  const cli = await dhcplabJson<LeaseQueryResult>(
    "leasequery",
    "--name",
    lab.name,
    "--vrf",
    "RED",
    "--mac",
    mac,
  );
  expect(cli).toMatchObject({ vrf: "RED", query: { family: 4, by: "mac", value: mac } });
  expect(cli.answers[0]?.bindings[0]?.addresses).toEqual([got.address]);
  // BLUE's Kea loads no lease_query hook: it ignores DHCPv4 queries, and takes no DHCPv6 ones.
  expect(
    (await lab.leasequery({ vrf: "BLUE", family: 4, by: "mac", value: "00:bb:01:00:1a:04" })).answers,
  ).toEqual([]);
  const refused = await dhcplab(
    "leasequery",
    "--name",
    lab.name,
    "--vrf",
    "BLUE",
    "-6",
    "--link",
    "fd00:20::1",
  );
  expect(refused.exitCode).toBe(1);
  expect(refused.stderr).toMatch(/VRF BLUE takes no DHCPv6 lease queries/);
  const two = await dhcplab(
    "leasequery",
    "--name",
    lab.name,
    "--vrf",
    "RED",
    "--ip",
    "192.168.10.10",
    "--mac",
    mac,
  );
  expect(two.stderr).toMatch(/give one of --ip, --mac, --client-id, --remote-id, --relay-id \(DHCPv4\)/);
});

it("a restarted relay routes the prefixes delegated before, read by bulk leasequery by link with the relay data's next hop", async () => {
  const mac = "00:aa:01:00:1a:05";
  const got = await lab.client({ kind: "dhclient", family: 6, pd: true, mac });
  const prefix = got.prefixes[0] as string;
  expect(prefix, got.output).toMatch(/^fd10:100:/);
  // The next hop the relay learned from the REPLY it relayed: the CPE's link-local address.
  const learned = (await lab.delegations()).find((d) => d.prefix === prefix);
  expect(learned?.learnedFrom).toBe("reply");
  await restartRelay();
  await expect
    .poll(async () => (await lab.delegations()).find((d) => d.prefix === prefix), { timeout: 20_000 })
    .toMatchObject({ learnedFrom: "lease-table", via: learned?.via, vrf: "RED" });
  expect(await lab.logs("relay")).toMatch(/delegated prefixes read by bulk leasequery/);
});

it("a CPE on a second segment: after a relay restart its prefix is routed on that segment again, where its link-local address answers", async () => {
  const cpe = await startCpe(lab, "00:aa:01:00:1a:06", "port5");
  const r = await cpe.sh("dhcplab-client dhcpcd 6 --pd");
  const prefix = /^PREFIX (\S+)$/m.exec(r.stdout)?.[1];
  expect(prefix, r.stdout + r.stderr).toMatch(/^fd10:100:/);
  const learned = (await lab.delegations()).find((d) => d.prefix === prefix);
  expect(learned).toMatchObject({ segment: "port5", learnedFrom: "reply", via: await cpe.linkLocal() });
  await restartRelay();
  // The default policy's Interface-ID (V6_VIDEO_LINK) names no segment: the relay asks the links.
  await expect
    .poll(async () => (await lab.delegations()).find((d) => d.prefix === prefix), { timeout: 20_000 })
    .toMatchObject({ learnedFrom: "lease-table", via: learned?.via, segment: "port5" });
});
