import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Counters, DROP_REASONS } from "./counters.ts";

describe("relay counters", () => {
  it("print in Prometheus text format, a HELP and TYPE line per metric and a line per series", () => {
    const c = new Counters();
    c.message(4, "RED", "DISCOVER", "to-server");
    c.message(4, "RED", "DISCOVER", "to-server");
    c.drop(6, "malformed");
    c.inc("dhcplab_relay_policy_reloads_total", { result: "ok" });
    const text = c.prometheus();
    expect(text).toContain("# HELP dhcplab_relay_messages_total ");
    expect(text).toContain("# TYPE dhcplab_relay_messages_total counter");
    expect(text).toContain(
      'dhcplab_relay_messages_total{family="4",vrf="RED",type="DISCOVER",direction="to-server"} 2\n',
    );
    expect(text).toContain('dhcplab_relay_drops_total{family="6",reason="malformed"} 1\n');
    expect(text).toContain('dhcplab_relay_policy_reloads_total{result="ok"} 1\n');
    expect(text.endsWith("\n")).toBe(true);
  });

  it("sum over series by label, and escape label values", () => {
    const c = new Counters();
    c.drop(4, "unmatched");
    c.drop(4, "malformed");
    c.drop(6, "malformed");
    expect(c.sum("dhcplab_relay_drops_total", { reason: "malformed" })).toBe(2);
    expect(c.sum("dhcplab_relay_drops_total", { family: 4 })).toBe(2);
    c.inc("dhcplab_relay_decisions_total", { family: 4, rule: 'a"b' });
    expect(c.prometheus()).toContain('rule="a_b"');
  });
});

describe("the README", () => {
  it("lists exactly the drop reasons the relay counts, in the code's order", async () => {
    const readme = await readFile(join(import.meta.dirname, "..", "..", "README.md"), "utf8");
    const bullet = /- \*\*Drops\*\*[^:]*:([\s\S]*?)\. A request with no room/.exec(readme)?.[1] ?? "";
    expect([...bullet.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1])).toEqual([...DROP_REASONS]);
  });
});
