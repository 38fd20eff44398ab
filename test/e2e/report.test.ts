import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { execa } from "execa";
import { beforeAll, describe, expect, it } from "vitest";
import { buildImages } from "../../orchestrator/index.ts";
import type { LoadReport } from "../../orchestrator/model/load-report.ts";
import { RESULTS_DIR } from "../support/artifacts.ts";
import { viewPage } from "../support/browser.ts";
import { useTestLab } from "../support/lab.ts";

// `dhcplab load --report DIR` as a user runs it, on the default lab: report.json's samples, one
// a second, agree with what perfdhcp counted, and report.html opens in Debian's headless
// Chromium, offline, with every chart drawn (the screenshot is kept under test-results/).

const BIN = join(import.meta.dirname, "..", "..", "bin", "dhcplab.js");
const DIR = join(RESULTS_DIR, "report");
const SECONDS = 6;

describe("a load report (dhcplab load --report)", () => {
  const lab = useTestLab("report");
  let report: LoadReport;
  let browser: string;
  beforeAll(async () => {
    // Chromium's image, built here (and only for this test), not by the global setup.
    const [built] = await buildImages({ only: ["browser"] });
    browser = built?.tag ?? "";
    const r = await execa(
      "node",
      [
        BIN,
        "load",
        "--name",
        lab.name,
        "--mac",
        "00:aa:01:00:00:00",
        "--clients",
        "40",
        "--rate",
        "40",
        "--duration",
        String(SECONDS),
        "--report",
        DIR,
      ],
      { reject: false, timeout: 120_000 },
    );
    if (r.exitCode !== 0) throw new Error(`load --report failed:\n${r.stdout}\n${r.stderr}`);
    report = JSON.parse(await readFile(join(DIR, "report.json"), "utf8")) as LoadReport;
  });

  it("samples Kea's statistics and the relay's counters once a second, and their totals agree with perfdhcp's", () => {
    const t = report.samples.map((s) => s.t);
    expect(t.length).toBeGreaterThanOrEqual(SECONDS);
    // One a second: sample n is taken at second n of the run or, when a read ran late, at once
    // after it; never early, and never a hole of two seconds (the last is the run's end).
    for (const [n, at] of t.slice(0, -1).entries()) expect(at, `sample ${n}`).toBeGreaterThanOrEqual(n);
    for (const [n, gap] of t
      .slice(1)
      .map((x, i) => x - (t[i] as number))
      .entries())
      expect(gap, `gap before sample ${n + 1}`).toBeLessThan(1.8);
    const first = report.samples[0];
    const last = report.samples.at(-1);
    const red = (s: typeof first) => s?.kea.find((k) => k.vrf === "RED" && k.family === 4)?.values ?? {};
    const relay = (s: typeof first, type: string, direction: string) =>
      s?.relay.dhcplab_relay_messages_total?.[
        `family="4",vrf="RED",type="${type}",direction="${direction}"`
      ] ?? 0;
    const acks = report.result.report.exchanges.find((e) => e.exchange === "REQUEST-ACK")?.received;
    const discovers = report.result.report.exchanges.find((e) => e.exchange === "DISCOVER-OFFER")?.sent;
    expect(acks).toBeGreaterThan(SECONDS * 30);
    // Every ACK perfdhcp received, Kea sent and the relay carried; every DISCOVER it sent reached Kea.
    expect((red(last)["pkt4-ack-sent"] ?? 0) - (red(first)["pkt4-ack-sent"] ?? 0)).toBe(acks);
    expect(relay(last, "ACK", "to-client") - relay(first, "ACK", "to-client")).toBe(acks);
    expect((red(last)["pkt4-discover-received"] ?? 0) - (red(first)["pkt4-discover-received"] ?? 0)).toBe(
      discovers,
    );
    expect(relay(last, "DISCOVER", "to-server") - relay(first, "DISCOVER", "to-server")).toBe(discovers);
    // The 40 clients hold addresses of RED VIDEO's subnet (10) at the end.
    expect(red(last)["subnet[10].assigned-addresses"]).toBeGreaterThanOrEqual(40);
    // Kea 3.0's perfmon hook (in the default configurations): the whole response's mean duration
    // of DISCOVER-OFFER for intervals of the run.
    const total = report.samples
      .flatMap((s) =>
        s.kea.filter((k) => k.vrf === "RED" && k.family === 4).flatMap((k) => k.durations ?? []),
      )
      .filter(
        (d) => d.query === "DHCPDISCOVER" && d.stage === "composite-total_response" && d.occurrences > 0,
      );
    expect(total.length).toBeGreaterThanOrEqual(2);
    for (const d of total) expect(d.meanUs).toBeGreaterThan(0);
  });

  it("report.html opens offline in headless Chromium with no console errors and every chart drawn", async () => {
    const page = await viewPage(lab.docker, browser, [
      ["report.html", await readFile(join(DIR, "report.html"), "utf8")],
    ]);
    await mkdir(DIR, { recursive: true });
    await writeFile(join(DIR, "report.png"), page.screenshot);
    expect(page.console).toEqual([]);
    // A PNG, of a page that has something on it.
    expect(page.screenshot.subarray(1, 4).toString()).toBe("PNG");
    expect(page.screenshot.length).toBeGreaterThan(50_000);
    const figures = page.dom.split("<figure>").slice(1);
    expect(figures.map((f) => /<figcaption>([^<]*)/.exec(f)?.[1])).toEqual([
      "Offered and achieved rate over time (the load's target: 40 exchanges/s)",
      "Exchange latency, DHCPv4 to RED (the load generator's timestamps)",
      "Kea's per-stage durations (perfmon, mean per one-second interval)",
      "Pool utilisation over time",
      "Drops by reason over time",
      "Messages over the run: the relay's count and Kea's",
    ]);
    // Each chart is an SVG with marks drawn from data: lines with a path, bars with rectangles.
    for (const f of figures) {
      expect(f).toContain("<svg");
      expect(f).toMatch(/class="mark-(line|rect|symbol)[^"]*"[^>]*>\s*<path[^>]* d="M/);
    }
  });
});
