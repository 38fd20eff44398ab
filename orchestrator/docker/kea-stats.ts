import type Docker from "dockerode";
import {
  type KeaDuration,
  type KeaStatistic,
  type KeaStatisticsAnswer,
  parseDurations,
  parseStatistics,
} from "../../lib/kea/statistics.ts";
import type { KeaEndpoint } from "../model/kea-config.ts";
import { KEA_RESULT, keaCommand } from "./kea-control.ts";
import type { LabState } from "./lab.ts";
import { runningKeas } from "./leases.ts";

/** One Kea server's statistics for one family, now. */
export interface KeaServerStatistics {
  vrf: string;
  /** The Kea service (`kea-red`, `kea-red-2`). */
  server: string;
  family: 4 | 6;
  statistics: KeaStatistic[];
  /** With `durations` asked for and Kea's perfmon hook loaded: its last intervals' per-stage durations. */
  durations?: KeaDuration[];
}

/** perfmon's durations where the hook is loaded (Kea answers "unsupported" elsewhere: none). */
async function durationsOf(
  docker: Docker,
  id: string,
  endpoint: KeaEndpoint,
): Promise<{ durations?: KeaDuration[] }> {
  const answer = await keaCommand<Parameters<typeof parseDurations>[0]>(
    docker,
    id,
    "perfmon-get-all-durations",
    endpoint,
    { "result-set-format": true },
  );
  return answer.result === KEA_RESULT.success ? { durations: parseDurations(answer.arguments ?? {}) } : {};
}

/**
 * Every running Kea server's statistics (statistic-get-all), or one VRF's, read where each takes
 * commands. `answering`: the servers that answer, leaving out one that does not (frozen, dying)
 * rather than failing: a load's samples go on while a fault is in force.
 */
export async function labStatistics(
  docker: Docker,
  lab: LabState,
  o: { vrf?: string; server?: string; durations?: boolean; answering?: boolean } = {},
): Promise<KeaServerStatistics[]> {
  const asked = runningKeas(lab, o, "it has no statistics to tell").flatMap((k) =>
    k.families.flatMap((family) => {
      const endpoint = k.control[`dhcp${family}`];
      return endpoint ? [{ k, family, endpoint }] : [];
    }),
  );
  // Every server at once: a load report's sample is one moment, not a second of reads.
  const reads = asked.map(async ({ k, family, endpoint }): Promise<KeaServerStatistics> => {
    const answer = await keaCommand<KeaStatisticsAnswer>(docker, k.id, "statistic-get-all", endpoint);
    if (answer.result !== KEA_RESULT.success)
      throw new Error(`${k.name}: statistic-get-all failed: ${answer.text ?? `result ${answer.result}`}`);
    return {
      vrf: k.vrf,
      server: k.name,
      family,
      statistics: parseStatistics(answer.arguments ?? {}),
      ...(o.durations ? await durationsOf(docker, k.id, endpoint) : {}),
    };
  });
  if (!o.answering) return Promise.all(reads);
  return (await Promise.allSettled(reads)).flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
}
