import { type Command, Option } from "commander";
import { listLabs, openLab, RELAY_LOG_LEVELS, type RelayLogLevel, removeLabs, startLab } from "../../api.ts";
import { KEA_VERSIONS, type KeaVersion } from "../../model/topology.ts";
import { ExitCode, err, jsonOption, nameOption, positiveInt, print, table } from "../output.ts";
import { statusText } from "./status.ts";

interface UpOptions {
  name: string;
  topology?: string;
  kea?: KeaVersion;
  label: Record<string, string>;
  monitoring?: boolean;
  logLevel?: RelayLogLevel;
  json?: boolean;
}

/** up, down, ls: labs coming and going. */
export function register(cli: Command): void {
  cli
    .command("up")
    .description(
      "build missing images and start a lab: networks, Kea per VRF, the relay; waits until all are healthy",
    )
    .addOption(nameOption())
    .option("--topology <file>", "a topology YAML file (default: the embedded RED/BLUE lab)")
    .addOption(
      new Option(
        "--kea <version>",
        "the Kea version of every VRF that names none (default: the topology's, 3.0)",
      ).choices(KEA_VERSIONS),
    )
    .option(
      "--label <key=value>",
      "a label on every container and network of the lab (repeatable)",
      label,
      {},
    )
    .option(
      "--monitoring",
      "an exporter of Kea's statistics beside each Kea, and Prometheus scraping them and the relay (its URL is printed)",
    )
    .addOption(
      new Option(
        "--log-level <level>",
        "the relay's log level (default: the topology's relay.logLevel, info)",
      ).choices(RELAY_LOG_LEVELS),
    )
    .addOption(jsonOption())
    .action(async (o: UpOptions) => {
      const started = performance.now();
      const lab = await startLab({
        name: o.name,
        topology: o.topology,
        kea: o.kea,
        labels: o.label,
        progress: err,
        monitoring: o.monitoring,
        logLevel: o.logLevel,
        // The lab lives until `dhcplab down`, not as long as this command.
        reaper: false,
      });
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      const status = await lab.status();
      print("up", o.json, { ...status, seconds, phases: [...lab.phases] }, () =>
        [
          `lab ${o.name} is up in ${seconds} s (${lab.phases.map((p) => `${p.phase} ${p.seconds.toFixed(1)} s`).join(", ")})`,
          statusText(status),
          "",
          status.boots.length > 0
            ? `try: npx dhcplab client --name ${o.name} --kind pxe --mac 52:54:00:00:0a:01   then   npx dhcplab leases --name ${o.name}`
            : `try: npx dhcplab load --name ${o.name} --mac 00:aa:01:00:00:00   then   npx dhcplab leases --name ${o.name}`,
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
    .action(async (o: { name: string; all?: boolean; json?: boolean }) => {
      const started = performance.now();
      const removed = await removeLabs(o.all ? undefined : o.name);
      const seconds = Number(((performance.now() - started) / 1000).toFixed(1));
      print(
        "down",
        o.json,
        { ...removed, seconds },
        () => `removed ${removed.containers} containers and ${removed.networks} networks in ${seconds} s`,
      );
    });

  cli
    .command("ls")
    .description("the dhcplab labs on this Docker host, and their state")
    .addOption(jsonOption())
    .action(async (o: { json?: boolean }) => {
      const labs = await listLabs();
      print("ls", o.json, labs, () =>
        labs.length === 0
          ? "no labs"
          : table(
              ["NAME", "STATE", "CONTAINERS", "RUNNING", "HEALTHY", "NETWORKS"],
              labs.map((l) => [l.name, l.state, l.containers, l.running, l.healthy, l.networks]),
            ),
      );
    });

  cli
    .command("exec")
    .description("run a command in a lab container: dhcplab exec relay -- ip addr")
    .argument("<service>", "relay, kea-red, ...")
    .argument("<command...>", "the command and its arguments (after --)")
    .addOption(nameOption())
    .action(async (service: string, command: string[], o: { name: string }) => {
      const r = await (await openLab(o.name)).exec(service, command);
      process.stdout.write(r.stdout);
      process.stderr.write(r.stderr);
      if (r.exitCode !== 0) throw new ExitCode(r.exitCode);
    });
  cli
    .command("forward")
    .description(
      "reach a lab service's TCP port from this machine, through the Engine (any Engine, also a remote one): dhcplab forward prometheus 9090; Ctrl-C stops",
    )
    .argument("<service>", "prometheus, relay, kea-red, ...")
    .argument("<port>", "the port inside the service's container", positiveInt)
    .option(
      "--local-port <port>",
      "the local port (default: the same one, or any free one if it is taken)",
      positiveInt,
    )
    .option("--address <address>", "the local address to listen on", "127.0.0.1")
    .addOption(nameOption())
    .action(
      async (service: string, port: number, o: { name: string; localPort?: number; address: string }) => {
        const lab = await openLab(o.name, { progress: err });
        // The same port here when free, unless one is asked for (then that one, or an error).
        const f = o.localPort
          ? await lab.forward(service, port, { host: o.address, localPort: o.localPort })
          : await lab
              .forward(service, port, { host: o.address, localPort: port })
              .catch(() => lab.forward(service, port, { host: o.address }));
        process.stdout.write(`forwarding ${o.address}:${f.port} to ${service}:${port}\n`);
        await new Promise<void>((resolve) => {
          process.once("SIGINT", resolve);
          process.once("SIGTERM", resolve);
        });
        await f.close();
      },
    );
  registerFaults(cli);
}

/** stop, start, kill: faults to inject into a running lab, one service at a time. */
export function registerFaults(cli: Command): void {
  const service = (c: Command) =>
    c
      .argument("<service>", "relay, kea-red, kea-blue, ... (dhcplab status lists them)")
      .addOption(nameOption());
  service(cli.command("stop").description("stop a lab service (SIGTERM, then SIGKILL after --time seconds)"))
    .option("-t, --time <s>", "seconds to wait before SIGKILL", positiveInt, 2)
    .action(async (name: string, o: { name: string; time: number }) => {
      await (await openLab(o.name)).stop(name, o.time);
      err(`${name} stopped; dhcplab start ${name} --name ${o.name} brings it back`);
    });
  service(
    cli.command("start").description("start a stopped or killed lab service; its health check follows"),
  ).action(async (name: string, o: { name: string }) => {
    await (await openLab(o.name)).start(name);
    err(`${name} started; dhcplab status --name ${o.name} shows when it is healthy`);
  });
  service(
    cli.command("kill").description("kill a lab service at once (SIGKILL unless --signal says otherwise)"),
  )
    .option("-s, --signal <signal>", "the signal", "SIGKILL")
    .action(async (name: string, o: { name: string; signal: string }) => {
      await (await openLab(o.name)).kill(name, o.signal);
      err(`${name} sent ${o.signal}`);
    });
}

/** Collects repeated --label key=value options. */
function label(value: string, labels: Record<string, string>): Record<string, string> {
  const at = value.indexOf("=");
  if (at <= 0) throw new Error(`--label ${value}: write key=value`);
  return { ...labels, [value.slice(0, at)]: value.slice(at + 1) };
}
