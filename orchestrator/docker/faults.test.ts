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

describe("conditions checked before anything changes", () => {
  it("refuses what netem would not take, naming it", async () => {
    const { checkCondition } = await import("./faults.ts");
    expect(() => checkCondition({ loss: 5, delay: 100, jitter: 10, rate: "1mbit" })).not.toThrow();
    expect(() => checkCondition({ loss: 101 })).toThrow(/loss 101: a percentage/);
    expect(() => checkCondition({ delay: -5 })).toThrow(/delay -5: a number from 0 up/);
    expect(() => checkCondition({ loss: "5; flush ruleset" as unknown as number })).toThrow(
      /a number from 0 up/,
    );
    expect(() => checkCondition({ rate: "fast" })).toThrow(/not a rate/);
    expect(() => checkCondition({ speed: 1 } as never)).toThrow(/speed is no condition/);
  });
});
