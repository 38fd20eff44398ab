import { describe, expect, it } from "vitest";
import { familyHeader, labelText, sampleLine } from "./exposition.ts";

describe("the text exposition format", () => {
  it("escapes a label value's backslash, quote and newline as the format says", () => {
    expect(labelText({ vrf: "RED", rule: 'a"b\\c\nd', family: 4 })).toBe(
      'vrf="RED",rule="a\\"b\\\\c\\nd",family="4"',
    );
  });

  it("escapes HELP text and writes samples with and without labels", () => {
    expect(familyHeader("x_total", "counter", "one\\two\nthree")).toEqual([
      "# HELP x_total one\\\\two\\nthree",
      "# TYPE x_total counter",
    ]);
    expect(sampleLine("x_total", 'a="1"', 3)).toBe('x_total{a="1"} 3');
    expect(sampleLine("up", "", 1)).toBe("up 1");
    expect(sampleLine("le", "", Infinity)).toBe("le +Inf");
  });
});
