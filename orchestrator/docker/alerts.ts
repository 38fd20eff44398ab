import type Docker from "dockerode";
import { httpInContainer } from "./container-http.ts";
import type { LabState } from "./lab.ts";

// The lab's alerts as its Prometheus evaluates them (up --monitoring; the rules are
// model/monitoring.ts's), asked from inside the Prometheus container.

/** An alert pending or firing. */
export interface Alert {
  name: string;
  state: "pending" | "firing";
  /** Its labels beside the name (vrf, server, family, reason, ...). */
  labels: Record<string, string>;
  summary?: string;
  since: string;
}

interface AlertsAnswer {
  status: string;
  data?: {
    alerts: {
      labels: Record<string, string>;
      annotations?: Record<string, string>;
      state: string;
      activeAt: string;
    }[];
  };
}

/** The alerts Prometheus has now; none without monitoring or with Prometheus not running. */
export async function labAlerts(docker: Docker, lab: LabState): Promise<Alert[]> {
  const p = lab.monitoring?.prometheus;
  if (p?.state !== "running") return [];
  const answer = await httpInContainer<AlertsAnswer>(docker, p.id, "http://127.0.0.1:9090/api/v1/alerts");
  return (answer.data?.alerts ?? [])
    .map(({ labels: { alertname, ...labels }, annotations, state, activeAt }) => ({
      name: alertname ?? "",
      state: state === "firing" ? ("firing" as const) : ("pending" as const),
      labels,
      ...(annotations?.summary ? { summary: annotations.summary } : {}),
      since: activeAt,
    }))
    .sort((a, b) =>
      `${a.name} ${JSON.stringify(a.labels)}`.localeCompare(`${b.name} ${JSON.stringify(b.labels)}`),
    );
}
