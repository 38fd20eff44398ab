import type Docker from "dockerode";
import {
  type KeaStatistic,
  type KeaStatisticsAnswer,
  parseStatistics,
} from "../../relay/kea-exporter/statistics.ts";
import { KEA_RESULT, keaCommand } from "./kea-control.ts";
import type { RunningLab } from "./lab.ts";
import { runningKeas } from "./leases.ts";

/** One Kea server's statistics for one family, now. */
export interface KeaServerStatistics {
  vrf: string;
  /** The Kea service (`kea-red`, `kea-red-2`). */
  server: string;
  family: 4 | 6;
  statistics: KeaStatistic[];
}

/** Every running Kea server's statistics (statistic-get-all), or one VRF's, read where each takes commands. */
export async function labStatistics(
  docker: Docker,
  lab: RunningLab,
  o: { vrf?: string; server?: string } = {},
): Promise<KeaServerStatistics[]> {
  const rows: KeaServerStatistics[] = [];
  for (const k of runningKeas(lab, o, "statistics")) {
    for (const family of k.families) {
      const endpoint = k.control[`dhcp${family}`];
      if (!endpoint) continue;
      const answer = await keaCommand<KeaStatisticsAnswer>(docker, k.id, "statistic-get-all", endpoint);
      if (answer.result !== KEA_RESULT.success)
        throw new Error(`${k.name}: statistic-get-all failed: ${answer.text ?? `result ${answer.result}`}`);
      rows.push({ vrf: k.vrf, server: k.name, family, statistics: parseStatistics(answer.arguments ?? {}) });
    }
  }
  return rows;
}
