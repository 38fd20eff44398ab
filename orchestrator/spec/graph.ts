import type { LabSpec, NetworkSpec, NodeSpec } from "./spec.ts";

// The lab as a diagram, from its spec: every network with its subnets, every node with the
// addresses it has on each, VRFs as groups (their backend, Kea servers, boot server, exporters),
// and where clients sit (access segments, towers' subscriber segments).

const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");
const CLIENT_SIDE = new Set(["access", "segment", "tower-segment"]);

/** The VRF a node belongs to, if any. */
function vrfOf(n: NodeSpec): string | undefined {
  return "vrf" in n.role ? n.role.vrf : undefined;
}

/** What a node is, for its label. */
function kindOf(n: NodeSpec): string {
  const r = n.role;
  switch (r.kind) {
    case "kea":
      return `Kea ${r.version}${r.ha ? ` (HA ${r.ha})` : ""}`;
    case "tower":
      return `tower (${r.towerKind})`;
    case "boot":
      return `TFTP ${r.address}`;
    case "dns":
      return `DNS (BIND 9) ${r.address}`;
    case "radius":
      return `RADIUS (FreeRADIUS) ${r.address}`;
    case "prometheus":
      return r.url;
    default:
      return r.kind;
  }
}

const netLabel = (n: NetworkSpec, br: string) =>
  [n.name, n.subnets.ipv4Subnet, n.subnets.ipv6Subnet].join(br);
const nodeLabel = (n: NodeSpec, br: string) =>
  [n.container, kindOf(n), ...(n.endpoints[0]?.ipv4 ? [n.endpoints[0].ipv4] : [])].join(br);

/** The nodes drawn: the lab's services (not the one-shot node that sets the host's rules). */
const drawn = (spec: LabSpec) => spec.nodes.filter((n) => n.stage !== "host");

/** The groups of the diagram: each VRF's networks and nodes, and the rest. */
function groups(spec: LabSpec) {
  const nodes = drawn(spec);
  const vrfs = spec.vrfs.map((v) => ({
    vrf: v.spec.name,
    networks: spec.networks.filter((n) => n.vrf === v.spec.name),
    nodes: nodes.filter((n) => vrfOf(n) === v.spec.name),
  }));
  return {
    vrfs,
    networks: spec.networks.filter((n) => n.vrf === undefined),
    nodes: nodes.filter((n) => vrfOf(n) === undefined),
  };
}

/** Each edge of the diagram: a node on a network (its address there), or in another's namespace. */
function edges(spec: LabSpec): { from: string; to: string; label?: string }[] {
  return drawn(spec).flatMap((n) =>
    n.namespaceOf
      ? [{ from: n.container, to: spec.nodes.find((o) => o.service === n.namespaceOf)?.container ?? "" }]
      : n.endpoints.map((e) => ({ from: n.container, to: e.network, ...(e.ipv4 ? { label: e.ipv4 } : {}) })),
  );
}

/** A Mermaid flowchart of the lab. */
export function mermaidOf(spec: LabSpec): string {
  const lines = ["flowchart TB", `  clients(["clients"])`];
  const shape = (n: NodeSpec) => {
    const text = JSON.stringify(nodeLabel(n, "<br/>"));
    if (n.role.kind === "relay" || n.role.kind === "tower") return `${id(n.container)}{{${text}}}`;
    if (n.role.kind === "kea") return `${id(n.container)}[(${text})]`;
    return `${id(n.container)}[${text}]`;
  };
  const net = (n: NetworkSpec) => `${id(n.name)}[[${JSON.stringify(netLabel(n, "<br/>"))}]]`;
  const g = groups(spec);
  for (const n of g.networks) lines.push(`  ${net(n)}`);
  for (const n of g.nodes) lines.push(`  ${shape(n)}`);
  for (const v of g.vrfs) {
    lines.push(`  subgraph VRF_${id(v.vrf)} ["VRF ${v.vrf}"]`);
    for (const n of v.networks) lines.push(`    ${net(n)}`);
    for (const n of v.nodes) lines.push(`    ${shape(n)}`);
    lines.push("  end");
  }
  for (const n of spec.networks.filter((n) => CLIENT_SIDE.has(n.role)))
    lines.push(`  clients --- ${id(n.name)}`);
  for (const e of edges(spec))
    lines.push(`  ${id(e.from)} ---${e.label ? `|"${e.label}"|` : ""} ${id(e.to)}`);
  return `${lines.join("\n")}\n`;
}

/** A Graphviz DOT graph of the lab. */
export function dotOf(spec: LabSpec): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    `graph ${q(spec.name)} {`,
    "  rankdir=TB;",
    "  node [fontname=Helvetica];",
    "  clients [shape=ellipse];",
  ];
  const shape = (n: NodeSpec) =>
    n.role.kind === "relay" || n.role.kind === "tower"
      ? "hexagon"
      : n.role.kind === "kea"
        ? "cylinder"
        : "component";
  const node = (n: NodeSpec) => `${q(n.container)} [shape=${shape(n)}, label=${q(nodeLabel(n, "\n"))}];`;
  const net = (n: NetworkSpec) => `${q(n.name)} [shape=box, label=${q(netLabel(n, "\n"))}];`;
  const g = groups(spec);
  for (const n of g.networks) lines.push(`  ${net(n)}`);
  for (const n of g.nodes) lines.push(`  ${node(n)}`);
  for (const v of g.vrfs) {
    lines.push(`  subgraph ${q(`cluster_${v.vrf}`)} {`, `    label=${q(`VRF ${v.vrf}`)};`);
    for (const n of v.networks) lines.push(`    ${net(n)}`);
    for (const n of v.nodes) lines.push(`    ${node(n)}`);
    lines.push("  }");
  }
  for (const n of spec.networks.filter((n) => CLIENT_SIDE.has(n.role)))
    lines.push(`  clients -- ${q(n.name)};`);
  for (const e of edges(spec))
    lines.push(`  ${q(e.from)} -- ${q(e.to)}${e.label ? ` [label=${q(e.label)}]` : ""};`);
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
