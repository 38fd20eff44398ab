import type Docker from "dockerode";
import { macToBytes, macToString } from "../../lib/codec/address.ts";
import { isLegalLogFile, type LegalLogRecord, legalLogOf, parseLegalLog } from "../model/legal-log.ts";
import { containerFile, containerFolder } from "./engine.ts";
import type { LabState } from "./lab.ts";
import { runningKeas } from "./leases.ts";

// dhcplab audit: the legal log records (Kea 3.0's legal_log hook) of every VRF whose Kea writes
// them, read from each running server's files. Which files is read from the configuration the
// server runs now (its /etc/kea), so a hook added by `apply` is found without a new lab.

/** One legal log record, with the VRF and server that wrote it. */
export interface AuditRecord extends LegalLogRecord {
  vrf: string;
  /** The Kea service that wrote it (`kea-red`, `kea-red-2`, ...). */
  server: string;
  family: 4 | 6;
}

/** Which records: a VRF's, a server's, a family's, one client's (its MAC, in DHCPv6 as Kea knows it). */
export interface AuditFilter {
  vrf?: string;
  server?: string;
  family?: 4 | 6;
  mac?: string;
}

/**
 * Every legal log record of the lab's running Kea servers, in VRF and server order, oldest first
 * (both families' records interleaved by time). A server whose configuration loads no legal_log
 * hook has none.
 */
export async function labAudit(docker: Docker, lab: LabState, o: AuditFilter = {}): Promise<AuditRecord[]> {
  const mac = o.mac === undefined ? undefined : macToString(macToBytes(o.mac));
  const records: AuditRecord[] = [];
  for (const k of runningKeas(lab, o, "it has no legal log to tell")) {
    for (const family of k.families.filter((f) => o.family === undefined || f === o.family)) {
      const file = `/etc/kea/kea-dhcp${family}.conf`;
      const config = legalLogOf(file, (await containerFile(docker, k.id, file)).toString(), family);
      if (!config) continue;
      // The folder exists from the server's start (the image's entrypoint makes it).
      const files = await containerFolder(docker, k.id, config.path);
      const names = [...files.keys()].filter((n) => isLegalLogFile(config, n)).sort();
      for (const name of names)
        for (const r of parseLegalLog(files.get(name)?.toString() ?? "", family))
          if (mac === undefined || r.mac === mac) records.push({ vrf: k.vrf, server: k.name, family, ...r });
    }
  }
  // Per server, in time order (the default timestamp sorts as text; a sort keeps equal ones in order).
  return records.sort(
    (a, b) => a.vrf.localeCompare(b.vrf) || a.server.localeCompare(b.server) || a.time.localeCompare(b.time),
  );
}
