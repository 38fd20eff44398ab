import type { Explanation } from "../../lib/decision.ts";
import type { ClientResult, LabStatus, LeaseQueryResult, RelayLogLevel } from "../api.ts";
import type { ApplyResult } from "../docker/apply.ts";
import type { AuditRecord } from "../docker/audit.ts";
import type { PhaseTiming } from "../docker/deploy.ts";
import type { Fault } from "../docker/faults.ts";
import type { ImageResult } from "../docker/images.ts";
import type { KeaCommandAnswer } from "../docker/kea-command.ts";
import type { KeaLogChange } from "../docker/kea-logging.ts";
import type { KeaServerStatistics } from "../docker/kea-stats.ts";
import type { LabSummary } from "../docker/lab.ts";
import type { LeaseRow } from "../docker/leases.ts";
import type { ClientTrace } from "../docker/trace.ts";
import type { MessageCount, UnansweredCount } from "../model/load-report.ts";
import type { PerfdhcpReport } from "../model/perfdhcp.ts";

// What every command prints with --json: an API that scripts read. Each output is a type here,
// the commands print through `printJson` so that they cannot print anything else, and
// docs/json-output.md and schema/json-output.schema.json are generated from these types
// (npm run docs). Changing an output means raising JSON_OUTPUT_VERSION and saying what changed
// in JSON_OUTPUT_CHANGES: a test fails until both match the schema.

/** The --json outputs' version. */
export const JSON_OUTPUT_VERSION = 7;

/** What each version changed, newest first. */
export const JSON_OUTPUT_CHANGES: readonly [number, string][] = [
  [
    7,
    "new: kea, one Kea server's answer to any command sent to its control surface (server, family, command, result, text, arguments as Kea gave them).",
  ],
  [
    6,
    "what a relay added (leases' `relay`, trace, explain, audit): `vss`, RFC 6607 Virtual Subnet Selection (the VPN's name, `vpn-id:OUI:index` or `global`). Drop reasons: `vrf-not-on-segment`, `vss-not-supported`. images: the names `engine` and `podman` (a Docker Engine and Podman to run in a container, the remote-Engine tests').",
  ],
  [
    5,
    "new: leasequery, each server's answer to the relay's lease query (active with its bindings, unassigned, unknown). new: audit, the legal log records (Kea 3.0's legal_log hook) of the lab's Kea servers, each with its VRF, server, family, event, lease, client and what the relay added. load: `unanswered`, per VRF and kind of request, Kea's count of the requests beside its answers (what a rate limit refused). status, inspect and up: `servers`, each VRF's other servers (its DNS server, kind `dns`; its RADIUS server, kind `radius`); ls counts them among a lab's containers; graph draws them.",
  ],
  [
    4,
    "leases: `cltt`, the client's last transaction with the server (a renewal or rebinding moves it). load: `messages`, every message type the relay relayed during the run (NAKs, DECLINEs and INFORMs among them) per VRF and direction, beside Kea's matching statistic.",
  ],
  [
    3,
    "new: apply (what changed per service), explain (the relay's decision for a client), trace (a client's exchanges, relay and Kea), log-level (the relay's level, or Kea's logging per server), netem (the condition set), faults (netem --list). status and up: `faults`, the faults in force, and `alerts`, the alerts Prometheus has (with monitoring).",
  ],
  [
    2,
    "up: `phases`, how long each phase of the deploy took. status and up: a service whose container is gone is listed with state `missing` (it was left out); `networks[].segment` is absent on networks that are no segment; a Kea's `ha` is absent outside an HA pair.",
  ],
  [1, "the outputs as dhcplab 0.1 printed them."],
];

/** The SHA-256 of the generated JSON Schema of these outputs: the test that compares it fails on any change. */
export const JSON_OUTPUT_SCHEMA_SHA256 = "5329e86a3bc79443167b38fe2eccf619de20c2ae872e1272a330a62df65355ef";

/** `up --json`: the lab's status once it is up, how long it took, and each phase of the deploy. */
export type UpOutput = LabStatus & { seconds: number; phases: PhaseTiming[] };

/** `down --json`: what was removed, and how long it took. */
export interface DownOutput {
  containers: number;
  networks: number;
  seconds: number;
}

/**
 * `load --json`: the load generator's command line, its exit code (3: some exchanges failed), its
 * figures, every message the relay relayed during the run beside Kea's count of it, and the requests
 * Kea left unanswered.
 */
export type LoadOutput = {
  command: string[];
  exitCode: number;
  messages: MessageCount[];
  unanswered: UnansweredCount[];
} & PerfdhcpReport;

/** `graph --json`: the diagram's text in its format. */
export interface GraphOutput {
  format: "mermaid" | "dot";
  graph: string;
}

/** `compose --json`: the file written and its size. */
export interface ComposeOutput {
  file: string;
  bytes: number;
}

/** `kea --json`: the server's answer to the command, as Kea gave it. */
export type KeaOutput = KeaCommandAnswer;

/** `log-level --json`: the relay's level now, or what each Kea server's logging became. */
export interface LogLevelOutput {
  relay?: RelayLogLevel;
  kea?: KeaLogChange[];
}

/** Every command's --json output, by command (status and inspect print the same). */
export interface JsonOutputs {
  up: UpOutput;
  down: DownOutput;
  ls: LabSummary[];
  status: LabStatus;
  leases: LeaseRow[];
  stats: KeaServerStatistics[];
  audit: AuditRecord[];
  leasequery: LeaseQueryResult;
  load: LoadOutput;
  client: ClientResult;
  logs: Record<string, string>;
  graph: GraphOutput;
  compose: ComposeOutput;
  images: ImageResult[];
  apply: ApplyResult;
  explain: Explanation;
  trace: ClientTrace;
  "log-level": LogLevelOutput;
  kea: KeaOutput;
  netem: Fault[];
  faults: Fault[];
}
