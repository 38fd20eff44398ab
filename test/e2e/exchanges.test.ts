import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadTopology, type Topology } from "../../orchestrator/model/topology.ts";
import { addressIn, held, PRINT_ADDRESSES, runScript } from "../support/cases.ts";
import {
  answered,
  boundAt,
  clttOf,
  craft,
  dropAtClient,
  expectConflictDeclined,
  expectInform,
  expectInformationRequest,
  expectMovedClient,
  expectRenewed6,
  freeAddress,
  holdAddress,
  keaStat,
  PING_CHECK,
  RED_VIDEO_TOP,
  relayed,
  SHORT_LIFETIMES,
} from "../support/exchanges.ts";
import { editKea, type KeaEditing, withKeaEdit } from "../support/kea-edit.ts";
import { useTestLab } from "../support/lab.ts";

// Every DHCP exchange through the relay beyond DORA/SARR and release (clients.test.ts), on the
// default lab (Kea 3.0): what a real client does where one does it, scapy where none can be
// made to, each asserted on the client, the relay's counters and Kea's leases and statistics.
// docs/exchanges.md tables them; kea-versions.test.ts runs the core cases on Kea 2.6.

describe("every DHCP exchange through the relay", () => {
  const lab = useTestLab("exchanges");
  let topology: Topology;
  beforeAll(async () => {
    topology = await loadTopology();
  });

  describe("DHCPv4", () => {
    it("NAK: a client moved from BLUE asks RED for its old address in INIT-REBOOT; RED (authoritative) NAKs, the relay delivers it, the client starts over in RED", () =>
      expectMovedClient(lab, {
        mac: "00:aa:01:00:0e:01",
        vrf: "RED",
        elsewhere: "192.168.20.50",
        prefix: "192.168.10.",
        authoritative: true,
      }));

    it("non-authoritative (the edit applied): the same client gets no NAK and starts over only when its reboot timeout runs out", () =>
      withKeaEdit(
        lab,
        topology,
        "RED",
        (name, text) =>
          name === "kea-dhcp4.conf" ? text.replace('"authoritative": true', '"authoritative": false') : text,
        () =>
          expectMovedClient(lab, {
            mac: "00:aa:01:00:0e:02",
            vrf: "RED",
            elsewhere: "192.168.20.51",
            prefix: "192.168.10.",
            authoritative: false,
          }),
      ));

    it("INFORM: a host with a static address gets its options by unicast to ciaddr through the relay's route, and no lease", () =>
      expectInform(lab, {
        mac: "00:aa:01:00:0e:03",
        vrf: "RED",
        address: "192.168.10.5",
        dns: "192.168.10.2",
        domain: "red.example",
      }));

    it("DECLINE: a host already holds the offered address; the client's ARP probe finds it, it declines, Kea marks the address declined and the client gets another", () =>
      expectConflictDeclined(lab, {
        mac: "00:aa:01:00:0e:04",
        host: "00:aa:01:00:0e:05",
        vrf: "RED",
        prefix: "192.168.10.",
        candidates: RED_VIDEO_TOP,
      }));

    it("Kea 3.0's ping_check (the hook added, applied): a host holds the address the client asks for; Kea pings it before the offer through the relay, finds it taken, and offers another: no DECLINE needed", () =>
      withKeaEdit(lab, topology, "RED", PING_CHECK, async (applied) => {
        // The relay forwards Kea's pings to RED's clients now: its configuration changed.
        expect(applied.changes.map((c) => [c.service, c.action])).toContainEqual(["relay", "restarted"]);
        const [mac, hostMac] = ["00:aa:01:00:0e:07", "00:aa:01:00:0e:08"];
        const taken = await freeAddress(lab, RED_VIDEO_TOP);
        const declines = await relayed(lab, 4, "DECLINE", "to-server");
        // The host holds the address until the client asks for what it was offered instead.
        const host = holdAddress(lab, { host: hostMac, address: taken, until: { mac, type: 3 } });
        const r = await runScript(lab, mac, [
          answered(taken),
          // -a: udhcpc checks the offered address by ARP, and declines it if a host answers.
          `udhcpc -f -q -n -a -i eth0 -t 5 -T 3 -r ${taken} -s /bin/true 2>&1`,
        ]);
        expect((await host).exitCode).toBe(0);
        const address = /lease of (\S+) obtained/.exec(r.output)?.[1];
        expect(address, r.output).toMatch(/^192\.168\.10\./);
        expect(address).not.toBe(taken);
        expect(await relayed(lab, 4, "DECLINE", "to-server")).toBe(declines);
        const rows = await lab.leases({ family: 4 });
        expect(rows.find((l) => l.address === address)?.state).toBe(0);
        // Kea marks the address it found in use declined, as a DECLINE would have.
        expect(rows.find((l) => l.address === taken)?.state).toBe(1);
      }));

    it("realistic options: a DORA client gets routers, DNS servers, domain and NTP servers of its VRF", async () => {
      const r = await runScript(lab, "00:bb:01:00:0e:06", [
        `printf '#!/bin/sh\\n[ "$1" = bound ] && echo "OPT $interface $ip $router $dns $domain $ntpsrv"\\nexit 0\\n' > /tmp/script`,
        "chmod +x /tmp/script",
        "udhcpc -f -q -n -i eth0 -t 5 -T 2 -s /tmp/script -O ntpsrv > /tmp/out 2>&1",
        "cat /tmp/out",
      ]);
      expect(r.output).toMatch(
        /^OPT eth0 192\.168\.20\.\d+ 192\.168\.20\.1 192\.168\.20\.2 blue\.example 192\.168\.20\.3$/m,
      );
    });
  });

  describe("DHCPv6", () => {
    it("INFORMATION-REQUEST (dhclient -6 -S): options and no lease", () =>
      expectInformationRequest(lab, {
        mac: "00:aa:01:00:0e:11",
        vrf: "RED",
        dns: "fd00:10::2",
        domain: "red.example",
      }));

    it("CONFIRM: Success for an address on the link the relay names, NotOnLink for one from BLUE (a client that moved)", async () => {
      const before = await relayed(lab, 6, "CONFIRM", "to-server");
      const onLink = await craft<{ reply: boolean; status: number | null }>(lab, "00:aa:01:00:0e:12", [
        "confirm6",
        "00:aa:01:00:0e:12",
        "fd00:10::4321",
      ]);
      const moved = await craft<{ reply: boolean; status: number | null }>(lab, "00:aa:01:00:0e:12", [
        "confirm6",
        "00:aa:01:00:0e:12",
        "fd00:20::4321",
      ]);
      // RFC 8415 §21.13: status 0 Success, 4 NotOnLink.
      expect(onLink).toEqual({ reply: true, status: 0 });
      expect(moved).toEqual({ reply: true, status: 4 });
      expect(await relayed(lab, 6, "CONFIRM", "to-server")).toBe(before + 2);
    });

    it("DECLINE: a granted address declined (duplicate address); Kea marks it declined", async () => {
      const received = () => keaStat(lab, "RED", 6, "pkt6-decline-received");
      // Kea counts declined addresses per subnet, per pool and in all: the subnets' counts.
      const declined = () => keaStat(lab, "RED", 6, /^subnet\[\d+\]\.declined-addresses$/);
      const [receivedBefore, declinedBefore] = await Promise.all([received(), declined()]);
      const r = await craft<{ address: string; reply: boolean; status: number | null }>(
        lab,
        "00:aa:01:00:0e:13",
        ["decline6", "00:aa:01:00:0e:13"],
      );
      expect(r).toMatchObject({ reply: true, status: 0 });
      expect(r.address).toMatch(/^fd00:1[01]::/);
      expect((await lab.leases({ family: 6 })).find((l) => l.address === r.address)?.state).toBe(1);
      expect(await received()).toBe(receivedBefore + 1);
      expect(await declined()).toBe(declinedBefore + 1);
    });
  });

  // Lifetimes of seconds, edited into RED's configuration and applied for these cases: Kea's
  // timers T1 3 s and T2 6 s (both families), leases of 10 s, reclamation every second.
  describe("short lifetimes: renewing, rebinding, expiry", () => {
    let editing: KeaEditing | undefined;
    beforeAll(async () => {
      editing = await editKea(lab, topology, "RED", SHORT_LIFETIMES);
    });
    afterAll(async () => {
      await editing?.restore();
    });

    it("DHCPv4 expiry: a client that leaves without releasing; Kea reclaims its lease when it expires (expired-reclaimed)", async () => {
      const reclaimed = () => keaStat(lab, "RED", 4, "reclaimed-leases");
      const before = await reclaimed();
      const r = await runScript(lab, "00:aa:01:00:0e:21", [
        // -q: quit once bound, without a RELEASE (no -R).
        "udhcpc -f -q -n -i eth0 -t 5 -T 2 > /tmp/out 2>&1",
        "cat /tmp/out",
        PRINT_ADDRESSES("-4"),
      ]);
      const address = addressIn(r.output, "192.168.10.");
      expect(address, r.output).toBeDefined();
      expect(await held(lab, 4, address)).toBe(true);
      // Kea's lease state 2: expired-reclaimed, kept for hold-reclaimed-time.
      await expect
        .poll(async () => (await lab.leases({ family: 4 })).find((l) => l.address === address)?.state, {
          timeout: 30_000,
          interval: 500,
        })
        .toBe(2);
      expect(await reclaimed()).toBeGreaterThan(before);
    });

    it("DHCPv4 REBINDING: the client's unicast renewals are lost; at T2 its broadcast REQUEST is relayed and ACKed, extending the lease", async () => {
      const relay = lab.spec.access.relay.ipv4;
      const r = await runScript(lab, "00:aa:01:00:0e:22", [
        // The path of the client's renewals (unicast to the relay, its server identifier) cut
        // at the client: its broadcasts go out through dhclient's packet socket, not this hook.
        ...dropAtClient(`ip daddr ${relay} udp dport 67`),
        "dhclient -4 -d -v -lf /tmp/leases eth0 > /tmp/out 2>&1 & pid=$!",
        "for i in $(seq 100); do grep -q '^DHCPACK' /tmp/out && break; sleep 0.1; done",
        'echo "BOUND $(date +%s)"',
        "for i in $(seq 300); do [ \"$(grep -c '^DHCPACK' /tmp/out)\" -ge 2 ] && break; sleep 0.1; done",
        PRINT_ADDRESSES("-4"),
        "kill $pid; wait $pid",
        "cat /tmp/out",
      ]);
      const address = addressIn(r.output, "192.168.10.");
      expect(address, r.output).toBeDefined();
      const lines = r.output.split("\n");
      const bound = lines.findIndex((l) => l.startsWith("bound to"));
      const after = lines.slice(bound + 1).join("\n");
      // T1: renewals by unicast to the relay (lost); T2: REBINDING, broadcast (RFC 2131 §4.4.5).
      expect(after).toContain(`DHCPREQUEST for ${address} on eth0 to ${relay} port 67`);
      expect(after).toContain(`DHCPREQUEST for ${address} on eth0 to 255.255.255.255 port 67`);
      // From the relay: its access address, or its address in the client's subnet.
      expect(after).toMatch(new RegExp(`DHCPACK of ${address?.replaceAll(".", "\\.")} from `));
      // Kea's lease is the rebinding's: its last transaction at least T2 (6 s) after the bind.
      expect(await clttOf(lab, 4, address ?? "")).toBeGreaterThanOrEqual(boundAt(r.output) + 5);
    });

    it("DHCPv6 RENEW at T1 through the relay extends the lease (its cltt moves)", () =>
      expectRenewed6(lab, "00:aa:01:00:0e:23", false));

    it("DHCPv6 REBIND: the client's RENEWs are lost; at T2 its REBIND is relayed and answered, extending the lease", () =>
      expectRenewed6(lab, "00:aa:01:00:0e:24", true));
  });
});
