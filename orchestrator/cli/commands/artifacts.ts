import { writeFile } from "node:fs/promises";
import { type Command, Option } from "commander";
import { buildImages, openLab } from "../../api.ts";
import { composePlan, renderCompose } from "../../model/compose.ts";
import { dotOf, mermaidOf } from "../../model/graph.ts";
import { readKeaConfigs } from "../../model/kea-config.ts";
import { loadTopology } from "../../model/topology.ts";
import { ROOT } from "../../paths.ts";
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
      print(o.json, results, () =>
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
      print(o.json, logs, () =>
        services.map((s) => (services.length > 1 ? `==> ${s} <==\n${logs[s]}` : (logs[s] ?? ""))).join("\n"),
      );
    });

  cli
    .command("compose")
    .description(
      "write compose.yaml: the default lab for `docker compose up`, rendered from the topology model",
    )
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .option("-o, --output <file>", "where to write it", `${ROOT}/compose.yaml`)
    .addOption(jsonOption())
    .action(async (o: { topology?: string; output: string; json?: boolean }) => {
      const topology = await loadTopology(o.topology);
      const text = renderCompose(topology, await readKeaConfigs(topology));
      await writeFile(o.output, text);
      print(o.json, { file: o.output, bytes: Buffer.byteLength(text) }, () => `wrote ${o.output}`);
    });

  cli
    .command("graph")
    .description("the lab as a diagram (Mermaid or Graphviz DOT): networks, containers, addresses")
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .addOption(
      new Option("--format <format>", "mermaid or dot").choices(["mermaid", "dot"]).default("mermaid"),
    )
    .addOption(jsonOption())
    .action(async (o: { topology?: string; format: "mermaid" | "dot"; json?: boolean }) => {
      // The Compose lab's fixed subnets: a `dhcplab up` lab gets its own, which `status` shows.
      const plan = composePlan(await loadTopology(o.topology));
      const text = o.format === "dot" ? dotOf(plan) : mermaidOf(plan);
      print(o.json, { format: o.format, graph: text }, () => text.trimEnd());
    });
}
