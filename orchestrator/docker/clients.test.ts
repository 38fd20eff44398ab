import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import { clientCommand, loadgenCommand, parseLoadgen, perfdhcpCommand } from "./clients.ts";

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

  it("a real client with --pd asks for an address and a prefix; only DHCPv6 clients that can", () => {
    expect(clientCommand("dhclient", 6, { pd: true })).toEqual(["dhcplab-client", "dhclient", "6", "--pd"]);
    expect(clientCommand("dhcpcd", 6, { pd: true })).toEqual(["dhcplab-client", "dhcpcd", "6", "--pd"]);
    expect(() => clientCommand("udhcpc", 6, { pd: true })).toThrow(/prefix delegation is DHCPv6/);
    expect(() => clientCommand("dhclient", 4, { pd: true })).toThrow(/prefix delegation is DHCPv6/);
    expect(() => clientCommand("udhcpc", 6)).toThrow(/udhcpc is DHCPv4 only/);
  });

  it("a light client presents itself as a PXE ROM (options 60 and 93), the words passed as arguments; refused where it cannot", () => {
    expect(clientCommand("udhcpc", 4, { vendorClass: "PXEClient:Arch:00007:UNDI:003016", arch: 7 })).toEqual([
      ...["dhcplab-client", "udhcpc", "4"],
      ...["--vendor-class", "PXEClient:Arch:00007:UNDI:003016", "--arch", "7"],
    ]);
    expect(clientCommand("dhclient", 4, { vendorClass: 'odd "quoted" class', arch: 9 })).toContain(
      'odd "quoted" class',
    );
    expect(() => clientCommand("dhcpcd", 4, { arch: 0 })).toThrow(/dhcpcd cannot send option 93/);
    expect(() => clientCommand("udhcpc", 4, { arch: 70000 })).toThrow(/0 to 65535/);
    expect(() => clientCommand("dhclient", 6, { vendorClass: "PXEClient" })).toThrow(/DHCPv4/);
    expect(() => clientCommand("udhcpc", 4, { vendorClass: "" })).toThrow(/printable ASCII/);
  });

  it("a client names itself (--hostname) with a DNS name, passed as an argument; refused otherwise", () => {
    expect(clientCommand("udhcpc", 4, { hostname: "cpe1" })).toEqual([
      ...["dhcplab-client", "udhcpc", "4", "--hostname", "cpe1"],
    ]);
    expect(clientCommand("dhclient", 6, { hostname: "cpe2.red.example." }).slice(-2)).toEqual([
      "--hostname",
      "cpe2.red.example.",
    ]);
    expect(() => clientCommand("dhclient", 6, { hostname: "cpe2" })).toThrow(/fully qualified/);
    for (const bad of ["", "a b", "-cpe", "cpe;reboot", "x".repeat(64)])
      expect(() => clientCommand("dhcpcd", 4, { hostname: bad })).toThrow(/host name/);
  });

  it("the client image's script parses, and names what it reports", async () => {
    const script = join(ROOT, "docker", "client", "dhcp-client.sh");
    expect(() => execFileSync("sh", ["-n", script])).not.toThrow();
    const text = await readFile(script, "utf8");
    for (const line of ["ADDRESS ", "PREFIX ", "NEXT-SERVER $siaddr", "BOOT-FILE $new_filename"])
      expect(text).toContain(line);
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
