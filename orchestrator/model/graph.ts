import type { LabPlan } from "./plan.ts";

// The lab as a diagram, from the plan: networks, the relay and every Kea with their addresses.

const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_");

/** A Mermaid flowchart of the lab. */
export function mermaidOf(plan: LabPlan): string {
  const lines = ["flowchart TB"];
  const access = id(plan.access.network);
  lines.push(
    `  ${access}[["${plan.access.network}<br/>${plan.access.subnets.ipv4Subnet}<br/>${plan.access.subnets.ipv6Subnet}"]]`,
  );
  lines.push(`  clients(["clients"]) --- ${access}`);
  lines.push(`  relay{{"${plan.relay.container}"}}`);
  lines.push(`  ${access} ---|"${plan.access.relay.ipv4}"| relay`);
  for (const v of plan.vrfs) {
    const net = id(v.network);
    lines.push(`  subgraph VRF_${id(v.spec.name)} ["VRF ${v.spec.name}"]`);
    lines.push(`    ${net}[["${v.network}<br/>${v.subnets.ipv4Subnet}<br/>${v.subnets.ipv6Subnet}"]]`);
    for (const k of v.keas)
      lines.push(`    ${id(k.container)}[("${k.container}<br/>${k.ipv4}<br/>${k.linkLocal}")] --- ${net}`);
    lines.push("  end");
    lines.push(`  relay ---|"${v.relay.ipv4}"| ${net}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A Graphviz DOT graph of the lab. */
export function dotOf(plan: LabPlan): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [`graph ${q(plan.name)} {`, "  rankdir=TB;", "  node [fontname=Helvetica];"];
  const access = plan.access.network;
  lines.push(
    `  ${q(access)} [shape=box, label=${q(`${access}\n${plan.access.subnets.ipv4Subnet}\n${plan.access.subnets.ipv6Subnet}`)}];`,
  );
  lines.push(`  clients [shape=ellipse];`, `  clients -- ${q(access)};`);
  lines.push(`  ${q(plan.relay.container)} [shape=hexagon];`);
  lines.push(`  ${q(access)} -- ${q(plan.relay.container)} [label=${q(plan.access.relay.ipv4)}];`);
  for (const v of plan.vrfs) {
    lines.push(`  subgraph ${q(`cluster_${v.spec.name}`)} {`, `    label=${q(`VRF ${v.spec.name}`)};`);
    lines.push(
      `    ${q(v.network)} [shape=box, label=${q(`${v.network}\n${v.subnets.ipv4Subnet}\n${v.subnets.ipv6Subnet}`)}];`,
    );
    for (const k of v.keas) {
      lines.push(
        `    ${q(k.container)} [shape=cylinder, label=${q(`${k.container}\n${k.ipv4}\n${k.linkLocal}`)}];`,
      );
      lines.push(`    ${q(k.container)} -- ${q(v.network)};`);
    }
    lines.push("  }");
    lines.push(`  ${q(plan.relay.container)} -- ${q(v.network)} [label=${q(v.relay.ipv4)}];`);
  }
  lines.push("}");
  return `${lines.join("\n")}\n`;
}
