import { describe, expect, it } from "vitest";
import { keaAnswerText, keaArguments } from "./observe.ts";

describe("dhcplab kea", () => {
  it("--args takes a JSON object and refuses anything else, saying why", () => {
    expect(keaArguments('{"server-name": "kea-red-2"}')).toEqual({ "server-name": "kea-red-2" });
    expect(() => keaArguments("{server-name: kea-red-2}")).toThrow(/^--args is not JSON: /);
    expect(() => keaArguments('["kea-red-2"]')).toThrow(/must be a JSON object/);
    expect(() => keaArguments("null")).toThrow(/must be a JSON object/);
    expect(() => keaArguments("3")).toThrow(/must be a JSON object/);
  });

  it("prints Kea's result by name, its text, and its arguments", () => {
    expect(
      keaAnswerText({
        server: "kea-red-1",
        family: 4,
        command: "ha-sync",
        result: 0,
        text: "Lease database synchronization complete.",
      }),
    ).toBe("kea-red-1 (kea-dhcp4) ha-sync: success, Lease database synchronization complete.");
    expect(
      keaAnswerText({
        server: "kea-blue",
        family: 6,
        command: "lease6-get",
        result: 3,
        arguments: { leases: [] },
      }),
    ).toBe('kea-blue (kea-dhcp6) lease6-get: empty\n{\n  "leases": []\n}');
    expect(keaAnswerText({ server: "kea-red", family: 4, command: "nope", result: 2 })).toBe(
      "kea-red (kea-dhcp4) nope: unsupported",
    );
  });
});
