import { type Command, Option } from "commander";
import { ConfigError } from "../../../lib/config/yaml-config.ts";
import type { Explanation, RelayDecision } from "../../../lib/decision.ts";
import { relayInfoText } from "../../../lib/relay-info.ts";
import { openLab, type RelayLogLevel } from "../../api.ts";
import type { ApplyResult } from "../../docker/apply.ts";
import type { KeaLogLevel } from "../../docker/kea-logging.ts";
import type { ClientTrace } from "../../docker/trace.ts";
import { KeaConfigRefused } from "../../model/kea-config.ts";
import { watchFiles } from "../../watch.ts";
import { err, jsonOption, nameOption, positiveInt, print, segmentOption, table } from "../output.ts";

/** apply, watch, explain, trace, log-level: the edit-apply-explain loop on a running lab. */
export function register(cli: Command): void {
  cli
    .command("apply")
    .description(
      "make the running lab what its files now say: Kea configurations tested and reloaded (leases kept), the policy reloaded, only changed containers created anew",
    )
    .addOption(nameOption())
    .option("--topology <file>", "the topology (default: the one the lab was started from)")
    .addOption(jsonOption())
    .action(async (o: { name: string; topology?: string; json?: boolean }) => {
      const lab = await openLab(o.name);
      const result = await lab.apply(o.topology, { progress: err });
      print("apply", o.json, result, () => applyText(result));
    });

  cli
    .command("watch")
    .description("apply on every save of the topology, its policies and its Kea folders; Ctrl-C stops")
    .addOption(nameOption())
    .option("--topology <file>", "the topology (default: the one the lab was started from)")
    .action(async (o: { name: string; topology?: string }) => {
      const lab = await openLab(o.name);
      const file = o.topology ?? lab.spec.source?.topology;
      const watch = await watchFiles(file, () => lab.apply(o.topology), {
        changed: (paths) => err(`changed: ${paths.join(", ")}`),
        applied: (r) => console.log(applyText(r)),
        // A refusal of the checks changed nothing; a failure after them left what it had done.
        refused: (e) =>
          console.log(
            e instanceof ConfigError || e instanceof KeaConfigRefused
              ? `refused, nothing changed: ${e.message}`
              : `apply failed: ${e.message}`,
          ),
      });
      err(`watching ${file ?? "the embedded default lab's files"} for lab ${o.name}; Ctrl-C stops`);
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      watch.close();
      await watch.settled();
    });

  cli
    .command("explain")
    .description(
      "the running relay's decision for such a client, without sending anything: the rule, the VRF and the options it would add",
    )
    .addOption(nameOption())
    .requiredOption("--mac <mac>", "the client's MAC address")
    .option("-6", "DHCPv6 (a SOLICIT; DHCPv4 DISCOVER otherwise)")
    .addOption(segmentOption("it is on"))
    .option("--vendor-class <text>", "the vendor class it sends (option 60 / 16)")
    .option("--user-class <text>", "the user class it sends (option 77 / 15)")
    .option("--hostname <name>", "DHCPv4: the hostname it sends (option 12)")
    .addOption(
      new Option("--duid-type <type>", "DHCPv6: its DUID's type (default LL)").choices([
        "LLT",
        "EN",
        "LL",
        "UUID",
      ]),
    )
    .option("--enterprise <n>", "the enterprise number of a DUID-EN or a DHCPv6 vendor class", positiveInt)
    .addOption(jsonOption())
    .action(
      async (o: {
        name: string;
        mac: string;
        6?: boolean;
        segment?: string;
        vendorClass?: string;
        userClass?: string;
        hostname?: string;
        duidType?: "LLT" | "EN" | "LL" | "UUID";
        enterprise?: number;
        json?: boolean;
      }) => {
        const lab = await openLab(o.name);
        const e = await lab.explain({
          family: o[6] ? 6 : 4,
          mac: o.mac,
          segment: o.segment,
          vendorClass: o.vendorClass,
          userClass: o.userClass,
          hostname: o.hostname,
          duidType: o.duidType,
          enterprise: o.enterprise,
        });
        print("explain", o.json, e, () => explainText(e));
      },
    );

  cli
    .command("trace")
    .description(
      "a client's recent exchanges: what the relay decided and added, and what Kea did with it (classes, subnet, pool, lease)",
    )
    .addOption(nameOption())
    .requiredOption("--mac <mac>", "the client's MAC address")
    .option("-6", "only DHCPv6 (both families otherwise)")
    .option("-4", "only DHCPv4")
    .option("--limit <n>", "at most this many of the relay's decisions, the newest", positiveInt, 20)
    .addOption(jsonOption())
    .action(
      async (o: { name: string; mac: string; 6?: boolean; 4?: boolean; limit: number; json?: boolean }) => {
        const lab = await openLab(o.name);
        const t = await lab.trace({ mac: o.mac, family: o[6] ? 6 : o[4] ? 4 : undefined, limit: o.limit });
        print("trace", o.json, t, () => traceText(t));
      },
    );

  cli
    .command("log-level")
    .description(
      "a service's logging at run time: the relay's level (trace, debug, info, warn, error), or Kea's debug logging on (debug) and back to its configuration's (info)",
    )
    .addOption(nameOption())
    .argument("<service>", "relay, or kea (every VRF's; --vrf for one)")
    .argument("[level]", "the new level; the relay's current one is printed when absent")
    .option("--vrf <name>", "kea: only this VRF's servers")
    .addOption(jsonOption())
    .action(
      async (
        service: string,
        level: string | undefined,
        o: { name: string; vrf?: string; json?: boolean },
      ) => {
        const lab = await openLab(o.name);
        if (service === "relay") {
          const now = await lab.relayLogLevel(level as RelayLogLevel | undefined);
          print("log-level", o.json, { relay: now }, () => `relay: ${now}`);
        } else if (service === "kea") {
          if (level !== "debug" && level !== "info")
            throw new Error(
              "Kea's logging is debug (on) or info (its configuration's): dhcplab log-level kea debug",
            );
          const changes = await lab.keaLogLevel(level as KeaLogLevel, { vrf: o.vrf });
          print("log-level", o.json, { kea: changes }, () =>
            table(
              ["VRF", "SERVER", "FAMILY", "LOGGING"],
              changes.map((c) => [c.vrf, c.server, `DHCPv${c.family}`, c.level]),
            ),
          );
        } else throw new Error(`log-level takes relay or kea, not ${service}`);
      },
    );
}

/** apply's answer for people: each change, then what stayed. */
export function applyText(r: ApplyResult): string {
  if (r.changes.length === 0 && r.networks.created.length === 0 && r.networks.removed.length === 0)
    return `lab ${r.lab}: nothing to change (${r.seconds} s)`;
  return [
    `lab ${r.lab}: applied in ${r.seconds} s`,
    table(
      ["SERVICE", "CHANGE", "WHAT"],
      r.changes.map((c) => [c.service, c.action, c.detail]),
    ),
    ...r.networks.created.map((n) => `network ${n} created`),
    ...r.networks.removed.map((n) => `network ${n} removed`),
    r.unchanged.length > 0 ? `unchanged: ${r.unchanged.join(", ")}` : "",
  ]
    .filter(Boolean)
    .join("\n");
}

/** One decision on a line: what came in, and what the relay did with it. */
function decisionLine(d: RelayDecision | Explanation): string {
  const who = `${d.mac ?? d.duid ?? "?"} DHCPv${d.family} ${d.type} on ${d.segment}`;
  if (d.action === "drop") return `${who}: dropped (${d.reason}${d.rule ? `, rule ${d.rule}` : ""})`;
  return `${who}: rule ${d.rule} -> VRF ${d.vrf}`;
}

/** explain's answer for people. */
export function explainText(e: Explanation): string {
  return [
    decisionLine(e),
    ...(e.action === "relay"
      ? [
          `  adds     ${relayInfoText(e.added) || "(nothing)"}`,
          ...(e.giaddr ? [`  giaddr   ${e.giaddr}`] : []),
          ...(e.servers ? [`  sends to ${e.servers.join(", ")}`] : []),
        ]
      : []),
  ].join("\n");
}

/** trace's answer for people: the relay's decisions, then each Kea's verdict, then notes. */
export function traceText(t: ClientTrace): string {
  const out = [
    `relay (${t.relay.length} messages):`,
    table(
      ["TIME", "MESSAGE", "DECISION", "ADDED"],
      t.relay.map((d) => [
        d.at.slice(11, 23),
        `DHCPv${d.family} ${d.type}`,
        decisionLine(d).replace(/^.*?: /, ""),
        relayInfoText(d.added),
      ]),
    ),
  ];
  for (const k of t.kea) {
    out.push(
      "",
      `${k.server} (VRF ${k.vrf}, DHCPv${k.family}):`,
      ...(k.classes ? [`  classes  ${k.classes.join(", ")}`] : []),
      ...(k.matched ? [`  matched  ${k.matched.join(", ")}`] : []),
      ...(k.subnetId !== undefined
        ? [
            `  subnet   ${k.subnet ?? "?"} (id ${k.subnetId}${k.selectedSubnetId !== undefined && k.selectedSubnetId !== k.subnetId ? `; Kea selected ${k.selectedSubnetId} first, in its shared network` : ""})`,
          ]
        : []),
      ...(k.pool ? [`  pool     ${k.pool}${k.poolClasses ? ` (for ${k.poolClasses.join(", ")})` : ""}`] : []),
      ...(k.address || k.prefix
        ? [
            `  lease    ${[k.address, k.prefix].filter(Boolean).join(", ")} (${k.lease}${k.lifetime ? `, ${k.lifetime} s` : ""})`,
          ]
        : []),
    );
  }
  if (t.notes.length > 0) out.push("", ...t.notes.map((n) => `note: ${n}`));
  return out.join("\n");
}
