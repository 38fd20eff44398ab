import { resolve } from "node:path";
import type Docker from "dockerode";
import type { ExplainRequest, Explanation } from "../lib/decision.ts";
import { statisticName } from "../lib/kea/statistics.ts";
import type { LeaseQuery, LeaseQueryAnswer } from "../lib/leasequery.ts";
import { LOG_LEVELS, type LogLevel } from "../lib/log-level.ts";
import { type Alert, labAlerts } from "./docker/alerts.ts";
import { type ApplyResult, applyLab } from "./docker/apply.ts";
import { type AuditFilter, type AuditRecord, labAudit } from "./docker/audit.ts";
import { type Capture, startCapture } from "./docker/capture.ts";
import {
  type ClientKind,
  type LoadEngine,
  type LoadOptions,
  type LoadResult,
  type PdMode,
  runClient,
  runLoad,
  runOnAccess,
} from "./docker/clients.ts";
import { counterSum, type RelayCounters, relayRequest } from "./docker/container-http.ts";
import { deployLab, type PhaseTiming } from "./docker/deploy.ts";
import { checkEngine, containerLogs, dockerClient, exec, tarOf } from "./docker/engine.ts";
import {
  type Fault,
  forgetFaultsOf,
  type LinkCondition,
  listFaults,
  namespaceRenewed,
  setCondition,
  setConnected,
  setCut,
} from "./docker/faults.ts";
import { type Forward, forwardPort } from "./docker/forward.ts";
import { type HaServerState, haStates } from "./docker/ha.ts";
import {
  ensureImages,
  type ImageName,
  type ImageResult,
  type ImageTags,
  topologyImages,
} from "./docker/images.ts";
import { type KeaCommandAnswer, type KeaCommandRequest, sendKeaCommand } from "./docker/kea-command.ts";
import { type KeaLogChange, type KeaLogLevel, setKeaLogLevel } from "./docker/kea-logging.ts";
import { type KeaServerStatistics, labStatistics } from "./docker/kea-stats.ts";
import {
  clientImageOn,
  downLabs,
  type LabState,
  type LabSummary,
  labState,
  listLabs as listLabsOn,
  readSpec,
  specClientImage,
  waitHealthy,
} from "./docker/lab.ts";
import { type LeaseRow, labLeases } from "./docker/leases.ts";
import { runPxeClient } from "./docker/pxe.ts";
import { type Reaper, startReaper } from "./docker/reaper.ts";
import { sampleEverySecond } from "./docker/sampler.ts";
import { type ClientTrace, type TraceRequest, traceClient } from "./docker/trace.ts";
import { type LoadReport, type LoadSample, messagesOfRun, unansweredByKea } from "./model/load-report.ts";
import { type KeaVersion, loadTopology, type Topology, withKea } from "./model/topology.ts";
import { type LabSpec, networkOf, nodeOf } from "./spec/spec.ts";

/** How to start a lab. */
export interface StartLabOptions {
  /** A topology, or the path of a topology YAML file; the embedded RED/BLUE lab when absent. */
  topology?: Topology | string;
  /** The Kea version of every VRF that names none (the topology's `kea`, 3.0 by default). */
  kea?: KeaVersion;
  /** The lab's name: its containers and networks are called NAME-...; default "dhcplab". */
  name?: string;
  /** Labels on every container and network of the lab (a CI job's id, say). */
  labels?: Record<string, string>;
  /** The Docker Engine; default: DOCKER_HOST, or the local socket. */
  docker?: Docker;
  /** Progress lines for people (image builds, containers created, health waits). */
  progress?: (line: string) => void;
  /**
   * An exporter of Kea's statistics beside each Kea, and a Prometheus server on a monitoring
   * network of its own scraping them and the relay (`status().monitoring.prometheus.url`).
   */
  monitoring?: boolean;
  /**
   * Image tags to run instead of building (a test run's images, built once for all its files);
   * images the lab needs and this does not name are built as usual.
   */
  images?: Partial<ImageTags>;
  /** Extra environment for the relay (DHCPLAB_CPU_PROFILE, DHCPLAB_V8_FLAGS). */
  relayEnv?: Record<string, string>;
  /** The relay's log level (default: the topology's `relay.logLevel`, else info). */
  logLevel?: RelayLogLevel;
  /**
   * Whether `down()` (and `await using`) leaves the lab up, printing how to reach it: `never`,
   * `on-failure` (once `fail()` was called, or when the start itself fails) or `always`. Default:
   * the DHCPLAB_KEEP_LAB environment variable, else `never`. `down({ force: true })` removes it anyway.
   */
  keep?: KeepLab;
  /**
   * Removes the lab should this process die without taking it down (a CI job killed at its
   * timeout, a test worker killed): a small container of the lab's (its reaper) holds a
   * connection to this process through the Engine, and removes the lab when it closes. Default:
   * on when `keep` is `never`; `dhcplab up` turns it off, its lab living until `down`.
   */
  reaper?: boolean;
}

/** The relay's log levels. */
export const RELAY_LOG_LEVELS = LOG_LEVELS;
export type RelayLogLevel = LogLevel;

/** When a lab outlives `down()`: see StartLabOptions.keep. */
export type KeepLab = "never" | "on-failure" | "always";

/** The keep setting from the environment (DHCPLAB_KEEP_LAB), refused when it is not one. */
function keepFromEnv(): KeepLab {
  const v = process.env.DHCPLAB_KEEP_LAB;
  if (v === undefined || v === "") return "never";
  if (v === "never" || v === "on-failure" || v === "always") return v;
  throw new Error(`DHCPLAB_KEEP_LAB=${v}: use never, on-failure or always`);
}

/** A load through the relay; `family` defaults to 4, `engine` to perfdhcp. */
export interface LoadRequest {
  /** The clients' base MAC; the load generator varies its low bytes. */
  mac: string;
  /**
   * perfdhcp, or `clients`: dhcplab's DHCPv4 generator, which sends as clients on the wire do
   * (broadcast from port 68, giaddr 0), so the relay runs its first-hop path.
   */
  engine?: LoadEngine;
  family?: 4 | 6;
  /** Distinct clients (default 50). */
  clients?: number;
  /** Exchanges per second (default 50). */
  rate?: number;
  /** Seconds (default 5). */
  seconds?: number;
  /**
   * From this many seconds into the run, requests carry a growing elapsed time (`secs`, or
   * DHCPv6's Elapsed Time: seconds since then, plus one), as clients that got no answer do. Kea
   * HA counts only such clients when it decides its partner is down. Default: 0 throughout.
   */
  secsAfter?: number;
  /** The access segment to run on (default: the first). */
  segment?: string;
  /** DHCPv6 prefix delegation: perfdhcp's -e prefix-only or address-and-prefix. */
  pd?: PdMode;
  /**
   * Count every message the relay relays during the run beside Kea's matching statistic
   * (`LoadResult.messages`): one sample of every server's statistics and the relay's counters
   * before and after the run. `dhcplab load` does; default false.
   */
  messages?: boolean;
}

/** A lease query to a VRF's servers: its family, what it asks by and the value (lib/leasequery.ts). */
export type LeaseQueryRequest = { vrf: string } & LeaseQuery;

/** Each server's answer to a lease query: the server (its service and address), active and its bindings, unassigned or unknown. */
export interface LeaseQueryResult {
  vrf: string;
  query: LeaseQuery;
  answers: (LeaseQueryAnswer & { server: string; address: string })[];
}

/** One real client, once. */
export interface ClientRequest {
  mac: string;
  /**
   * Default dhclient. `pxe`: a PXE firmware client, iPXE in QEMU, which boots what DHCP points
   * it to (docker/pxe/; its image is built the first time one runs).
   */
  kind?: ClientKind | "pxe";
  family?: 4 | 6;
  /** The access segment it sits on (default: the first). */
  segment?: string;
  /** DHCPv6: ask for a delegated prefix too (IA_PD), as a CPE router does (dhclient, dhcpcd). */
  pd?: boolean;
  /** DHCPv4: the vendor class to send (option 60), e.g. PXEClient:Arch:00000:UNDI:002001. */
  vendorClass?: string;
  /** DHCPv4: the client architecture to send (option 93, RFC 4578: 0 BIOS, 7 x86-64 UEFI; udhcpc, dhclient). */
  arch?: number;
  /**
   * The name the client gives itself (not pxe): udhcpc sends it as option 12, dhclient as option
   * 12 (DHCPv4) or 39 (DHCPv6 Client FQDN, fully qualified: give the whole name), dhcpcd as option
   * 12 or 39. Kea's DDNS puts it in DNS.
   */
  hostname?: string;
  /** pxe: stop the machine after this many seconds (default 90). */
  timeoutSeconds?: number;
  /** pxe: build output of its image, the first time, a line at a time. */
  progress?: (line: string) => void;
}

/**
 * What a real client obtained: its address if it got one, its delegated prefixes, the ACK's
 * next-server and boot file (DHCPv4: udhcpc, dhclient, pxe), its exit code and output. A PXE
 * client also says whether it booted what it fetched, and what that printed.
 */
export interface ClientResult {
  address?: string;
  prefixes: string[];
  nextServer?: string;
  bootFile?: string;
  /** pxe: a boot file was fetched and run. */
  booted?: boolean;
  /** pxe: the console lines of what it booted. */
  console?: string[];
  /** pxe: why the boot failed, as the firmware said it. */
  failure?: string;
  /** pxe: the deadline stopped the machine. */
  timedOut?: boolean;
  exitCode: number;
  output: string;
}

/** A one-shot container on an access segment (`Lab.run`). */
export interface RunRequest {
  /** The access segment it sits on (default: the first). */
  segment?: string;
  /**
   * Any lab network instead, by its key (`spec.networks[].key`: `access`, a segment's name, a VRF's
   * backend by the VRF's name in lower case, `transport`): to send from where only servers are.
   */
  network?: string;
  /** Its environment. */
  env?: Record<string, string>;
  /** Its MAC address on the segment. */
  mac?: string;
  /** Capabilities it needs (NET_ADMIN to configure its interface, NET_RAW for raw sockets). */
  capAdd?: string[];
  /** An unmasked, writable /proc (dhcpcd writes /proc/sys). */
  writableProc?: boolean;
  /** Replaces the image's entrypoint; the command becomes its arguments. */
  entrypoint?: string[];
  /** The image to run (default: the lab's client image: perfdhcp, dhclient, dhcpcd, udhcpc, tcpdump, scapy). */
  image?: string;
}

/** A prefix the relay routes because a server delegated it through the relay (its /delegations). */
export interface DelegatedRoute {
  prefix: string;
  vrf: string;
  /** The requesting router (or the downstream relay in front of it). */
  via: string;
  segment: string;
  /** Seconds of valid lifetime left; null for infinity. */
  validSeconds: number | null;
  learnedFrom: "reply" | "lease-table";
}

/** The relay's counters: metric name, then the series' label text, then its value. */
export type { RelayCounters };

/** A running lab. `await using lab = await startLab()` removes it when the scope ends. */
export interface Lab extends AsyncDisposable {
  readonly name: string;
  /**
   * The lab as data: every network with its subnets, every node (service, container, image,
   * addresses, files), and per feature the addresses clients and tests use: `spec.access.relay`
   * (the clients' relay), `spec.vrfs[i].keas`, `spec.towers`, ... (docs/spec.md).
   */
  readonly spec: LabSpec;
  /** How long each phase of `up` took, for a lab this process started (empty for an opened one). */
  readonly phases: readonly PhaseTiming[];
  /**
   * Docker network names: the clients' access network (the first segment), every access segment
   * by name, and each VRF's backend network.
   */
  readonly networks: {
    readonly access: string;
    readonly segments: Readonly<Record<string, string>>;
    readonly vrfs: Readonly<Record<string, string>>;
  };
  /** Container names by service: "relay", "kea-red", ... */
  readonly services: Readonly<Record<string, string>>;
  /** Every lease of every running Kea, or of one VRF, family or server (`kea-red-2`). */
  leases(filter?: { vrf?: string; family?: 4 | 6; server?: string }): Promise<LeaseRow[]>;
  /** Kea's statistics now (statistic-get-all) of every running server, or one VRF's or server's. */
  statistics(filter?: { vrf?: string; server?: string }): Promise<KeaServerStatistics[]>;
  /**
   * The legal log records (Kea 3.0's legal_log hook) of every running server whose configuration
   * loads the hook, or of one VRF, server, family or client (MAC): each lease assigned, renewed,
   * released or declined, with what the relay added (docs/hooks.md).
   */
  audit(filter?: AuditFilter): Promise<AuditRecord[]>;
  /** Each HA peer's state per family as Kea reports it (status-get); none without HA pairs. */
  ha(): Promise<HaServerState[]>;
  /**
   * Any command to one Kea server's control surface (`ha-sync`, `config-get`, a hook's command),
   * and its answer as Kea gave it; Kea refusing it is an answer (its `result`), not an error.
   */
  kea(request: KeaCommandRequest): Promise<KeaCommandAnswer>;
  /** perfdhcp through the relay: its figures and exit code (3: some exchanges failed). */
  load(request: LoadRequest): Promise<LoadResult>;
  /**
   * A load (as `load`) while Kea's statistics and the relay's counters are sampled once a
   * second: the report `renderReportHtml` draws (dhcplab load --report DIR).
   */
  loadReport(request: LoadRequest): Promise<LoadReport>;
  /** One real client (dhclient, dhcpcd, udhcpc, or a PXE firmware client) through the relay. */
  client(request: ClientRequest): Promise<ClientResult>;
  /**
   * Runs a command to its end in a one-shot container on an access segment (your own client, a
   * crafted packet); its words are arguments, never shell text. Its exit code and output.
   */
  run(command: string[], o?: RunRequest): Promise<{ exitCode: number; output: string }>;
  /** Waits until a service's health check passes (after `start`, say); fails with its last log lines. */
  healthy(service: string, timeoutMs?: number): Promise<void>;
  /** Copies files (path below `dir`, then bytes) into a service's container. */
  putFiles(service: string, dir: string, files: Readonly<Record<string, string | Uint8Array>>): Promise<void>;
  /** The relay's counters now. */
  counters(): Promise<RelayCounters>;
  /** The delegated prefixes the relay routes now. */
  delegations(): Promise<DelegatedRoute[]>;
  /** The sum of a relay counter over the series whose labels include every `match`. */
  counter(name: string, match?: Record<string, string | number>): Promise<number>;
  /** A service's log (stdout and stderr). */
  logs(service: string, tail?: number): Promise<string>;
  /** Stops a service's container (SIGTERM, then SIGKILL after `seconds`). */
  stop(service: string, seconds?: number): Promise<void>;
  /** Starts a stopped service's container again. */
  start(service: string): Promise<void>;
  /** Sends a signal (default SIGKILL) to a service's container. */
  kill(service: string, signal?: string): Promise<void>;
  /** Runs a command in a service's container; its words are arguments, never shell text. */
  exec(service: string, command: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  /** A pcap capture of a lab network ("access" or a VRF's name), from the relay's namespace. */
  capture(network: string, o?: { filter?: string[]; count?: number }): Promise<Capture>;
  /**
   * A service's TCP port, reachable from this machine: a listener on `host` (default 127.0.0.1)
   * and `localPort` (default any free one) whose connections go through the Engine's API to the
   * port inside the service's container. The lab's networks are internal: on a remote Engine
   * this is how Prometheus (`forward("prometheus", 9090)`) or a Kea control socket is reached.
   */
  forward(service: string, port: number, o?: { host?: string; localPort?: number }): Promise<Forward>;
  /** The lab's networks and containers with their state and health, and the relay's counters. */
  status(): Promise<LabStatus>;
  /**
   * Makes the running lab what its files now say (the topology given, else the one it was started
   * from), changing only what differs: Kea configurations are tested by Kea and reloaded (leases
   * kept), a policy is reloaded by the relay, and only containers whose definition changed are
   * created anew. A refusal (Kea's, the policy's) changes nothing.
   */
  apply(topology?: Topology | string, o?: { progress?: (line: string) => void }): Promise<ApplyResult>;
  /** The relay's decision for such a client, from its loaded policy, without sending anything. */
  explain(request: ExplainRequest): Promise<Explanation>;
  /**
   * A lease query, asked by the relay from its address on the VRF's backend to each of the VRF's
   * Kea servers that loads the lease_query hook: DHCPv4 by ip, mac or client-id (RFC 4388), DHCPv6
   * by address, client-id, relay-id, link or remote-id (bulk leasequery over TCP, RFC 5460).
   * Each server's answer: active (its bindings), unassigned or unknown (docs/hooks.md).
   */
  leasequery(request: LeaseQueryRequest): Promise<LeaseQueryResult>;
  /**
   * A client's recent exchanges: what the relay decided and added, and what each Kea did with it
   * (classes, subnet, pool, lease; the classes and subnet need Kea's debug logging: keaLogLevel).
   */
  trace(request: TraceRequest): Promise<ClientTrace>;
  /** Sets the relay's log level at run time; answers the level now in force. */
  relayLogLevel(level?: RelayLogLevel): Promise<RelayLogLevel>;
  /** Kea's debug logging on (`debug`) or back to its configuration's (`info`), per VRF or for all, at run time. */
  keaLogLevel(level: KeaLogLevel, o?: { vrf?: string }): Promise<KeaLogChange[]>;
  /**
   * Sets the condition of a service's link on a lab network (delay, jitter, loss, duplicate,
   * reorder, corrupt, rate: netem where the host's kernel has it; without it loss and rate only),
   * or clears it (`undefined`). Refused, saying why, when this host cannot make it.
   */
  netem(service: string, network: string, condition: LinkCondition | undefined): Promise<Fault | undefined>;
  /**
   * Takes a service off a lab network (it keeps running), or with `from` cuts only the path
   * between it and another service there (both stay on the network).
   */
  disconnect(service: string, network: string, o?: { from?: string }): Promise<void>;
  /** Undoes disconnect: the service back on the network with its addresses (and routes), or the path healed. */
  connect(service: string, network: string, o?: { from?: string }): Promise<string[]>;
  /** Freezes a service's processes (docker pause: a hung server, not a dead one). */
  pause(service: string): Promise<void>;
  unpause(service: string): Promise<void>;
  /** The faults in force: conditions, cuts, disconnected and paused services. */
  faults(): Promise<Fault[]>;
  /** Marks the lab's run as failed: with `keep: "on-failure"`, `down()` then leaves it up. */
  fail(reason: string): void;
  /**
   * Removes every container and network of the lab; removing it twice is fine. Leaves it up
   * (and says how to reach it) when `keep` asks for that, unless `force`.
   */
  down(o?: { force?: boolean }): Promise<void>;
}

/**
 * What `status` reports: the lab found on the Docker host, its HA peers' states, the relay's
 * counters and the delegated prefixes it routes.
 */
export type LabStatus = LabState & {
  ha: HaServerState[];
  counters: RelayCounters;
  delegations: DelegatedRoute[];
  /** The faults in force (dhcplab netem, disconnect, pause). */
  faults: Fault[];
  /** With monitoring: the alerts Prometheus has pending or firing. */
  alerts: Alert[];
};

/**
 * Starts a lab: builds any missing image, creates the networks, one Kea per VRF and the relay,
 * and resolves once all are healthy. Fails (leaving nothing behind) naming what did not come up.
 */
export async function startLab(o: StartLabOptions = {}): Promise<Lab> {
  const docker = o.docker ?? dockerClient();
  await checkEngine(docker);
  const name = o.name ?? "dhcplab";
  const loaded = typeof o.topology === "object" ? o.topology : await loadTopology(o.topology);
  const versioned = o.kea ? withKea(loaded, o.kea) : loaded;
  const topology = o.logLevel
    ? { ...versioned, relay: { ...versioned.relay, logLevel: o.logLevel } }
    : versioned;
  const keep = o.keep ?? keepFromEnv();
  const needed = [...topologyImages(topology), ...(o.monitoring ? (["prometheus"] as const) : [])];
  const images = await completeImages(docker, o.images ?? {}, needed, o.progress);
  // Armed before anything of the lab exists: a process that dies while deploying leaves nothing.
  const reaper =
    (o.reaper ?? keep === "never")
      ? await startReaper(docker, { lab: name, labels: o.labels ?? {}, image: images.relay })
      : undefined;
  const deployed = deployLab(docker, {
    name,
    topology,
    images,
    labels: o.labels,
    progress: o.progress,
    monitoring: o.monitoring,
    relayEnv: o.relayEnv,
    keepOnFailure: keep !== "never",
    source: {
      ...(typeof o.topology === "string" ? { topology: resolve(o.topology) } : {}),
      ...(typeof o.topology === "object" ? { fromObject: true } : {}),
      ...(o.kea ? { kea: o.kea } : {}),
      ...(o.logLevel ? { logLevel: o.logLevel } : {}),
      ...(o.relayEnv ? { relayEnv: o.relayEnv } : {}),
    },
  });
  // A failed start removed the lab, or keeps it (keep): either way the reaper has no more to do.
  const { spec, phases } = await deployed.catch(async (err: unknown) => {
    await reaper?.disarm();
    throw err;
  });
  return new OpenLab(docker, spec, images.client, phases, { keep, say: o.progress, reaper });
}

/** Builds the lab's images whose inputs changed (all with `rebuild`); returns what it did per image. */
export async function buildImages(
  o: {
    rebuild?: boolean;
    /** Only these images (default: the default lab's; pxe, prometheus, a second Kea, ... by name). */
    only?: ImageName[];
    docker?: Docker;
    progress?: (line: string) => void;
  } = {},
): Promise<ImageResult[]> {
  const docker = o.docker ?? dockerClient();
  await checkEngine(docker);
  return ensureImages(docker, { rebuild: o.rebuild, only: o.only, progress: o.progress });
}

/** Every dhcplab lab on the Docker host, with its state. */
export async function listLabs(o: { docker?: Docker } = {}): Promise<LabSummary[]> {
  const docker = o.docker ?? dockerClient();
  await checkEngine(docker);
  return listLabsOn(docker);
}

/**
 * Removes a lab by name, or every dhcplab lab on the Docker host when `name` is undefined (only
 * those carrying `label`, `key=value`, when given: a CI job's), with their firewall rules.
 * Removing nothing is not an error.
 */
export async function removeLabs(
  name: string | undefined,
  o: { docker?: Docker; label?: string } = {},
): Promise<{ containers: number; networks: number }> {
  const docker = o.docker ?? dockerClient();
  await checkEngine(docker);
  return downLabs(docker, name, undefined, o.label);
}

/** A lab that is already up (started by `startLab` or `dhcplab up`), by name. */
export async function openLab(
  name = "dhcplab",
  o: {
    docker?: Docker;
    images?: ImageTags;
    /** Whether this handle's down() leaves the lab up (StartLabOptions.keep; default never). */
    keep?: KeepLab;
    progress?: (line: string) => void;
  } = {},
): Promise<Lab> {
  const docker = o.docker ?? dockerClient();
  await checkEngine(docker);
  const spec = await readSpec(docker, name);
  const client =
    o.images?.client ?? (await clientImageOn(docker, specClientImage(spec))) ?? "dhcplab-client:latest";
  return new OpenLab(docker, spec, client, [], {
    keep: o.keep,
    say: o.progress,
  });
}

/** The images a lab runs (from its spec), and any the topology now needs besides, built. */
async function imagesFor(
  docker: Docker,
  spec: LabSpec,
  topology: Topology,
  client: string,
  progress?: (line: string) => void,
): Promise<ImageTags> {
  const have: Partial<ImageTags> = { client };
  for (const n of spec.nodes) {
    const r = n.role;
    if (r.kind === "kea") have[`kea-${r.version}` as ImageName] = n.image;
    if (r.kind === "relay") have.relay = n.image;
    if (r.kind === "tower" && r.towerKind === "isc-dhcp-relay") have.dhcrelay = n.image;
    if (r.kind === "boot") have.boot = n.image;
    if (r.kind === "dns") have.dns = n.image;
    if (r.kind === "radius") have.radius = n.image;
    if (r.kind === "prometheus") have.prometheus = n.image;
  }
  return completeImages(docker, have, topologyImages(topology), progress);
}

/** The images given, and those `needed` that are not given, built (or reused). */
async function completeImages(
  docker: Docker,
  have: Partial<ImageTags>,
  needed: readonly ImageName[],
  progress?: (line: string) => void,
): Promise<ImageTags> {
  const missing = needed.filter((i) => !have[i]);
  const built = missing.length > 0 ? await ensureImages(docker, { only: missing, progress }) : [];
  return { ...have, ...Object.fromEntries(built.map((r) => [r.name, r.tag])) } as ImageTags;
}

/** A load request with the library's defaults filled in: 50 clients at 50/s for 5 s, perfdhcp, DHCPv4. */
function loadOptions(r: LoadRequest): LoadOptions {
  return {
    mac: r.mac,
    engine: r.engine ?? "perfdhcp",
    family: r.family ?? 4,
    clients: r.clients ?? 50,
    rate: r.rate ?? 50,
    duration: r.seconds ?? 5,
    secsAfter: r.secsAfter,
    segment: r.segment,
    pd: r.pd,
  };
}

class OpenLab implements Lab {
  readonly name: string;
  networks!: Lab["networks"];
  services!: Record<string, string>;
  private failure?: string;

  constructor(
    private readonly docker: Docker,
    public spec: LabSpec,
    private readonly clientImage: string,
    readonly phases: readonly PhaseTiming[],
    private readonly o: { keep?: KeepLab; say?: (line: string) => void; reaper?: Reaper } = {},
  ) {
    this.name = spec.name;
    this.adopt(spec);
  }

  /** The lab's spec (after start, open or apply) and what the Lab says from it. */
  private adopt(spec: LabSpec): void {
    this.spec = spec;
    this.networks = {
      access: spec.access.network,
      segments: Object.fromEntries(
        spec.networks.filter((n) => n.segment).map((n) => [n.segment as string, n.name]),
      ),
      vrfs: Object.fromEntries(spec.networks.filter((n) => n.vrf).map((n) => [n.vrf as string, n.name])),
    };
    // The host's rules are a one-shot node, not a service.
    this.services = Object.fromEntries(
      spec.nodes.filter((n) => n.stage !== "host").map((n) => [n.service, n.container]),
    );
  }

  async apply(
    topology?: Topology | string,
    o: { progress?: (line: string) => void } = {},
  ): Promise<ApplyResult> {
    const running = await readSpec(this.docker, this.name);
    const { monitoring: _, ...source } = running.source ?? { monitoring: false };
    if (topology === undefined && source.fromObject)
      throw new Error(
        `lab ${this.name} was started from a Topology object, not a file: give apply the topology (lab.apply(topology), dhcplab apply --topology FILE)`,
      );
    const file = typeof topology === "string" ? resolve(topology) : topology ? undefined : source.topology;
    const loaded = typeof topology === "object" ? topology : await loadTopology(file);
    const versioned = source.kea ? withKea(loaded, source.kea as KeaVersion) : loaded;
    const level = source.logLevel as RelayLogLevel | undefined;
    const t = level ? { ...versioned, relay: { ...versioned.relay, logLevel: level } } : versioned;
    const { spec, result } = await applyLab(this.docker, running, {
      topology: t,
      source: { ...source, topology: file, fromObject: typeof topology === "object" || undefined },
      images: await imagesFor(this.docker, running, t, this.clientImage, o.progress),
      progress: o.progress,
    });
    this.adopt(spec);
    return result;
  }

  /** The lab's services now: a server may have been stopped or started since the lab was opened. */
  private state(): Promise<LabState> {
    return labState(this.docker, this.spec);
  }

  private container(service: string) {
    return this.docker.getContainer(nodeOf(this.spec, service).container);
  }

  async leases(filter: { vrf?: string; family?: 4 | 6; server?: string } = {}): Promise<LeaseRow[]> {
    // Found again: a server may have been stopped or started since the lab was opened.
    return labLeases(this.docker, await this.state(), {
      vrf: filter.vrf,
      server: filter.server,
      families: filter.family ? [filter.family] : [4, 6],
    });
  }

  async statistics(filter: { vrf?: string; server?: string } = {}): Promise<KeaServerStatistics[]> {
    return labStatistics(this.docker, await this.state(), filter);
  }

  async audit(filter: AuditFilter = {}): Promise<AuditRecord[]> {
    return labAudit(this.docker, await this.state(), filter);
  }

  async ha(): Promise<HaServerState[]> {
    return haStates(this.docker, await this.state());
  }

  async kea(request: KeaCommandRequest): Promise<KeaCommandAnswer> {
    return sendKeaCommand(this.docker, await this.state(), request);
  }

  async load(r: LoadRequest): Promise<LoadResult> {
    const o = loadOptions(r);
    if (!r.messages) return runLoad(this.docker, await this.state(), this.clientImage, o);
    const before = await this.sample({ answering: true });
    const run = await runLoad(this.docker, await this.state(), this.clientImage, o);
    const after = await this.sample({ answering: true });
    const messages = messagesOfRun(before, after, o.family);
    return { ...run, messages, unanswered: unansweredByKea(messages, o.family) };
  }

  /**
   * Kea's statistics and the relay's counters now: one sample of a load. `answering`: of what
   * answers (a server killed or frozen by a fault has nothing to give, and fails no load).
   */
  private async sample(o: { durations?: boolean; answering?: boolean } = {}): Promise<Omit<LoadSample, "t">> {
    const answering = o.answering === true;
    const [kea, relay] = await Promise.all([
      labStatistics(this.docker, await this.state(), { durations: o.durations === true, answering }),
      this.counters().catch((err: unknown): RelayCounters => {
        if (answering) return {};
        throw err;
      }),
    ]);
    return {
      kea: kea.map((k) => ({
        vrf: k.vrf,
        server: k.server,
        family: k.family,
        values: Object.fromEntries(k.statistics.map((s) => [statisticName(s), s.value])),
        ...(k.durations ? { durations: k.durations.filter((d) => d.subnet === 0) } : {}),
      })),
      relay,
    };
  }

  async loadReport(r: LoadRequest): Promise<LoadReport> {
    const startedAt = new Date().toISOString();
    const sampler = sampleEverySecond(() => this.sample({ durations: true }));
    const o = loadOptions(r);
    const result = await runLoad(this.docker, await this.state(), this.clientImage, o).catch(
      async (err: unknown) => {
        await sampler.stop();
        throw err;
      },
    );
    const samples = await sampler.stop();
    return {
      version: 1,
      lab: this.name,
      startedAt,
      load: {
        family: o.family,
        engine: o.engine ?? "perfdhcp",
        clients: o.clients,
        rate: o.rate,
        seconds: o.duration,
        mac: o.mac,
      },
      samples,
      result: { exitCode: result.exitCode, command: result.command, report: result.report },
    };
  }

  async client(r: ClientRequest): Promise<ClientResult> {
    if (r.kind === "pxe") {
      if (r.family === 6 || r.pd || r.vendorClass !== undefined || r.arch !== undefined || r.hostname)
        throw new Error(
          "the PXE client is iPXE's own: DHCPv4, with the vendor class, architecture and name it sends",
        );
      const [pxe] = await ensureImages(this.docker, { only: ["pxe"], progress: r.progress });
      const { exitCode, output, ...boot } = await runPxeClient(
        this.docker,
        await this.state(),
        pxe?.tag ?? "",
        {
          mac: r.mac,
          segment: r.segment,
          timeoutMs: (r.timeoutSeconds ?? 90) * 1000,
        },
      );
      return { ...boot, prefixes: [], exitCode, output };
    }
    return runClient(this.docker, await this.state(), this.clientImage, {
      mac: r.mac,
      family: r.family ?? 4,
      kind: r.kind ?? "dhclient",
      segment: r.segment,
      pd: r.pd,
      vendorClass: r.vendorClass,
      arch: r.arch,
      hostname: r.hostname,
    });
  }

  async run(command: string[], o: RunRequest = {}): Promise<{ exitCode: number; output: string }> {
    const { image, network, ...extra } = o;
    const on = network === undefined ? {} : { networkName: networkOf(this.spec, network).name };
    return runOnAccess(this.docker, await this.state(), image ?? this.clientImage, command, {
      ...extra,
      ...on,
    });
  }

  async healthy(service: string, timeoutMs = 90_000): Promise<void> {
    const name = this.container(service).id;
    await waitHealthy(this.docker, service, name, timeoutMs);
  }

  async putFiles(service: string, dir: string, files: Readonly<Record<string, string | Uint8Array>>) {
    await this.container(service).putArchive(tarOf(Object.entries(files)), { path: dir });
  }

  /** One of the relay's JSON endpoints, asked from inside its container. */
  private relayJson<T>(path: string, o: { method?: "GET" | "POST" | "PUT"; body?: string } = {}): Promise<T> {
    return relayRequest<T>(this.docker, this.container("relay").id, path, {
      ...o,
      port: this.spec.relay.httpPort,
    });
  }

  explain(request: ExplainRequest): Promise<Explanation> {
    return this.relayJson("/explain", { method: "POST", body: JSON.stringify(request) });
  }

  async leasequery(request: LeaseQueryRequest): Promise<LeaseQueryResult> {
    const vrf = this.spec.vrfs.find((v) => v.spec.name.toLowerCase() === request.vrf.toLowerCase());
    if (!vrf) throw new Error(`lab ${this.name} has no VRF ${request.vrf}`);
    const answers = await this.relayJson<(LeaseQueryAnswer & { server: string })[]>("/leasequery", {
      method: "POST",
      body: JSON.stringify({ ...request, vrf: vrf.spec.name }),
    });
    // The relay names each server by its address; the lab by its service too.
    const service = (address: string) =>
      vrf.keas.find((k) => k.ipv4 === address || k.ipv6 === address)?.service ?? address;
    const { vrf: _, ...query } = request;
    return {
      vrf: vrf.spec.name,
      query,
      answers: answers.map(({ server, ...a }) => ({ server: service(server), address: server, ...a })),
    };
  }

  async trace(request: TraceRequest): Promise<ClientTrace> {
    return traceClient(this.docker, await this.state(), this.spec.relay.httpPort, request);
  }

  async keaLogLevel(level: KeaLogLevel, o: { vrf?: string } = {}): Promise<KeaLogChange[]> {
    return setKeaLogLevel(this.docker, await this.state(), level, o);
  }

  async relayLogLevel(level?: RelayLogLevel): Promise<RelayLogLevel> {
    if (level !== undefined && !(RELAY_LOG_LEVELS as readonly string[]).includes(level))
      throw new Error(`the relay's log level is one of ${RELAY_LOG_LEVELS.join(", ")}, not ${level}`);
    const answer = await this.relayJson<{ level: RelayLogLevel }>(
      "/log-level",
      level ? { method: "PUT", body: level } : {},
    );
    return answer.level;
  }

  fail(reason: string): void {
    this.failure ??= reason;
  }

  netem(service: string, network: string, condition: LinkCondition | undefined): Promise<Fault | undefined> {
    return setCondition(this.docker, this.spec, this.clientImage, service, network, condition);
  }

  async disconnect(service: string, network: string, o: { from?: string } = {}): Promise<void> {
    if (o.from)
      await setCut(this.docker, this.spec, this.clientImage, { service, peer: o.from, network, cut: true });
    else await setConnected(this.docker, this.spec, this.clientImage, { service, network, connected: false });
  }

  async connect(service: string, network: string, o: { from?: string } = {}): Promise<string[]> {
    if (!o.from)
      return setConnected(this.docker, this.spec, this.clientImage, { service, network, connected: true });
    await setCut(this.docker, this.spec, this.clientImage, { service, peer: o.from, network, cut: false });
    return [];
  }

  async pause(service: string): Promise<void> {
    await this.container(service).pause();
  }

  async unpause(service: string): Promise<void> {
    await this.container(service).unpause();
  }

  faults(): Promise<Fault[]> {
    return listFaults(this.docker, this.spec);
  }

  counters(): Promise<RelayCounters> {
    return this.relayJson("/counters");
  }

  delegations(): Promise<DelegatedRoute[]> {
    return this.relayJson("/delegations");
  }

  async counter(name: string, match: Record<string, string | number> = {}): Promise<number> {
    return counterSum(await this.counters(), name, match);
  }

  logs(service: string, tail?: number): Promise<string> {
    return containerLogs(this.docker, this.container(service).id, tail);
  }

  async stop(service: string, seconds = 2): Promise<void> {
    await this.container(service).stop({ t: seconds });
  }

  async start(service: string): Promise<void> {
    await this.container(service).start();
    // Its faults lived in the namespace it had before; a Kea's exporter follows it into the new one.
    await namespaceRenewed(this.docker, this.spec, service);
  }

  async kill(service: string, signal = "SIGKILL"): Promise<void> {
    await this.container(service).kill({ signal });
    if (signal === "SIGKILL" || signal === "KILL") await forgetFaultsOf(this.docker, this.spec, service);
  }

  async exec(service: string, command: string[]) {
    return exec(this.docker, this.container(service).id, command);
  }

  async forward(
    service: string,
    port: number,
    o: { host?: string; localPort?: number } = {},
  ): Promise<Forward> {
    return forwardPort(this.docker, this.container(service).id, port, {
      ...o,
      onError: (err) => this.o.say?.(`forward to ${service}:${port}: ${err.message}`),
    });
  }

  async capture(network: string, o: { filter?: string[]; count?: number } = {}): Promise<Capture> {
    return startCapture(this.docker, await this.state(), this.clientImage, { network, ...o });
  }

  async status(): Promise<LabStatus> {
    const running = await this.state();
    const up = running.relay?.state === "running";
    const counters = up ? await this.counters().catch(() => ({})) : {};
    const delegations = up ? await this.delegations().catch(() => []) : [];
    return {
      ...running,
      ha: await haStates(this.docker, running),
      counters,
      delegations,
      faults: await listFaults(this.docker, this.spec),
      alerts: await labAlerts(this.docker, running).catch(() => []),
    };
  }

  async down(o: { force?: boolean } = {}): Promise<void> {
    const keep = this.o.keep ?? "never";
    // Kept or removed here, the lab is no longer the reaper's.
    await this.o.reaper?.disarm();
    if (!o.force && (keep === "always" || (keep === "on-failure" && this.failure))) {
      const why = keep === "always" ? "keep: always" : `keep: on-failure, ${this.failure}`;
      (this.o.say ?? ((line: string) => process.stderr.write(`${line}\n`)))(
        `lab ${this.name} is kept (${why}): dhcplab status --name ${this.name}; dhcplab down --name ${this.name} removes it`,
      );
      return;
    }
    await downLabs(this.docker, this.name, this.clientImage);
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.down();
  }
}
