import type { TestLab } from "./lab.ts";

// FreeRADIUS's accounting detail files (its detail module: one file a day per NAS, under
// /var/log/freeradius/radacct/<NAS address>/), read from a lab's RADIUS server container.

/** One accounting record: its attributes as FreeRADIUS wrote them, octets decoded to text. */
export type AccountingRecord = Record<string, string>;

/**
 * The records of a detail file's text: each a timestamp line, then tab-indented `Name = value`
 * lines, then a blank line. Quoted values lose their quotes; 0x octets (Class) become text.
 */
export function parseDetail(text: string): AccountingRecord[] {
  return text
    .split(/\n\s*\n/)
    .map((block) =>
      Object.fromEntries(
        block
          .split("\n")
          .map((line) => /^\t(\S+) = (.*)$/.exec(line))
          .filter((m): m is RegExpExecArray => m !== null)
          .map(([, name = "", value = ""]) => [name, decode(value)]),
      ),
    )
    .filter((r) => Object.keys(r).length > 0);
}

const decode = (value: string) =>
  /^".*"$/.test(value)
    ? value.slice(1, -1)
    : /^0x([0-9a-f]{2})+$/i.test(value)
      ? Buffer.from(value.slice(2), "hex").toString()
      : value;

/** Every accounting record a VRF's RADIUS server has written, oldest first. */
export async function accountingRecords(lab: TestLab, service: string): Promise<AccountingRecord[]> {
  const r = await lab.exec(service, [
    "sh",
    "-c",
    "cat /var/log/freeradius/radacct/*/detail-* 2>/dev/null || true",
  ]);
  return parseDetail(r.stdout);
}
