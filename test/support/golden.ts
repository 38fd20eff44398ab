import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fromHex } from "../../lib/codec/bytes.ts";

/** The folder of golden packets: one `.hex` file each, comment lines (`#`) then hex. */
export const PACKETS_DIR = join(import.meta.dirname, "..", "fixtures", "packets");

/** A stored packet. */
export interface GoldenPacket {
  name: string;
  family: 4 | 6;
  /** Whether the packet is deliberately malformed (its name starts with `malformed-`). */
  malformed: boolean;
  notes: string[];
  bytes: Uint8Array;
}

/** Reads every golden packet, in name order. */
export function goldenPackets(): GoldenPacket[] {
  return readdirSync(PACKETS_DIR)
    .filter((f) => f.endsWith(".hex"))
    .sort()
    .map((file) => {
      const lines = readFileSync(join(PACKETS_DIR, file), "utf8").split("\n");
      const notes = lines.filter((l) => l.startsWith("#")).map((l) => l.replace(/^#\s?/, ""));
      const hexText = lines.filter((l) => !l.startsWith("#")).join("");
      const name = file.replace(/\.hex$/, "");
      const family = /(^|-)v6(-|$)/.test(name) ? 6 : 4;
      return { name, family, malformed: name.startsWith("malformed-"), notes, bytes: fromHex(hexText) };
    });
}
