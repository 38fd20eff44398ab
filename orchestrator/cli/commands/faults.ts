import type { Command } from "commander";
import { openLab } from "../../api.ts";
import { bitsPerSecond, type LinkCondition } from "../../docker/faults.ts";
import { err, jsonOption, nameOption, print, table } from "../output.ts";
import { faultText } from "./status.ts";

/** A percentage, 0 to 100. */
function percent(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 100) throw new Error(`${value} is not a percentage (0 to 100)`);
  return n;
}

/** Milliseconds, 0 or more. */
function millis(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${value} is not a number of milliseconds`);
  return n;
}

/** A rate as tc takes it: 1mbit, 512kbit, 10mbit (checked as the library checks it). */
function rate(value: string): string {
  bitsPerSecond(value);
  return value;
}

/** netem, disconnect, connect, pause, unpause: faults on a running lab's links and services. */
export function register(cli: Command): void {
  cli
    .command("netem")
    .description(
      "a condition on a service's link to a lab network (its egress): delay, jitter, loss, duplication, reordering, corruption, rate; --clear removes it, --list shows every fault",
    )
    .addOption(nameOption())
    .argument("[service]", "the service whose link is impaired (relay, kea-red, kea-red-1, tower-a, ...)")
    .option("--network <network>", "the lab network (access, red, a segment's name, transport, ...)")
    .option("--delay <ms>", "added delay, milliseconds", millis)
    .option("--jitter <ms>", "delay variation, milliseconds", millis)
    .option("--loss <percent>", "packets dropped", percent)
    .option("--duplicate <percent>", "packets duplicated", percent)
    .option("--reorder <percent>", "packets reordered", percent)
    .option("--corrupt <percent>", "packets corrupted", percent)
    .option("--rate <rate>", "a rate limit: 1mbit, 512kbit", rate)
    .option("--clear", "remove the condition")
    .option("--list", "every fault in force")
    .addOption(jsonOption())
    .action(
      async (
        service: string | undefined,
        o: LinkCondition & {
          name: string;
          network?: string;
          clear?: boolean;
          list?: boolean;
          json?: boolean;
        },
      ) => {
        const lab = await openLab(o.name);
        if (o.list) {
          const faults = await lab.faults();
          print("faults", o.json, faults, () =>
            faults.length === 0
              ? "no fault in force"
              : table(
                  ["FAULT", "SERVICE", "NETWORK", "WHAT"],
                  faults.map((f) => [f.kind, f.service, f.network, faultText(f)]),
                ),
          );
          return;
        }
        if (!service || !o.network) throw new Error("netem needs a service and --network (or --list)");
        const { name: _n, network, clear, list: _l, json: _j, ...condition } = o;
        const fault = await lab.netem(service, network, clear ? undefined : condition);
        print("netem", o.json, fault ? [fault] : [], () =>
          fault ? `${service} on ${network}: ${faultText(fault)}` : `${service} on ${network}: no condition`,
        );
      },
    );

  cli
    .command("disconnect")
    .description(
      "take a service off a lab network (it keeps running); --from PEER cuts only the path between the two there (both stay on it: HA peers without heartbeats, the relay still reaching both)",
    )
    .addOption(nameOption())
    .argument("<service>", "the service")
    .argument("<network>", "the lab network (access, red, ...)")
    .option("--from <peer>", "only the path to this service on that network")
    .action(async (service: string, network: string, o: { name: string; from?: string }) => {
      const lab = await openLab(o.name);
      await lab.disconnect(service, network, { from: o.from });
      console.log(o.from ? `${service} and ${o.from}: no path on ${network}` : `${service}: off ${network}`);
    });

  cli
    .command("connect")
    .description(
      "undo disconnect: the service back on the network with its addresses and routes, or the path healed",
    )
    .addOption(nameOption())
    .argument("<service>", "the service")
    .argument("<network>", "the lab network")
    .option("--from <peer>", "heal the path to this service")
    .action(async (service: string, network: string, o: { name: string; from?: string }) => {
      const lab = await openLab(o.name);
      for (const note of await lab.connect(service, network, { from: o.from })) err(note);
      console.log(
        o.from ? `${service} and ${o.from}: path on ${network} restored` : `${service}: on ${network}`,
      );
    });

  for (const [command, what] of [
    ["pause", "freeze a service's processes (a hung server, not a dead one)"],
    ["unpause", "let a paused service run again"],
  ] as const) {
    cli
      .command(command)
      .description(what)
      .addOption(nameOption())
      .argument("<service>", "the service")
      .action(async (service: string, o: { name: string }) => {
        const lab = await openLab(o.name);
        await (command === "pause" ? lab.pause(service) : lab.unpause(service));
        console.log(`${service}: ${command === "pause" ? "paused" : "running"}`);
      });
  }
}
