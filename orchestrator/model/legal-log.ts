import { fromHex } from "../../lib/codec/bytes.ts";
import { decodeRelayInfo, type RelayInfo, readable } from "../../lib/relay-info.ts";
import { hookOf, KeaConfigError } from "./kea-json.ts";

// Kea 3.0's legal_log hook (Kea ARM, "Forensic Logging"): where a server writes its records, and
// what one record says. The records are read back by `dhcplab audit` (docker/audit.ts); this
// module reads the configuration and the text, nothing else.

/** Where Debian's Kea 3.0.4 writes legal logs: its build refuses any other `path` when the server starts. */
export const LEGAL_LOG_DIR = "/var/log/kea";

/** A server's legal log, as its hooks-libraries entry configures it. */
export interface LegalLogConfig {
  /** The folder (Kea's `path`). */
  path: string;
  /** Kea's `base-name`: the files are `<base-name>.<CCYYMMDD>.txt` (or `.T<seconds>.txt`). */
  baseName: string;
  /** Where its parameters are in the file: Dhcp4.hooks-libraries[3].parameters. */
  field: string;
}

type Obj = Record<string, unknown>;

/**
 * The legal log a kea-dhcp4/6 configuration writes, or undefined when it loads no legal_log hook.
 * Refuses (with the file and field) what the lab's Kea would refuse only when it starts (`-t`
 * passes it): a `path` other than /var/log/kea; and what `dhcplab audit` cannot read: records
 * kept in syslog or a database rather than files.
 */
export function legalLogOf(file: string, text: string, family: 4 | 6): LegalLogConfig | undefined {
  const hook = hookOf(file, text, family, "libdhcp_legal_log.so");
  if (!hook) return undefined;
  const { parameters, field } = hook;
  const type = parameters.type ?? "logfile";
  if (type !== "logfile")
    throw new KeaConfigError(
      file,
      `${field}.type`,
      `legal log type ${JSON.stringify(type)}: dhcplab audit reads the records from files (type "logfile", Kea's default)`,
    );
  const path = typeof parameters.path === "string" ? parameters.path.replace(/\/+$/, "") : LEGAL_LOG_DIR;
  if (path !== LEGAL_LOG_DIR)
    throw new KeaConfigError(
      file,
      `${field}.path`,
      `${JSON.stringify(parameters.path)}: Debian's Kea 3.0 writes legal logs only under ${LEGAL_LOG_DIR} (another path stops the server at start)`,
    );
  const baseName = typeof parameters["base-name"] === "string" ? parameters["base-name"] : "kea-legal";
  return { path, baseName, field };
}

/** Whether a file in the legal log's folder is one of its files (`<base-name>.<date>.txt`). */
export function isLegalLogFile(config: Pick<LegalLogConfig, "baseName">, name: string): boolean {
  return name.startsWith(`${config.baseName}.`) && name.endsWith(".txt");
}

/** One record of a legal log, read from Kea's default text format. */
export interface LegalLogRecord {
  /** As Kea wrote it: "2026-12-06 11:29:17 UTC" with the default timestamp-format. */
  time: string;
  /** What happened to the lease: assigned, renewed, released, declined, ... (Kea's word). */
  event: string;
  /** An address, or a delegated prefix (DHCPv6 IA_PD, as prefix/length). */
  kind: "address" | "prefix";
  address: string;
  /** The lease's valid lifetime in seconds, where the record gives one (not on a release). */
  lifetime?: number;
  /** The client's hardware address (DHCPv4; DHCPv6 where Kea knows it). */
  mac?: string;
  /** DHCPv4 client identifier (option 61), as Kea printed it. */
  clientId?: string;
  /** DHCPv6 DUID, as Kea printed it. */
  duid?: string;
  /** DHCPv4: the relay's address (giaddr). */
  giaddr?: string;
  /** What the relay added (Option 82; the closest RELAY-FORW's options, link- and peer-address). */
  relay?: RelayInfo;
  /** The record's whole line. */
  line: string;
}

const DURATION = /for (\d+) hrs (\d+) mins? (\d+) secs/;
const match = (re: RegExp, line: string) => re.exec(line)?.[1];

/** An identifier Kea printed as colon hex ("56:49:44"), decoded for people. */
const hexText = (colonHex: string | undefined) =>
  colonHex === undefined ? undefined : readable(fromHex(colonHex.replaceAll(":", "")));

/**
 * The relay's options: from the user-context Kea appends (store-extended-info), decoded as
 * `dhcplab leases` decodes a lease's; else from the identifiers the line names.
 */
function relayOf(line: string, family: 4 | 6): RelayInfo | undefined {
  const context = line.indexOf(", context: ");
  if (context >= 0) {
    try {
      const info = decodeRelayInfo((JSON.parse(line.slice(context + 11)) as Obj).ISC);
      if (info) return info;
    } catch {
      // Not JSON: the identifiers in the line are what there is.
    }
  }
  const id = (name: string) => match(new RegExp(`${name}: ([0-9a-f]{2}(?::[0-9a-f]{2})*)`), line);
  const info: RelayInfo =
    family === 4
      ? { circuitId: hexText(id("circuit-id")), remoteId: hexText(id("remote-id")) }
      : {
          circuitId: hexText(id("interface-id")),
          link: match(/link address: ([0-9a-f:.]+)/, line),
          peer: match(/connected via relay at address: ([0-9a-f:.]+)/, line),
        };
  const subscriber = id("subscriber-id");
  if (subscriber) info.subscriberId = hexText(subscriber);
  return Object.values(info).some((v) => v !== undefined) ? info : undefined;
}

/**
 * The lease records of a legal log's text, in Kea's default format (ARM, "Forensic Logging"):
 * `<time> Address: <a> has been <event> for <h> hrs <m> mins <s> secs to a device with ...`.
 * Lines of another shape (an administrator's lease commands, a custom format) are skipped.
 */
export function parseLegalLog(text: string, family: 4 | 6): LegalLogRecord[] {
  const records: LegalLogRecord[] = [];
  for (const line of text.split("\n")) {
    const head = /^(.+?) (Address|Prefix): ?(\S+) has been (\w+)/.exec(line);
    if (!head) continue;
    const [, time = "", kind = "", address = "", event = ""] = head;
    const d = DURATION.exec(line);
    const giaddr = family === 4 ? match(/connected via relay at address: ([0-9.]+)/, line) : undefined;
    const relay = line.includes("connected via relay") ? relayOf(line, family) : undefined;
    records.push({
      time,
      event,
      kind: kind === "Prefix" ? "prefix" : "address",
      address: address.replace(/,$/, ""),
      ...(d ? { lifetime: Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) } : {}),
      ...optional("mac", match(/hardware address: hwtype=\d+ ([0-9a-f:]+)/, line)),
      ...optional("clientId", match(/client-id: ([0-9a-f:]+)/, line)),
      ...optional("duid", match(/DUID: ([0-9a-f:]+)/, line)),
      ...optional("giaddr", giaddr),
      ...(relay ? { relay } : {}),
      line,
    });
  }
  return records;
}

const optional = <K extends string>(key: K, value: string | undefined) =>
  (value === undefined ? {} : { [key]: value }) as Partial<Record<K, string>>;
