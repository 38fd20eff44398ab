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

  it("a histogram of the relay's processing time per datagram: cumulative buckets to +Inf, sum and count per family", () => {
    const c = new Counters();
    c.processed(4, 0.000004);
    c.processed(4, 0.00003);
    c.processed(4, 0.2);
    c.processed(6, 0.001);
    const text = c.prometheus();
    expect(text).toContain("# TYPE dhcplab_relay_processing_seconds histogram");
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="4",le="0.000005"} 1\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="4",le="0.000025"} 1\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="4",le="0.00005"} 2\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="4",le="0.1"} 2\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="4",le="+Inf"} 3\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_count{family="4"} 3\n');
    expect(text).toMatch(/dhcplab_relay_processing_seconds_sum\{family="4"\} 0\.20003/);
    // A value on a bound is in that bucket (le: less than or equal).
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="6",le="0.001"} 1\n');
    expect(text).toContain('dhcplab_relay_processing_seconds_bucket{family="6",le="0.0005"} 0\n');
    expect(c.toJSON().dhcplab_relay_processing_seconds_count).toEqual({ 'family="4"': 3, 'family="6"': 1 });
  });

  it("sum over series by label, and escape label values", () => {
    const c = new Counters();
    c.drop(4, "unmatched");
    c.drop(4, "malformed");
    c.drop(6, "malformed");
    expect(c.sum("dhcplab_relay_drops_total", { reason: "malformed" })).toBe(2);
    expect(c.sum("dhcplab_relay_drops_total", { family: 4 })).toBe(2);
    c.inc("dhcplab_relay_decisions_total", { family: 4, rule: 'a"b' });
    // The exposition format's escape: a quote in a value is \".
    expect(c.prometheus()).toContain('rule="a\\"b"');
  });
});

describe("docs/relay.md", () => {
  it("lists exactly the drop reasons the relay counts, in the code's order", async () => {
    const readme = await readFile(join(import.meta.dirname, "..", "..", "docs", "relay.md"), "utf8");
    const bullet = /- \*\*Drops\*\*[^:]*:([\s\S]*?)\. A request with no room/.exec(readme)?.[1] ?? "";
    expect([...bullet.matchAll(/`([a-z0-9-]+)`/g)].map((m) => m[1])).toEqual([...DROP_REASONS]);
  });
});
