import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { clientScript, loadgenCommand, parseLoadgen, perfdhcpCommand } from "./clients.ts";

const load = { mac: "00:bb:01:00:00:00", family: 4 as const, clients: 10, rate: 50, duration: 3 };

describe("load commands", () => {
  it("perfdhcp prints every exchange's timestamps (-x t), for percentiles", () => {
    expect(perfdhcpCommand(load, "10.213.1.2").slice(0, 4)).toEqual(["perfdhcp", "-4", "-x", "t"]);
    expect(perfdhcpCommand({ ...load, family: 6 }, "").slice(0, 4)).toEqual(["perfdhcp", "-6", "-x", "t"]);
  });

  it("perfdhcp waits half a second after the run for the replies to its last requests (-W)", () => {
    const v4 = perfdhcpCommand(load, "10.213.1.2");
    expect(v4.slice(v4.indexOf("-W"), v4.indexOf("-W") + 2)).toEqual(["-W", "500000"]);
  });

  it("--secs-after: perfdhcp's -Y from that second and -y past the run's end; the clients engine's --secs-after", () => {
    const secs = { ...load, duration: 20, secsAfter: 5 };
    const v4 = perfdhcpCommand(secs, "10.213.1.2");
    expect(v4.slice(v4.indexOf("-Y"), v4.indexOf("-Y") + 4)).toEqual(["-Y", "5", "-y", "75"]);
    expect(perfdhcpCommand({ ...secs, family: 6 }, "")).toContain("-Y");
    expect(perfdhcpCommand(load, "10.213.1.2")).not.toContain("-Y");
    expect(loadgenCommand(secs).slice(-2)).toEqual(["--secs-after", "5"]);
  });

  it("--pd: perfdhcp's -e for DHCPv6; refused for DHCPv4 and by the clients engine", () => {
    const v6 = perfdhcpCommand({ ...load, family: 6, pd: "prefix-only" }, "");
    expect(v6.slice(v6.indexOf("-e"), v6.indexOf("-e") + 2)).toEqual(["-e", "prefix-only"]);
    expect(perfdhcpCommand({ ...load, family: 6 }, "")).not.toContain("-e");
    expect(() => perfdhcpCommand({ ...load, pd: "address-and-prefix" }, "10.213.1.2")).toThrow(/DHCPv6/);
    expect(() => loadgenCommand({ ...load, pd: "prefix-only" })).toThrow(/use perfdhcp/);
  });

  it("a real client with --pd asks for an address and a prefix and prints the prefix; only DHCPv6 clients that can", () => {
    expect(clientScript("dhclient", 6, { pd: true })).toContain("dhclient -6 -N -P -1");
    expect(clientScript("dhclient", 6, { pd: true })).toMatch(/iaprefix .*PREFIX/);
    expect(clientScript("dhcpcd", 6, { pd: true })).toMatch(/ia_na 1\\n {2}ia_pd 2/);
    expect(clientScript("dhcpcd", 6, { pd: true })).toMatch(/delegated prefix .*PREFIX/);
    expect(() => clientScript("udhcpc", 6, { pd: true })).toThrow(/prefix delegation is DHCPv6/);
    expect(() => clientScript("dhclient", 4, { pd: true })).toThrow(/prefix delegation is DHCPv6/);
  });

  it("a light client presents itself as a PXE ROM (options 60 and 93) in a script the shell reads; refused where it cannot", () => {
    const udhcpc = clientScript("udhcpc", 4, { vendorClass: "PXEClient:Arch:00007:UNDI:003016", arch: 7 });
    expect(udhcpc).toContain("-x 0x5d:0007");
    expect(udhcpc).toContain("PXEClient:Arch:00007:UNDI:003016");
    const dhclient = clientScript("dhclient", 4, { vendorClass: 'odd "quoted" class', arch: 9 });
    expect(dhclient).toContain("send pxe-arch 9;");
    expect(dhclient).toContain("-cf /tmp/dhclient.conf");
    expect(clientScript("dhcpcd", 4, { vendorClass: "PXEClient" })).toContain("--vendorclassid");
    // Every script, quotes inside quotes, parses.
    for (const script of [udhcpc, dhclient, clientScript("dhclient", 4), clientScript("udhcpc", 4)])
      expect(() => execFileSync("sh", ["-n", "-c", script])).not.toThrow();
    // Each DHCPv4 client that can reports the ACK's next-server and boot file.
    expect(clientScript("udhcpc", 4)).toMatch(/NEXT-SERVER \$siaddr.*BOOT-FILE \$boot_file/);
    expect(clientScript("dhclient", 4)).toMatch(/NEXT-SERVER \$new_next_server.*BOOT-FILE \$new_filename/);
    expect(() => clientScript("dhcpcd", 4, { arch: 0 })).toThrow(/dhcpcd cannot send option 93/);
    expect(() => clientScript("udhcpc", 4, { arch: 70000 })).toThrow(/0 to 65535/);
    expect(() => clientScript("dhclient", 6, { vendorClass: "PXEClient" })).toThrow(/DHCPv4/);
    expect(() => clientScript("udhcpc", 4, { vendorClass: "" })).toThrow(/printable ASCII/);
  });

  it("the clients engine is DHCPv4 only, and says so", () => {
    expect(loadgenCommand(load)).toEqual([
      "node",
      "/opt/dhcplab/loadgen.mjs",
      ...["--mac", "00:bb:01:00:00:00", "--clients", "10", "--rate", "50", "--duration", "3"],
    ]);
    expect(loadgenCommand(load, "10.213.3.10").slice(-4)).toEqual([
      "--to",
      "10.213.3.10",
      "--giaddr",
      "auto",
    ]);
    expect(() => loadgenCommand({ ...load, family: 6 })).toThrow(/speaks DHCPv4.*perfdhcp/);
  });

  it("reads the clients engine's report in perfdhcp's shape", () => {
    const line = JSON.stringify({
      rate: 49.5,
      malformed: 1,
      orphans: 2,
      naks: 3,
      exchanges: [
        {
          exchange: "DISCOVER-OFFER",
          sent: 150,
          received: 150,
          drops: 0,
          minDelayMs: 1,
          avgDelayMs: 2,
          maxDelayMs: 9,
          p50Ms: 2,
          p90Ms: 3,
          p99Ms: 8,
        },
        {
          exchange: "REQUEST-ACK",
          sent: 150,
          received: 148,
          drops: 2,
          minDelayMs: 1,
          avgDelayMs: 2,
          maxDelayMs: 5,
          p50Ms: 2,
          p90Ms: 2.5,
          p99Ms: 4,
        },
      ],
    });
    const r = parseLoadgen(`some log line\n${line}\n`);
    expect(r).toMatchObject({ engine: "clients", rate: 49.5, malformed: 1 });
    expect(r.exchanges[0]).toMatchObject({ orphans: 0, rejectedLeases: 0, p99Ms: 8 });
    expect(r.exchanges[1]).toMatchObject({ received: 148, drops: 2, orphans: 2, rejectedLeases: 3 });
    expect(() => parseLoadgen("dhcplab-loadgen: --mac BASE is required")).toThrow(
      /printed no report.*--mac/s,
    );
  });
});
