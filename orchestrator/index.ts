// dhcplab's library: start a lab from a topology, drive clients and load through its relay, read
// what Kea leased and what the relay counted, and remove it. The `dhcplab` command is a thin
// layer over these.

export type { ExplainRequest, Explanation, RelayDecision } from "../lib/decision.ts";
export type { KeaStatistic } from "../lib/kea/statistics.ts";
export type {
  LeaseBinding,
  LeaseQuery,
  LeaseQuery4By,
  LeaseQuery6By,
  LeaseQueryAnswer,
} from "../lib/leasequery.ts";
export type { RelayInfo } from "../lib/relay-info.ts";
export {
  buildImages,
  type ClientRequest,
  type ClientResult,
  type DelegatedRoute,
  type KeepLab,
  type Lab,
  type LabStatus,
  type LeaseQueryRequest,
  type LeaseQueryResult,
  type LoadRequest,
  listLabs,
  openLab,
  type RelayCounters,
  type RelayLogLevel,
  type RunRequest,
  removeLabs,
  type StartLabOptions,
  startLab,
} from "./api.ts";
export type { Alert } from "./docker/alerts.ts";
export type { AppliedChange, ApplyResult } from "./docker/apply.ts";
export type { AuditFilter, AuditRecord } from "./docker/audit.ts";
export type { Capture } from "./docker/capture.ts";
export {
  type ClientKind,
  type LoadEngine,
  type LoadResult,
  type LoadRun,
  type PdMode,
  WAIT_FOR_LINK,
} from "./docker/clients.ts";
export { PHASES, type PhaseTiming } from "./docker/deploy.ts";
export type { Fault, LinkCondition } from "./docker/faults.ts";
export type { Forward } from "./docker/forward.ts";
export type { HaServerState } from "./docker/ha.ts";
export type { ImageName, ImageResult, ImageTags } from "./docker/images.ts";
export type { KeaCommandAnswer, KeaCommandRequest } from "./docker/kea-command.ts";
export type { KeaLogChange, KeaLogLevel } from "./docker/kea-logging.ts";
export type { KeaServerStatistics } from "./docker/kea-stats.ts";
export type { LabSummary } from "./docker/lab.ts";
export type { LeaseRow } from "./docker/leases.ts";
export type { ClientTrace, KeaTrace, TraceRequest } from "./docker/trace.ts";
export type { KeaLogLine } from "./model/kea-log.ts";
export type { LegalLogRecord } from "./model/legal-log.ts";
export {
  type LoadReport,
  type LoadSample,
  type MessageCount,
  renderReportHtml,
} from "./model/load-report.ts";
export type { ExchangeStats, PerfdhcpReport } from "./model/perfdhcp.ts";
export { loadTopology, parseTopology, type Topology, type VrfSpec } from "./model/topology.ts";
export type {
  EndpointSpec,
  FileSpec,
  LabSpec,
  NetworkSpec,
  NodeRole,
  NodeSpec,
} from "./spec/spec.ts";
