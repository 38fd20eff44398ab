import Table from "cli-table3";
import { Option } from "commander";
import type { JsonOutputs } from "./json-output.ts";

/** Where progress and notes go: stderr, so that stdout carries only the command's answer. */
export const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

/** --name, on every command that acts on a lab. */
export const nameOption = () => new Option("--name <name>", "the lab's name").default("dhcplab");
/** --json, on every command that prints data. */
export const jsonOption = () => new Option("--json", "print JSON instead of text");

/** `--segment <name>`: which access segment a client or load runs on. */
export const segmentOption = (what: string) =>
  new Option("--segment <name>", `the access segment ${what} (default: the first)`);

/** -4 and -6, each "only this family" (neither or both: both families). */
export const only4Option = () => new Option("-4", "DHCPv4 only");
export const only6Option = () => new Option("-6", "DHCPv6 only");

/** The one family -4 or -6 chose, or undefined for both. */
export const familyOf = (o: { 4?: boolean; 6?: boolean }): 4 | 6 | undefined =>
  o[4] && !o[6] ? 4 : o[6] && !o[4] ? 6 : undefined;

/** Parses a whole number of seconds, 0 or more. */
export function wholeSeconds(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${value} is not a whole number of seconds`);
  return n;
}

/** Parses a whole number above zero. */
export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${value} is not a positive whole number`);
  return n;
}

/** Parses a whole number from zero up. */
export function nonNegativeInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${value} is not a whole number`);
  return n;
}

/** Prints a command's output as JSON (its documented shape, json-output.ts), or `text()` for people. */
export function print<K extends keyof JsonOutputs>(
  _command: K,
  json: boolean | undefined,
  data: JsonOutputs[K],
  text: () => string,
): void {
  console.log(json ? JSON.stringify(data, null, 2) : text());
}

/** A table for people: columns as wide as their widest cell, no borders to get in the way. */
export function table(head: string[], rows: (string | number | undefined)[][]): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true, "padding-left": 0, "padding-right": 2 },
    chars: {
      top: "",
      "top-mid": "",
      "top-left": "",
      "top-right": "",
      bottom: "",
      "bottom-mid": "",
      "bottom-left": "",
      "bottom-right": "",
      left: "",
      "left-mid": "",
      mid: "",
      "mid-mid": "",
      right: "",
      "right-mid": "",
      middle: "",
    },
  });
  for (const r of rows) t.push(r.map((c) => (c === undefined ? "" : String(c))));
  return t.toString().replace(/ +$/gm, "");
}

/** A command's own exit code (that of a command run in a container), passed on without a message. */
export class ExitCode extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}
