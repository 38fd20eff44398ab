import { writeFile } from "node:fs/promises";
import { Command, CommanderError, Option } from "commander";
import { ConfigError } from "../../relay/config/yaml-config.ts";
import { type ClientKind, runClient, runLoad } from "../docker/clients.ts";
import { containerLogs, dockerClient, exec } from "../docker/engine.ts";
import { ensureImages, tagsOf } from "../docker/images.ts";
import { createLab, downLabs, findLab } from "../docker/lab.ts";
import { labLeases } from "../docker/leases.ts";
import { renderCompose } from "../model/compose.ts";
import { loadTopology } from "../model/topology.ts";
import { ROOT } from "../paths.ts";

interface Common {
  name: string;
  json?: boolean;
}

const nameOption = () => new Option("--name <name>", "the lab's name").default("dhcplab");
const jsonOption = () => new Option("--json", "print JSON instead of text");
const err = (line: string) => process.stderr.write(`${line}\n`);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${value} is not a positive whole number`);
  return n;
}

/** Collects repeated --label key=value options. */
function label(value: string, labels: Record<string, string>): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new Error(`--label ${value}: write key=value`);
  return { ...labels, [value.slice(0, at)]: value.slice(at + 1) };
}

function print(json: boolean | undefined, data: unknown, text: () => string): void {
  console.log(json ? JSON.stringify(data, null, 2) : text());
}

/** Builds the dhcplab command line. */
export function program(): Command {
  const cli = new Command("dhcplab")
    .description("A container lab for DHCP relaying policies and ISC Kea classification across VRFs")
    .showHelpAfterError()
    .exitOverride();
  const docker = dockerClient();

  cli
    .command("images")
    .description("build the lab's images (kea, relay, client); unchanged images are reused")
    .option("--rebuild", "build even when an image with the same inputs exists")
    .addOption(jsonOption())
    .action(async (o: { rebuild?: boolean; json?: boolean }) => {
      const results = await ensureImages(docker, { rebuild: o.rebuild === true, progress: err });
      print(o.json, results, () =>
        results
          .map((r) => `${r.built ? "built " : "reused"}  ${r.tag.padEnd(32)} ${r.seconds.toFixed(1)} s`)
          .join("\n"),
      );
    });

  cli
    .command("up")
    .description(
      "build missing images and start a lab: networks, Kea per VRF, the relay; waits until all are healthy",
    )
    .addOption(nameOption())
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .option(
      "--label <key=value>",
      "a label on every container and network of the lab (repeatable)",
      label,
      {},
    )
    .addOption(jsonOption())
    .action(async (o: Common & { topology?: string; label: Record<string, string> }) => {
      const topology = await loadTopology(o.topology);
      const images = tagsOf(await ensureImages(docker, { progress: err }));
      const lab = await createLab(docker, { name: o.name, topology, images, labels: o.label, progress: err });
      const summary = {
        name: o.name,
        seconds: Number(lab.startSeconds.toFixed(1)),
        access: {
          network: lab.plan.access.network,
          ...lab.plan.access.subnets,
          relay: lab.plan.access.relay,
        },
        vrfs: lab.plan.vrfs.map((v) => ({
          vrf: v.spec.name,
          network: v.network,
          ...v.subnets,
          relay: v.relay,
          keas: v.keas.map((k) => ({ ...k, controlAgent: `http://${k.ipv4}:8000/` })),
        })),
        relay: {
          container: lab.plan.relay.container,
          metrics: `http://${lab.plan.access.relay.ipv4}:${lab.plan.relay.httpPort}/metrics`,
        },
      };
      print(o.json, summary, () =>
        [
          `lab ${o.name} is up in ${summary.seconds} s`,
          `  access   ${summary.access.network}  ${summary.access.ipv4Subnet}  ${summary.access.ipv6Subnet}  relay ${summary.access.relay.ipv4}`,
          ...summary.vrfs.flatMap((v) => [
            `  ${v.vrf.padEnd(8)} ${v.network}  ${v.ipv4Subnet}  ${v.ipv6Subnet}  relay ${v.relay.ipv4}`,
            ...v.keas.map(
              (k) => `           ${k.container}  ${k.ipv4}  ${k.ipv6}  control agent ${k.controlAgent}`,
            ),
          ]),
          `  relay    ${summary.relay.container}  metrics ${summary.relay.metrics}`,
          "",
          `try: npx dhcplab load --name ${o.name} --mac 00:aa:01:00:00:00   then   npx dhcplab leases --name ${o.name}`,
        ].join("\n"),
      );
    });

  cli
    .command("down")
    .description(
      "remove a lab (or, with --all, every dhcplab lab on this Docker host); removing nothing is fine",
    )
    .addOption(nameOption())
    .option("--all", "every dhcplab lab")
    .addOption(jsonOption())
    .action(async (o: Common & { all?: boolean }) => {
      const started = performance.now();
      const removed = await downLabs(docker, o.all ? undefined : o.name);
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      print(
        o.json,
        { ...removed, seconds },
        () => `removed ${removed.containers} containers and ${removed.networks} networks in ${seconds} s`,
      );
    });

  cli
    .command("status")
    .description("containers, their health, and the relay's counters")
    .addOption(nameOption())
    .addOption(jsonOption())
    .action(async (o: Common) => {
      const lab = await findLab(docker, o.name);
      let counters: Record<string, Record<string, number>> = {};
      if (lab.relay?.state === "running") {
        const r = await exec(docker, lab.relay.id, ["curl", "-fsS", "http://127.0.0.1:9100/counters"]);
        if (r.exitCode === 0) counters = JSON.parse(r.stdout);
      }
      print(o.json, { ...lab, counters }, () =>
        [
          `lab ${lab.name}`,
          ...lab.networks.map(
            (n) =>
              `  network ${n.name.padEnd(24)} ${n.role}${n.vrf ? ` ${n.vrf}` : ""}  ${n.subnets.join("  ")}`,
          ),
          lab.relay
            ? `  ${lab.relay.name.padEnd(32)} ${lab.relay.state} ${lab.relay.health ?? ""}`
            : "  no relay",
          ...lab.keas.map((k) => `  ${k.name.padEnd(32)} ${k.state} ${k.health ?? ""}  VRF ${k.vrf}`),
          "  relay counters:",
          ...Object.entries(counters).flatMap(([name, series]) =>
            Object.entries(series).map(([labels, v]) => `    ${name}{${labels}} ${v}`),
          ),
        ].join("\n"),
      );
    });

  cli
    .command("leases")
    .description("every lease of every VRF's Kea, read through the control agent")
    .addOption(nameOption())
    .option("--vrf <name>", "only this VRF")
    .option("-4", "DHCPv4 only")
    .option("-6", "DHCPv6 only")
    .addOption(jsonOption())
    .action(async (o: Common & { vrf?: string; 4?: boolean; 6?: boolean }) => {
      const lab = await findLab(docker, o.name);
      const families = o[4] && !o[6] ? [4 as const] : o[6] && !o[4] ? [6 as const] : [4 as const, 6 as const];
      const rows = await labLeases(docker, lab, { vrf: o.vrf, families });
      print(o.json, rows, () =>
        rows.length === 0
          ? "no leases"
          : rows
              .map(
                (r) =>
                  `${r.vrf.padEnd(6)} v${r.family} ${r.address.padEnd(22)} subnet ${String(r.subnetId).padEnd(4)} ${r.client}  ${r.relayInfo ? JSON.stringify(r.relayInfo) : ""}`,
              )
              .join("\n"),
      );
    });

  cli
    .command("load")
    .description("run perfdhcp on the access network through the relay; exits 1 if exchanges failed")
    .addOption(nameOption())
    .requiredOption("--mac <base>", "the clients' base MAC, e.g. 00:aa:01:00:00:00")
    .option("-6", "DHCPv6 (SOLICIT-ADVERTISE-REQUEST-REPLY) instead of DHCPv4")
    .option("--clients <n>", "distinct clients", positiveInt, 50)
    .option("--rate <r>", "exchanges per second", positiveInt, 50)
    .option("--duration <s>", "seconds", positiveInt, 5)
    .addOption(jsonOption())
    .action(
      async (o: Common & { mac: string; 6?: boolean; clients: number; rate: number; duration: number }) => {
        const lab = await findLab(docker, o.name);
        const images = tagsOf(await ensureImages(docker, { progress: err }));
        const family = o[6] ? 6 : 4;
        err(
          `perfdhcp: ${o.clients} DHCPv${family} clients from ${o.mac} at ${o.rate}/s for ${o.duration} s through ${lab.relay?.name}`,
        );
        const r = await runLoad(docker, lab, images.client, {
          mac: o.mac,
          family,
          clients: o.clients,
          rate: o.rate,
          duration: o.duration,
        });
        print(o.json, { command: r.command, exitCode: r.exitCode, ...r.report }, () =>
          [
            `$ ${r.command.join(" ")}`,
            `rate ${r.report.rate ?? "?"} exchanges/s`,
            ...r.report.exchanges.map(
              (e) =>
                `${e.exchange.padEnd(20)} sent ${e.sent}  received ${e.received}  drops ${e.drops}  delay min/avg/max ${e.minDelayMs}/${e.avgDelayMs}/${e.maxDelayMs} ms`,
            ),
          ].join("\n"),
        );
        if (r.exitCode !== 0) throw new Error(`perfdhcp exited with ${r.exitCode}: some exchanges failed`);
      },
    );

  cli
    .command("client")
    .description("run one real DHCP client on the access network and print the address it obtained")
    .addOption(nameOption())
    .requiredOption("--mac <mac>", "the client's MAC address")
    .option("-6", "DHCPv6")
    .addOption(
      new Option("--kind <kind>", "which client")
        .choices(["dhclient", "dhcpcd", "udhcpc"])
        .default("dhclient"),
    )
    .addOption(jsonOption())
    .action(async (o: Common & { mac: string; 6?: boolean; kind: ClientKind }) => {
      const lab = await findLab(docker, o.name);
      const images = tagsOf(await ensureImages(docker, { progress: err }));
      const r = await runClient(docker, lab, images.client, {
        mac: o.mac,
        family: o[6] ? 6 : 4,
        kind: o.kind,
      });
      print(o.json, r, () =>
        r.address
          ? `${o.kind} ${o.mac} obtained ${r.address}`
          : `${o.kind} ${o.mac} obtained no address:\n${r.output}`,
      );
      if (!r.address) throw new Error("no address obtained");
    });

  cli
    .command("logs")
    .description("the logs of a lab's service (relay, kea-red, ...) or of all of them")
    .argument("[service]", "relay, or kea-<vrf>")
    .addOption(nameOption())
    .option("--tail <n>", "only the last n lines", positiveInt)
    .action(async (service: string | undefined, o: Common & { tail?: number }) => {
      const lab = await findLab(docker, o.name);
      const all = [...(lab.relay ? [lab.relay] : []), ...lab.keas];
      const chosen = service
        ? all.filter((c) => c.name === service || c.name === `${o.name}-${service}`)
        : all;
      if (chosen.length === 0)
        throw new Error(`no service ${service} in lab ${o.name}: ${all.map((c) => c.name).join(", ")}`);
      for (const c of chosen) {
        if (chosen.length > 1) console.log(`==> ${c.name} <==`);
        console.log(await containerLogs(docker, c.id, o.tail));
      }
    });

  cli
    .command("compose")
    .description(
      "write compose.yaml: the default lab for `docker compose up`, rendered from the topology model",
    )
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .option("-o, --output <file>", "where to write it", `${ROOT}/compose.yaml`)
    .action(async (o: { topology?: string; output: string }) => {
      await writeFile(o.output, renderCompose(await loadTopology(o.topology)));
      err(`wrote ${o.output}`);
    });

  return cli;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    await program().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode;
    if (e instanceof ConfigError) console.error(`dhcplab: configuration refused:\n${e.message}`);
    else console.error(`dhcplab: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
