// What an iPXE firmware client did, read from its serial console: the address it configured,
// the next-server and boot file DHCP gave it (RFC 2131 §2: siaddr and file), and the output of
// what it booted. iPXE's console draws with ANSI escapes and backspaces and wraps at 80 columns.

/** iPXE's text console width: a line this long continues on the next. */
const CONSOLE_COLUMNS = 80;

/** What a network boot obtained and ran. */
export interface PxeBoot {
  /** The IPv4 address iPXE configured on its NIC. */
  address?: string;
  /** The next-server (siaddr) of the ACK. */
  nextServer?: string;
  /** The boot file of the ACK. */
  bootFile?: string;
  /** Whether a boot file was fetched and run (an iPXE script or a network bootstrap program). */
  booted: boolean;
  /** The console lines printed by what it booted. */
  console: string[];
  /** Why the boot failed, as the firmware said it, when it did. */
  failure?: string;
}

/** Lines the firmware prints when network boot has failed: nothing is coming after them. */
export const BOOT_FAILED = /No bootable device|No configuration methods succeeded|Could not boot/;

/** A line as it stands once each backspace has moved back over the character before it. */
function erase(line: string): string {
  const out: string[] = [];
  for (const c of line) {
    if (c === "\b") out.pop();
    else out.push(c);
  }
  return out.join("");
}

/** ANSI control sequences: colours, cursor moves, "ESC c" resets. */
const ESC = String.fromCharCode(0x1b);
const ESCAPES = new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]|${ESC}[A-Za-z]`, "g");

/** The console's text without escapes, carriage returns and erased characters, as lines. */
export function consoleLines(raw: string): string[] {
  const text = raw.replace(ESCAPES, "").replace(/\r/g, "");
  const lines: string[] = [];
  let wrapped = false;
  for (const line of text.split("\n").map(erase)) {
    if (wrapped) lines[lines.length - 1] += line;
    else lines.push(line);
    wrapped = line.length === CONSOLE_COLUMNS;
  }
  return lines.map((l) => l.trimEnd());
}

/** Reads iPXE's console output. */
export function parsePxeConsole(raw: string): PxeBoot {
  const lines = consoleLines(raw);
  const find = (re: RegExp) => lines.map((l) => re.exec(l)?.[1]).find((v) => v !== undefined);
  // "boot.ipxe : 386 bytes [script]", "undionly.kpxe : 108847 bytes [PXE-NBP]": what it runs next.
  const loaded = lines.findIndex((l) => /^\S+ : \d+ bytes \[[^\]]+\]$/.test(l));
  const failure = lines.find((l) => BOOT_FAILED.test(l))?.trim();
  return {
    address: find(/^net\d+: (\d+\.\d+\.\d+\.\d+)\//),
    nextServer: find(/^Next server: (\S+)/),
    bootFile: find(/^Filename: (\S+)/),
    booted: loaded >= 0,
    console: loaded >= 0 ? lines.slice(loaded + 1).filter((l) => l.trim() !== "") : [],
    ...(failure ? { failure } : {}),
  };
}
