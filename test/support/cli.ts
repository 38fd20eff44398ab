import { join } from "node:path";
import { execa } from "execa";
import { expect } from "vitest";
import type { JsonOutputs } from "../../orchestrator/cli/json-output.ts";
import { expectDocumentedOutput } from "./json-output.ts";

// The dhcplab command as a user runs it: bin/dhcplab.js in a subprocess.

export const BIN = join(import.meta.dirname, "..", "..", "bin", "dhcplab.js");

/** Runs dhcplab with `args`; never throws on a non-zero exit. */
export const dhcplab = (...args: string[]) =>
  execa("node", [BIN, ...args], { reject: false, timeout: 280_000 });

/** Runs dhcplab with `args` and --json, expects exit 0, checks the output against its documented schema, and parses it. */
export const dhcplabJson = <T>(...args: string[]): Promise<T> => jsonOf<T>(dhcplab, args);

/** The dhcplab command against the Engine at `host` (DOCKER_HOST), as `dhcplab` and `dhcplabJson`. */
export function dhcplabAt(host: string) {
  const run = (...args: string[]) =>
    execa("node", [BIN, ...args], { reject: false, timeout: 280_000, env: { DOCKER_HOST: host } });
  return { run, json: <T>(...args: string[]) => jsonOf<T>(run, args) };
}

async function jsonOf<T>(
  run: (...args: string[]) => Promise<{ exitCode?: number; stdout: string; stderr: string }>,
  args: string[],
): Promise<T> {
  const r = await run(...args, "--json");
  expect(r.exitCode, r.stderr).toBe(0);
  const output = JSON.parse(r.stdout) as T;
  // Every output is what docs/json-output.md says, no field more or less.
  const command = args[0] === "inspect" ? "status" : args[0];
  await expectDocumentedOutput(command as keyof JsonOutputs, output);
  return output;
}
