import { familyHeader, type Labels, labelText, sampleLine } from "../../lib/metrics/exposition.ts";
import { Histogram } from "./histogram.ts";

/** Why the relay dropped a packet; each is a counter. docs/relay.md lists them, and a test checks that it does. */
export const DROP_REASONS = [
  "malformed",
  "unknown-interface",
  "server-message-from-client",
  "client-message-on-backend",
  "not-bootrequest",
  "not-bootreply",
  "hops-exceeded",
  "own-giaddr",
  "untrusted-relay",
  "untrusted-option82",
  "policy-drop",
  "unmatched",
  "no-servers",
  "vrf-not-on-segment",
  "unknown-server",
  "unknown-transaction",
  "option82-mismatch",
  "vss-not-supported",
  "not-relay-repl",
  "no-relay-message",
  "interface-id-mismatch",
  "send-failed",
] as const;
/** Why the relay dropped a packet. */
export type DropReason = (typeof DROP_REASONS)[number];

/**
 * Not a drop, but counted: forwarded without Option 82 because the message had no room for it;
 * a reply relayed from a server that did not process the VSS it was sent (`vssReplies: lenient`).
 */
export const NOTICES = ["no-room-for-option82", "vss-not-supported"] as const;
/** A counted event that is not a drop. */
export type Notice = (typeof NOTICES)[number];

/** Monotonic counters with labels, printed in Prometheus text format. */
export class Counters {
  private readonly series = new Map<string, Map<string, number>>();
  private readonly help = new Map<string, string>();
  /** Label text by the labels' names and values joined: built once per series, not per packet. */
  private readonly labelCache = new Map<string, string>();
  private readonly messageKeys = new KeyTree();
  private readonly decisionKeys = new KeyTree();
  /** The relay's own time per datagram, by family, from its arrival to its last send. */
  private readonly processing = new Histogram(
    "dhcplab_relay_processing_seconds",
    "The relay's own time per datagram (decoding, policy, encoding, the send call), by family.",
  );
  private readonly familyLabels = { 4: labelText({ family: 4 }), 6: labelText({ family: 6 }) } as const;
  /** Histograms kept elsewhere (the relay's stalls), printed with the counters. */
  private readonly histograms: Histogram[] = [];
  /** Gauges: read when printed. */
  private readonly gauges = new Map<string, { help: string; read: () => Array<[Labels, number]> }>();

  private labelTextOf(labels: Labels): string {
    let fast = "";
    for (const k in labels) fast += `${k}\u0001${labels[k]}\u0002`;
    let text = this.labelCache.get(fast);
    if (text === undefined) {
      text = labelText(labels);
      this.labelCache.set(fast, text);
    }
    return text;
  }

  constructor() {
    this.describe(
      "dhcplab_relay_messages_total",
      "Messages relayed, by family, VRF, message type and direction.",
    );
    this.describe("dhcplab_relay_drops_total", "Packets dropped, by family and reason.");
    this.describe("dhcplab_relay_notices_total", "Packets relayed with a reservation, by family and notice.");
    this.describe("dhcplab_relay_policy_reloads_total", "Policy reloads, by result (ok, refused).");
    this.describe("dhcplab_relay_decisions_total", "Policy decisions, by family and rule.");
    this.describe(
      "dhcplab_relay_downstream_total",
      "Requests relayed that came from a downstream relay (giaddr set, or a RELAY-FORW), by family and how the relay handled them (forward, takeover, nested).",
    );
    this.describe(
      "dhcplab_relay_inflight_evictions_total",
      "Requests forgotten before a reply came, by family and why (expired after 10 s, or the table was full).",
    );
  }

  /** A histogram printed with the counters, and in JSON as its count, sum and cumulative buckets. */
  histogram(h: Histogram): void {
    this.histograms.push(h);
  }

  /** A gauge whose values are read each time the counters are printed. */
  gauge(name: string, help: string, read: () => Array<[Labels, number]>): void {
    this.gauges.set(name, { help, read });
  }

  evicted(family: 4 | 6, why: "expired" | "full"): void {
    this.inc("dhcplab_relay_inflight_evictions_total", { family, why });
  }

  describe(name: string, help: string): void {
    this.help.set(name, help);
    if (!this.series.has(name)) this.series.set(name, new Map());
  }

  inc(name: string, labels: Labels, by = 1): void {
    this.incKey(name, this.labelTextOf(labels), by);
  }

  private incKey(name: string, key: string, by = 1): void {
    let s = this.series.get(name);
    if (!s) {
      s = new Map();
      this.series.set(name, s);
    }
    s.set(key, (s.get(key) ?? 0) + by);
  }

  /** The value of one series (0 when never incremented). */
  get(name: string, labels: Labels): number {
    return this.series.get(name)?.get(labelText(labels)) ?? 0;
  }

  /** The sum over every series of `name` whose labels include `match`. */
  sum(name: string, match: Labels = {}): number {
    const want = Object.entries(match).map(([k, v]) => `${k}="${v}"`);
    let n = 0;
    for (const [key, v] of this.series.get(name) ?? []) if (want.every((w) => key.includes(w))) n += v;
    return n;
  }

  /** A request from a downstream relay, relayed: forwarded or taken over (DHCPv4), or nested (DHCPv6). */
  downstream(family: 4 | 6, handling: "forward" | "takeover" | "nested"): void {
    this.inc("dhcplab_relay_downstream_total", { family, handling });
  }

  drop(family: 4 | 6, reason: DropReason): void {
    this.inc("dhcplab_relay_drops_total", { family, reason });
  }

  notice(family: 4 | 6, notice: Notice): void {
    this.inc("dhcplab_relay_notices_total", { family, notice });
  }

  /** Per relayed datagram: its labels' text is looked up by value, with no object or string built. */
  message(family: 4 | 6, vrf: string, type: string, direction: "to-server" | "to-client"): void {
    const key = this.messageKeys.get(family, vrf, type, direction, () =>
      labelText({ family, vrf, type, direction }),
    );
    this.incKey("dhcplab_relay_messages_total", key);
  }

  /** One datagram's processing time, in seconds. */
  processed(family: 4 | 6, seconds: number): void {
    this.processing.observe(this.familyLabels[family], seconds);
  }

  /** Per relayed request: the rule that decided. */
  decision(family: 4 | 6, rule: string): void {
    const key = this.decisionKeys.get(family, rule, "", "", () => labelText({ family, rule }));
    this.incKey("dhcplab_relay_decisions_total", key);
  }

  /** Prometheus text exposition format, version 0.0.4. */
  prometheus(): string {
    const out: string[] = [];
    for (const [name, s] of this.series) {
      out.push(...familyHeader(name, "counter", this.help.get(name) ?? name));
      for (const [key, v] of s) out.push(sampleLine(name, key, v));
    }
    out.push(...this.processing.prometheus());
    for (const h of this.histograms) out.push(...h.prometheus());
    for (const [name, g] of this.gauges) {
      out.push(...familyHeader(name, "gauge", g.help));
      for (const [labels, v] of g.read()) out.push(sampleLine(name, labelText(labels), v));
    }
    return `${out.join("\n")}\n`;
  }

  /**
   * The counters alone (no gauges or histograms), as { name: { labels: value } }: what changes only
   * when the relay handles a packet or a reload, so a change in it is news.
   */
  counts(): Record<string, Record<string, number>> {
    const out: Record<string, Record<string, number>> = {};
    for (const [name, s] of this.series) out[name] = Object.fromEntries(s);
    return out;
  }

  /** Every series as { name: { labels: value } }, for JSON. */
  toJSON(): Record<string, Record<string, number>> {
    const out = this.counts();
    for (const [name, g] of this.gauges)
      out[name] = Object.fromEntries(g.read().map(([labels, v]) => [labelText(labels), v]));
    const processing = Object.entries(this.processing.toJSON());
    out[`${this.processing.name}_count`] = Object.fromEntries(processing.map(([k, s]) => [k, s.count]));
    out[`${this.processing.name}_sum`] = Object.fromEntries(processing.map(([k, s]) => [k, s.sum]));
    for (const h of this.histograms) {
      const series = Object.entries(h.toJSON());
      out[`${h.name}_count`] = Object.fromEntries(series.map(([k, s]) => [k, s.count]));
      out[`${h.name}_sum`] = Object.fromEntries(series.map(([k, s]) => [k, s.sum]));
      // Bucket series keyed as Prometheus writes them: the labels, then le.
      out[`${h.name}_bucket`] = Object.fromEntries(
        Object.entries(h.buckets()).flatMap(([labels, b]) =>
          Object.entries(b).map(([le, n]) => [labels ? `${labels},le="${le}"` : `le="${le}"`, n]),
        ),
      );
    }
    return out;
  }
}

/** Label texts found by up to four label values through nested maps, each made once. */
class KeyTree {
  private readonly root = new Map<unknown, Map<unknown, Map<unknown, Map<unknown, string>>>>();

  get(a: unknown, b: unknown, c: unknown, d: unknown, make: () => string): string {
    const leaf = child(child(child(this.root, a), b), c);
    let key = leaf.get(d);
    if (key === undefined) {
      key = make();
      leaf.set(d, key);
    }
    return key;
  }
}

/** The map under `key`, made when missing. */
function child<V>(m: Map<unknown, Map<unknown, V>>, key: unknown): Map<unknown, V> {
  let c = m.get(key);
  if (!c) {
    c = new Map();
    m.set(key, c);
  }
  return c;
}
