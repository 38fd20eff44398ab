import { describe, expect, it } from "vitest";
import { debugLoggers, KEA_DEBUG_LEVEL } from "./kea-logging.ts";

describe("Kea's loggers with debug on", () => {
  it("turns kea-dhcp4 and its children to DEBUG, leaving the commands logger and others", () => {
    const stdout = [{ output: "stdout" }];
    const loggers = debugLoggers(
      [
        { name: "kea-dhcp4", "output-options": stdout, severity: "INFO" },
        { name: "kea-dhcp4.commands", "output-options": stdout, severity: "WARN" },
        { name: "kea-dhcp4.packets", "output-options": stdout, severity: "INFO" },
        { name: "kea-dhcp6", "output-options": stdout, severity: "INFO" },
      ],
      "kea-dhcp4",
    );
    const by = new Map(loggers.map((l) => [l.name, l]));
    expect(by.get("kea-dhcp4")).toMatchObject({
      severity: "DEBUG",
      debuglevel: KEA_DEBUG_LEVEL,
      "output-options": stdout,
    });
    expect(by.get("kea-dhcp4.packets")).toMatchObject({ severity: "DEBUG" });
    expect(by.get("kea-dhcp4.commands")).toMatchObject({ severity: "WARN" });
    expect(by.get("kea-dhcp6")).toMatchObject({ severity: "INFO" });
  });
  it("adds a logger to stdout when the configuration has none of its own", () => {
    expect(debugLoggers([], "kea-dhcp6")).toEqual([
      {
        name: "kea-dhcp6",
        "output-options": [{ output: "stdout" }],
        severity: "DEBUG",
        debuglevel: KEA_DEBUG_LEVEL,
      },
      // The health checks' status-get every second stays out of the log.
      { name: "kea-dhcp6.commands", "output-options": [{ output: "stdout" }], severity: "WARN" },
    ]);
  });
});
