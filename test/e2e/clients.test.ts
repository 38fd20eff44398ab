import { describe, expect, it } from "vitest";
import { WAIT_FOR_LINK } from "../../orchestrator/index.ts";
import {
  addressIn,
  expectDhclient6ObtainRelease,
  expectUdhcpcRenewRelease,
  held,
  PRINT_ADDRESSES,
  runScript,
} from "../support/cases.ts";
import { useTestLab } from "../support/lab.ts";

// Real DHCP clients through the relay: each obtains an address in its VRF's subnet, renews it
// through the relay where the client can be made to, and releases it, after which Kea no
// longer holds the lease.

describe("real clients through the relay", () => {
  const lab = useTestLab("clients");

  const relayed = (family: 4 | 6, type: string) =>
    lab.counter("dhcplab_relay_messages_total", { family, type, direction: "to-server" });

  it("dhclient (DHCPv4, RED DATA): obtains (its OFFER and ACK to its MAC and yiaddr), renews by unicast to the relay, releases", async () => {
    const mac = "00:aa:02:00:05:01";
    const requestsBefore = await relayed(4, "REQUEST");
    const releasesBefore = await relayed(4, "RELEASE");
    const r = await runScript(lab, mac, [
      // What reaches the client from port 67, with its link-layer addresses; each packet handed to
      // tcpdump as it comes (--immediate-mode), or the last ones may still wait in the kernel's
      // capture buffer when tcpdump is stopped, and be lost with it.
      "tcpdump -i eth0 -nn -e -l --immediate-mode 'udp src port 67' > /tmp/cap 2> /tmp/cap.err & cap=$!",
      "for i in $(seq 100); do grep -q listening /tmp/cap.err && break; sleep 0.1; done",
      // A 2-second renewal time makes dhclient renew (unicast to its server identifier: the relay) at once.
      "echo 'supersede dhcp-renewal-time 2;' > /tmp/dhclient.conf",
      "dhclient -4 -d -v -cf /tmp/dhclient.conf -lf /tmp/leases eth0 > /tmp/out 2>&1 & pid=$!",
      "for i in $(seq 150); do [ \"$(grep -c '^DHCPACK' /tmp/out)\" -ge 2 ] && break; sleep 0.1; done",
      PRINT_ADDRESSES("-4"),
      "kill $pid; wait $pid",
      "dhclient -4 -r -v -cf /tmp/dhclient.conf -lf /tmp/leases eth0 >> /tmp/out 2>&1",
      "kill $cap; wait $cap",
      "cat /tmp/out",
      "sed 's/^/captured: /' /tmp/cap",
    ]);
    const address = addressIn(r.output, "192.168.11.");
    expect(address, r.output).toBeDefined();
    // RFC 1542 §4.1.2: dhclient leaves BROADCAST clear, so its OFFER and first ACK, before it holds
    // the address, come to its MAC and yiaddr (framed by the relay), and so does every later reply.
    const captured = r.output
      .split("\n")
      .filter((l) => l.startsWith("captured: ") && l.includes("BOOTP/DHCP, Reply"));
    const replies = captured.filter((l) => !l.includes(` ${mac} > `));
    // The client is a host, not a router (RFC 1122 §3.2.1.3): a reply to an address it does not
    // hold yet is not forwarded on to its default route.
    expect(
      captured.filter((l) => l.includes(` ${mac} > `)),
      r.output,
    ).toEqual([]);
    expect(replies.length, r.output).toBeGreaterThanOrEqual(3);
    for (const reply of replies)
      expect(reply).toMatch(
        new RegExp(`> ${mac}, ethertype IPv4 .*: [0-9.]+\\.67 > ${address?.replaceAll(".", "\\.")}\\.68: `),
      );
    // The renewal: a REQUEST for the bound address sent to the relay's access address, and its ACK.
    expect(r.output).toMatch(
      new RegExp(
        `DHCPREQUEST for ${address?.replaceAll(".", "\\.")} on eth0 to ${lab.spec.access.relay.ipv4.replaceAll(".", "\\.")} port 67`,
      ),
    );
    expect(r.output.match(/^DHCPACK/gm)?.length).toBeGreaterThanOrEqual(2);
    await expect
      .poll(() => relayed(4, "REQUEST"), { timeout: 5000 })
      .toBeGreaterThanOrEqual(requestsBefore + 2);
    await expect.poll(() => relayed(4, "RELEASE"), { timeout: 5000 }).toBeGreaterThan(releasesBefore);
    await expect.poll(() => held(lab, 4, address), { timeout: 5000 }).toBe(false);
  });

  it("udhcpc (DHCPv4, BLUE): obtains, renews on SIGUSR1, releases on SIGUSR2", () =>
    expectUdhcpcRenewRelease(lab, "00:bb:01:00:05:02", "192.168.20."));

  it("dhcpcd (DHCPv4, RED VIDEO): obtains an address that Kea holds", async () => {
    const r = await lab.client({
      kind: "dhcpcd",
      family: 4,
      mac: "00:aa:01:00:05:03",
    });
    expect(r.address, r.output).toMatch(/^192\.168\.10\./);
    expect(await held(lab, 4, r.address)).toBe(true);
  });

  it("dhclient (DHCPv6, RED VIDEO): obtains, releases", () =>
    expectDhclient6ObtainRelease(lab, "00:aa:01:00:05:04", "fd00:10::"));

  it("dhcpcd with a DUID-LL (DHCPv6, 00:aa:01:*) lands in RED DATA, as the policy says", async () => {
    const r = await runScript(
      lab,
      "00:aa:01:00:05:05",
      [
        WAIT_FOR_LINK,
        "printf 'duid ll\\nnoipv6rs\\nia_na\\n' > /tmp/dhcpcd.conf",
        "timeout 30 dhcpcd -6 -1 -B -t 20 -f /tmp/dhcpcd.conf eth0 > /tmp/out 2>&1",
        PRINT_ADDRESSES("-6"),
        "cat /tmp/out",
      ],
      true,
    );
    const address = addressIn(r.output, "fd00:11::");
    expect(address, r.output).toBeDefined();
    const lease = (await lab.leases({ family: 6 })).find((l) => l.address === address);
    // DUID-LL: type 3, hardware type 1, the MAC.
    expect(lease?.client).toBe("00:03:00:01:00:aa:01:00:05:05");
    expect(JSON.stringify(lease?.relayInfo)).toContain(
      Buffer.from("V6_DATA_LINK").toString("hex").toUpperCase(),
    );
  });

  it("a client that sends its own Option 82 gets nothing, and is counted as untrusted", async () => {
    const before = await lab.counter("dhcplab_relay_drops_total", {
      family: 4,
      reason: "untrusted-option82",
    });
    // udhcpc adds raw options with -x: 0x52 is Option 82, here Circuit-ID "EVIL". It broadcasts three
    // DISCOVERs; at least one must reach the relay and be counted (a CI run on a loaded machine lost
    // one of two broadcasts on the way into the relay's namespace, as load.test.ts records under load).
    const r = await runScript(lab, "00:aa:01:00:05:06", [
      "udhcpc -i eth0 -n -q -f -t 3 -T 1 -x 0x52:01044556494c; echo EXIT $?",
    ]);
    expect(r.output).toMatch(/EXIT 1/);
    await expect
      .poll(() => lab.counter("dhcplab_relay_drops_total", { family: 4, reason: "untrusted-option82" }), {
        timeout: 10_000,
      })
      .toBeGreaterThanOrEqual(before + 1);
    expect((await lab.leases({ family: 4 })).some((l) => l.client === "00:aa:01:00:05:06")).toBe(false);
  });
});
