// Prometheus's text exposition format (version 0.0.4), the one place that writes it: the relay's
// counters, gauges and histogram, and the Kea exporter's statistics. A label value escapes `\`,
// `"` and a newline as `\\`, `\"` and `\n`; HELP text escapes `\` and a newline.

/** A series' labels. */
export type Labels = Record<string, string | number>;

/** The kinds of metric family the lab exposes. */
export type MetricType = "counter" | "gauge" | "histogram";

const escapeLabel = (v: string) => v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
const escapeHelp = (v: string) => v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));

/** Label text, `k="v",...`, in the labels' order (also the series' key in the relay's JSON). */
export function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
    .join(",");
}

/** A metric family's HELP and TYPE lines. */
export function familyHeader(name: string, type: MetricType, help: string): string[] {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`];
}

/** One sample: the name, the label text if any, the value (+Inf, -Inf, NaN as the format writes them). */
export function sampleLine(name: string, labels: string, value: number): string {
  const v = Number.isNaN(value)
    ? "NaN"
    : value === Infinity
      ? "+Inf"
      : value === -Infinity
        ? "-Inf"
        : String(value);
  return `${name}${labels ? `{${labels}}` : ""} ${v}`;
}
