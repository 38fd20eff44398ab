import { pino } from "pino";
import { goldenPackets } from "../../test/support/golden.ts";
import { DEFAULT_POLICY } from "../policy/default-policy.ts";
import { type Policy, parsePolicy } from "../policy/policy.ts";

/** A datagram a fake transport was asked to send. */
export interface Sent {
  bytes: Uint8Array;
  port: number;
  address: string;
}

/** A transport that records instead of sending; unit tests of the relay paths use it. */
export class FakeTransport {
  readonly sent: Sent[] = [];
  send(bytes: Uint8Array, port: number, address: string): void {
    this.sent.push({ bytes: bytes.slice(), port, address });
  }
  take(): Sent[] {
    return this.sent.splice(0);
  }
}

/** A silent logger. */
export const quietLog = pino({ level: "silent" });

/** The default policy with some top-level settings changed (e.g. { existingOption82: "append" }). */
export function policyWith(settings: Record<string, string | number> = {}): Policy {
  let text = DEFAULT_POLICY;
  for (const [key, value] of Object.entries(settings)) {
    const line = new RegExp(`^${key}: .*$`, "m");
    text = line.test(text) ? text.replace(line, `${key}: ${value}`) : `${text}\n${key}: ${value}\n`;
  }
  return parsePolicy(text, "test-policy.yaml", ["RED", "BLUE"]);
}

/** A golden packet's bytes by name. */
export function golden(name: string): Uint8Array {
  const p = goldenPackets().find((g) => g.name === name);
  if (!p) throw new Error(`no golden packet ${name}`);
  return p.bytes.slice();
}
