import type { Command } from "commander";
import { type LabStatus, openLab } from "../../api.ts";
import type { Fault } from "../../docker/faults.ts";
import { err, jsonOption, nameOption, print, table } from "../output.ts";

/** status (and inspect): what a lab is made of and how it is doing. */
export function register(cli: Command): void {
  for (const name of ["status", "inspect"]) {
    cli
      .command(name)
      .description("a lab's networks, its containers and their health, and the relay's counters")
      .addOption(nameOption())
      .addOption(jsonOption())
      .action(async (o: { name: string; json?: boolean }) => {
        const status = await (await openLab(o.name)).status();
        print("status", o.json, status, () => statusText(status));
        // The lab's networks are internal: from another host than the Engine's, only a forward reaches Prometheus.
        if (status.monitoring && !o.json && remoteEngine(process.env.DOCKER_HOST))
          err(
            `Prometheus is on the lab's internal network, on the Engine's host: from here, dhcplab forward prometheus 9090 --name ${o.name}`,
          );
      });
  }
}

/** Whether DOCKER_HOST names an Engine on another host (TCP or SSH, not this machine's loopback). */
export function remoteEngine(dockerHost: string | undefined): boolean {
  if (!dockerHost || !/^(tcp|ssh|https?):\/\//.test(dockerHost)) return false;
  try {
    const host = new URL(dockerHost.replace(/^[a-z]+:/, "http:")).hostname;
    return !["localhost", "127.0.0.1", "[::1]", ""].includes(host);
  } catch {
    return false;
  }
}

/** The lab's networks and containers as tables, the prefixes the relay routes, then its counters. */
export function statusText(s: LabStatus): string {
  const containers = [
    ...(s.relay ? [[s.relay.name, "relay", "", s.relay.accessIpv4, s.relay.state, s.relay.health]] : []),
    ...s.keas.map((k) => [k.name, `kea ${k.version}`, k.vrf, k.ipv4, k.state, k.health]),
    ...s.towers.map((w) => [w.name, `tower (${w.kind})`, "", w.ipv4, w.state, w.health]),
    ...s.boots.map((b) => [b.name, `boot (TFTP ${b.address})`, b.vrf, b.ipv4, b.state, b.health]),
    ...s.servers.map((d) => [
      d.name,
      `${d.kind} (${d.kind === "dns" ? "BIND 9" : "FreeRADIUS"} ${d.address})`,
      d.vrf,
      d.ipv4,
      d.state,
      d.health,
    ]),
    ...(s.monitoring
      ? [
          ...s.monitoring.exporters.map((e) => [e.name, "kea exporter", e.vrf, "", e.state, e.health]),
          [
            s.monitoring.prometheus.name,
            "prometheus",
            "",
            s.monitoring.prometheus.url,
            s.monitoring.prometheus.state,
            s.monitoring.prometheus.health,
          ],
        ]
      : []),
  ];
  const counters = Object.entries(s.counters).flatMap(([metric, series]) =>
    Object.entries(series).map(([labels, v]) => [`${metric}{${labels}}`, v]),
  );
  return [
    `lab ${s.name}`,
    "",
    table(
      ["NETWORK", "ROLE", "VRF", "SUBNETS"],
      s.networks.map((n) => [n.name, n.role, n.vrf, n.subnets.join(" ")]),
    ),
    "",
    table(["CONTAINER", "ROLE", "VRF", "ADDRESS", "STATE", "HEALTH"], containers),
    ...(s.ha.length > 0
      ? [
          "",
          table(
            ["HA SERVER", "VRF", "FAMILY", "MODE", "ROLE", "STATE", "SCOPES", "PARTNER"],
            s.ha.map((h) => [
              h.server,
              h.vrf,
              `DHCPv${h.family}`,
              h.mode,
              h.role,
              h.state,
              h.scopes.join(" "),
              h.partner &&
                `${h.partner.name} ${h.partner.state}${h.partner.communicationInterrupted ? " (communication interrupted)" : ""}`,
            ]),
          ),
        ]
      : []),
    ...(s.delegations.length > 0
      ? [
          "",
          table(
            ["DELEGATED PREFIX", "VRF", "VIA", "SEGMENT", "VALID S", "FROM"],
            s.delegations.map((d) => [
              d.prefix,
              d.vrf,
              d.via,
              d.segment,
              d.validSeconds ?? "forever",
              d.learnedFrom,
            ]),
          ),
        ]
      : []),
    ...(s.faults.length > 0
      ? [
          "",
          table(
            ["FAULT", "SERVICE", "NETWORK", "WHAT"],
            s.faults.map((f) => [f.kind, f.service, f.network, faultText(f)]),
          ),
        ]
      : []),
    ...(s.alerts.length > 0
      ? [
          "",
          table(
            ["ALERT", "STATE", "SINCE", "WHAT"],
            s.alerts.map((a) => [
              a.name,
              a.state,
              a.since.slice(11, 19),
              a.summary ?? JSON.stringify(a.labels),
            ]),
          ),
        ]
      : []),
    ...(counters.length > 0 ? ["", table(["RELAY COUNTER", "VALUE"], counters)] : []),
  ].join("\n");
}

/** A fault in words: the condition and what carries it, the peers cut off, or nothing more. */
export function faultText(f: Fault): string {
  if (f.kind === "condition" && f.condition) {
    const c = f.condition;
    const parts = [
      c.delay !== undefined ? `delay ${c.delay} ms${c.jitter !== undefined ? ` ± ${c.jitter} ms` : ""}` : "",
      c.delay === undefined && c.jitter !== undefined ? `jitter ${c.jitter} ms` : "",
      c.loss !== undefined ? `loss ${c.loss}%` : "",
      c.duplicate !== undefined ? `duplicate ${c.duplicate}%` : "",
      c.reorder !== undefined ? `reorder ${c.reorder}%` : "",
      c.corrupt !== undefined ? `corrupt ${c.corrupt}%` : "",
      c.rate !== undefined ? `rate ${c.rate}` : "",
    ].filter(Boolean);
    return `${parts.join(", ")} (${f.mechanism})`;
  }
  if (f.kind === "cut") return `no path to ${f.peers?.join(", ")}`;
  return "";
}
