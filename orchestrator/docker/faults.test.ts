import { describe, expect, it } from "vitest";
import { bitsPerSecond } from "./faults.ts";

describe("rates as tc writes them", () => {
  it("in bits per second", () => {
    expect(bitsPerSecond("1mbit")).toBe(1e6);
    expect(bitsPerSecond("512kbit")).toBe(512e3);
    expect(bitsPerSecond("2mbps")).toBe(16e6);
    expect(() => bitsPerSecond("fast")).toThrow(/not a rate/);
  });
});
