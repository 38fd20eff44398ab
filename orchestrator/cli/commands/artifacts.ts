import { writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { type Command, Option } from "commander";
import { buildImages, openLab } from "../../api.ts";
import { loadTopology } from "../../model/topology.ts";
import { ROOT } from "../../paths.ts";
import { COMPOSE_IMAGES, composeSpec, renderCompose } from "../../spec/compose.ts";
import { dotOf, mermaidOf } from "../../spec/graph.ts";
import { readLabInputs } from "../../spec/inputs.ts";
import { err, jsonOption, nameOption, positiveInt, print, table } from "../output.ts";

/** images, logs, compose, graph: what the lab is built from, and what it wrote. */
export function register(cli: Command): void {
  cli
    .command("images")
    .description("build the lab's images (kea, relay, client); unchanged images are reused")
    .option("--rebuild", "build even when an image with the same inputs exists")
    .addOption(jsonOption())
    .action(async (o: { rebuild?: boolean; json?: boolean }) => {
      const results = await buildImages({ rebuild: o.rebuild === true, progress: err });
      print("images", o.json, results, () =>
        table(
          ["IMAGE", "TAG", "", "SECONDS"],
          results.map((r) => [r.name, r.tag, r.built ? "built" : "reused", r.seconds.toFixed(1)]),
        ),
      );
    });

  cli
    .command("logs")
    .description("the log of a lab's service (relay, kea-red, ...), or of all of them")
    .argument("[service]", "relay, or kea-<vrf>")
    .addOption(nameOption())
    .option("--tail <n>", "only the last n lines", positiveInt)
    .addOption(jsonOption())
    .action(async (service: string | undefined, o: { name: string; tail?: number; json?: boolean }) => {
      const lab = await openLab(o.name);
      const services = service ? [service.replace(`${o.name}-`, "")] : Object.keys(lab.services);
      const logs: Record<string, string> = {};
      for (const s of services) logs[s] = await lab.logs(s, o.tail);
      print("logs", o.json, logs, () =>
        services.map((s) => (services.length > 1 ? `==> ${s} <==\n${logs[s]}` : (logs[s] ?? ""))).join("\n"),
      );
    });

  cli
    .command("compose")
    .description(
      "write a Compose file of a lab (the default lab's compose.yaml unless --topology names another), rendered from its spec",
    )
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .option("--monitoring", "with Kea's exporters and Prometheus, as up --monitoring")
    .option("-o, --output <file>", "where to write it", `${ROOT}/compose.yaml`)
    .addOption(jsonOption())
    .action(async (o: { topology?: string; monitoring?: boolean; output: string; json?: boolean }) => {
      const spec = await topologySpec(o.topology, o.monitoring);
      const text = renderCompose(spec, dirname(resolve(o.output)));
      await writeFile(o.output, text);
      print("compose", o.json, { file: o.output, bytes: Buffer.byteLength(text) }, () => `wrote ${o.output}`);
    });

  cli
    .command("graph")
    .description(
      "a lab as a diagram (Mermaid or Graphviz DOT): networks, containers, addresses; of a running lab with --name",
    )
    .option(
      "--topology <file>",
      "a topology YAML file (default: the embedded RED/BLUE lab, on Compose's subnets)",
    )
    .option("--name <name>", "a running lab, with the subnets it got")
    .addOption(
      new Option("--format <format>", "mermaid or dot").choices(["mermaid", "dot"]).default("mermaid"),
    )
    .addOption(jsonOption())
    .action(async (o: { topology?: string; name?: string; format: "mermaid" | "dot"; json?: boolean }) => {
      if (o.name !== undefined && o.topology !== undefined)
        throw new Error("graph draws a running lab (--name) or a topology (--topology), not both");
      const spec = o.name !== undefined ? (await openLab(o.name)).spec : await topologySpec(o.topology);
      const text = o.format === "dot" ? dotOf(spec) : mermaidOf(spec);
      print("graph", o.json, { format: o.format, graph: text }, () => text.trimEnd());
    });
}

/** A topology's spec on the Compose lab's fixed subnets (a `dhcplab up` lab gets its own). */
async function topologySpec(file: string | undefined, monitoring?: boolean) {
  const topology = await loadTopology(file);
  return composeSpec(topology, await readLabInputs(topology, COMPOSE_IMAGES), { monitoring });
}
