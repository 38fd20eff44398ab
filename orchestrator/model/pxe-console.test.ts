import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "../paths.ts";
import { consoleLines, parsePxeConsole } from "./pxe-console.ts";

describe("an iPXE client's serial console", () => {
  it("gives the address, next-server and boot file it obtained, and what the booted script printed", () => {
    // Recorded from `dhcplab client --kind pxe` in examples/pxe.yaml's lab.
    const raw = readFileSync(join(ROOT, "test", "fixtures", "ipxe-console.txt"), "utf8");
    expect(parsePxeConsole(raw)).toEqual({
      address: "192.168.10.11",
      nextServer: "10.69.10.2",
      bootFile: "boot.ipxe",
      booted: true,
      // The script's one line, which the console wrapped at 80 columns.
      console: ["dhcplab-boot RED: 52:54:00:00:0a:01 booted as 192.168.10.11 from 10.69.10.2 (boot.ipxe)"],
    });
  });

  it("says why when no boot came of it", () => {
    const raw =
      "\x1b[0miPXE initialising devices...\r\nConfiguring (net0 52:54:00:00:0a:09)...... No configuration methods succeeded (https://ipxe.org/040ee186)\r\nNo more network devices\r\n\r\nNo bootable device.\r\n";
    const boot = parsePxeConsole(raw);
    expect(boot.booted).toBe(false);
    expect(boot.address).toBeUndefined();
    expect(boot.failure).toMatch(/^Configuring .* No configuration methods succeeded/);
  });

  it("drops escapes and erased characters", () => {
    expect(consoleLines("\x1b[0;1mPress Ctrl-B\x1b[0m...\x08 \x08\x08 \x08net0: up\r\n")).toEqual([
      "Press Ctrl-B.net0: up",
      "",
    ]);
  });
});
